/**
 * The metrics subgraph's SQL. Partition filters are top-level AND conjuncts on the partitioning
 * column, so BigQuery (and the embedded warehouse's measurement) scans only the requested days:
 * https://cloud.google.com/bigquery/docs/querying-partitioned-tables#use_a_constant_filter_expression
 */
import { addDays, type DateRange } from '../../common/dates';
import type { QueryParam, SqlDialect, WarehouseQuery } from '../../warehouse/warehouse';
import { type Scope, scopeFilter, where } from '../common/scope';

/** productivity_daily summed over a range for one user. */
export interface ProductivityRow {
  actor_id: string;
  total_events: number;
  /** Each day's distinct apps, summed (app-days: what context switching is counted from). */
  unique_apps: number;
  auth_waste_hours: number;
  context_switch_waste_hours: number;
}

export interface DailyRow extends ProductivityRow {
  day: string;
}

export interface TimeWasterRow {
  actor_id: string;
  auth_waste_hours: number;
  context_switch_waste_hours: number;
}

export interface AppUsageRow {
  app_id: string;
  app_name: string | null;
  events: number;
  users: number;
}

export interface EventCountRow {
  day: string;
  events: number;
}

/** Totals per user over `range`: one query for a whole DataLoader batch. */
export function productivityByUser(range: DateRange, userIds: readonly string[]): WarehouseQuery {
  return {
    name: 'productivityByUser',
    sql: (d) => `SELECT p.actor_id, sum(p.total_events) AS total_events, sum(p.unique_apps) AS unique_apps,
        sum(p.auth_waste_hours) AS auth_waste_hours, sum(p.context_switch_waste_hours) AS context_switch_waste_hours
      FROM ${d.table('productivity_daily')} AS p
      WHERE ${rollupDays(d)} AND ${d.inArray('p.actor_id', 'userIds')}
      GROUP BY p.actor_id`,
    params: { ...rollupParams(range), userIds: { type: 'STRING_ARRAY', value: userIds } },
  };
}

/** Rows per (user, day) over `range`: one query for a whole DataLoader batch. */
export function dailyByUser(range: DateRange, userIds: readonly string[]): WarehouseQuery {
  return {
    name: 'dailyByUser',
    sql: (d) => `SELECT p.actor_id, p.day, p.total_events, p.unique_apps, p.auth_waste_hours, p.context_switch_waste_hours
      FROM ${d.table('productivity_daily')} AS p
      WHERE ${rollupDays(d)} AND ${d.inArray('p.actor_id', 'userIds')}
      ORDER BY p.actor_id, p.day`,
    params: { ...rollupParams(range), userIds: { type: 'STRING_ARRAY', value: userIds } },
  };
}

/** The scope's users with the most wasted hours over `range`, from the rollup; ties by id. */
export function topTimeWasters(range: DateRange, scope: Scope, first: number): WarehouseQuery {
  const inScope = scopeFilter(scope, 'p.actor_id');
  return {
    name: 'topTimeWasters',
    sql: (d) => `SELECT p.actor_id, sum(p.auth_waste_hours) AS auth_waste_hours, sum(p.context_switch_waste_hours) AS context_switch_waste_hours
      FROM ${d.table('productivity_daily')} AS p
      ${where(rollupDays(d), inScope.predicate(d))}
      GROUP BY p.actor_id
      ORDER BY sum(p.auth_waste_hours) + sum(p.context_switch_waste_hours) DESC, p.actor_id
      LIMIT ${d.param('first', 'INT64')}`,
    params: { ...rollupParams(range), ...inScope.params, first: { type: 'INT64', value: first } },
  };
}

/**
 * Applications (AppInstance targets) by events of the scope's users over `range`, from the
 * app_usage_daily rollup: the same figures as flattening the raw events' targets (warehouse/rollup.ts).
 */
export function appUsage(range: DateRange, scope: Scope, first: number): WarehouseQuery {
  const inScope = scopeFilter(scope, 'p.actor_id');
  return {
    name: 'appUsage',
    sql: (d) => `SELECT p.app_id, max(p.app_name) AS app_name, sum(p.events) AS events, count(DISTINCT p.actor_id) AS users
      FROM ${d.table('app_usage_daily')} AS p
      ${where(rollupDays(d), inScope.predicate(d))}
      GROUP BY p.app_id
      ORDER BY sum(p.events) DESC, p.app_id
      LIMIT ${d.param('first', 'INT64')}`,
    params: { ...rollupParams(range), ...inScope.params, first: { type: 'INT64', value: first } },
  };
}

/** Events per day of the scope's users over `range` (of one type when given), from raw events. */
export function eventCounts(range: DateRange, scope: Scope, eventType: string | null): WarehouseQuery {
  const inScope = scopeFilter(scope, 'e.actor.id');
  const ofType: Record<string, QueryParam> = eventType === null ? {} : { eventType: { type: 'STRING', value: eventType } };
  return {
    name: 'eventCounts',
    sql: (d) => `SELECT CAST(e.published AS DATE) AS day, count(*) AS events
      FROM ${d.table('sso_events')} AS e
      ${where(eventDays(d), eventType === null ? undefined : `e.eventType = ${d.param('eventType', 'STRING')}`, inScope.predicate(d))}
      GROUP BY day
      ORDER BY day`,
    params: { ...eventParams(range), ...inScope.params, ...ofType },
  };
}

// Private:

/** The rollups are partitioned by their DATE column `day`. (Not `@from`/`@to`: FROM and TO are GoogleSQL keywords.) */
function rollupDays(d: SqlDialect): string {
  return `p.day BETWEEN ${d.param('fromDay', 'DATE')} AND ${d.param('toDay', 'DATE')}`;
}

function rollupParams(range: DateRange): Record<string, QueryParam> {
  return { fromDay: { type: 'DATE', value: range.from }, toDay: { type: 'DATE', value: range.to } };
}

/** sso_events is partitioned by DATE(published): a half-open UTC timestamp range of whole days. */
function eventDays(d: SqlDialect): string {
  return `e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')}`;
}

function eventParams(range: DateRange): Record<string, QueryParam> {
  return {
    fromTs: { type: 'TIMESTAMP', value: `${range.from}T00:00:00Z` },
    toTs: { type: 'TIMESTAMP', value: `${addDays(range.to, 1)}T00:00:00Z` },
  };
}
