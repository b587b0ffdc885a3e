/**
 * The System Log poller against a local server that behaves like Okta's API (oktaFake.ts), loading
 * into real DuckDB datasets: it follows only the Link rel="next" URLs, waits out 429s until
 * X-Rate-Limit-Reset, retries 5xx a bounded number of times, resumes after a crash from its
 * checkpoint without loss or duplication, keeps polling an empty page in follow mode, and never
 * sends the token to another origin. Then the `npm run ingest -- --okta-url` CLI end to end, into
 * DuckDB and (WAREHOUSE=bigquery) into BigQuery through its REST fake.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateDays, generateDirectory } from '../../okta/generator';
import type { LogEvent } from '../../okta/logEvent';
import { type Checkpoint, OktaApiError, fileCheckpoint, nextLink, pollOktaLogs } from '../../okta/logsPoller';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { ingestEvents } from '../../warehouse/duckdb/tenantDataset';
import { runMain } from '../e2e/processes';
import { startBigQueryFake } from '../warehouse/bigQueryFake';
import { type OktaFake, startOktaFake } from './oktaFake';

const TOKEN = 'okta-test-token-0123456789';
const options = { tenant: 'okta', users: 5, days: 2, eventsPerUser: 4, start: '2025-02-03', seed: 8 };
const directory = generateDirectory(options);
const events = [...generateDays(options, directory)].flatMap((d) => d.events);
const later = [...generateDays({ ...options, start: '2025-02-05', days: 1, seed: 9 }, directory)].flatMap((d) => d.events);
const SINCE = '2025-02-01T00:00:00Z';

let dataDir: string;
let fake: OktaFake;
const slept: number[] = [];
const sleep = async (ms: number) => void slept.push(ms);

beforeEach(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-okta-'));
  fake = await startOktaFake({ events, token: TOKEN });
  slept.length = 0;
});
afterEach(async () => {
  await fake.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const load = (events: string[]) => ingestEvents(dataDir, 'okta', events).then(() => undefined);
const checkpointFile = () => path.join(dataDir, 'okta', 'checkpoint.json');
const poll = (overrides: Partial<Parameters<typeof pollOktaLogs>[0]> = {}) =>
  pollOktaLogs({ orgUrl: fake.url, token: TOKEN, since: SINCE, pageSize: 7, batchEvents: 10, checkpoint: fileCheckpoint(checkpointFile()), load, sleep, ...overrides });

async function stored(inDataDir = dataDir): Promise<{ total: number; distinct: number; uuids: string[] }> {
  const warehouse = createDuckDbWarehouse({ dataDir: inDataDir });
  try {
    const { rows } = await warehouse.query<{ uuid: string }>('okta', { name: 'uuids', params: {}, sql: (d) => `SELECT e.uuid FROM ${d.table('sso_events')} AS e WHERE e.published >= '2000-01-01' ORDER BY e.uuid` });
    const uuids = rows.map((r) => r.uuid);
    return { total: uuids.length, distinct: new Set(uuids).size, uuids };
  } finally {
    await warehouse.close();
  }
}
const uuidsOf = (list: LogEvent[]) => list.map((e) => e.uuid).sort();

test('follows only the Link rel="next" URLs, page after page, until an empty page; every event loaded once', async () => {
  const result = await poll();
  // Full pages, the last partial one, then the empty page that says "caught up".
  expect(result).toEqual({ events: events.length, pages: Math.floor(events.length / 7) + 1 + (events.length % 7 === 0 ? 0 : 1) });
  // The first request is built from `since`; every later one is exactly the previous response's next link.
  expect(new URL(fake.requests[0].url, fake.url).searchParams.get('since')).toBe(SINCE);
  for (let i = 1; i < fake.requests.length; i++) expect(new URL(fake.requests[i].url, fake.url).href).toBe(fake.nextLinks[i - 1]);
  expect(fake.requests.every((r) => r.authorization === `SSWS ${TOKEN}`)).toBe(true);
  expect((await stored()).uuids).toEqual(uuidsOf(events));
});

test('a 429 waits until X-Rate-Limit-Reset, then retries the same URL', async () => {
  fake.fail(2, 429, 3);
  await poll();
  expect(fake.requests[2].url).toBe(fake.requests[1].url);
  expect(slept).toHaveLength(1);
  expect(slept[0]).toBeGreaterThan(1500);
  expect(slept[0]).toBeLessThanOrEqual(3000);
  expect((await stored()).total).toBe(events.length);
});

test('5xx is retried with backoff a bounded number of times, then a coded error', async () => {
  fake.fail(2, 503);
  await poll();
  expect((await stored()).total).toBe(events.length);
  expect(slept).toEqual([500]);

  for (let n = 1; n <= 4; n++) fake.fail(fake.requests.length + n, 500);
  fs.rmSync(checkpointFile());
  await expect(poll({ maxRetries: 2 })).rejects.toThrow(/HTTP 500 3 times/);
});

test('a crash after a loaded batch resumes from the checkpoint: nothing lost, nothing twice', async () => {
  let batches = 0;
  const crashing = async (list: string[]) => {
    if (++batches === 2) throw new Error('gateway host lost power');
    await load(list);
  };
  await expect(poll({ load: crashing })).rejects.toThrow('lost power');
  const afterCrash = await stored();
  expect(afterCrash.total).toBeGreaterThan(0);
  expect(afterCrash.total).toBeLessThan(events.length);
  const resumeAt = await fileCheckpoint(checkpointFile()).read();
  expect(resumeAt).toBeDefined();

  const requestsBefore = fake.requests.length;
  await poll();
  // Resumed at the checkpoint, not at `since`.
  expect(new URL(fake.requests[requestsBefore].url, fake.url).href).toBe(resumeAt);
  const final = await stored();
  expect(final.uuids).toEqual(uuidsOf(events));
  expect(final.distinct).toBe(final.total);
});

test('follow mode: an empty page is polled again at the same next link, and new events arrive', async () => {
  const stop = new AbortController();
  let waits = 0;
  await poll({
    follow: true, pollIntervalMs: 60_000, signal: stop.signal,
    sleep: async (ms) => {
      slept.push(ms);
      if (++waits === 1) fake.append(later);
      else stop.abort();
    },
  });
  expect(slept).toEqual([60_000, 60_000]);
  expect((await stored()).uuids).toEqual(uuidsOf([...events, ...later]));
  // The empty page's next link was polled as given (it then returned the new events).
  const emptyPageLink = fake.nextLinks[Math.ceil(events.length / 7) - 1];
  expect(fake.requests.filter((r) => new URL(r.url, fake.url).href === emptyPageLink).length).toBeGreaterThanOrEqual(2);
});

test('a refused token is a clear error; a next link to another origin is refused before the token goes there', async () => {
  await expect(poll({ token: 'wrong' })).rejects.toThrow(/refused the token \(HTTP 401\)/);
  await expect(poll({ token: 'wrong' })).rejects.toBeInstanceOf(OktaApiError);
  const elsewhere = await startOktaFake({ events, token: TOKEN, nextOrigin: 'http://198.51.100.7:9' });
  try {
    await expect(pollOktaLogs({ orgUrl: elsewhere.url, token: TOKEN, since: SINCE, pageSize: 7, checkpoint: memoryCheckpoint(), load, sleep }))
      .rejects.toThrow(/another origin/);
    expect(elsewhere.requests).toHaveLength(1);
  } finally {
    await elsewhere.close();
  }
});

test('a damaged checkpoint stops the poller with a clear error instead of starting over', async () => {
  fs.mkdirSync(path.dirname(checkpointFile()), { recursive: true });
  fs.writeFileSync(checkpointFile(), '{"nextUrl": ');
  await expect(poll()).rejects.toThrow(/not valid JSON.*fix or delete it/);
  fs.writeFileSync(checkpointFile(), '{"savedAt": "2025-01-01"}');
  await expect(poll()).rejects.toThrow(/has no "nextUrl"/);
  expect(fake.requests).toHaveLength(0);
});

test('Link header parsing: rel="next" among others, quoted or not', () => {
  expect(nextLink('<https://o.okta.com/a>; rel="self", <https://o.okta.com/b?after=1>; rel="next"')).toBe('https://o.okta.com/b?after=1');
  expect(nextLink('<https://o.okta.com/b>; rel=next')).toBe('https://o.okta.com/b');
  expect(nextLink('<https://o.okta.com/a>; rel="self"')).toBeUndefined();
  expect(nextLink(null)).toBeUndefined();
});

describe('npm run ingest -- --okta-url', () => {
  const env = () => ({ DATA_DIR: dataDir, OKTA_TOKEN: TOKEN });

  test('loads everything, then a second run resumes and finds nothing new', async () => {
    const first = await runMain('ingest', ['--tenant', 'okta', '--okta-url', fake.url, '--token-env', 'OKTA_TOKEN', '--since', SINCE], env());
    expect(first.stderr).toContain(`okta: ${events.length} new events`);
    expect(first.code).toBe(0);
    const second = await runMain('ingest', ['--tenant', 'okta', '--okta-url', fake.url, '--token-env', 'OKTA_TOKEN'], env());
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/okta: 0 events from 1 pages/);
    expect((await stored()).total).toBe(events.length);
  });

  test('bad arguments exit 2 with a reason', async () => {
    for (const [args, message] of [
      [['--tenant', 'okta', '--okta-url', fake.url, '--token-env', 'NOT_SET'], /NOT_SET: that environment variable is empty/],
      [['--tenant', 'okta', '--okta-url', 'http://okta.example.com', '--token-env', 'OKTA_TOKEN'], /must be https/],
      [['--tenant', 'okta', '--okta-url', fake.url, '--token-env', 'OKTA_TOKEN', '--since', 'yesterday'], /--since must be an ISO-8601/],
      [['--tenant', 'okta', '--file', 'x.ndjson', '--okta-url', fake.url], /either --file or --okta-url/],
      [['--tenant', 'okta', '--file', 'x.ndjson', '--follow'], /--follow applies to --okta-url only/],
    ] as const) {
      const result = await runMain('ingest', [...args], env());
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});

test('with WAREHOUSE=bigquery, ingest and seed load through BigQuery load jobs (REST fake), resuming like the embedded path', async () => {
  const bigQueryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-okta-bq-'));
  const bigQuery = await startBigQueryFake({ dataDir: bigQueryDir, projectId: 'acme-analytics', datasetPrefix: 'bytegate' });
  try {
    const env = { DATA_DIR: dataDir, OKTA_TOKEN: TOKEN, WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'acme-analytics', BIGQUERY_API_ENDPOINT: bigQuery.url };
    const args = ['--tenant', 'okta', '--okta-url', fake.url, '--token-env', 'OKTA_TOKEN', '--since', SINCE];
    const first = await runMain('ingest', args, env);
    expect(first.stderr).toContain(`okta: ${events.length} new events`);
    expect(first.code).toBe(0);
    expect(bigQuery.loads().length).toBeGreaterThan(0);
    fake.append(later);
    const second = await runMain('ingest', args, env);
    expect(second.stderr).toContain(`okta: ${later.length} new events`);
    const inBigQuery = await stored(bigQueryDir);
    expect(inBigQuery.total).toBe(events.length + later.length);
    expect(inBigQuery.distinct).toBe(inBigQuery.total);

    const seed = await runMain('seed', ['--tenant', 'seeded', '--users', '3', '--days', '2', '--start', '2025-01-06'], env);
    expect(seed.code).toBe(0);
    expect(seed.stdout).toMatch(/seeded: \d+ events stored \(0 already present\) in BigQuery dataset acme-analytics\.bytegate_seeded/);
  } finally {
    await bigQuery.close();
    fs.rmSync(bigQueryDir, { recursive: true, force: true });
  }
});

function memoryCheckpoint(): Checkpoint {
  let saved: string | undefined;
  return { read: async () => saved, write: async (next) => void (saved = next) };
}
