/**
 * The embedded ingest's three sources store exactly the same (warehouse/duckdb/eventBatches.ts): an
 * NDJSON file DuckDB reads itself — whole, by one statement, when it is clean; otherwise in chunks, a
 * chunk with a bad line read line by line (every line number true across chunks) — LogEvent objects
 * without JSON (the seed), and text lines: same rows, rollups, statistics and reports; and an ingest
 * interrupted after storing some batches leaves its days pending, for the next write to refresh.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateDays, generateDirectory } from '../../okta/generator';
import type { LogEvent } from '../../okta/logEvent';
import { WRITER_MEMORY_LIMIT_BYTES, datasetPath, withDatasetWriter } from '../../warehouse/duckdb/datasetFiles';
import { countFileLines } from '../../warehouse/duckdb/eventBatches';
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

test('an NDJSON file read by DuckDB whole or in chunks, LogEvent objects, and text lines store the same rows, rollups and statistics', async () => {
  const days = generated();
  const lines = days.flat().map((e) => JSON.stringify(e));
  const file = path.join(dataDir, 'events.ndjson');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const repeated = path.join(dataDir, 'repeated.ndjson'); // a uuid twice: not clean, read in chunks
  fs.writeFileSync(repeated, `${[...lines, lines[7]].join('\n')}\n`);
  const [fromLines, fromFile, fromChunks, fromObjects, refreshedAsItGoes] = ['lines', 'file', 'chunks', 'objects', 'refreshed'].map((name) => path.join(dataDir, name));

  const reports = [
    await ingestEvents(fromLines, 'acme', lines),
    await ingestFile(fromFile, 'acme', file, { chunkBytes: 64 * 1024 }), // clean: whole
    { ...(await ingestFile(fromChunks, 'acme', repeated, { chunkBytes: 64 * 1024 })), duplicates: 0 }, // many chunks; the repeat is a duplicate
    await ingestLogEvents(fromObjects, 'acme', days, { batchEvents: 97 }), // days cut in batches
    await ingestLogEvents(refreshedAsItGoes, 'acme', days, { batchEvents: 97, refreshEvents: 150 }), // derived data refreshed mid-ingest, days split across refreshes
  ];
  expect(reports[0]).toEqual({ accepted: lines.length, duplicates: 0, rejected: [], days: ['2025-04-07', '2025-04-08', '2025-04-09', '2025-04-10'] });
  for (const report of reports.slice(1)) expect(report).toEqual(reports[0]);
  const expected = await contents(fromLines, 'acme');
  expect(expected.events).toHaveLength(lines.length);
  expect(expected.pending).toEqual([]);
  for (const dir of [fromFile, fromChunks, fromObjects, refreshedAsItGoes]) expect(await contents(dir, 'acme')).toEqual(expected);
});

test('a clean file is stored by one statement; a file that is not — a uuid twice, a key twice in an object, a line the reader skips — in chunks, nothing of the failed statement left; each as line by line', async () => {
  const events = generated().flat();
  const lines = events.map((e) => JSON.stringify(e));
  const cases: Record<string, string[]> = {
    clean: lines,
    'uuid twice': [...lines.slice(0, 30), lines[3], ...lines.slice(30)],
    // The key pass does not read `client`; the whole read fails on it, after the keys passed.
    'key twice': lines.map((line, i) => (i === 20 ? line.replace('"client":{', '"client":{"zone":"first"},"client":{') : line)),
    'long blank line': [...lines.slice(0, 10), ' '.repeat(100), ...lines.slice(10)],
  };
  expect(cases['key twice'][20]).toContain('"client":{"zone":"first"},"client":{');
  for (const [name, input] of Object.entries(cases)) {
    const file = path.join(dataDir, `${name}.ndjson`);
    fs.writeFileSync(file, `${input.join('\n')}\n`);
    const progress: number[] = [];
    const [fromFile, fromLines] = [`${name}-file`, `${name}-lines`].map((dir) => path.join(dataDir, dir));
    const report = await ingestFile(fromFile, 'acme', file, { chunkBytes: 16 * 1024, onProgress: (line) => progress.push(line) });
    expect(report).toEqual(await ingestEvents(fromLines, 'acme', input));
    expect(report.accepted).toBe(events.length);
    expect(await contents(fromFile, 'acme')).toEqual(await contents(fromLines, 'acme'));
    // The last step reports every line; a chunked read reports each chunk before it.
    expect(progress.at(-1)).toBe(input.length);
    if (name === 'clean') expect(progress).toEqual([input.length]);
    else expect(new Set(progress).size).toBeGreaterThan(5);
  }
});

test('a file partly stored already: only its new events are stored, the days that received them reported, the rest counted as duplicates', async () => {
  const [first, second, third] = generated();
  const write = (name: string, events: LogEvent[]) => {
    const file = path.join(dataDir, name);
    fs.writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    return file;
  };
  const [fromFile, fromLines] = ['file', 'lines'].map((dir) => path.join(dataDir, dir));
  await ingestFile(fromFile, 'acme', write('first.ndjson', [...first, ...second]));
  await ingestEvents(fromLines, 'acme', [...first, ...second].map((e) => JSON.stringify(e)));
  const overlapping = [...second.slice(0, 40), ...third];
  const progress: number[] = [];
  const report = await ingestFile(fromFile, 'acme', write('overlapping.ndjson', overlapping), { chunkBytes: 16 * 1024, onProgress: (line) => progress.push(line) });
  expect(report).toEqual({ accepted: third.length, duplicates: 40, rejected: [], days: ['2025-04-09'] });
  expect(progress).toEqual([overlapping.length]); // clean: stored whole
  expect(await ingestEvents(fromLines, 'acme', overlapping.map((e) => JSON.stringify(e)))).toEqual(report);
  expect(await contents(fromFile, 'acme')).toEqual(await contents(fromLines, 'acme'));
  expect(await ingestFile(fromFile, 'acme', write('again.ndjson', overlapping))).toEqual({ accepted: 0, duplicates: overlapping.length, rejected: [], days: [] });
});

test('lines are counted across read buffers: one spanning two, a blank one spanning two, no newline at the end', async () => {
  const file = path.join(dataDir, 'big.ndjson');
  const buffer = 8 * 2 ** 20; // countFileLines's read buffer
  const filler = `{"pad":"${'x'.repeat(1000)}"}\n`;
  const head = filler.repeat(Math.floor(buffer / filler.length) - 1);
  // Ends 3 bytes before the buffer's end: a blank line of 6 spaces then straddles it; later a line of text does.
  const upTo = `${head}${'y'.repeat(buffer - head.length - 3 - 1)}\n`;
  expect(upTo.length).toBe(buffer - 3);
  const tail = `${' '.repeat(6)}\n${filler}${'z'.repeat(buffer)}\n\n{"last":1}`;
  fs.writeFileSync(file, upTo + tail);
  const lines = (upTo + tail).split('\n');
  expect(await countFileLines(file)).toEqual({ lines: lines.length, blank: lines.filter((line) => line.trim() === '').length });
  expect(lines.filter((line) => line.trim() === '')).toHaveLength(2);
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
