/**
 * The whole system on WAREHOUSE=bigquery: the configured warehouse (warehouse/openWarehouse.ts, as
 * subgraphs/main.ts opens it) against the BigQuery REST fake, under the real gateway and subgraphs.
 * A dashboard gives the same data and the same bytes as on DuckDB, priced before it ran from the
 * statistics the adapter read, and every job carried the cap the gateway signed and the labels that
 * attribute it (tenant, user, operation, the request id of the gateway's and subgraphs' logs).
 */
import { addDays } from '../../common/dates';
import { loadConfig } from '../../common/config';
import type { Principal } from '../../common/principal';
import { generateDirectory } from '../../okta/generator';
import { openWarehouse } from '../../warehouse/openWarehouse';
import { createOverheadMeter } from '../../warehouse/overhead';
import { type System, seedDataDir, startSystem } from '../support/system';
import { type BigQueryFake, startBigQueryFake } from './bigQueryFake';

process.env.METADATA_SERVER_DETECTION = 'none';

const tenant = { tenant: 'acme', users: 25, days: 6, eventsPerUser: 15, start: '2025-07-07', seed: 21 };
const LAST = addDays(tenant.start, tenant.days - 1);
const ceo = generateDirectory(tenant).find((u) => u.managerId === null)!;
const executive: Principal = { tenant: 'acme', userId: ceo.id, roles: ['executive'] };
const DASHBOARD = `query CeoDashboard { tenant {
  topTimeWasters(from: "${tenant.start}", to: "${LAST}", first: 5) { totalWasteHours user { displayName productivity(from: "${tenant.start}", to: "${LAST}") { totalEvents } } }
  appUsage(from: "${tenant.start}", to: "${LAST}", first: 5) { app { name } events users }
  eventCounts(from: "${tenant.start}", to: "${LAST}", eventType: "user.session.start") { date count } }
  users(first: 10) { totalCount edges { node { id department manager { displayName } } } } }`;

let fake: BigQueryFake;
let dataDir: string;
let onBigQuery: System;
let onDuckDb: System;
let remove: () => void;

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  dataDir = seeded.dataDir;
  fake = await startBigQueryFake({ dataDir: seeded.dataDir, projectId: 'acme-analytics', datasetPrefix: 'bytegate' });
  const config = loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'acme-analytics', BIGQUERY_API_ENDPOINT: fake.url, DATA_DIR: seeded.dataDir });
  onBigQuery = await startSystem(seeded.dataDir, { warehouse: await openWarehouse(config, '0.1.0') });
  onDuckDb = await startSystem(seeded.dataDir);
}, 120_000);

afterAll(async () => {
  await onBigQuery?.close();
  await onDuckDb?.close();
  await fake?.close();
  remove?.();
});

test('a dashboard on BigQuery: the same data and bytes as on DuckDB, estimated exactly, every job capped', async () => {
  const before = fake.jobInserts().length;
  const bigquery = await onBigQuery.query(executive, DASHBOARD, undefined, { 'x-request-id': 'dash-0042' });
  const duckdb = await onDuckDb.query(executive, DASHBOARD);
  expect(bigquery.body.errors).toBeUndefined();
  expect(bigquery.body.data).toEqual(duckdb.body.data);
  const cost = bigquery.body.extensions.cost;
  expect(cost.actualBytes).toBe(duckdb.body.extensions.cost.actualBytes);
  expect(cost.billedBytes).toBe(duckdb.body.extensions.cost.billedBytes);
  expect(cost.estimatedBytes).toBe(cost.actualBytes);

  const jobs = fake.jobInserts().slice(before).map((r) => r.body.configuration).filter((c) => !/INFORMATION_SCHEMA|_partition_stats/.test(c.query.query));
  expect(jobs.length).toBe(cost.warehouseQueries);
  expect(jobs.length).toBeGreaterThanOrEqual(5);
  for (const job of jobs) {
    expect(Number(job.query.maximumBytesBilled)).toBeGreaterThan(0);
    expect(Number(job.query.maximumBytesBilled)).toBeLessThanOrEqual(cost.estimatedBilledBytes);
    // Attributed to the caller and the client's operation (not the gateway's CeoDashboard__metrics__0).
    expect(job.labels).toMatchObject({ tenant: 'acme', user: ceo.id.toLowerCase(), operation: 'ceodashboard', request_id: 'dash-0042', bytegate_version: '0_1_0' });
  }
});

test('above DRY_RUN_ABOVE_BYTES every job is dry-run first and capped at the lower of the signed cap and the dry run', async () => {
  const overhead = createOverheadMeter();
  const dryRunning = await startSystem(dataDir, {
    env: { DRY_RUN_ABOVE_BYTES: '1' },
    warehouse: await openWarehouse(loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'acme-analytics', BIGQUERY_API_ENDPOINT: fake.url, DATA_DIR: dataDir }), '0.1.0', { overhead }),
  });
  try {
    const before = fake.jobInserts().length;
    const { body } = await dryRunning.query(executive, DASHBOARD);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual((await onDuckDb.query(executive, DASHBOARD)).body.data);
    const { dryRuns, warehouseQueries } = body.extensions.cost;
    expect(dryRuns).toHaveLength(warehouseQueries);
    const inserts = fake.jobInserts().slice(before).map((r) => r.body.configuration).filter((c) => !/INFORMATION_SCHEMA|_partition_stats/.test(c.query.query));
    const dry = inserts.filter((c) => c.dryRun);
    const real = inserts.filter((c) => !c.dryRun);
    expect(dry).toHaveLength(warehouseQueries);
    expect(real).toHaveLength(warehouseQueries);
    for (const report of dryRuns) expect(report.capBytes).toBeGreaterThan(0);
    // count(*) reads no column: BigQuery bills it nothing, and the dry run says so.
    expect(dryRuns.find((r: { query: string }) => r.query === 'countUsers').dryRunBilledBytes).toBe(0);
    expect(dryRuns.find((r: { query: string }) => r.query === 'appUsage').dryRunBilledBytes).toBeGreaterThan(0);
    // Each real job ran under the lower of the two.
    const caps = real.map((c) => Number(c.query.maximumBytesBilled)).sort((a, b) => a - b);
    // Never 0: a cap of 0 (countUsers' dry run billed nothing) is sent as 1 byte, and such a job still runs, billing nothing.
    expect(caps).toEqual(dryRuns.map((r: { capBytes: number; dryRunBilledBytes: number }) => Math.max(1, Math.min(r.capBytes, r.dryRunBilledBytes))).sort((a: number, b: number) => a - b));
    // Each dry run is bytegate's own job: metered (free), the user's bill untouched.
    expect(overhead.totals().find((t) => t.reason === 'dryRun')).toEqual({ tenant: 'acme', reason: 'dryRun', jobs: warehouseQueries, processedBytes: 0, billedBytes: 0 });
  } finally {
    await dryRunning.close();
  }
});
