/**
 * Directory lookups, authorized by the caller's scope:
 * - `me` is the caller (the id from the verified identity): no directory row is read unless the
 *   selection asks for more than the id, and a caller the directory lacks has null directory fields;
 * - `users` and `user(id)` cover users in scope only (`user(id)` outside it is FORBIDDEN);
 * - a profile (an entity reference from another subgraph, or `manager`) is visible for users in
 *   scope and for the caller's management chain, so a viewer can still see who their manager is.
 * Every read goes through the aggregate cache (loaders.ts DIRECTORY): the checks above run on each
 * request all the same; only where the rows come from changes.
 */
import type { GraphQLResolveInfo } from 'graphql';
import type { ResolverMap } from '../../common/graphql/subgraphSchema';
import { badUserInput } from '../../common/errors';
import { type ArgumentLimits, pageSize } from '../../common/graphql/arguments';
import type { SubgraphContext } from '../common/context';
import { forbidden, inScope, scopeKey } from '../common/scope';
import { asksBeyond } from '../common/selection';
import { DIRECTORY, usersLoaders } from './loaders';
import { type UserRow, usersPage } from './queries';

interface UserConnection {
  edges: { cursor: string; node: UserRow }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export function usersResolvers(limits: ArgumentLimits): ResolverMap<SubgraphContext> {
  return {
    Query: {
      /**
       * For the gateway only (@inaccessible: not in the API schema), which asks as a principal without
       * a role: no scope applies, and the tenant is the signed one, so it learns of its own tenant's
       * directory only. One DataLoader batch, through the aggregate cache like any directory read.
       */
      _knownUsers: async (_root, { ids }: { ids: string[] }, ctx: SubgraphContext) => {
        const rows = await Promise.all(ids.map((id) => usersLoaders(ctx).userById.load(id)));
        return ids.filter((_id, i) => rows[i] !== null);
      },

      me: async (_root, _args, ctx: SubgraphContext, info: GraphQLResolveInfo): Promise<UserRow | { id: string }> => {
        const id = ctx.principal.userId;
        await ctx.warehouse.checkTenant();
        if (!asksBeyond(info, ['id'])) return { id };
        return (await usersLoaders(ctx).userById.load(id)) ?? { ...NO_DIRECTORY_ENTRY, id };
      },

      user: async (_root, { id }: { id: string }, ctx: SubgraphContext) => {
        if (!inScope(await ctx.scope(), id)) throw forbidden(`User "${id}" is outside your scope.`);
        return usersLoaders(ctx).userById.load(id);
      },

      users: async (_root, args: { first: number; after?: string | null }, ctx: SubgraphContext): Promise<UserConnection> => {
        const limit = pageSize(args.first, limits);
        const afterId = args.after == null ? '' : decodeCursor(args.after);
        const scope = await ctx.scope();
        const rows = await ctx.aggregates.one('usersPage', DIRECTORY, [scopeKey(scope), afterId, limit + 1], () =>
          ctx.warehouse.query<UserRow>(usersPage(scope, afterId, limit + 1)));
        const page = rows.slice(0, limit);
        const { userById } = usersLoaders(ctx);
        for (const row of page) userById.prime(row.id, row);
        return {
          edges: page.map((node) => ({ cursor: encodeCursor(node.id), node })),
          pageInfo: { hasNextPage: rows.length > limit, endCursor: page.length ? encodeCursor(page[page.length - 1].id) : null },
        };
      },
    },

    UserConnection: {
      totalCount: (_connection, _args, ctx: SubgraphContext) => usersLoaders(ctx).totalCount(),
    },

    User: {
      __resolveReference: async (reference: { id: string }, ctx: SubgraphContext) => {
        await assertProfileVisible(ctx, reference.id);
        return usersLoaders(ctx).userById.load(reference.id);
      },
      displayName: (user: UserRow) => user.display_name,
      manager: async (user: UserRow, _args, ctx: SubgraphContext) => {
        if (!user.manager_id) return null;
        await assertProfileVisible(ctx, user.manager_id);
        return usersLoaders(ctx).userById.load(user.manager_id);
      },
    },
  };
}

// Private:

/** The directory fields of a caller without a directory entry. */
const NO_DIRECTORY_ENTRY: Omit<UserRow, 'id'> = { email: null, display_name: null, department: null, manager_id: null };

async function assertProfileVisible(ctx: SubgraphContext, id: string): Promise<void> {
  if (inScope(await ctx.scope(), id) || (await usersLoaders(ctx).managementChain()).has(id)) return;
  throw forbidden(`User "${id}" is outside your scope.`);
}

/** Opaque cursor: base64 of the edge's user id (the keyset of the `id` order). */
function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64').toString('utf8');
  if (!id || encodeCursor(id) !== cursor) throw badUserInput(`"after" is not a cursor of this connection: "${cursor.slice(0, 40)}".`, { argument: 'after' });
  return id;
}
