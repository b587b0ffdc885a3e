/**
 * Loading into BigQuery (warehouse/bigquery/bigQueryLoader.ts) with the real client against the
 * REST fake (bigQueryFake.ts): the Warehouse contract over a dataset written only through load jobs
 * and transactions, the same stored data and statistics as the embedded ingest, exactly-once on
 * replays, retries and failures, and what each request asks BigQuery for.
 */
import { OAuth2Client } from 'google-auth-library';
import { ErrorCode } from '../../common/errors';
import { createBigQueryLoader } from '../../warehouse/bigquery/bigQueryLoader';
import { createBigQueryWarehouse } from '../../warehouse/bigquery/bigQueryWarehouse';
import { bigQueryClient } from '../../warehouse/bigquery/jobs';
import type { DatasetWriter } from '../../warehouse/datasetWriter';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { duckDbDatasetWriter } from '../../warehouse/duckdb/tenantDataset';
import type { SqlDialect, Warehouse } from '../../warehouse/warehouse';
import type { PartitionStat } from '../../pricing/scanBytes';
import { type BigQueryFake, startBigQueryFake } from './bigQueryFake';
import { DAYS, type WarehouseFixture, fixture, ndjson, tempDataDir } from './fixture';
import { describeWarehouseContract } from './warehouseContract';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'test-project';
const PREFIX = 'bytegate';

function connection(fake: BigQueryFake) {
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test' });
  return { projectId: PROJECT, apiEndpoint: fake.url, authClient };
}

interface Loaded {
  fake: BigQueryFake;
  loader: DatasetWriter;
  warehouse: Warehouse;
  sleeps: number[];
  remove(): void;
  close(): Promise<void>;
}

/** An empty fake, and the loader and the BigQuery warehouse on it. */
async function startEmpty({ batchLines, kmsKeys, queryCache }: { batchLines?: number; kmsKeys?: Record<string, string>; queryCache?: boolean } = {}): Promise<Loaded> {
  const { dataDir, remove } = tempDataDir();
  const fake = await startBigQueryFake({ dataDir, projectId: PROJECT, datasetPrefix: PREFIX, queryCache });
  const sleeps: number[] = [];
  const loader = createBigQueryLoader({
    client: bigQueryClient({ ...connection(fake), location: 'US' }), projectId: PROJECT, location: 'US', datasetPrefix: PREFIX, version: '0.1.0',
    batchLines, kmsKeys, maxRetries: 2, sleep: async (ms) => { sleeps.push(ms); },
  });
  const warehouse = createBigQueryWarehouse({ ...connection(fake), datasetPrefix: PREFIX, version: '0.1.0', metadata: { checkIntervalMs: 0 } });
  return { fake, loader, warehouse, sleeps, remove, close: async () => { await warehouse.close(); await fake.close(); remove(); } };
}

async function loadFixture(loader: DatasetWriter, data: WarehouseFixture): Promise<void> {
  await loader.createTenant(data.tenant);
  await loader.upsertUsers(data.tenant.id, data.users);
  const report = await loader.ingestEvents(data.tenant.id, ndjson(data.events));
  expect(report).toEqual({ accepted: data.events.length, duplicates: 0, rejected: [], days: [...DAYS] });
}

describeWarehouseContract('BigQuery (REST fake), loaded through load jobs', async (data) => {
  const loaded = await startEmpty();
  await loadFixture(loaded.loader, data);
  return { warehouse: loaded.warehouse, writer: loaded.loader, cleanup: loaded.close };
});

/** Stats as comparable rows (DuckDB records an empty small table as zero rows; BigQuery records nothing). */
const comparable = (stats: PartitionStat[]) => stats.filter((s) => s.rows > 0)
  .map((s) => `${s.table} ${s.day} ${s.column} ${s.rows} ${s.logicalBytes}`).sort();

