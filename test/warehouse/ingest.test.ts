import { DuckDBInstance } from '@duckdb/node-api';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { datasetPath, withDatasetWriter } from '../../warehouse/duckdb/datasetFiles';
import { ingestEvents } from '../../warehouse/duckdb/tenantDataset';
import { DAYS, event, eventsOn, expectedBytes, fixtureEvents, ndjson, tempDataDir } from './fixture';

describe('ingest', () => {
  let dataDir: string;
  let remove: () => void;
  beforeEach(() => ({ dataDir, remove } = tempDataDir()));
  afterEach(() => remove());

  async function rows<T>(sql: string): Promise<T[]> {
    const instance = await DuckDBInstance.create(datasetPath(dataDir, 'acme'), { access_mode: 'READ_ONLY' });
    try {
      const connection = await instance.connect();
      return (await connection.runAndReadAll(sql)).getRowObjectsJson() as T[];
    } finally {
      instance.closeSync();
    }
  }

  test('is idempotent on uuid: a second ingest of the same file changes nothing', async () => {
    const events = fixtureEvents();
    const first = await ingestEvents(dataDir, 'acme', ndjson(events));
    expect(first).toEqual({ accepted: events.length, duplicates: 0, rejected: [], days: [...DAYS] });
    const snapshot = await rows(`SELECT * FROM sso_events ORDER BY uuid`);
    const rollup = await rows(`SELECT * FROM productivity_daily ORDER BY day, actor_id`);
    const stats = await rows(`SELECT * FROM _partition_stats ORDER BY ALL`);

    const second = await ingestEvents(dataDir, 'acme', ndjson(events));
    expect(second).toEqual({ accepted: 0, duplicates: events.length, rejected: [], days: [] });
    expect(await rows(`SELECT * FROM sso_events ORDER BY uuid`)).toEqual(snapshot);
    expect(await rows(`SELECT * FROM productivity_daily ORDER BY day, actor_id`)).toEqual(rollup);
    expect(await rows(`SELECT * FROM _partition_stats ORDER BY ALL`)).toEqual(stats);
  });

  test('a uuid repeated inside one input is stored once', async () => {
    const [a, b] = fixtureEvents();
    const report = await ingestEvents(dataDir, 'acme', ndjson([a, b, a]));
    expect(report).toMatchObject({ accepted: 2, duplicates: 1 });
    expect(await rows(`SELECT count(*)::INT AS n FROM sso_events`)).toEqual([{ n: 2 }]);
  });

  test('reports malformed lines by number and reason, skips blank lines, and loads the rest', async () => {
    const [good1, good2] = fixtureEvents();
    const lines = [
      JSON.stringify(good1),
      '{"uuid": "broken",',
      '',
      '[1, 2, 3]',
      JSON.stringify({ ...good2, uuid: undefined }),
      JSON.stringify({ ...good2, uuid: 'bad-date', published: '2025-13-45T99:00:00Z' }),
      JSON.stringify({ ...good2, uuid: 'no-actor', actor: { type: 'User' } }),
      JSON.stringify({ ...good2, uuid: 'no-type', eventType: '' }),
      JSON.stringify(good2),
    ];
    const report = await ingestEvents(dataDir, 'acme', lines);
    expect(report.rejected).toEqual([
      { line: 2, reason: 'not valid JSON' },
      { line: 4, reason: 'not a JSON object' },
      { line: 5, reason: 'missing "uuid"' },
      { line: 6, reason: '"published" is missing or not an ISO-8601 timestamp' },
      { line: 7, reason: 'missing "actor.id"' },
      { line: 8, reason: 'missing "eventType"' },
    ]);
    expect(report.accepted).toBe(2);
    expect(await rows(`SELECT uuid FROM sso_events ORDER BY uuid`)).toEqual([{ uuid: good1.uuid }, { uuid: good2.uuid }]);
  });

  test('records per-(day, column) rows and BigQuery logical bytes for every leaf column', async () => {
    const events = fixtureEvents();
    await ingestEvents(dataDir, 'acme', ndjson(events));
    const stats = await rows<{ day: string; column_path: string; rows: string; logical_bytes: string }>(
      `SELECT strftime(day, '%Y-%m-%d') AS day, column_path, rows, logical_bytes FROM _partition_stats WHERE table_name = 'sso_events'`);
    expect(stats.length).toBeGreaterThan(DAYS.length * 30);
    for (const stat of stats) {
      const dayEvents = eventsOn(events, stat.day);
      expect({ ...stat, rows: Number(stat.rows), logical_bytes: Number(stat.logical_bytes) })
        .toEqual({ ...stat, rows: dayEvents.length, logical_bytes: expectedBytes(dayEvents, stat.column_path) });
    }
  });

  test('refreshes the rollup and statistics only for the days an ingest touched', async () => {
    const events = fixtureEvents();
    await ingestEvents(dataDir, 'acme', ndjson(eventsOn(events, DAYS[0], DAYS[1])));
    // Mark day 1's derived rows; a later ingest that only touches day 3 must leave them alone.
    await withDatasetWriter(dataDir, 'acme', async (instance) => {
      const connection = await instance.connect();
      await connection.run(`UPDATE productivity_daily SET total_events = 999 WHERE day = '${DAYS[0]}'`);
      await connection.run(`UPDATE _partition_stats SET rows = 999 WHERE day = '${DAYS[0]}'`);
      connection.closeSync();
    });
    const report = await ingestEvents(dataDir, 'acme', ndjson(eventsOn(events, DAYS[2])));
    expect(report.days).toEqual([DAYS[2]]);
    const rollup = await rows<{ day: string; total_events: string }>(`SELECT strftime(day, '%Y-%m-%d') AS day, sum(total_events)::INT AS total_events FROM productivity_daily GROUP BY day ORDER BY day`);
    expect(rollup).toEqual([
      { day: DAYS[0], total_events: 999 * new Set(eventsOn(events, DAYS[0]).map((e) => e.actor.id)).size },
      { day: DAYS[1], total_events: eventsOn(events, DAYS[1]).length },
      { day: DAYS[2], total_events: eventsOn(events, DAYS[2]).length },
    ]);
    expect(await rows(`SELECT DISTINCT rows::INT AS rows FROM _partition_stats WHERE day = '${DAYS[0]}'`)).toEqual([{ rows: 999 }]);
  });

  test('creates users for actors the directory does not know, without touching known ones', async () => {
    await ingestEvents(dataDir, 'acme', ndjson([event('00uic1', '2025-03-03T10:00:00Z', 'user.session.start')]));
    expect(await rows(`SELECT id, email, display_name, department FROM users`)).toEqual([
      { id: '00uic1', email: 'kenji@acme.example.com', display_name: '東京 Kenji', department: null },
    ]);
  });

  test('a running warehouse serves data ingested after it opened the tenant, without restart', async () => {
    const events = fixtureEvents();
    await ingestEvents(dataDir, 'acme', ndjson(eventsOn(events, DAYS[0])));
    const warehouse = createDuckDbWarehouse({ dataDir });
    const count = () => warehouse.query<{ n: number }>('acme', {
      name: 'count', params: {}, sql: (d) => `SELECT count(*) AS n FROM ${d.table('sso_events')} AS e WHERE e.published >= '2025-01-01'`,
    });
    expect((await count()).rows[0].n).toBe(eventsOn(events, DAYS[0]).length);
    await ingestEvents(dataDir, 'acme', ndjson(eventsOn(events, DAYS[1])));
    expect((await count()).rows[0].n).toBe(eventsOn(events, DAYS[0], DAYS[1]).length);
    await warehouse.close();
  });

  test("an ingest changes the data version of exactly the days it wrote, seen by a running warehouse at once", async () => {
    const events = fixtureEvents();
    await ingestEvents(dataDir, 'acme', ndjson(eventsOn(events, DAYS[0], DAYS[1])));
    const warehouse = createDuckDbWarehouse({ dataDir });
    try {
      const before = await warehouse.dataVersions('acme');
      expect([...before.keys()].sort()).toEqual([DAYS[0], DAYS[1]]);
      // One late event for day 2 and the first events of day 3.
      const late = event('00uic1', `${DAYS[1]}T23:59:00Z`, 'user.session.start');
      await ingestEvents(dataDir, 'acme', ndjson([late, ...eventsOn(events, DAYS[2])]));
      const after = await warehouse.dataVersions('acme');
      expect(after.get(DAYS[0])).toBe(before.get(DAYS[0]));
      expect(after.get(DAYS[1])).not.toBe(before.get(DAYS[1]));
      expect(after.get(DAYS[2])).toBeDefined();
      // Nothing new (every event a duplicate): no day changes.
      await ingestEvents(dataDir, 'acme', ndjson(eventsOn(events, DAYS[0])));
      expect(await warehouse.dataVersions('acme')).toEqual(after);
    } finally {
      await warehouse.close();
    }
  });

  test('a dataset written before a column was declared gets it on the next ingest, derived columns filled', async () => {
    const events = fixtureEvents();
    await ingestEvents(dataDir, 'acme', ndjson(eventsOn(events, DAYS[0])));
    // As an earlier version wrote it: no actor_id.
    await withDatasetWriter(dataDir, 'acme', async (instance) => {
      const connection = await instance.connect();
      await connection.run('ALTER TABLE sso_events DROP COLUMN actor_id');
      connection.closeSync();
    });
    const report = await ingestEvents(dataDir, 'acme', ndjson(eventsOn(events, DAYS[1])));
    expect(report.accepted).toBe(eventsOn(events, DAYS[1]).length);
    const mismatched = await rows<{ n: number }>(`SELECT count(*)::INT AS n FROM sso_events WHERE actor_id IS DISTINCT FROM actor.id`);
    expect(mismatched).toEqual([{ n: 0 }]);
    expect(await rows<{ n: number }>(`SELECT count(*)::INT AS n FROM sso_events`)).toEqual([{ n: eventsOn(events, DAYS[0], DAYS[1]).length }]);
  });
});
