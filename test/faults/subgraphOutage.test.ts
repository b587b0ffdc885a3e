/**
 * Proves: one subgraph process (metrics) can crash (SIGKILL) or freeze (SIGSTOP) under steady load
 * and come back on the same port without the gateway being restarted. Meanwhile operations on the
 * users and tenants subgraphs keep answering in full; operations touching metrics answer HTTP 200
 * with partial data and SUBGRAPH_UNAVAILABLE (coded, retryable, no internal address) on its fields —
 * at once when it is down, within SUBGRAPH_TIMEOUT_MS when it hangs — never a 5xx or a hang; the
 * gateway stays healthy and /readyz shows the subgraph down, then up; the statistics the gateway
 * prices with (served by metrics) keep serving from its cache; and the ledger charges each caller
 * exactly the bytes billed — a failed operation's reservation is released, not kept. And a frozen
 * subgraph, once thawed, runs no warehouse job for the requests the gateway gave up on meanwhile (past
 * the deadline their signed identity carries, their connections closed): nothing billed uncharged.
 */
import type { SubgraphName } from '../../common/config';
import { addDays } from '../../common/dates';
import { ErrorCode } from '../../common/errors';
import { generateDirectory } from '../../okta/generator';
import { MiB } from '../../common/units';
import { seedDataDir } from '../support/system';
import { type RedisServer, type RunningCli, freePorts, startRedisServer } from '../e2e/processes';
import {
  type Load, type Outcome, baseEnv, billedOf, cliUsage, codesOf, crash, describe, dumpOutputs, eventually, healthz, isAlive, isData,
  ledgerCounters, logLines, note, readiness, sleep, startGatewayProcess, startLoad, startSubgraphProcess, startSubgraphProcesses, sum, tokenFor,
} from './harness';

const tenant = { tenant: 'faults', users: 12, days: 4, eventsPerUser: 20, start: '2025-03-03', seed: 5 };
const LAST = addDays(tenant.start, tenant.days - 1);
const directory = generateDirectory(tenant);
const SUBGRAPH_TIMEOUT_MS = 2000;
/** Statistics older than this are refreshed from metrics in the background: the outages below outlast it. */
const COST_STATS_TTL_MS = 1000;
/** How long after metrics is back a full operation must succeed again. */
const RECOVERY_BOUND_MS = 5000;

const OPERATIONS = {
  /** users only (usersPage, countUsers: 20 MiB). */
  users: (first: number) => `{ users(first: ${1 + (first % 20)}) { totalCount edges { node { id displayName department } } } }`,
  /** tenants only (tenantName: 10 MiB; dataRange is free). */
  tenants: () => '{ tenant { name dataRange { from to } } }',
  /** users + metrics: a metrics failure nulls the nullable `user`, and `users` stands. */
  mixed: (first: number) => `{ users(first: 2) { totalCount } user(id: "${directory[first % directory.length].id}") { displayName productivity(from: "${tenant.start}", to: "${LAST}") { totalEvents } } }`,
  /** tenants + metrics + users: Query.tenant is non-null, so a metrics failure nulls the whole result (still HTTP 200, coded). */
  dashboard: (first: number) => `{ tenant { name topTimeWasters(from: "${tenant.start}", to: "${LAST}", first: ${1 + (first % 10)}) { totalWasteHours user { displayName } } } }`,
};
type Label = keyof typeof OPERATIONS;
const TOUCHES_METRICS: readonly Label[] = ['mixed', 'dashboard'];

