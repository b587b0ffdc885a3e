/**
 * The rollups every ingest maintains for the days it touched (pricing/tables.ts), written once for
 * both warehouses against the SqlDialect.
 *
 * app_usage_daily, per actor, day and application (an `AppInstance` target's id):
 * - events   = COUNT(*) of the (event, AppInstance target) pairs: an event naming two apps counts
 *              for each, one naming the same app twice counts twice — as flattening raw events counts
 * - app_name = MAX(target.displayName) of those pairs
 * so that over any days and actors, `SUM(events)`, `MAX(app_name)` and `COUNT(DISTINCT actor_id)`
 * per app equal the same aggregates over the raw events' flattened targets (subgraphs/metrics/queries.ts appUsage).
 *
 * productivity_daily, the seed's metrics per actor per day:
 * - total_events   = COUNT(*)
 * - avg_auth_step  = AVG(step) over the actor's events that day, where an event's step is its
 *                    `authenticationContext.authenticationStep` when Okta filled it in (> 0); Okta
 *                    documents that field as always 0 in real logs, so where it is absent an MFA or
 *                    verify event (`user.authentication.auth_via_mfa`, `user.authentication.verify`)
 *                    counts as 2 steps and any other event as 1 — each MFA prompt is one extra step.
 * - unique_apps    = COUNT(DISTINCT target id) over targets of type AppInstance, read from the
 *                    actor's app_usage_daily rows of that day (refreshed first), so an ingest flattens
 *                    the events' targets once
 * - auth_waste_hours           = max(avg_auth_step − 1, 0) × 0.5 × total_events / 60
 *                                (half a minute per extra step; clamped at 0 so a day can never
 *                                 *give back* time: with the step rule above it cannot go below 0
 *                                 anyway, the clamp guards Okta data reporting steps < 1)
 * - context_switch_waste_hours = unique_apps × 5 / 60  (five minutes per app switched to)
 */
import { addDays } from '../common/dates';
import { type TableSchema, appUsageDaily, productivityDaily } from '../pricing/tables';
import type { QueryParam, SqlDialect } from './warehouse';

export const MFA_EVENT_TYPES = ['user.authentication.auth_via_mfa', 'user.authentication.verify'] as const;
export const AUTH_STEP_MINUTES = 0.5;
export const CONTEXT_SWITCH_MINUTES = 5;

/** The rollup tables, in the order `refreshRollupsSql` refreshes them. */
export const ROLLUPS: readonly TableSchema[] = [appUsageDaily, productivityDaily];

/**
 * The statements that recompute every rollup for the days in the temp table `touched_days(day)` —
 * and, with `actorsTable`, only for the actors in that temp table's `actor_id` column (BigQuery:
 * clustering by actor_id then prunes the scans to their blocks). Rows outside that scope are left
 * alone. Parameters `firstDay`/`lastDay` (DATE) and `fromTs`/`toTs` (TIMESTAMP, toTs exclusive)
 * bound the touched days with constants, which BigQuery needs to prune partitions: see `rollupParams`.
 */
export function refreshRollupsSql(d: SqlDialect, actorsTable?: string): string[] {
  return [...refreshAppUsageDailySql(d, actorsTable), ...refreshProductivityDailySql(d, actorsTable)];
}

/**
 * The backfill of app_usage_daily in a dataset written before it existed: the temp table
 * `touched_days` filled with every day holding events, then the rollup computed for them by the
 * same statements as an ingest's. Parameters: `BACKFILL_PARAMS`.
 */
export function backfillAppUsageDailySql(d: SqlDialect): string[] {
  return [
    `CREATE TEMP TABLE touched_days AS
     SELECT DISTINCT CAST(e.published AS DATE) AS day FROM ${d.table('sso_events')} AS e WHERE ${eventDays(d)}`,
    ...refreshAppUsageDailySql(d),
  ];
}

/** The parameters of `refreshRollupsSql` for touched days between `firstDay` and `lastDay`. */
export function rollupParams(firstDay: string, lastDay: string): Record<string, QueryParam> {
  return {
    firstDay: { type: 'DATE', value: firstDay },
    lastDay: { type: 'DATE', value: lastDay },
    fromTs: { type: 'TIMESTAMP', value: `${firstDay}T00:00:00Z` },
    toTs: { type: 'TIMESTAMP', value: `${addDays(lastDay, 1)}T00:00:00Z` },
  };
}