describe('BigQuery loader', () => {
  let loaded: Loaded;
  const data = fixture();

  beforeEach(async () => {
    loaded = await startEmpty();
  });
  afterEach(() => loaded.close());

  test('stores what the embedded ingest stores: rows, rollups, users, and the same statistics', async () => {
    await loadFixture(loaded.loader, data);
    await expectSameAsEmbedded(loaded, data, ndjson(data.events));
  });

  test('a replayed or overlapping batch lands once: duplicates counted, nothing rewritten', async () => {
    await loadFixture(loaded.loader, data);
    const versions = await loaded.warehouse.dataVersions('acme');
    const replay = await loaded.loader.ingestEvents('acme', ndjson(data.events));
    expect(replay).toEqual({ accepted: 0, duplicates: data.events.length, rejected: [], days: [] });
    expect(await loaded.warehouse.dataVersions('acme')).toEqual(versions);

    // Half old, half new (a later day), and one repeated within the input.
    const later = data.events.slice(0, 3).map((e, i) => ({ ...e, uuid: `late-${i}`, published: '2025-03-07T10:00:00Z' }));
    const report = await loaded.loader.ingestEvents('acme', ndjson([...data.events.slice(0, 4), ...later, later[0]]));
    expect(report).toEqual({ accepted: 3, duplicates: 5, rejected: [], days: ['2025-03-07'] });
    const after = await loaded.warehouse.dataVersions('acme');
    expect([...after.keys()].sort()).toEqual([...DAYS, '2025-03-07']);
    for (const day of DAYS) expect(after.get(day)).toBe(versions.get(day));
  });

  test('batches: each is one load job and one transaction; rejected lines keep their input line numbers', async () => {
    const small = await startEmpty({ batchLines: 5 });
    try {
      await small.loader.createTenant(data.tenant);
      const lines = ndjson(data.events);
      lines.splice(7, 0, '{"uuid": "broken"', '');
      const report = await small.loader.ingestEvents('acme', lines);
      expect(report.accepted).toBe(data.events.length);
      expect(report.rejected).toEqual([{ line: 8, reason: 'not valid JSON' }]);
      const batches = Math.ceil(lines.length / 5);
      expect(small.fake.loads()).toHaveLength(batches);
      expect(small.fake.jobInserts().filter((r) => /^BEGIN TRANSACTION/.test(r.body.configuration.query.query) && /ingestevents/.test(r.body.configuration.labels.query))).toHaveLength(batches);
      // Later batches add to the days and actors of earlier ones: rollup and statistics still match one embedded ingest.
      await small.loader.upsertUsers('acme', data.users);
      await expectSameAsEmbedded(small, data, lines);
    } finally {
      await small.close();
    }
  });

  test('what it asks BigQuery for: a staging table that expires, a load job, one parameterized transaction, the staging table dropped', async () => {
    await loaded.loader.createTenant(data.tenant);
    const hostile = { ...data.events[0], uuid: "x'); DROP TABLE sso_events; --", displayMessage: '`project.other_tenant.sso_events`' };
    const started = Date.now();
    expect((await loaded.loader.ingestEvents('acme', ndjson([hostile]))).accepted).toBe(1);

    const created = loaded.fake.requests.find((r) => r.method === 'POST' && r.path.endsWith(`/datasets/${PREFIX}_acme/tables`))!;
    const staging = created.body.tableReference.tableId as string;
    expect(staging).toMatch(/^_load_sso_events_[0-9a-f]{32}$/);
    expect(Number(created.body.expirationTime) - started).toBeGreaterThan(23 * 3600_000);
    expect(Number(created.body.expirationTime) - started).toBeLessThan(25 * 3600_000);
    expect(created.body.schema.fields.map((f: { name: string }) => f.name)).toContain('actor_id');

    const [load] = loaded.fake.loads();
    expect(load.body.configuration.load).toMatchObject({
      destinationTable: { projectId: PROJECT, datasetId: `${PREFIX}_acme`, tableId: staging },
      sourceFormat: 'NEWLINE_DELIMITED_JSON', writeDisposition: 'WRITE_TRUNCATE', createDisposition: 'CREATE_NEVER',
    });
    const uploaded = JSON.parse(load.upload!.trim());
    expect(uploaded).toMatchObject({ uuid: hostile.uuid, actor_id: hostile.actor.id });

    const script = loaded.fake.jobInserts().at(-1)!.body.configuration;
    expect(script.labels).toEqual({ tenant: 'acme', query: 'ingestevents', bytegate_version: '0_1_0' });
    expect(script.query.query).toMatch(/^BEGIN TRANSACTION;\n[\s\S]*;\nCOMMIT TRANSACTION;\nSELECT /);
    expect(script.query.query).not.toContain(hostile.uuid);
    expect(script.query.query).toContain(`\`${PROJECT}.${PREFIX}_acme.${staging}\``);
    expect(script.query.queryParameters.map((p: { name: string }) => p.name).sort()).toEqual(['firstDay', 'fromTs', 'lastDay', 'tenant', 'toTs']);
    // Every scan of the partitioned tables is bounded by constant parameters (BigQuery prunes only on those).
    for (const scan of script.query.query.matchAll(/FROM `[^`]+\.(sso_events|productivity_daily|app_usage_daily)` AS (\w+)\s+WHERE ([^\n]+)/g)) {
      expect(scan[3]).toMatch(/@(fromTs|firstDay)\b/);
    }
    expect(loaded.fake.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/tables/${staging}`))).toBe(true);
  });

  test('a dataset it creates gets its tenant\'s customer-managed key (BIGQUERY_KMS_KEYS), dataset default and every table', async () => {
    const key = 'projects/acme-kms/locations/us/keyRings/bytegate/cryptoKeys/acme';
    const keyed = await startEmpty({ kmsKeys: { acme: key } });
    try {
      await keyed.loader.createTenant(data.tenant);
      await keyed.loader.ingestEvents('globex', ndjson(data.events.slice(0, 2)));
      const ddl = keyed.fake.jobInserts().map((r) => r.body.configuration.query.query as string).filter((q) => /^CREATE /.test(q));
      const of = (tenant: string) => ddl.filter((q) => q.includes(`${PREFIX}_${tenant}`));
      expect(of('acme')[0]).toMatch(/^CREATE SCHEMA IF NOT EXISTS [\s\S]*default_kms_key_name = "projects\/acme-kms\//);
      for (const table of of('acme').slice(1)) expect(table).toContain(`kms_key_name = "${key}"`);
      expect(of('globex').length).toBeGreaterThan(1);
      for (const statement of of('globex')) expect(statement).not.toContain('kms_key_name');
    } finally {
      await keyed.close();
    }
  });

  test('a result from BigQuery\'s query cache reports cacheHit and 0 bytes; a load invalidates it', async () => {
    const cached = await startEmpty({ queryCache: true });
    try {
      await loadFixture(cached.loader, data);
      const count = { name: 'count', params: {}, sql: (d: SqlDialect) => `SELECT count(*) AS n FROM ${d.table('sso_events')} AS e WHERE e.published >= TIMESTAMP '2025-01-01'` };
      const first = await cached.warehouse.query('acme', count);
      expect(first).toMatchObject({ rows: [{ n: data.events.length }], cacheHit: false });
      expect(first.billedBytes).toBeGreaterThan(0);
      expect(await cached.warehouse.query('acme', count)).toEqual({ rows: first.rows, processedBytes: 0, billedBytes: 0, cacheHit: true });
      await cached.loader.ingestEvents('acme', ndjson([{ ...data.events[0], uuid: 'one-more' }]));
      expect(await cached.warehouse.query('acme', count)).toMatchObject({ rows: [{ n: data.events.length + 1 }], cacheHit: false });
    } finally {
      await cached.close();
    }
  });

  test('a transaction that fails stores nothing and drops its staging table; the retry of the batch lands once', async () => {
    await loaded.loader.createTenant(data.tenant);
    loaded.fake.fail(1, { status: 400, reason: 'invalidQuery', message: 'Transaction aborted' });
    await expect(loaded.loader.ingestEvents('acme', ndjson(data.events))).rejects.toThrow(/Transaction aborted/);
    const staging = loaded.fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/tables'))!.body.tableReference.tableId;
    expect(loaded.fake.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/tables/${staging}`))).toBe(true);
    expect(await loaded.warehouse.dataVersions('acme')).toEqual(new Map());

    // Transient errors are retried with backoff, and the batch then commits exactly once.
    loaded.fake.fail(1, { status: 503, reason: 'backendError' });
    const report = await loaded.loader.ingestEvents('acme', ndjson(data.events));
    expect(report.accepted).toBe(data.events.length);
    expect(loaded.sleeps).toEqual([250]);
    expect([...(await loaded.warehouse.dataVersions('acme')).keys()].sort()).toEqual([...DAYS]);
  });

  test('rate limits beyond the retries are WAREHOUSE_UNAVAILABLE, retryable', async () => {
    await loaded.loader.createTenant(data.tenant);
    for (let n = 1; n <= 3; n++) loaded.fake.fail(n, { status: 403, reason: 'rateLimitExceeded' });
    await expect(loaded.loader.ingestEvents('acme', ndjson(data.events))).rejects.toMatchObject({
      extensions: { code: ErrorCode.WAREHOUSE_UNAVAILABLE, retryable: true },
    });
    expect(loaded.sleeps).toEqual([250, 500]);
  });
});

/** Every table's rows, the recorded statistics and the adapter's statistics equal an embedded ingest of `lines`. */
async function expectSameAsEmbedded(loaded: Loaded, data: WarehouseFixture, lines: string[]): Promise<void> {
  const { dataDir, remove } = tempDataDir();
  const duck = createDuckDbWarehouse({ dataDir });
  const fakeStats = createDuckDbWarehouse({ dataDir: loaded.fake.dataDir });
  try {
    const embedded = duckDbDatasetWriter(dataDir);
    await embedded.createTenant(data.tenant);
    await embedded.upsertUsers(data.tenant.id, data.users);
    await embedded.ingestEvents(data.tenant.id, lines);
    for (const table of ['sso_events', 'productivity_daily', 'app_usage_daily', 'users', 'tenant_info']) {
      const all = { name: `all ${table}`, params: {}, sql: () => `SELECT * FROM "${table}" ORDER BY ALL` };
      const [viaBigQuery, viaDuckDb] = await Promise.all([fakeRows(loaded, table), duck.query(data.tenant.id, all)]);
      expect(viaDuckDb.rows.length).toBeGreaterThan(0);
      expect({ table, rows: viaBigQuery }).toEqual({ table, rows: viaDuckDb.rows });
    }
    const expected = comparable(await duck.partitionStats('acme'));
    expect(comparable(await fakeStats.partitionStats('acme'))).toEqual(expected); // what the loader recorded
    expect(comparable(await loaded.warehouse.partitionStats('acme'))).toEqual(expected); // PARTITIONS × recorded proportions
  } finally {
    await Promise.all([duck.close(), fakeStats.close()]);
    remove();
  }
}

/** A table's rows as stored in the fake (read through its DuckDB database, not through the adapter). */
async function fakeRows(loaded: Loaded, table: string): Promise<object[]> {
  const duck = createDuckDbWarehouse({ dataDir: loaded.fake.dataDir });
  try {
    const { rows } = await duck.query('acme', { name: `all ${table}`, params: {}, sql: () => `SELECT * FROM "${table}" ORDER BY ALL` });
    return rows;
  } finally {
    await duck.close();
  }
}
