/**
 * Proves: with the subgraphs on WAREHOUSE=bigquery (real processes, against the BigQuery REST fake
 * with injected faults), a warehouse that keeps failing or stops answering fails only the fields it
 * serves — WAREHOUSE_UNAVAILABLE after the retries, WAREHOUSE_TIMEOUT at WAREHOUSE_TIMEOUT_MS, both
 * coded and retryable, within a bounded time — the rest of the operation answers, the reservation is
 * settled to exactly what was billed (nothing for failed jobs, or for a job whose insert never reached
 * BigQuery; what BigQuery billed for a job it ran but whose results came past the deadline, read back
 * after cancelling it), nothing else waits on the sick warehouse, no process dies, and the next request
 * after the warehouse recovers succeeds.
 */
import type { SubgraphName } from '../../common/config';
import { addDays } from '../../common/dates';
import { ErrorCode } from '../../common/errors';
import { generateDirectory } from '../../okta/generator';
import { MiB } from '../../common/units';
import { seedDataDir } from '../support/system';
import { type RedisServer, type RunningCli, freePorts, startRedisServer } from '../e2e/processes';
import { type BigQueryFake, isQueryJob, isQueryResults, startBigQueryFake } from '../warehouse/bigQueryFake';
import {
  type Answer, baseEnv, billedOf, cliUsage, codesOf, dumpOutputs, expectData, healthz, isAlive, ledgerCounters, post, startGatewayProcess,
  startSubgraphProcesses, tokenFor,
} from './harness';

const tenant = { tenant: 'faults', users: 12, days: 4, eventsPerUser: 20, start: '2025-03-03', seed: 5 };
const LAST = addDays(tenant.start, tenant.days - 1);
const directory = generateDirectory(tenant);
const PROJECT = 'faults-project';
/** Long enough for the retries of a failing job (250 + 500 + 1000 ms of backoff) to end first. */
const WAREHOUSE_TIMEOUT_MS = 3000;
/** What "within the deadline" allows on top: the gateway, the subgraph and a loaded 2-core machine. */
const SLACK_MS = 2000;

/** One metrics job (the rollup): 10 MiB estimated. */
const METRICS_ONLY = `{ tenant { topTimeWasters(from: "${tenant.start}", to: "${LAST}", first: 3) { totalWasteHours } } }`;
/** users (two jobs, 20 MiB) + metrics (productivityByUser, 10 MiB): `me` is nullable, so a metrics failure leaves `users` standing. */
const MIXED = `{ users(first: 2) { totalCount edges { node { id } } } me { displayName productivity(from: "${tenant.start}", to: "${LAST}") { totalEvents } } }`;
/** Only the users subgraph. */
const USERS_ONLY = '{ users(first: 3) { totalCount edges { node { id displayName } } } }';
const METRICS_JOBS = ['topTimeWasters', 'productivityByUser'];

let remove: () => void;
let fake: BigQueryFake;
let redis: RedisServer;
let env: NodeJS.ProcessEnv;
let subgraphs: Record<SubgraphName, RunningCli>;
let gateway: { process: RunningCli; origin: string };
let subgraphOrigins: string[];
let userCount = 0;

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  fake = await startBigQueryFake({ dataDir: seeded.dataDir, projectId: PROJECT, datasetPrefix: 'bytegate' });
  const [users, tenants, metrics, gatewayPort, redisPort] = await freePorts(5);
  redis = await startRedisServer(redisPort);
  env = baseEnv({ dataDir: seeded.dataDir, ports: { users, tenants, metrics }, redisUrl: redis.url }, {
    WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: PROJECT, BIGQUERY_API_ENDPOINT: fake.url, METADATA_SERVER_DETECTION: 'none',
    WAREHOUSE_TIMEOUT_MS: String(WAREHOUSE_TIMEOUT_MS),
    // No aggregate cache: every operation runs its jobs, so each fault is met and every charge is a job's bill.
    CACHE_TTL_MS: '0',
  });
  subgraphOrigins = [users, tenants, metrics].map((p) => `http://127.0.0.1:${p}`);
  subgraphs = await startSubgraphProcesses(env);
  gateway = await startGatewayProcess(gatewayPort, env);
}, 120_000);

afterEach(() => fake.clearFaults());

afterAll(async () => {
  dumpOutputs({ gateway: gateway?.process, ...subgraphs });
  await Promise.all([gateway?.process.stop(), ...Object.values(subgraphs ?? {}).map((s) => s.stop())]);
  await fake?.close();
  await redis?.stop();
  remove?.();
});