/**
 * A backfill's bounds: every day BigQuery's day partitions can hold (a constant filter on the
 * partitioning column, which tables declared with require_partition_filter demand).
 * https://cloud.google.com/bigquery/docs/partitioned-tables#date_timestamp_partitioned_tables
 */
export const BACKFILL_PARAMS = rollupParams('1960-01-01', '2159-12-31');

// Private:

function refreshAppUsageDailySql(d: SqlDialect, actorsTable?: string): string[] {
  const app = d.flatten('e.target', 'app');
  return [
    deleteTouchedSql(d, appUsageDaily, actorsTable),
    `INSERT INTO ${d.table(appUsageDaily.name)} (actor_id, day, app_id, app_name, events)
     SELECT x.actor_id, x.day, x.app.id, max(x.app.displayName), count(*)
     FROM (SELECT e.actor_id, CAST(e.published AS DATE) AS day, ${app.select} FROM ${d.table('sso_events')} AS e${app.from}
           WHERE ${eventDays(d)} AND CAST(e.published AS DATE) IN (SELECT day FROM touched_days)${actorsIn('e.actor_id', actorsTable)}) AS x
     WHERE x.app.type = 'AppInstance'
     GROUP BY x.actor_id, x.day, x.app.id
     ORDER BY x.day, x.actor_id, x.app.id`,
  ];
}

/** Reads the actors' app_usage_daily rows of the touched days: refresh app_usage_daily first. */
function refreshProductivityDailySql(d: SqlDialect, actorsTable?: string): string[] {
  const mfaTypes = MFA_EVENT_TYPES.map((t) => `'${t}'`).join(', ');
  return [
    deleteTouchedSql(d, productivityDaily, actorsTable),
    `INSERT INTO ${d.table(productivityDaily.name)} (actor_id, day, total_events, avg_auth_step, unique_apps, auth_waste_hours, context_switch_waste_hours)
     SELECT s.actor_id, s.day, s.total_events, s.avg_auth_step,
            coalesce(a.unique_apps, 0) AS unique_apps,
            greatest(s.avg_auth_step - 1, 0) * ${AUTH_STEP_MINUTES} * s.total_events / 60 AS auth_waste_hours,
            coalesce(a.unique_apps, 0) * ${CONTEXT_SWITCH_MINUTES} / 60 AS context_switch_waste_hours
     FROM (
       SELECT e.actor_id, CAST(e.published AS DATE) AS day, count(*) AS total_events,
              avg(CASE WHEN coalesce(e.authenticationContext.authenticationStep, 0) > 0 THEN e.authenticationContext.authenticationStep
                       WHEN e.eventType IN (${mfaTypes}) THEN 2
                       ELSE 1 END) AS avg_auth_step
       FROM ${d.table('sso_events')} AS e
       WHERE ${eventDays(d)} AND CAST(e.published AS DATE) IN (SELECT day FROM touched_days)${actorsIn('e.actor_id', actorsTable)}
       GROUP BY e.actor_id, CAST(e.published AS DATE)
     ) AS s
     LEFT JOIN (
       SELECT u.actor_id, u.day, count(DISTINCT u.app_id) AS unique_apps
       FROM ${d.table(appUsageDaily.name)} AS u
       WHERE ${touchedDays(d, 'u.day')}${actorsIn('u.actor_id', actorsTable)}
       GROUP BY u.actor_id, u.day
     ) AS a ON a.actor_id = s.actor_id AND a.day = s.day
     ORDER BY s.day, s.actor_id`,
  ];
}

function deleteTouchedSql(d: SqlDialect, rollup: TableSchema, actorsTable: string | undefined): string {
  return `DELETE FROM ${d.table(rollup.name)} WHERE ${touchedDays(d, 'day')}${actorsIn('actor_id', actorsTable)}`;
}

/** A rollup's partitions of the touched days: constant bounds (for pruning), then the days themselves. */
function touchedDays(d: SqlDialect, column: string): string {
  return `${column} BETWEEN ${d.param('firstDay', 'DATE')} AND ${d.param('lastDay', 'DATE')} AND ${column} IN (SELECT day FROM touched_days)`;
}

/** sso_events' partitions between the constant bounds. */
function eventDays(d: SqlDialect): string {
  return `e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')}`;
}

function actorsIn(column: string, actorsTable: string | undefined): string {
  return actorsTable ? ` AND ${column} IN (SELECT actor_id FROM ${actorsTable})` : '';
}
