/**
 * The seed's productivity metrics, per actor per day (table productivity_daily, pricing/tables.ts).
 *
 * - total_events   = COUNT(*)
 * - avg_auth_step  = AVG(step) over the actor's events that day, where an event's step is its
 *                    `authenticationContext.authenticationStep` when Okta filled it in (> 0); Okta
 *                    documents that field as always 0 in real logs, so where it is absent an MFA or
 *                    verify event (`user.authentication.auth_via_mfa`, `user.authentication.verify`)
 *                    counts as 2 steps and any other event as 1 — each MFA prompt is one extra step.
 * - unique_apps    = COUNT(DISTINCT target id) over targets of type AppInstance
 * - auth_waste_hours           = max(avg_auth_step − 1, 0) × 0.5 × total_events / 60
 *                                (half a minute per extra step; clamped at 0 so a day can never
 *                                 *give back* time: with the step rule above it cannot go below 0
 *                                 anyway, the clamp guards Okta data reporting steps < 1)
 * - context_switch_waste_hours = unique_apps × 5 / 60  (five minutes per app switched to)
 */
import { addDays } from '../common/dates';
import type { QueryParam, SqlDialect } from './warehouse';

export const MFA_EVENT_TYPES = ['user.authentication.auth_via_mfa', 'user.authentication.verify'] as const;
export const AUTH_STEP_MINUTES = 0.5;
export const CONTEXT_SWITCH_MINUTES = 5;

/**
 * The statements that recompute productivity_daily for the days in the temp table
 * `touched_days(day)` — and, with `actorsTable`, only for the actors in that temp table's
 * `actor_id` column (BigQuery: clustering by actor_id then prunes the scan to their blocks).
 * Rows outside that scope are left alone. One definition for both warehouses (the dialect spells
 * the differences); parameters `firstDay`/`lastDay` (DATE) and `fromTs`/`toTs` (TIMESTAMP, toTs
 * exclusive) bound the touched days with constants, which BigQuery needs to prune partitions:
 * see `rollupParams`.
 */
export function refreshProductivityDailySql(d: SqlDialect, actorsTable?: string): string[] {
  const mfaTypes = MFA_EVENT_TYPES.map((t) => `'${t}'`).join(', ');
  const actors = (column: string) => (actorsTable ? ` AND ${column} IN (SELECT actor_id FROM ${actorsTable})` : '');
  const events = `${d.table('sso_events')} AS e`;
  const scope = `e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')}
         AND CAST(e.published AS DATE) IN (SELECT day FROM touched_days)${actors('e.actor_id')}`;
  const app = d.flatten('e.target', 'app');
  return [
    `DELETE FROM ${d.table('productivity_daily')}
     WHERE day BETWEEN ${d.param('firstDay', 'DATE')} AND ${d.param('lastDay', 'DATE')}
       AND day IN (SELECT day FROM touched_days)${actors('actor_id')}`,
    `INSERT INTO ${d.table('productivity_daily')} (actor_id, day, total_events, avg_auth_step, unique_apps, auth_waste_hours, context_switch_waste_hours)
     SELECT s.actor_id, s.day, s.total_events, s.avg_auth_step,
            coalesce(a.unique_apps, 0) AS unique_apps,
            greatest(s.avg_auth_step - 1, 0) * ${AUTH_STEP_MINUTES} * s.total_events / 60 AS auth_waste_hours,
            coalesce(a.unique_apps, 0) * ${CONTEXT_SWITCH_MINUTES} / 60 AS context_switch_waste_hours
     FROM (
       SELECT e.actor_id, CAST(e.published AS DATE) AS day, count(*) AS total_events,
              avg(CASE WHEN coalesce(e.authenticationContext.authenticationStep, 0) > 0 THEN e.authenticationContext.authenticationStep
                       WHEN e.eventType IN (${mfaTypes}) THEN 2
                       ELSE 1 END) AS avg_auth_step
       FROM ${events}
       WHERE ${scope}
       GROUP BY e.actor_id, CAST(e.published AS DATE)
     ) AS s
     LEFT JOIN (
       SELECT x.actor_id, x.day, count(DISTINCT x.app.id) AS unique_apps
       FROM (SELECT e.actor_id, CAST(e.published AS DATE) AS day, ${app.select} FROM ${events}${app.from} WHERE ${scope}) AS x
       WHERE x.app.type = 'AppInstance'
       GROUP BY x.actor_id, x.day
     ) AS a ON a.actor_id = s.actor_id AND a.day = s.day
     ORDER BY s.day, s.actor_id`,
  ];
}

/** The parameters of `refreshProductivityDailySql` for touched days between `firstDay` and `lastDay`. */
export function rollupParams(firstDay: string, lastDay: string): Record<string, QueryParam> {
  return {
    firstDay: { type: 'DATE', value: firstDay },
    lastDay: { type: 'DATE', value: lastDay },
    fromTs: { type: 'TIMESTAMP', value: `${firstDay}T00:00:00Z` },
    toTs: { type: 'TIMESTAMP', value: `${addDays(lastDay, 1)}T00:00:00Z` },
  };
}
