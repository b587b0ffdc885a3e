/**
 * The BigQuery adapter with the real @google-cloud/bigquery client against a local server speaking
 * BigQuery's REST shapes (bigQueryFake.ts, which runs the translated SQL on DuckDB): the Warehouse
 * contract suite, what each job asks BigQuery for, error mapping and retries, and the subgraphs'
 * own queries giving the same rows and bytes as on DuckDB. (Jest runs with --experimental-vm-modules
 * because the client's HTTP layer dynamic-imports node-fetch.)
 */
import { OAuth2Client } from 'google-auth-library';
import { ErrorCode } from '../../common/errors';
import { MiB } from '../../common/units';
import { appUsage, dailyByUser, eventCounts, productivityByUser, topTimeWasters } from '../../subgraphs/metrics/queries';
import { countUsers, managementChain, usersById, usersPage } from '../../subgraphs/users/queries';
import { duckDbDialect } from '../../warehouse/duckdb/duckDbSql';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { createTenantDataset, duckDbDatasetWriter, ingestEvents, upsertUsers } from '../../warehouse/duckdb/tenantDataset';
import { createBigQueryWarehouse } from '../../warehouse/bigquery/bigQueryWarehouse';
import { STOP_GRACE_MS, StoppedJobError, type Warehouse, type WarehouseQuery } from '../../warehouse/warehouse';
import { type BigQueryFake, isJobGet, isQueryJob, isQueryResults, startBigQueryFake } from './bigQueryFake';
import { DAYS, fixture, ndjson, tempDataDir } from './fixture';
import { describeWarehouseContract } from './warehouseContract';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'test-project';
const PREFIX = 'bytegate';

function authClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'test' });
  return client;
}

/** The fixture ingested into a DuckDB dataDir exactly as the DuckDB adapter's test does, served by the fake. */
async function startOverFixture(data = fixture()): Promise<{ fake: BigQueryFake; dataDir: string; remove(): void }> {
  const { dataDir, remove } = tempDataDir();
  await createTenantDataset(dataDir, data.tenant);
  await upsertUsers(dataDir, data.tenant.id, data.users);
  const report = await ingestEvents(dataDir, data.tenant.id, ndjson(data.events));
  expect(report.rejected).toEqual([]);
  const fake = await startBigQueryFake({ dataDir, projectId: PROJECT, datasetPrefix: PREFIX });
  return { fake, dataDir, remove };
}

describeWarehouseContract('BigQuery (REST fake)', async (data) => {
  const { fake, dataDir, remove } = await startOverFixture(data);
  // Versions read at once after a write (PARTITIONS not reused); writes go to the fake's files as the embedded ingest writes them.
  const warehouse = createBigQueryWarehouse({ projectId: PROJECT, datasetPrefix: PREFIX, apiEndpoint: fake.url, authClient: authClient(), version: '0.1.0', metadata: { checkIntervalMs: 0 } });
  return { warehouse, writer: duckDbDatasetWriter(dataDir), cleanup: async () => { await warehouse.close(); await fake.close(); remove(); } };
});

const byType = (eventType: string, maxBytesBilled?: number): WarehouseQuery => ({
  name: 'eventsByTypeForSomeone',
  maxBytesBilled,
  params: {
    fromTs: { type: 'TIMESTAMP', value: `${DAYS[0]}T00:00:00Z` },
    toTs: { type: 'TIMESTAMP', value: `${DAYS[2]}T00:00:00Z` },
    eventType: { type: 'STRING', value: eventType },
    userIds: { type: 'STRING_ARRAY', value: ['00uic1', "00u' OR 1=1 --"] },
    unused: { type: 'INT64', value: 7 },
  },
  sql: (d) => `SELECT count(*) AS n FROM ${d.table('sso_events')} AS e
    WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')}
      AND e.eventType = ${d.param('eventType', 'STRING')} AND ${d.inArray('e.actor.id', 'userIds')}`,
});