let remove: () => void;
let env: NodeJS.ProcessEnv;
let redis: RedisServer;
let subgraphs: Record<SubgraphName, RunningCli>;
let subgraphOrigins: Record<SubgraphName, string>;
let gateway: { process: RunningCli; origin: string };
let running: Load | undefined;

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  const [users, tenants, metrics, gatewayPort, redisPort] = await freePorts(5);
  redis = await startRedisServer(redisPort);
  env = baseEnv({ dataDir: seeded.dataDir, ports: { users, tenants, metrics }, redisUrl: redis.url }, {
    // No aggregate cache: every admitted operation runs its jobs, so what each caller was billed is exact.
    CACHE_TTL_MS: '0', COST_STATS_TTL_MS: String(COST_STATS_TTL_MS), SUBGRAPH_TIMEOUT_MS: String(SUBGRAPH_TIMEOUT_MS),
    // An outage, not a restart: fetches fail at once instead of being retried (test/e2e/rollingRestart.test.ts covers the retry).
    SUBGRAPH_RETRY_MS: '0',
  });
  subgraphOrigins = { users: `http://127.0.0.1:${users}`, tenants: `http://127.0.0.1:${tenants}`, metrics: `http://127.0.0.1:${metrics}` };
  subgraphs = await startSubgraphProcesses(env);
  gateway = await startGatewayProcess(gatewayPort, env);
  // The gateway fetches the tenant's statistics (from metrics) on its first priced operation.
  const token = await tokenFor(tenant.tenant, 'warmup', 'executive');
  const warm = await fetch(`${gateway.origin}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: OPERATIONS.dashboard(1) }) });
  expect(warm.status).toBe(200);
}, 120_000);

afterEach(async () => {
  await running?.stop();
  running = undefined;
  subgraphs.metrics.child.kill('SIGCONT'); // a test that failed while metrics was frozen must not leave it so
});

afterAll(async () => {
  dumpOutputs({ gateway: gateway?.process, ...subgraphs });
  await Promise.all([gateway?.process.stop(), ...Object.values(subgraphs ?? {}).map((s) => s.stop())]);
  await redis?.stop();
  remove?.();
});

test('metrics killed under load and restarted on its port: the rest answers in full, metrics fields fail coded at once, exact charges, recovery without a gateway restart', async () => {
  const gatewayPid = gateway.process.child.pid;
  const load = await startMixedLoad('kill');
  await sleep(1500);

  const killAt = Date.now();
  await crash(subgraphs.metrics.child);
  note(`metrics killed after ${load.outcomes.length} answers`);
  await load.waitFor((o) => o.startedAt > killAt && codesOf(o).includes(ErrorCode.SUBGRAPH_UNAVAILABLE), 5000);
  const down = await readiness(gateway.origin);
  expect(down.http).toBe(200); // one subgraph down does not take the gateway out of rotation
  expect(down.checks.subgraphs.metrics).toMatchObject({ reachable: false });
  expect(down.checks.subgraphs.users).toMatchObject({ reachable: true });
  expect(await healthz(gateway.origin)).toBe(200);
  // Outlast the statistics' TTL: their refresh from the dead metrics fails, and the cached ones serve.
  await sleep(2 * COST_STATS_TTL_MS + 500);

  const restartAt = Date.now();
  subgraphs.metrics = await startSubgraphProcess('metrics', env);
  const upAt = Date.now();
  note(`metrics restarted in ${upAt - restartAt} ms`);
  for (const label of TOUCHES_METRICS) {
    const recovered = await load.waitFor((o) => o.label === label && o.startedAt >= upAt && isData(o), RECOVERY_BOUND_MS);
    expect(recovered.endedAt - upAt).toBeLessThan(RECOVERY_BOUND_MS);
  }
  expect(await eventually(async () => ((await readiness(gateway.origin)).checks?.subgraphs?.metrics?.reachable ? true : undefined), 3000)).toBe(true);
  await sleep(1000);
  const outcomes = await load.stop();
  note(`load stopped: ${outcomes.length} answers`);

  // The same gateway process throughout, and every other process alive.
  expect(gateway.process.child.pid).toBe(gatewayPid);
  expectAllAlive();
  await expectAllHealthy();
  checkAnswers(outcomes, { downFrom: killAt, downTo: restartAt, upAt, failFastMs: 1500 });
  // The outage is visible in the gateway's metrics: fetches that got no answer.
  const metricsText = await (await fetch(`${gateway.origin}/metrics`)).text();
  expect(metricsText).toMatch(/bytegate_subgraph_errors_total\{[^}]*subgraph="metrics"[^}]*code="FETCH_FAILED"[^}]*\} [1-9]/);
  await checkCharges(outcomes);
}, 90_000);

test('metrics frozen (SIGSTOP) under load: its fields fail within SUBGRAPH_TIMEOUT_MS, the rest answers at once, exact charges, recovery on SIGCONT', async () => {
  const load = await startMixedLoad('freeze');
  await sleep(1500);

  const freezeAt = Date.now();
  subgraphs.metrics.child.kill('SIGSTOP');
  note(`metrics frozen after ${load.outcomes.length} answers`);
  await load.waitFor((o) => o.startedAt > freezeAt && codesOf(o).includes(ErrorCode.SUBGRAPH_UNAVAILABLE), SUBGRAPH_TIMEOUT_MS + 5000);
  const down = await readiness(gateway.origin);
  expect(down.http).toBe(200);
  expect(down.checks.subgraphs.metrics).toMatchObject({ reachable: false });
  await sleep(SUBGRAPH_TIMEOUT_MS);

  const thawAt = Date.now();
  subgraphs.metrics.child.kill('SIGCONT');
  for (const label of TOUCHES_METRICS) await load.waitFor((o) => o.label === label && o.startedAt >= thawAt && isData(o), RECOVERY_BOUND_MS);
  await sleep(1000);
  const outcomes = await load.stop();
  note(`load stopped: ${outcomes.length} answers`);

  expectAllAlive();
  await expectAllHealthy();
  checkAnswers(outcomes, { downFrom: freezeAt, downTo: thawAt, upAt: thawAt, failFastMs: SUBGRAPH_TIMEOUT_MS + 2000 });
  // Timed out, not refused: the message says so.
  expect(outcomes.some((o) => /did not answer within 2000 ms/.test(JSON.stringify(o.body?.errors ?? [])))).toBe(true);
  await checkCharges(outcomes);
}, 90_000);

// README: "only what was billed is charged". The gateway gives up on a frozen subgraph's fetch at
// SUBGRAPH_TIMEOUT_MS and settles the reservation to what it was told was billed (nothing, for that
// fetch). The subgraph, once it runs again, still reads the abandoned requests — but their signed
// deadline (fetch start + SUBGRAPH_TIMEOUT_MS) has passed and their connections are closed, so it
// starts none of their warehouse jobs: nothing is billed that the caller was not charged.
test('a frozen subgraph, thawed, runs no warehouse job for the requests the gateway abandoned', async () => {
  const token = await tokenFor(tenant.tenant, 'abandoned', 'executive');
  subgraphs.metrics.child.kill('SIGSTOP');
  const ids = ['abandoned.1', 'abandoned.2', 'abandoned.3'];
  const answers = await Promise.all(ids.map((id, i) => fetch(`${gateway.origin}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': id },
    body: JSON.stringify({ query: OPERATIONS.dashboard(i) }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }))));  // eslint-disable-line @typescript-eslint/no-explicit-any
  subgraphs.metrics.child.kill('SIGCONT');
  for (const answer of answers) expect(answer.body.errors[0].extensions.code).toBe(ErrorCode.SUBGRAPH_UNAVAILABLE);
  // Let metrics work off what queued while it was frozen.
  await sleep(1500);
  const abandoned = logLines(subgraphs.metrics.output(), 'request').filter((l) => ids.includes(l.reqId));
  // Metrics, thawed, read each of them — and started none of their jobs.
  expect(abandoned.map((l) => ({ reqId: l.reqId, queries: l.queries, errors: l.errors })).sort((a, b) => a.reqId.localeCompare(b.reqId)))
    .toEqual(ids.map((reqId) => ({ reqId, queries: 0, errors: [ErrorCode.SUBGRAPH_UNAVAILABLE] })));
  const billedByMetrics = sum(abandoned.map((l) => Number(l.billedBytes)));
  const charged = sum(answers.map((a) => Number(a.body.extensions.cost.billedBytes)));
  const used = (await ledgerCounters(redis.url, tenant.tenant, ['abandoned'])).users.get('abandoned')!.usedBytes;
  expect(used).toBe(charged);
  // What metrics billed for those requests (nothing: no job started) was charged.
  expect(billedByMetrics).toBe(0);
  expect(used).toBeGreaterThanOrEqual(charged + billedByMetrics);
}, 60_000);