test('a failing warehouse (5xx beyond the retries): WAREHOUSE_UNAVAILABLE on its fields, retryable, the rest answers, the reservation released', async () => {
  const { token, user } = await caller();
  expectData(await post(gateway.origin, token, METRICS_ONLY));
  const before = await used(user);

  const fault = fake.inject({ match: isQueryJob(...METRICS_JOBS), error: { status: 503, reason: 'backendError', message: 'Scripted backend error' } });
  const failed = await post(gateway.origin, token, METRICS_ONLY);
  // 1 attempt + 3 retries with 250, 500, 1000 ms of backoff, then the coded error: no hang.
  expect(fault.hits).toHaveLength(4);
  expect(failed.endedAt - failed.startedAt).toBeLessThan(1750 + SLACK_MS);
  expectFieldError(failed, ErrorCode.WAREHOUSE_UNAVAILABLE, ['tenant', 'topTimeWasters']);
  expect(failed.body.errors[0].extensions).toMatchObject({ retryable: true, reason: 'backendError' });
  expect(failed.body.data).toBeNull(); // Query.tenant is non-null: its failed list nulls the whole result
  // The reservation of the estimate (10 MiB) was settled to what was billed: nothing.
  expect(billedOf(failed)).toBe(0);
  expect(failed.body.extensions.cost.estimatedBilledBytes).toBe(10 * MiB);
  expect(await used(user)).toEqual(before);

  // Partial data: the users part answers and is charged, the metrics part fails and is not.
  const mixed = await post(gateway.origin, token, MIXED);
  expectFieldError(mixed, ErrorCode.WAREHOUSE_UNAVAILABLE, ['me', 'productivity']);
  expect(mixed.body.data).toEqual({ users: { totalCount: tenant.users, edges: expect.any(Array) }, me: null });
  expect(billedOf(mixed)).toBe(20 * MiB); // usersPage + countUsers, billed
  expect(mixed.body.extensions.cost.estimatedBilledBytes).toBe(30 * MiB);
  expect(await used(user)).toEqual({ usedBytes: before.usedBytes + 20 * MiB, heldBytes: 0 });

  // Healthy again: the next request succeeds, and is charged.
  fault.remove();
  const again = await post(gateway.origin, token, METRICS_ONLY);
  expectData(again);
  expect(await used(user)).toEqual({ usedBytes: before.usedBytes + 30 * MiB, heldBytes: 0 });
  expectAllAlive();
}, 60_000);

