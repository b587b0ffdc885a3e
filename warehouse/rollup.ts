/**
 * The seed's productivity metrics, per actor per day (table productivity_daily, warehouse/tables.ts).
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
export const MFA_EVENT_TYPES = ['user.authentication.auth_via_mfa', 'user.authentication.verify'] as const;
export const AUTH_STEP_MINUTES = 0.5;
export const CONTEXT_SWITCH_MINUTES = 5;

/**
 * DuckDB SQL that recomputes productivity_daily for the days listed in the temp table `touched_days(day)`.
 * Runs inside the ingest's write transaction; the days outside `touched_days` are left alone.
 */
export function refreshProductivityDailySql(): string[] {
  const mfaTypes = MFA_EVENT_TYPES.map((t) => `'${t}'`).join(', ');
  return [
    `DELETE FROM productivity_daily WHERE day IN (SELECT day FROM touched_days)`,
    `INSERT INTO productivity_daily
     SELECT actor_id, day,
            count(*) AS total_events,
            avg(step) AS avg_auth_step,
            len(list_distinct(flatten(list(apps)))) AS unique_apps,
            greatest(avg(step) - 1, 0) * ${AUTH_STEP_MINUTES} * count(*) / 60 AS auth_waste_hours,
            len(list_distinct(flatten(list(apps)))) * ${CONTEXT_SWITCH_MINUTES} / 60 AS context_switch_waste_hours
     FROM (
       SELECT e.actor.id AS actor_id,
              CAST(e.published AS DATE) AS day,
              CASE WHEN coalesce(e.authenticationContext.authenticationStep, 0) > 0 THEN e.authenticationContext.authenticationStep
                   WHEN e.eventType IN (${mfaTypes}) THEN 2
                   ELSE 1 END AS step,
              list_transform(list_filter(e.target, t -> t.type = 'AppInstance'), t -> t.id) AS apps
       FROM sso_events e
       WHERE e.published >= (SELECT min(day) FROM touched_days)
         AND e.published < (SELECT max(day) + 1 FROM touched_days)
         AND CAST(e.published AS DATE) IN (SELECT day FROM touched_days)
     ) events
     GROUP BY actor_id, day
     ORDER BY day, actor_id`,
  ];
}