// Private:

/** 8 clients, each its own user, cycling users-only, tenants-only, mixed and dashboard operations. */
async function startMixedLoad(run: string): Promise<Load> {
  const users = Array.from({ length: 8 }, (_, i) => `${run}-${i}`);
  const tokens = await Promise.all(users.map((user) => tokenFor(tenant.tenant, user, 'executive')));
  const labels: Label[] = ['users', 'tenants', 'mixed', 'dashboard'];
  running = startLoad(users.length, (client, i) => {
    const label = labels[(client + i) % labels.length];
    return { label, origin: gateway.origin, user: users[client], token: tokens[client], query: OPERATIONS[label](client * 31 + i) };
  }, { deadlineMs: 15_000, run });
  return running;
}

/**
 * Every answer is HTTP 200 and either full data or, for an operation touching metrics while it was
 * down, SUBGRAPH_UNAVAILABLE on the metrics fields only (subgraph "metrics", retryable, no internal
 * address), with the other subgraphs' data standing — answered within `failFastMs`; operations not
 * touching metrics always answer in full; no such error outside the outage (+ recovery).
 */
function checkAnswers(outcomes: readonly Outcome[], { downFrom, downTo, upAt, failFastMs }: { downFrom: number; downTo: number; upAt: number; failFastMs: number }): void {
  expect(outcomes.length).toBeGreaterThan(50);
  expect(outcomes.filter((o) => o.status !== 200).map(describe)).toEqual([]);
  const untouched = outcomes.filter((o) => !TOUCHES_METRICS.includes(o.label as Label));
  expect(untouched.filter((o) => !isData(o)).map(describe)).toEqual([]);
  const failed = outcomes.filter((o) => !isData(o));
  expect(failed.length).toBeGreaterThan(3);
  for (const o of failed) {
    expect({ label: o.label, codes: [...new Set(codesOf(o))] }).toEqual({ label: expect.stringMatching(/^(mixed|dashboard)$/), codes: [ErrorCode.SUBGRAPH_UNAVAILABLE] });
    for (const error of o.body.errors) expect(error.extensions).toMatchObject({ subgraph: 'metrics', retryable: true });
    expect(JSON.stringify(o.body.errors)).not.toMatch(/127\.0\.0\.1|http:\/\/|ECONN/);
    expect(o.endedAt - o.startedAt).toBeLessThan(failFastMs);
    expect(o.endedAt).toBeGreaterThanOrEqual(downFrom);
    expect(o.startedAt).toBeLessThanOrEqual(upAt + RECOVERY_BOUND_MS);
    // Partial data: what the other subgraphs answered stands.
    if (o.label === 'mixed') expect(o.body.data).toEqual({ users: { totalCount: tenant.users }, user: null });
    else expect(o.body.data).toBeNull();
  }
  // While it was down, every operation touching metrics failed (none hung or slipped through).
  const inside = outcomes.filter((o) => TOUCHES_METRICS.includes(o.label as Label) && o.startedAt > Math.min(...failed.map((f) => f.endedAt)) && o.endedAt < downTo);
  expect(inside.length).toBeGreaterThan(0);
  expect(inside.filter(isData).map(describe)).toEqual([]);
  // And once it was back (within the bound), everything succeeded again.
  expect(outcomes.filter((o) => o.startedAt > upAt + RECOVERY_BOUND_MS && !isData(o)).map(describe)).toEqual([]);
}

