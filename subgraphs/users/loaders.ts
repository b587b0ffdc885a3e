/** The users subgraph's per-request loaders (one set per request, see SubgraphContext.perRequest). */
import DataLoader from 'dataloader';
import type { SubgraphContext } from '../common/context';
import { inKeyOrder } from '../common/loaders';
import { scopeKey } from '../common/scope';
import { type UserRow, countUsers, managementChain, usersById } from './queries';

/** Every read of this subgraph is of the directory: cached until a write touches `users`. */
export const DIRECTORY = { table: 'users' } as const;

export interface UsersLoaders {
  /**
   * Directory entries by id (null: no such user); a batch is one `usersById` query over the ids the
   * aggregate cache lacks (entries keyed by the id and the version of `users`).
   */
  readonly userById: DataLoader<string, UserRow | null>;
  /** The caller's managers up the chain, once per request (cached until `users` changes). */
  managementChain(): Promise<ReadonlySet<string>>;
  /** Users in the caller's scope, once per request (cached by scope until `users` changes). */
  totalCount(): Promise<number>;
}

export function usersLoaders(ctx: SubgraphContext): UsersLoaders {
  return ctx.perRequest('users', () => createUsersLoaders(ctx));
}

// Private:

function createUsersLoaders(ctx: SubgraphContext): UsersLoaders {
  let chain: Promise<ReadonlySet<string>> | undefined;
  let total: Promise<number> | undefined;
  const userId = ctx.principal.userId;
  return {
    userById: new DataLoader((ids) => ctx.batchLoad('users.userById', ids, (runner, keys) => runner.aggregates.many('user', DIRECTORY, keys, [], async (missing) => {
      const rows = await runner.warehouse.query<UserRow>(usersById(missing));
      return inKeyOrder(missing, rows, (row) => row.id, null);
    }))),
    managementChain: () =>
      (chain ??= ctx.aggregates.one('managementChain', DIRECTORY, [userId], async () =>
        (await ctx.warehouse.query<{ id: string }>(managementChain(userId))).map((row) => row.id)).then((ids) => new Set(ids))),
    totalCount: () =>
      (total ??= ctx.scope().then((scope) => ctx.aggregates.one('countUsers', DIRECTORY, [scopeKey(scope)], async () => {
        const rows = await ctx.warehouse.query<{ total: number }>(countUsers(scope));
        return Number(rows[0]?.total ?? 0);
      }))),
  };
}
