/**
 * BigQuery metadata read only when something changed (warehouse/bigquery/metadata.ts), against the
 * recording BigQuery fake and the Redis on 127.0.0.1:6379 (REDIS_URL): two adapter instances stand for
 * two replicas sharing one store and one data-change feed, the loader for bytegate's own ingest.
 * Metadata queries are the jobs labelled `partitions` / `partitionStats`; tables.get calls are free.
 */
import { randomUUID } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { type DataChange, type DataChangeFeed, openDataChangeFeed } from '../../common/changeFeed';
import { MiB } from '../../common/units';
import { createBigQueryLoader } from '../../warehouse/bigquery/bigQueryLoader';
import { createBigQueryWarehouse } from '../../warehouse/bigquery/bigQueryWarehouse';
import { bigQueryClient } from '../../warehouse/bigquery/jobs';
import { type MetadataStore, openRedisMetadataStore } from '../../warehouse/bigquery/metadataStore';
import type { MetadataOptions } from '../../warehouse/bigquery/metadata';
import { announceWrites } from '../../warehouse/datasetWriter';
import { upsertUsers } from '../../warehouse/duckdb/tenantDataset';
import { type OverheadMeter, createOverheadMeter } from '../../warehouse/overhead';
import type { Warehouse } from '../../warehouse/warehouse';
import { type BigQueryFake, type RecordedRequest, startBigQueryFake } from './bigQueryFake';
import { DAYS, event, fixture, ndjson, people, tempDataDir } from './fixture';

process.env.METADATA_SERVER_DETECTION = 'none';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const PROJECT = 'test-project';
const NEW_DAY = '2025-03-06';

interface Replica {
  warehouse: Warehouse;
  overhead: OverheadMeter;
  close(): Promise<void>;
}

let fake: BigQueryFake;
let remove: () => void;
/** Datasets, Redis keys and the feed's channel of this run only. */
let prefix: string;
let channel: string;
const closers: (() => Promise<unknown>)[] = [];
/** Every data change announced on this run's channel. */
const announced: DataChange[] = [];

const authClient = () => {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'test' });
  return client;
};

async function shared(): Promise<{ store: MetadataStore; changes: DataChangeFeed }> {
  const [store, changes] = await Promise.all([openRedisMetadataStore({ url: REDIS_URL }), openDataChangeFeed(REDIS_URL, { channel })]);
  closers.push(() => store.close(), () => changes.close());
  return { store, changes };
}

async function replica(metadata: MetadataOptions = {}): Promise<Replica> {
  const overhead = createOverheadMeter();
  const warehouse = createBigQueryWarehouse({
    projectId: PROJECT, datasetPrefix: prefix, apiEndpoint: fake.url, authClient: authClient(), version: '0.1.0', overhead, metadata: { ...(await shared()), ...metadata },
  });
  return { warehouse, overhead, close: () => warehouse.close() };
}

/** The loader as `openDatasetWriter` opens it with REDIS_URL: re-reading what it wrote into the shared store, announcing each write. */
async function loader(overhead: OverheadMeter) {
  const { store, changes } = await shared();
  return announceWrites(createBigQueryLoader({
    client: bigQueryClient({ projectId: PROJECT, location: 'US', apiEndpoint: fake.url, authClient: authClient() }),
    projectId: PROJECT, location: 'US', datasetPrefix: prefix, version: '0.1.0', overhead, metadata: { store },
  }), changes);
}

/** Everything a replica reads of a tenant's metadata. */
async function readAll(warehouse: Warehouse, tenant = 'acme') {
  const [stats, days, tables] = await Promise.all([warehouse.partitionStats(tenant), warehouse.dataVersions(tenant), warehouse.tableVersions(tenant)]);
  return { stats, days, tables };
}

const since = (requests: RecordedRequest[], before: number) => requests.slice(before);
const queriedTables = (request: RecordedRequest): string[] | undefined =>
  request.body.configuration.query.queryParameters?.find((p: { name: string }) => p.name === 'tables')?.parameterValue.arrayValues.map((v: { value: string }) => v.value).sort();