/**
 * Exact charges, the ledger being up throughout: each caller's used bytes equal the sum of the
 * billedBytes of their responses, nothing is left reserved, and every failed operation settled below
 * its estimate (its metrics part billed nothing). What a quota admin reads with the CLI agrees.
 */
async function checkCharges(outcomes: readonly Outcome[]): Promise<void> {
  const users = [...new Set(outcomes.map((o) => o.user))];
  const counters = await ledgerCounters(redis.url, tenant.tenant, users);
  for (const user of users) {
    const billed = sum(outcomes.filter((o) => o.user === user).map(billedOf));
    expect({ user, ...counters.users.get(user)! }).toEqual({ user, usedBytes: billed, heldBytes: 0 });
  }
  for (const o of outcomes.filter((x) => !isData(x))) {
    expect(billedOf(o)).toBeLessThan(Number(o.body.extensions.cost.estimatedBilledBytes));
    // mixed: the users part's two jobs billed, productivity not; dashboard: the tenant's name billed, the rest never ran.
    expect({ label: o.label, billed: billedOf(o) }).toEqual({ label: o.label, billed: o.label === 'mixed' ? 20 * MiB : 10 * MiB });
  }
  const cli = await cliUsage(env, tenant.tenant, users[0]);
  expect(cli.user).toEqual(counters.users.get(users[0]));
  expect(cli.tenant.heldBytes).toBe(0);
}

function expectAllAlive(): void {
  const processes = { gateway: gateway.process, ...subgraphs };
  expect(Object.entries(processes).filter(([, p]) => !isAlive(p)).map(([name]) => name)).toEqual([]);
}

async function expectAllHealthy(): Promise<void> {
  for (const origin of [gateway.origin, ...Object.values(subgraphOrigins)]) expect({ origin, status: await healthz(origin) }).toEqual({ origin, status: 200 });
}
