/** The users subgraph's SQL: the `users` table only (small, unpartitioned: every query reads its referenced columns whole). */
import type { WarehouseQuery } from '../../warehouse/warehouse';
import { MAX_REPORTING_DEPTH, type Scope, scopeFilter, where } from '../common/scope';

/** A directory entry as the queries below select it. */
export interface UserRow {
  id: string;
  email: string | null;
  display_name: string | null;
  department: string | null;
  manager_id: string | null;
}

const USER_COLUMNS = 'u.id, u.email, u.display_name, u.department, u.manager_id';

/** Directory entries by id, any order: one query for a whole DataLoader batch. */
export function usersById(ids: readonly string[]): WarehouseQuery {
  return {
    name: 'usersById',
    sql: (d) => `SELECT ${USER_COLUMNS} FROM ${d.table('users')} AS u WHERE ${d.inArray('u.id', 'ids')}`,
    params: { ids: { type: 'STRING_ARRAY', value: ids } },
  };
}

/** Up to `limit` users of the scope with id > `afterId`, by id: a keyset page, stable under inserts. */
export function usersPage(scope: Scope, afterId: string, limit: number): WarehouseQuery {
  const inScope = scopeFilter(scope, 'u.id');
  return {
    name: 'usersPage',
    sql: (d) => `SELECT ${USER_COLUMNS} FROM ${d.table('users')} AS u
      ${where(`u.id > ${d.param('afterId', 'STRING')}`, inScope.predicate(d))}
      ORDER BY u.id LIMIT ${d.param('pageSize', 'INT64')}`,
    params: { ...inScope.params, afterId: { type: 'STRING', value: afterId }, pageSize: { type: 'INT64', value: limit } },
  };
}

/** How many users of the scope the directory holds. */
export function countUsers(scope: Scope): WarehouseQuery {
  const inScope = scopeFilter(scope, 'u.id');
  return {
    name: 'countUsers',
    sql: (d) => `SELECT count(*) AS total FROM ${d.table('users')} AS u ${where(inScope.predicate(d))}`,
    params: inScope.params,
  };
}

/**
 * Everyone above `userId`: their manager, that manager's manager, … (not the user). The CTE's columns
 * are named by its base term: GoogleSQL's `cte_name AS (…)` takes no column list
 * (https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#recursive_cte).
 */
export function managementChain(userId: string): WarehouseQuery {
  return {
    name: 'managementChain',
    sql: (d) => `WITH RECURSIVE chain AS (
        SELECT u.id, u.manager_id, 0 AS depth FROM ${d.table('users')} AS u WHERE u.id = ${d.param('userId', 'STRING')}
        UNION ALL
        SELECT m.id, m.manager_id, c.depth + 1 FROM ${d.table('users')} AS m JOIN chain AS c ON m.id = c.manager_id
        WHERE c.depth < ${MAX_REPORTING_DEPTH}
      )
      SELECT DISTINCT c.id FROM chain AS c WHERE c.depth > 0`,
    params: { userId: { type: 'STRING', value: userId } },
  };
}
