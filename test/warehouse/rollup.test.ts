import { DuckDBInstance } from '@duckdb/node-api';
import type { LogEvent } from '../../okta/logEvent';
import { datasetPath } from '../../warehouse/duckdb/datasetFiles';
import { ingestEvents } from '../../warehouse/duckdb/tenantDataset';
import { fixtureEvents, ndjson, tempDataDir } from './fixture';

/** The seed's formulas, written out again from SEED.md/ARCHITECTURE.md over plain event objects. */
function expectedRollup(events: LogEvent[]) {
  const groups = new Map<string, LogEvent[]>();
  for (const e of events) {
    const key = `${e.actor.id}|${e.published.slice(0, 10)}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups].map(([key, group]) => {
    const [actor_id, day] = key.split('|');
    const steps = group.map((e) => {
      const step = e.authenticationContext?.authenticationStep ?? 0;
      if (step > 0) return step;
      return e.eventType === 'user.authentication.auth_via_mfa' || e.eventType === 'user.authentication.verify' ? 2 : 1;
    });
    const avgStep = steps.reduce((a, b) => a + b, 0) / group.length;
    const apps = new Set(group.flatMap((e) => (e.target ?? []).filter((t) => t.type === 'AppInstance').map((t) => t.id)));
    return {
      actor_id, day, total_events: group.length, avg_auth_step: avgStep, unique_apps: apps.size,
      auth_waste_hours: Math.max(avgStep - 1, 0) * 0.5 * group.length / 60,
      context_switch_waste_hours: apps.size * 5 / 60,
    };
  }).sort((a, b) => (a.day + a.actor_id).localeCompare(b.day + b.actor_id));
}

test('productivity_daily follows the seed formulas, counting MFA prompts where Okta reports no steps', async () => {
  const { dataDir, remove } = tempDataDir();
  try {
    const events = fixtureEvents();
    await ingestEvents(dataDir, 'acme', ndjson(events));
    const instance = await DuckDBInstance.create(datasetPath(dataDir, 'acme'), { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    const actual = (await connection.runAndReadAll(`SELECT actor_id, strftime(day, '%Y-%m-%d') AS day, total_events::INT AS total_events, avg_auth_step,
        unique_apps::INT AS unique_apps, auth_waste_hours, context_switch_waste_hours FROM productivity_daily ORDER BY day || actor_id`)).getRowObjectsJson();
    instance.closeSync();

    const expected = expectedRollup(events);
    expect(actual).toHaveLength(expected.length);
    expected.forEach((row, i) => {
      expect(actual[i]).toMatchObject({ actor_id: row.actor_id, day: row.day, total_events: row.total_events, unique_apps: row.unique_apps });
      for (const metric of ['avg_auth_step', 'auth_waste_hours', 'context_switch_waste_hours'] as const) {
        expect(actual[i][metric]).toBeCloseTo(row[metric], 12);
      }
    });
    // The fixture exercises both step rules: an MFA day (CEO, day 1) and explicit steps (Kenji, day 2).
    expect(expected.find((r) => r.actor_id === '00uceo' && r.day === '2025-03-03')!.avg_auth_step).toBeCloseTo(1.25, 12);
    expect(expected.find((r) => r.actor_id === '00uic1' && r.day === '2025-03-04')!.avg_auth_step).toBeCloseTo(2, 12);
  } finally {
    remove();
  }
});