beforeEach(async () => {
  const run = randomUUID().slice(0, 8);
  prefix = `meta_${run}`;
  channel = `bytegate:test-data-changes:${run}`;
  announced.length = 0;
  const dir = tempDataDir();
  remove = dir.remove;
  fake = await startBigQueryFake({ dataDir: dir.dataDir, projectId: PROJECT, datasetPrefix: prefix });
  const listener = await openDataChangeFeed(REDIS_URL, { channel });
  listener.subscribe((change) => announced.push(change));
  closers.push(() => listener.close());
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fake.close();
  remove();
});

/** The fixture loaded through the loader (bytegate's own ingest), as `npm run seed` does. */
async function seeded(overhead = createOverheadMeter()) {
  const writer = await loader(overhead);
  const data = fixture();
  await writer.createTenant(data.tenant);
  await writer.upsertUsers(data.tenant.id, data.users);
  await writer.ingestEvents(data.tenant.id, ndjson(data.events));
  return { writer, overhead };
}

test('while nothing changes, two replicas checking on every read run no metadata query at all — only free tables.get calls', async () => {
  await seeded();
  const [a, b] = [await replica({ checkIntervalMs: 0 }), await replica({ checkIntervalMs: 0 })];
  const queries = fake.metadataQueries().length;
  const gets = fake.tableGets().length;
  const first = await readAll(a.warehouse);
  for (let round = 0; round < 10; round++) {
    expect(await readAll(a.warehouse)).toEqual(first);
    expect(await readAll(b.warehouse)).toEqual(first);
  }
  expect(fake.metadataQueries().length - queries).toBe(0); // the loader stored what it read after its last write
  expect(fake.tableGets().length - gets).toBeGreaterThanOrEqual(21 * 5); // every read checked every table
  expect(first.days.size).toBe(DAYS.length);
  expect(a.overhead.totals().filter((t) => t.reason === 'metadata')).toEqual([]);
});

test('an ingest re-reads exactly the tables it changed, once, and every replica updates from the feed without asking BigQuery', async () => {
  const { writer, overhead } = await seeded();
  const [a, b] = [await replica(), await replica()];
  const before = await readAll(a.warehouse);
  expect(await readAll(b.warehouse)).toEqual(before);
  const queries = fake.metadataQueries().length;
  const requests = fake.requests.length;

  // One known actor on a new day: sso_events, productivity_daily and _partition_stats change; users and tenant_info do not.
  const report = await writer.ingestEvents('acme', ndjson([event('00uic1', `${NEW_DAY}T09:00:00Z`, 'user.authentication.sso', { app: 'mail' })]));
  expect(report.days).toEqual([NEW_DAY]);
  const reread = since(fake.metadataQueries(), queries);
  expect(reread.map((r) => r.body.configuration.labels.query).sort()).toEqual(['partitions', 'partitionstats']);
  expect(queriedTables(reread.find((r) => r.body.configuration.labels.query === 'partitions')!)).toEqual(['app_usage_daily', 'productivity_daily', 'sso_events']);
  expect(overhead.totals().find((t) => t.reason === 'metadata')?.billedBytes).toBeGreaterThanOrEqual(2 * 10 * MiB);

  // The announcement reaches the replicas; they adopt what the loader stored: no query, not even a tables.get.
  await waitFor(() => announced.some((c) => c.days.includes(NEW_DAY)));
  const afterIngest = fake.requests.length;
  for (const r of [a, b]) {
    const after = await readAll(r.warehouse);
    expect([...after.days.keys()]).toEqual([...DAYS, NEW_DAY]);
    expect(after.tables).toEqual(before.tables);
    expect(after.stats.some((s) => s.table === 'sso_events' && s.day === NEW_DAY && s.rows === 1)).toBe(true);
  }
  expect(fake.requests.slice(afterIngest)).toEqual([]);
  expect(since(fake.metadataQueries(), queries)).toHaveLength(2);
  expect(fake.requests.length).toBeGreaterThan(requests);
});

