/**
 * The caller's scope: whose data they may see. Tenant-wide for executives; self and every
 * transitive report for managers; only self for viewers (and a quota-admin without another role).
 */
import type { GraphQLError } from 'graphql';
import { ErrorCode, bytegateError } from '../../common/errors';
import type { Principal } from '../../common/principal';
import type { QueryParam, SqlDialect, WarehouseQuery } from '../../warehouse/warehouse';
import type { RequestAggregates } from './cachedAggregates';
import type { TenantWarehouse } from './tenantWarehouse';

export type Scope =
  | { readonly kind: 'tenant' }
  | { readonly kind: 'users'; readonly userIds: ReadonlySet<string> };

/**
 * Computes the principal's scope; a manager's team costs one warehouse query over `users`, cached
 * (by the manager and the version of `users`) until the directory changes.
 */
export async function loadScope(principal: Principal, warehouse: TenantWarehouse, aggregates: RequestAggregates): Promise<Scope> {
  if (principal.roles.includes('executive')) return { kind: 'tenant' };
  const userIds = new Set([principal.userId]);
  if (principal.roles.includes('manager')) {
    const team = await aggregates.one('teamScope', { table: 'users' }, [principal.userId], async () =>
      (await warehouse.query<{ id: string }>(teamQuery(principal.userId))).map((row) => row.id));
    for (const id of team) userIds.add(id);
  }
  return { kind: 'users', userIds };
}

/** The scope as a cache key part: `tenant`, or the sorted user ids. */
export function scopeKey(scope: Scope): string | readonly string[] {
  return scope.kind === 'tenant' ? 'tenant' : [...scope.userIds].sort();
}

export function inScope(scope: Scope, userId: string): boolean {
  return scope.kind === 'tenant' || scope.userIds.has(userId);
}

/**
 * Restricts `column` to the scope's users with the seed's `IN UNNEST(@user_ids)` pattern: the
 * predicate (none for the whole tenant, so executives' queries carry no filter) and the
 * `userIds` parameter it reads.
 */
export function scopeFilter(scope: Scope, column: string): { predicate(d: SqlDialect): string | undefined; params: Record<string, QueryParam> } {
  if (scope.kind === 'tenant') return { predicate: () => undefined, params: {} };
  return {
    predicate: (d) => d.inArray(column, 'userIds'),
    params: { userIds: { type: 'STRING_ARRAY', value: [...scope.userIds].sort() } },
  };
}

/** A WHERE clause of the given predicates as top-level AND conjuncts (where partition pruning looks), or nothing. */
export function where(...predicates: (string | undefined)[]): string {
  const present = predicates.filter((p): p is string => p !== undefined);
  return present.length ? `WHERE ${present.join(' AND ')}` : '';
}

/**
 * The caller's own tenant as an entity; any other id is FORBIDDEN (the tenant comes only from the
 * principal). Call it from an async `__resolveReference`: a synchronous throw there fails the whole
 * `_entities` list instead of one entity.
 */
export function ownTenant(principal: Principal, id: string): { id: string } {
  if (id !== principal.tenant) throw forbidden(`Tenant "${id}" is not yours.`);
  return { id };
}

export function forbidden(message: string): GraphQLError {
  return bytegateError(ErrorCode.FORBIDDEN, message);
}

/** Depth bound of the reporting-chain walks: ends them even when manager_id data has a cycle. */
export const MAX_REPORTING_DEPTH = 32;

// Private:

/**
 * Every transitive report of `managerId` (not the manager), walking users.manager_id downwards. The
 * CTE's columns are named by its base term: GoogleSQL's `cte_name AS (…)` takes no column list
 * (https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#recursive_cte).
 */
function teamQuery(managerId: string): WarehouseQuery {
  return {
    name: 'teamScope',
    sql: (d) => `WITH RECURSIVE team AS (
        SELECT u.id, 1 AS depth FROM ${d.table('users')} AS u WHERE u.manager_id = ${d.param('managerId', 'STRING')}
        UNION ALL
        SELECT r.id, t.depth + 1 FROM ${d.table('users')} AS r JOIN team AS t ON r.manager_id = t.id WHERE t.depth < ${MAX_REPORTING_DEPTH}
      )
      SELECT DISTINCT t.id FROM team AS t`,
    params: { managerId: { type: 'STRING', value: managerId } },
  };
}
