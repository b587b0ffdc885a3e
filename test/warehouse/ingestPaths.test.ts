/**
 * The embedded ingest's three sources store exactly the same (warehouse/duckdb/eventBatches.ts): an
 * NDJSON file DuckDB reads itself in chunks (a chunk with a bad line read line by line instead, every
 * line number true across chunks), LogEvent objects without JSON (the seed), and text lines — same
 * rows, rollups, statistics and reports; and an ingest interrupted after storing some batches leaves
 * its days pending, for the next write to refresh.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateDays, generateDirectory } from '../../okta/generator';
import type { LogEvent } from '../../okta/logEvent';
import { WRITER_MEMORY_LIMIT_BYTES, datasetPath, withDatasetWriter } from '../../warehouse/duckdb/datasetFiles';
import { ingestEvents, ingestFile, ingestLogEvents } from '../../warehouse/duckdb/tenantDataset';
import { fixtureEvents, tempDataDir } from './fixture';

const GENERATED = { tenant: 'acme', users: 12, days: 4, eventsPerUser: 25, start: '2025-04-07', seed: 3 };
let remove: () => void;
let dataDir: string;

beforeEach(() => ({ dataDir, remove } = tempDataDir()));
afterEach(() => remove());

/** Everything an ingest writes that readers see, in a stable order. */
async function contents(dir: string, tenant: string): Promise<Record<string, unknown[]>> {
  const instance = await DuckDBInstance.create(datasetPath(dir, tenant), { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
    return {
      events: await read(`SELECT * EXCLUDE (debugContext), CAST(debugContext.debugData AS JSON)::VARCHAR AS debug FROM sso_events ORDER BY uuid`),
      productivity: await read(`SELECT * FROM productivity_daily ORDER BY ALL`),
      appUsage: await read(`SELECT * FROM app_usage_daily ORDER BY ALL`),
      stats: await read(`SELECT * FROM _partition_stats ORDER BY ALL`),
      users: await read(`SELECT * FROM users ORDER BY id`),
      pending: await read(`SELECT * FROM _pending_days`),
    };
  } finally {
    instance.closeSync();
  }
}

function generated(): LogEvent[][] {
  return [...generateDays(GENERATED, generateDirectory(GENERATED))].map((day) => day.events);
}

test('an NDJSON file read by DuckDB in chunks, LogEvent objects, and text lines store the same rows, rollups and statistics', async () => {
  const days = generated();
  const lines = days.flat().map((e) => JSON.stringify(e));
  const file = path.join(dataDir, 'events.ndjson');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const [fromLines, fromFile, fromObjects, refreshedAsItGoes] = ['lines', 'file', 'objects', 'refreshed'].map((name) => path.join(dataDir, name));

  const reports = [
    await ingestEvents(fromLines, 'acme', lines),
    await ingestFile(fromFile, 'acme', file, { chunkBytes: 64 * 1024 }), // many chunks
    await ingestLogEvents(fromObjects, 'acme', days, { batchEvents: 97 }), // days cut in batches
    await ingestLogEvents(refreshedAsItGoes, 'acme', days, { batchEvents: 97, refreshEvents: 150 }), // derived data refreshed mid-ingest, days split across refreshes
  ];
  expect(reports[0]).toEqual({ accepted: lines.length, duplicates: 0, rejected: [], days: ['2025-04-07', '2025-04-08', '2025-04-09', '2025-04-10'] });
  for (const report of reports.slice(1)) expect(report).toEqual(reports[0]);
  const expected = await contents(fromLines, 'acme');
  expect(expected.events).toHaveLength(lines.length);
  expect(expected.pending).toEqual([]);
  for (const dir of [fromFile, fromObjects, refreshedAsItGoes]) expect(await contents(dir, 'acme')).toEqual(expected);
});

test('a chunk with bad lines is read line by line: every rejected line has its true number across chunks; the other chunks load as usual', async () => {
  const events = generated().flat();
  const lines = events.map((e) => JSON.stringify(e));
  const broken = [5, lines.length - 3]; // 0-based: one bad line early, one in the last chunk
  lines[broken[0]] = '{"uuid": "cut short",';
  lines[broken[1]] = JSON.stringify({ ...events[broken[1]], actor: { type: 'User' } });
  lines.splice(40, 0, '', '   '); // blank lines count, and are skipped
  const file = path.join(dataDir, 'events.ndjson');
  fs.writeFileSync(file, lines.join('\n')); // no newline at the end
  const report = await ingestFile(dataDir, 'acme', file, { chunkBytes: 32 * 1024 });
  expect(report.rejected).toEqual([
    { line: broken[0] + 1, reason: 'not valid JSON' },
    { line: broken[1] + 3, reason: 'missing "actor.id"' },
  ]);
  expect(report.accepted).toBe(events.length - 2);
  // The same input as lines: the same report.
  expect(await ingestEvents(path.join(dataDir, 'again'), 'acme', lines)).toEqual(report);
});

test('a JSON array export is read as lines, numbered by element', async () => {
  const events = fixtureEvents().slice(0, 4);
  const file = path.join(dataDir, 'export.json');
  fs.writeFileSync(file, JSON.stringify([events[0], { uuid: 'x' }, ...events.slice(1)]));
  const report = await ingestFile(dataDir, 'acme', file);
  expect(report).toMatchObject({ accepted: 4, rejected: [{ line: 2, reason: '"published" is missing or not an ISO-8601 timestamp' }] });
});

test('an ingest interrupted after storing a batch leaves its days pending; the next write refreshes their rollups and statistics', async () => {
  const [first, second] = generated();
  await ingestLogEvents(dataDir, 'acme', [first]);
  const complete = await contents(dataDir, 'acme');
  // A crash between the batch's commit and the derived data's: the events stored, the day pending.
  await withDatasetWriter(dataDir, 'acme', async (instance) => {
    const connection = await instance.connect();
    await connection.run(`DELETE FROM productivity_daily; DELETE FROM app_usage_daily; DELETE FROM _partition_stats WHERE table_name <> 'users' AND table_name <> 'tenant_info'`);
    await connection.run(`INSERT INTO _pending_days VALUES ('2025-04-07')`);
    connection.closeSync();
  });
  expect((await contents(dataDir, 'acme')).productivity).toEqual([]);
  await ingestLogEvents(dataDir, 'acme', [second]);
  const after = await contents(dataDir, 'acme');
  expect(after.pending).toEqual([]);
  expect(after.productivity.filter((r) => (r as { day: string }).day === '2025-04-07')).toEqual(complete.productivity);
  expect(after.stats.filter((r) => (r as { day: string | null }).day === '2025-04-07')).toEqual(complete.stats.filter((r) => (r as { day: string | null }).day === '2025-04-07'));
});

test('a write runs under DUCKDB_MEMORY_LIMIT, else WRITER_MEMORY_LIMIT_BYTES, however the limits are passed (unset config values included), checkpointing every 256 MiB of WAL', async () => {
  const settingsOf = (limits?: { memoryLimitBytes?: number; threads?: number }) => withDatasetWriter(dataDir, 'acme', async (instance) => {
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(`SELECT current_setting('memory_limit'), current_setting('checkpoint_threshold')`);
    connection.closeSync();
    return reader.getRows()[0].map(String);
  }, { limits });
  const limitOf = async (limits?: { memoryLimitBytes?: number; threads?: number }) => (await settingsOf(limits))[0];
  expect((await settingsOf())[1]).toBe('256.0 MiB'); // WRITER_CHECKPOINT_THRESHOLD
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  expect(await limitOf()).toBe(mib(WRITER_MEMORY_LIMIT_BYTES));
  expect(await limitOf({ memoryLimitBytes: undefined, threads: undefined })).toBe(mib(WRITER_MEMORY_LIMIT_BYTES)); // as config passes them unset
  expect(await limitOf({ memoryLimitBytes: 96 * 2 ** 20 })).toBe('96.0 MiB');
});
