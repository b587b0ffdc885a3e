/** The users subgraph's per-request loaders (one set per request, see SubgraphContext.perRequest). */
import DataLoader from 'dataloader';
import type { SubgraphContext } from '../common/context';
import { inKeyOrder } from '../common/loaders';
import { type UserRow, countUsers, managementChain, usersById } from './queries';

export interface UsersLoaders {
  /** Directory entries by id (null: no such user); a batch is one `usersById` query. */
  readonly userById: DataLoader<string, UserRow | null>;
  /** The caller's managers up the chain, once per request. */
  managementChain(): Promise<ReadonlySet<string>>;
  /** Users in the caller's scope, once per request. */
  totalCount(): Promise<number>;
}

export function usersLoaders(ctx: SubgraphContext): UsersLoaders {
  return ctx.perRequest('users', () => createUsersLoaders(ctx));
}

// Private:

function createUsersLoaders(ctx: SubgraphContext): UsersLoaders {
  let chain: Promise<ReadonlySet<string>> | undefined;
  let total: Promise<number> | undefined;
  return {
    userById: new DataLoader(async (ids) => {
      const rows = await ctx.warehouse.query<UserRow>(usersById(ids));
      return inKeyOrder(ids, rows, (row) => row.id, null);
    }),
    managementChain: () =>
      (chain ??= ctx.warehouse.query<{ id: string }>(managementChain(ctx.principal.userId)).then((rows) => new Set(rows.map((row) => row.id)))),
    totalCount: () =>
      (total ??= ctx.scope().then((scope) => ctx.warehouse.query<{ total: number }>(countUsers(scope))).then((rows) => Number(rows[0]?.total ?? 0))),
  };
}