test('a write made outside bytegate is found by a check, re-read once across two replicas, and announced', async () => {
  await seeded();
  const [a, b] = [await replica({ checkIntervalMs: 0 }), await replica({ checkIntervalMs: 0 })];
  const before = await readAll(a.warehouse);
  await readAll(b.warehouse);
  const queries = fake.metadataQueries().length;

  const announcedBefore = announced.length;
  // Straight into the dataset, as a job outside bytegate would: a new title for someone.
  await upsertUsers(fake.dataDir, 'acme', [{ ...people[3], title: 'Account Executive' }]);
  const [afterA, afterB] = await Promise.all([readAll(a.warehouse), readAll(b.warehouse)]);
  const reread = since(fake.metadataQueries(), queries);
  expect(reread.filter((r) => r.body.configuration.labels.query === 'partitions').map(queriedTables)).toEqual([['users']]);
  expect(reread.filter((r) => r.body.configuration.labels.query === 'partitionstats').length).toBeLessThanOrEqual(1);
  // Whichever replica took the lease checked; the other served its copy meanwhile or waited for the check.
  const checked = [afterA, afterB].find((after) => after.tables.get('users') !== before.tables.get('users'));
  expect(checked).toBeDefined();
  expect(checked!.tables.get('tenant_info')).toBe(before.tables.get('tenant_info'));
  expect(checked!.days).toEqual(before.days);
  for (const after of [afterA, afterB]) expect([before.tables.get('users'), checked!.tables.get('users')]).toContain(after.tables.get('users'));
  await waitFor(() => announced.length > announcedBefore);
  expect(announced.slice(announcedBefore)).toEqual([{ tenant: 'acme', days: [] }]);
  // The announcement reaches both: each adopts the checked copy.
  for (const r of [a, b]) expect((await readAll(r.warehouse)).tables).toEqual(checked!.tables);
  expect(since(fake.metadataQueries(), queries)).toHaveLength(reread.length);
});

test('the safety net re-reads everything once an hour, whatever the checks say', async () => {
  await seeded();
  let clock = Date.now();
  const clocked = createBigQueryWarehouse({
    projectId: PROJECT, datasetPrefix: prefix, apiEndpoint: fake.url, authClient: authClient(), now: () => clock,
    metadata: { ...(await shared()), checkIntervalMs: 60_000, fullReadIntervalMs: 3_600_000 },
  });
  const first = await readAll(clocked);
  const queries = fake.metadataQueries().length;
  clock += 59 * 60_000;
  expect(await readAll(clocked)).toEqual(first); // checked (nothing changed), nothing read
  expect(fake.metadataQueries().length).toBe(queries);
  clock += 2 * 60_000;
  expect(await readAll(clocked)).toEqual(first);
  const full = since(fake.metadataQueries(), queries);
  expect(full.map((q) => q.body.configuration.labels.query).sort()).toEqual(['partitions', 'partitionstats']);
  expect(queriedTables(full.find((q) => q.body.configuration.labels.query === 'partitions')!)).toEqual(['app_usage_daily', 'productivity_daily', 'sso_events', 'tenant_info', 'users']);
});

test('with Redis unreachable, each replica reads for itself: answers stay right, nothing fails', async () => {
  await seeded();
  const down = await openRedisMetadataStore({ url: 'redis://127.0.0.1:1', timeoutMs: 50, log: () => undefined });
  closers.push(() => down.close());
  const lonely = createBigQueryWarehouse({
    projectId: PROJECT, datasetPrefix: prefix, apiEndpoint: fake.url, authClient: authClient(), metadata: { store: down, checkIntervalMs: 0 },
  });
  const healthy = await replica();
  const queries = fake.metadataQueries().length;
  expect(await readAll(lonely)).toEqual(await readAll(healthy.warehouse));
  expect(since(fake.metadataQueries(), queries).length).toBe(2); // its own full read
  await readAll(lonely);
  expect(since(fake.metadataQueries(), queries).length).toBe(2); // then checks only
});

test("the loader meters every job it runs for bytegate, by reason, with BigQuery's own bills", async () => {
  const { overhead } = await seeded();
  const byReason = Object.fromEntries(overhead.totals().map((t) => [t.reason, t]));
  expect(Object.keys(byReason).sort()).toEqual(['directory', 'ingest', 'load', 'metadata', 'provision', 'tenant']);
  expect(byReason.load).toMatchObject({ jobs: fake.loads().length, billedBytes: 0 }); // load jobs are free
  expect(byReason.ingest.billedBytes).toBeGreaterThanOrEqual(10 * MiB); // the dedupe, rollup and statistics transaction
  expect(byReason.metadata.billedBytes).toBe(fake.metadataQueries().length * 10 * MiB);
  expect(byReason.metadata.jobs).toBe(fake.metadataQueries().length);
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const giveUpAt = Date.now() + timeoutMs; !condition();) {
    if (Date.now() > giveUpAt) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