describe('BigQuery adapter: what it asks BigQuery for', () => {
  let fake: BigQueryFake;
  let remove: () => void;
  let sleeps: number[];
  let warehouse: Warehouse;

  beforeAll(async () => {
    ({ fake, remove } = await startOverFixture());
  });
  afterAll(async () => {
    await fake.close();
    remove();
  });
  beforeEach(() => {
    sleeps = [];
    warehouse = createBigQueryWarehouse({
      projectId: PROJECT, datasetPrefix: PREFIX, apiEndpoint: fake.url, authClient: authClient(), version: '0.1.0-RC.2',
      jobTimeoutMs: 12_345, maxRetries: 3, location: 'EU', sleep: async (ms) => { sleeps.push(ms); },
    });
  });

  const lastInsert = () => fake.jobInserts().at(-1)!;

  test('one job per query: named parameters, input only as parameter values, the dataset of the tenant', async () => {
    const hostile = "user.authentication.sso' OR '1'='1";
    const result = await warehouse.query<{ n: number }>('acme', byType(hostile));
    expect(result.rows).toEqual([{ n: 0 }]);
    const { body, headers } = lastInsert();
    expect(headers.authorization).toBe('Bearer test');
    const query = body.configuration.query;
    expect(query.useLegacySql).toBe(false);
    expect(String(query.parameterMode).toUpperCase()).toBe('NAMED');
    expect(query.query).toContain(`\`${PROJECT}.${PREFIX}_acme.sso_events\``);
    expect(query.query).not.toContain(hostile);
    expect(query.query).not.toContain('00uic1');
    expect(query.query).toMatch(/e\.eventType = @eventType\b/);
    expect(query.query).toMatch(/e\.actor\.id IN UNNEST\(@userIds\)/);
    const params = Object.fromEntries(query.queryParameters.map((p: { name: string }) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual(['eventType', 'fromTs', 'toTs', 'userIds']); // `unused` is not referenced
    expect(params.eventType).toEqual({ name: 'eventType', parameterType: { type: 'STRING' }, parameterValue: { value: hostile } });
    expect(params.userIds).toEqual({
      name: 'userIds', parameterType: { type: 'ARRAY', arrayType: { type: 'STRING' } },
      parameterValue: { arrayValues: [{ value: '00uic1' }, { value: "00u' OR 1=1 --" }] },
    });
    expect(params.fromTs.parameterType).toEqual({ type: 'TIMESTAMP' });
    expect(Date.parse(params.fromTs.parameterValue.value)).toBe(Date.parse(`${DAYS[0]}T00:00:00Z`));
  });

  test('the same query with a matching value finds its rows (parameters are bound, not ignored)', async () => {
    const result = await warehouse.query<{ n: number }>('acme', byType('user.authentication.sso'));
    // 00uic1's SSO events on the first two days.
    expect(result.rows).toEqual([{ n: 2 }]);
  });

  test('maximumBytesBilled is the cap, as a string; labels, job timeout and location are set', async () => {
    await warehouse.query('acme', byType('x', 42 * MiB));
    const { body } = lastInsert();
    expect(body.configuration.query.maximumBytesBilled).toBe(String(42 * MiB));
    expect(body.configuration.labels).toEqual({ tenant: 'acme', query: 'eventsbytypeforsomeone', bytegate_version: '0_1_0-rc_2' });
    expect(body.configuration.jobTimeoutMs).toBe('12345');
    expect(body.jobReference.location).toBe('EU');
    await warehouse.query('acme', byType('x'));
    expect(lastInsert().body.configuration.query).not.toHaveProperty('maximumBytesBilled');
    await warehouse.query('acme', { ...byType('x'), attribution: { user: '00uCEO', operation: 'Exec.Dashboard' } });
    expect(lastInsert().body.configuration.labels).toEqual({
      tenant: 'acme', user: '00uceo', operation: 'exec_dashboard', query: 'eventsbytypeforsomeone', bytegate_version: '0_1_0-rc_2',
    });
  });

  describe('a cap of 0 is sent as 1 byte, never "0" (which some tools read as no limit)', () => {
    const sentCap = () => lastInsert().body.configuration.query.maximumBytesBilled;
    /** byType over days without data: its scan prunes every partition and bills 0 bytes. */
    const readingNothing = (maxBytesBilled: number): WarehouseQuery => ({
      ...byType('x', maxBytesBilled),
      params: { ...byType('x').params, fromTs: { type: 'TIMESTAMP', value: '2099-01-01T00:00:00Z' }, toTs: { type: 'TIMESTAMP', value: '2099-01-02T00:00:00Z' } },
    });

    test('a job estimated at 0 bytes that reads nothing runs, capped at "1"', async () => {
      await expect(warehouse.query('acme', readingNothing(0))).resolves.toMatchObject({ rows: [{ n: 0 }], billedBytes: 0 });
      expect(sentCap()).toBe('1');
    });

    test('a job capped at 0 that would bill anything is refused by BigQuery, the error naming the cap of 0', async () => {
      // Three days of sso_events: BigQuery's 10 MiB minimum, over the 1 byte sent.
      await expect(warehouse.query('acme', byType('x', 0))).rejects.toMatchObject({
        extensions: { code: ErrorCode.QUERY_TOO_EXPENSIVE, limitBytes: 0, billedBytes: 10 * MiB },
      });
      expect(sentCap()).toBe('1');
      expect(sleeps).toEqual([]); // not retried
    });

    test.each([1, 10 * MiB - 1, 42 * MiB])('a positive cap (%d bytes) is sent unchanged', async (capBytes) => {
      await warehouse.query('acme', readingNothing(capBytes));
      expect(sentCap()).toBe(String(capBytes));
    });
  });

  test('a label longer than 63 characters is cut', async () => {
    await warehouse.query('acme', { ...byType('x'), name: `Q${'x'.repeat(100)}` });
    expect(lastInsert().body.configuration.labels.query).toBe(`q${'x'.repeat(62)}`);
  });

  test('processed and billed bytes come from the job statistics', async () => {
    const result = await warehouse.query('acme', byType('x'));
    const job = fake.requests.filter((r) => r.method === 'GET' && r.path.includes('/jobs/')).at(-1)!;
    expect(job.path).toBe(`/bigquery/v2/projects/${PROJECT}/jobs/${lastInsert().body.jobReference.jobId}`);
    expect(result.billedBytes).toBe(10 * MiB);
    expect(result.processedBytes).toBeGreaterThan(0);
  });

  test('DATE and TIMESTAMP columns come back as strings, integers as numbers; INT64 parameters bind', async () => {
    const result = await warehouse.query<{ day: string; last: string; n: number }>('acme', {
      name: 'days',
      params: {
        fromTs: { type: 'TIMESTAMP', value: `${DAYS[0]}T00:00:00Z` }, toTs: { type: 'TIMESTAMP', value: `${DAYS[2]}T00:00:00Z` }, first: { type: 'INT64', value: 1 },
      },
      sql: (d) => `SELECT CAST(e.published AS DATE) AS day, max(e.published) AS last, count(*) AS n FROM ${d.table('sso_events')} AS e
        WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')} GROUP BY day ORDER BY day
        LIMIT ${d.param('first', 'INT64')}`,
    });
    expect(result.rows).toEqual([{ day: DAYS[0], last: `${DAYS[0]}T23:59:59.999Z`, n: 7 }]);
    const first = lastInsert().body.configuration.query.queryParameters.find((p: { name: string }) => p.name === 'first');
    expect(first).toEqual({ name: 'first', parameterType: { type: 'INT64' }, parameterValue: { value: '1' } });
  });

  test('a cap overrun is QUERY_TOO_EXPENSIVE with the cap, and is not retried', async () => {
    const before = fake.jobInserts().length;
    await expect(warehouse.query('acme', byType('x', MiB))).rejects.toMatchObject({
      extensions: { code: ErrorCode.QUERY_TOO_EXPENSIVE, limitBytes: MiB, billedBytes: 10 * MiB },
    });
    expect(fake.jobInserts().length).toBe(before + 1);
    expect(sleeps).toEqual([]);
  });

  test('a cap overrun reported in the failed job\'s status is QUERY_TOO_EXPENSIVE too', async () => {
    fake.fail(1, { status: 200, reason: 'bytesBilledLimitExceeded', message: 'Query exceeded limit for bytes billed: 1000. 20971520 or higher required.', inJobStatus: true });
    await expect(warehouse.query('acme', byType('x', 1000))).rejects.toMatchObject({
      extensions: { code: ErrorCode.QUERY_TOO_EXPENSIVE, limitBytes: 1000, billedBytes: 20 * MiB },
    });
  });

  test('rate limits are retried with exponential backoff, then the query succeeds', async () => {
    fake.fail(1, { status: 403, reason: 'rateLimitExceeded' });
    fake.fail(2, { status: 403, reason: 'rateLimitExceeded' });
    const before = fake.jobInserts().length;
    const result = await warehouse.query<{ n: number }>('acme', byType('user.authentication.sso'));
    expect(result.rows).toEqual([{ n: 2 }]);
    expect(fake.jobInserts().length).toBe(before + 3);
    expect(sleeps).toEqual([250, 500]);
  });

  test('each retried attempt is a new job with only what is left of jobTimeoutMs, counted from the first attempt', async () => {
    let clock = 1_000_000;
    const clocked = createBigQueryWarehouse({
      projectId: PROJECT, datasetPrefix: PREFIX, apiEndpoint: fake.url, authClient: authClient(), jobTimeoutMs: 12_345, now: () => clock,
      sleep: async (ms) => { clock += ms; },
    });
    fake.fail(1, { status: 503, reason: 'backendError' });
    fake.fail(2, { status: 503, reason: 'backendError' });
    const before = fake.jobInserts().length;
    await clocked.query('acme', byType('x'));
    const attempts = fake.jobInserts().slice(before).map((r) => ({ id: r.body.jobReference.jobId, timeoutMs: r.body.configuration.jobTimeoutMs }));
    // Backoff 250 ms, then 500 ms: 12,345 − 250 = 12,095; − 500 more = 11,595.
    expect(attempts.map((a) => a.timeoutMs)).toEqual(['12345', '12095', '11595']);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(3);
  });

  test('5xx beyond maxRetries is WAREHOUSE_UNAVAILABLE, retryable', async () => {
    for (let n = 1; n <= 4; n++) fake.fail(n, { status: 503, reason: 'backendError' });
    const before = fake.jobInserts().length;
    await expect(warehouse.query('acme', byType('x'))).rejects.toMatchObject({
      extensions: { code: ErrorCode.WAREHOUSE_UNAVAILABLE, reason: 'backendError', retryable: true },
    });
    expect(fake.jobInserts().length).toBe(before + 4); // 1 + maxRetries, no more: the client's own retries are off
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  test('an unknown tenant is BAD_USER_INPUT; a malformed one never reaches BigQuery', async () => {
    await expect(warehouse.query('globex', byType('x'))).rejects.toMatchObject({ extensions: { code: ErrorCode.BAD_USER_INPUT } });
    expect(lastInsert().body.configuration.query.query).toContain(`\`${PROJECT}.${PREFIX}_globex.sso_events\``);
    const before = fake.requests.length;
    for (const tenant of ['Acme', 'acme.sso_events', '1acme', 'acme`; --']) {
      await expect(warehouse.query(tenant, byType('x'))).rejects.toMatchObject({ extensions: { code: ErrorCode.BAD_USER_INPUT } });
      expect(await warehouse.hasTenant(tenant)).toBe(false);
    }
    expect(fake.requests.length).toBe(before);
    expect(sleeps).toEqual([]);
  });

  test('hasTenant asks datasets.get once per existing tenant, every time for a missing one', async () => {
    const datasetGets = () => fake.requests.filter((r) => r.method === 'GET' && r.path.includes('/datasets/')).map((r) => r.path);
    const before = datasetGets().length;
    expect(await warehouse.hasTenant('acme')).toBe(true);
    expect(await warehouse.hasTenant('acme')).toBe(true);
    expect(await warehouse.hasTenant('globex')).toBe(false);
    expect(await warehouse.hasTenant('globex')).toBe(false);
    expect(datasetGets().slice(before)).toEqual([
      `/bigquery/v2/projects/${PROJECT}/datasets/${PREFIX}_acme`,
      `/bigquery/v2/projects/${PROJECT}/datasets/${PREFIX}_globex`,
      `/bigquery/v2/projects/${PROJECT}/datasets/${PREFIX}_globex`,
    ]);
  });

  test('metadata is read once, then only checked: PARTITIONS of the priced tables and the recorded split; declared tables only', async () => {
    const fresh = createBigQueryWarehouse({ projectId: PROJECT, datasetPrefix: PREFIX, apiEndpoint: fake.url, authClient: authClient(), metadata: { checkIntervalMs: 0 } });
    const before = fake.jobInserts().length;
    const versions = await fresh.dataVersions('acme');
    expect([...versions.keys()].sort()).toEqual([...DAYS]); // not __UNPARTITIONED__
    const read = fake.jobInserts().slice(before).map((r) => r.body.configuration.query.query);
    expect(read).toHaveLength(2);
    expect(read.find((q) => q.includes('PARTITIONS'))).toContain(`\`${PROJECT}.${PREFIX}_acme.INFORMATION_SCHEMA.PARTITIONS\``);
    const gets = fake.tableGets().length;
    const stats = await fresh.partitionStats('acme');
    expect(fake.jobInserts().length - before).toBe(2); // checked (tables.get, free), nothing changed: nothing read
    expect(fake.tableGets().length - gets).toBe(6);
    expect(new Set(stats.map((s) => s.table))).toEqual(new Set(['sso_events', 'productivity_daily', 'app_usage_daily', 'users', 'tenant_info'])); // not _partition_stats
    await fresh.close();
  });

  test('between checks (METADATA_CHECK_MS) the tables are not even looked at', async () => {
    let clock = 1_000_000;
    const timed = createBigQueryWarehouse({ projectId: PROJECT, datasetPrefix: PREFIX, apiEndpoint: fake.url, authClient: authClient(), metadata: { checkIntervalMs: 5000 }, now: () => clock });
    const first = await timed.dataVersions('acme');
    const requests = fake.requests.length;
    expect(await timed.dataVersions('acme')).toEqual(first);
    clock += 4999;
    expect(await timed.dataVersions('acme')).toEqual(first);
    expect(fake.requests.length).toBe(requests);
    clock += 1;
    expect(await timed.dataVersions('acme')).toEqual(first);
    expect(fake.requests.slice(requests).map((r) => `${r.method} ${r.path.split('/').at(-1)}`).sort()).toEqual(
      ['_partition_stats', 'app_usage_daily', 'productivity_daily', 'sso_events', 'tenant_info', 'users'].map((table) => `GET ${table}`),
    );
  });
});

describe('BigQuery adapter: the subgraphs\' queries', () => {
  test('give the same rows and bytes through BigQuery\'s dialect as through DuckDB\'s', async () => {
    const { fake, dataDir, remove } = await startOverFixture();
    const bigQuery = createBigQueryWarehouse({ projectId: PROJECT, datasetPrefix: PREFIX, apiEndpoint: fake.url, authClient: authClient() });
    const duckDb = createDuckDbWarehouse({ dataDir });
    try {
      const range = { from: DAYS[0], to: DAYS[2] };
      const team = { kind: 'users', userIds: new Set(['00umgr', '00uic1']) } as const;
      const queries: WarehouseQuery[] = [
        productivityByUser(range, ['00uceo', '00uic1']), dailyByUser(range, ['00uic2']), topTimeWasters(range, { kind: 'tenant' }, 3),
        topTimeWasters(range, team, 3), appUsage(range, { kind: 'tenant' }, 2), appUsage(range, team, 10), eventCounts(range, team, null),
        eventCounts(range, { kind: 'tenant' }, 'user.authentication.sso'), usersById(['00uic1', '00uceo']), usersPage({ kind: 'tenant' }, '00uceo', 2),
        countUsers(team), managementChain('00uic1'),
      ];
      // Rows of a query without ORDER BY come in any order.
      const inOrder = (query: WarehouseQuery, rows: object[]) => (/ORDER BY/.test(query.sql(duckDbDialect)) ? rows : rows.map((r) => JSON.stringify(r)).sort());
      for (const query of queries) {
        const expected = await duckDb.query('acme', query);
        const actual = await bigQuery.query('acme', query);
        expect(expected.rows.length).toBeGreaterThan(0);
        expect({ ...actual, rows: inOrder(query, actual.rows) }).toEqual({ ...expected, rows: inOrder(query, expected.rows) });
        expect(lastSql(fake)).toContain(`\`${PROJECT}.${PREFIX}_acme.`);
      }
    } finally {
      await duckDb.close();
      await bigQuery.close();
      await fake.close();
      remove();
    }
  });
});

function lastSql(fake: BigQueryFake): string {
  return fake.jobInserts().at(-1)!.body.configuration.query.query;
}

describe('BigQuery adapter: a job its caller stops (the subgraph\'s deadline)', () => {
  let fake: BigQueryFake;
  let remove: () => void;
  let warehouse: Warehouse;

  beforeAll(async () => {
    ({ fake, remove } = await startOverFixture());
    warehouse = createBigQueryWarehouse({ projectId: PROJECT, datasetPrefix: PREFIX, apiEndpoint: fake.url, authClient: authClient() });
  });
  afterEach(() => fake.clearFaults());
  afterAll(async () => {
    await fake.close();
    remove();
  });

  /** Runs `query` and aborts its signal once `reached` (a fault's first hit): the error, how long stopping took, the job's id. */
  async function stopOnce(query: WarehouseQuery, reached: () => boolean): Promise<{ error: unknown; stopMs: number; jobId: string }> {
    const stop = new AbortController();
    const settled = warehouse.query('acme', query, stop.signal).catch((e: unknown) => e);
    while (!reached()) await new Promise((resolve) => setTimeout(resolve, 10));
    const stoppedAt = Date.now();
    stop.abort();
    const error = await settled;
    const jobId = fake.jobInserts().filter(isQueryJob(query.name)).at(-1)!.body.jobReference.jobId;
    return { error, stopMs: Date.now() - stoppedAt, jobId };
  }

  const cancelsOf = (jobId: string) => fake.cancels().filter((r) => r.path === `/bigquery/v2/projects/${PROJECT}/jobs/${jobId}/cancel`);

  test('a job BigQuery ran whose results are late: cancelled, and its bill read back from jobs.get', async () => {
    const query = { ...byType('x', 42 * MiB), name: 'lateResults' };
    const late = fake.inject({ match: isQueryResults(fake, query.name), hang: true });
    const { error, stopMs, jobId } = await stopOnce(query, () => late.hits.length > 0);
    expect(error).toBeInstanceOf(StoppedJobError);
    // What the fake billed for it at insert (one table, 10 MiB minimum) — not 0, and not the 42 MiB cap.
    expect((error as StoppedJobError).bill).toEqual({ processedBytes: expect.any(Number), billedBytes: 10 * MiB });
    expect((error as StoppedJobError).bill!.processedBytes).toBeGreaterThan(0);
    expect(cancelsOf(jobId)).toHaveLength(1);
    expect(stopMs).toBeLessThan(STOP_GRACE_MS);
  });

  test('a job whose statistics BigQuery does not give within STOP_GRACE_MS: cancelled, its bill unknown (the caller charges its cap)', async () => {
    const query = { ...byType('x', 42 * MiB), name: 'noStatistics' };
    const late = fake.inject({ match: isQueryResults(fake, query.name), hang: true });
    const silent = fake.inject({ match: isJobGet(fake, query.name), hang: true });
    const { error, stopMs, jobId } = await stopOnce(query, () => late.hits.length > 0);
    expect(error).toBeInstanceOf(StoppedJobError);
    expect((error as StoppedJobError).bill).toBeUndefined();
    expect(cancelsOf(jobId)).toHaveLength(1);
    expect(silent.hits.length).toBeGreaterThanOrEqual(1);
    expect(stopMs).toBeGreaterThanOrEqual(STOP_GRACE_MS - 50);
    expect(stopMs).toBeLessThan(STOP_GRACE_MS + 1000);
  });

  test('a job whose insert never reached BigQuery: nothing to cancel, nothing billed', async () => {
    const query = { ...byType('x', 42 * MiB), name: 'lostInsert' };
    const lost = fake.inject({ match: isQueryJob(query.name), hang: true });
    const { error, jobId } = await stopOnce(query, () => lost.hits.length > 0);
    expect(error).toBeInstanceOf(StoppedJobError);
    expect((error as StoppedJobError).bill).toEqual({ processedBytes: 0, billedBytes: 0 });
    expect(cancelsOf(jobId)).toHaveLength(1); // asked, and answered 404
  });

  test('a signal aborted before the query starts no job at all', async () => {
    const before = fake.requests.length;
    const stop = new AbortController();
    stop.abort();
    await expect(warehouse.query('acme', byType('x'), stop.signal)).rejects.toBeInstanceOf(StoppedJobError);
    expect(fake.requests.length).toBe(before);
  });
});