test('a warehouse that stops answering: WAREHOUSE_TIMEOUT within WAREHOUSE_TIMEOUT_MS, nothing else waits, the reservation released, recovery', async () => {
  const { token, user } = await caller();
  expectData(await post(gateway.origin, token, METRICS_ONLY));
  const before = await used(user);

  // BigQuery's API does not answer the metrics jobs' inserts at all.
  const fault = fake.inject({ match: isQueryJob(...METRICS_JOBS), hang: true });
  const [timedOut, mixed, usersOnly] = await Promise.all([
    post(gateway.origin, token, METRICS_ONLY),
    post(gateway.origin, token, MIXED),
    // Started with them: the users subgraph's jobs are not held up by the metrics subgraph's.
    post(gateway.origin, token, USERS_ONLY),
  ]);
  expectData(usersOnly);
  expect(usersOnly.endedAt - usersOnly.startedAt).toBeLessThan(WAREHOUSE_TIMEOUT_MS);
  for (const answer of [timedOut, mixed]) {
    const elapsed = answer.endedAt - answer.startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(WAREHOUSE_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(WAREHOUSE_TIMEOUT_MS + SLACK_MS);
  }
  expectFieldError(timedOut, ErrorCode.WAREHOUSE_TIMEOUT, ['tenant', 'topTimeWasters']);
  expectFieldError(mixed, ErrorCode.WAREHOUSE_TIMEOUT, ['me', 'productivity']);
  for (const answer of [timedOut, mixed]) expect(answer.body.errors[0].extensions.retryable).toBe(true);
  expect(mixed.body.data.users.totalCount).toBe(tenant.users);
  expect(fault.hanging()).toBe(2);
  // Each job asked BigQuery to stop it at the same deadline.
  for (const insert of fault.hits) expect(insert.body.configuration.jobTimeoutMs).toBe(String(WAREHOUSE_TIMEOUT_MS));
  // Charged: what was billed — the users part of MIXED and the USERS_ONLY operation — nothing for the hung jobs.
  expect(billedOf(timedOut)).toBe(0);
  expect(await used(user)).toEqual({ usedBytes: before.usedBytes + billedOf(mixed) + billedOf(usersOnly), heldBytes: 0 });
  expect(billedOf(mixed)).toBe(20 * MiB);

  // The API answers again: the next request succeeds at once, without restarting anything.
  fault.remove();
  const again = await post(gateway.origin, token, MIXED);
  expectData(again);
  expect(again.endedAt - again.startedAt).toBeLessThan(WAREHOUSE_TIMEOUT_MS);
  const cli = await cliUsage(env, tenant.tenant, user);
  expect(cli.user).toEqual({ usedBytes: before.usedBytes + billedOf(mixed) + billedOf(usersOnly) + billedOf(again), heldBytes: 0 });
  expectAllAlive();
  for (const origin of [gateway.origin, ...subgraphOrigins]) expect(await healthz(origin)).toBe(200);
}, 60_000);

test('a slow job (its results later than WAREHOUSE_TIMEOUT_MS): WAREHOUSE_TIMEOUT on time, the reservation settled, the next request succeeds', async () => {
  const { token, user } = await caller();
  expectData(await post(gateway.origin, token, METRICS_ONLY));
  const before = await used(user);

  // The job is inserted and runs, but its results come 2 × the deadline later.
  const fault = fake.inject({ match: isQueryResults(fake, ...METRICS_JOBS), delayMs: 2 * WAREHOUSE_TIMEOUT_MS });
  const slow = await post(gateway.origin, token, METRICS_ONLY);
  expect(fault.hits.length).toBeGreaterThanOrEqual(1);
  expect(slow.endedAt - slow.startedAt).toBeLessThan(WAREHOUSE_TIMEOUT_MS + SLACK_MS);
  expectFieldError(slow, ErrorCode.WAREHOUSE_TIMEOUT, ['tenant', 'topTimeWasters']);
  expect(await used(user)).toEqual({ usedBytes: before.usedBytes + billedOf(slow), heldBytes: 0 });

  fault.remove();
  const again = await post(gateway.origin, token, METRICS_ONLY);
  expectData(again);
  expect(await used(user)).toEqual({ usedBytes: before.usedBytes + billedOf(slow) + billedOf(again), heldBytes: 0 });
  expectAllAlive();
}, 60_000);

// README: "only what was billed is charged". A job BigQuery ran to completion but whose results arrive
// after WAREHOUSE_TIMEOUT_MS is cancelled at the deadline (jobs.cancel, too late to un-bill it) and read
// back (jobs.get): the subgraph reports what BigQuery billed, and the gateway charges exactly that — not
// 0, which any caller able to make jobs slow could otherwise repeat. (Statistics BigQuery cannot give
// in time, and retried attempts' shorter jobTimeoutMs, are covered in test/warehouse/bigQueryWarehouse.test.ts.)
test('a job abandoned at the deadline after BigQuery ran (and billed) it is cancelled and charged what BigQuery billed', async () => {
  const { token, user } = await caller();
  expectData(await post(gateway.origin, token, METRICS_ONLY));
  const before = await used(user);
  const fault = fake.inject({ match: isQueryResults(fake, ...METRICS_JOBS), delayMs: 2 * WAREHOUSE_TIMEOUT_MS });
  const slow = await post(gateway.origin, token, METRICS_ONLY);
  expectFieldError(slow, ErrorCode.WAREHOUSE_TIMEOUT, ['tenant', 'topTimeWasters']);
  fault.remove();
  // What BigQuery billed for the abandoned job (jobs.get statistics, as the fake reports them).
  const jobId = fault.hits[0].path.split('/').pop()!;
  const response = await fetch(`${fake.url}/bigquery/v2/projects/${PROJECT}/jobs/${jobId}`);
  const billedByBigQuery = Number(((await response.json()) as { statistics: { query: { totalBytesBilled: string } } }).statistics.query.totalBytesBilled);
  expect(billedByBigQuery).toBe(10 * MiB);
  expect(fake.cancels().map((r) => r.path)).toContain(`/bigquery/v2/projects/${PROJECT}/jobs/${jobId}/cancel`);
  expect(billedOf(slow)).toBe(billedByBigQuery);
  expect(await used(user)).toEqual({ usedBytes: before.usedBytes + billedByBigQuery, heldBytes: 0 });
}, 60_000);

// Private:

/** Another user of the directory per test (so `me` resolves, and each test has a ledger line of its own), as an executive. */
async function caller(): Promise<{ token: string; user: string }> {
  const user = directory[userCount++ % directory.length].id;
  return { token: await tokenFor(tenant.tenant, user, 'executive'), user };
}

async function used(user: string) {
  return (await ledgerCounters(redis.url, tenant.tenant, [user])).users.get(user)!;
}

/** HTTP 200 (a field error, not a refusal), exactly one error, with this code, at this path, with no internal detail. */
function expectFieldError(answer: Answer, code: string, path: string[]): void {
  expect({ status: answer.status, codes: codesOf(answer) }).toEqual({ status: 200, codes: [code] });
  expect(answer.body.errors[0].path).toEqual(path);
  expect(JSON.stringify(answer.body.errors)).not.toMatch(/127\.0\.0\.1|http:\/\/|googleapis/);
}

function expectAllAlive(): void {
  const processes = { gateway: gateway.process, ...subgraphs };
  expect(Object.entries(processes).filter(([, p]) => !isAlive(p)).map(([name]) => name)).toEqual([]);
}
