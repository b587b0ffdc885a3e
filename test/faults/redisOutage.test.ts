/**
 * Proves: the Redis that holds the budget ledger and the aggregate cache can be killed (SIGKILL, then
 * restarted empty on the same port) or frozen (SIGSTOP, then SIGCONT) under steady concurrent load
 * without crashing, hanging or mischarging anything. Two real gateways share it — one with
 * LEDGER_FAILURE_POLICY=reject, one with allow-up-to-cap — over three real subgraphs whose aggregate
 * cache is on the same Redis. Every answer is data or the documented refusal of the policy in force;
 * answers stay the same data whatever the cache's state; the ledger charges exactly the bytes billed
 * by the operations it admitted, never twice (see "no wrong charge" at each test); and both gateways
 * recover by themselves, within a bounded time, with /readyz saying so. A frozen Redis costs requests
 * its deadline only until one call is overdue; later ones fail at once.
 */
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { addDays } from '../../common/dates';
import { ErrorCode } from '../../common/errors';
import { type RedisServer, type RunningCli, freePorts, startRedisServer } from '../e2e/processes';
import { seedDataDir } from '../support/system';
import { MiB } from '../../common/units';
import {
  type Load, type Outcome, baseEnv, billedOf, cliUsage, codesOf, describe, eventually, healthz, isAlive, isData, isRefusal,
  ledgerCounters, dumpOutputs, note, post, readiness, sleep, startGatewayProcess, startLoad, startSubgraphProcesses, sum, tokenFor, wasReserved,
} from './harness';

const tenant = { tenant: 'faults', users: 12, days: 4, eventsPerUser: 20, start: '2025-03-03', seed: 5 };
const DAYS = Array.from({ length: tenant.days }, (_, i) => addDays(tenant.start, i));
const LAST = DAYS[DAYS.length - 1];
/** Every (from, to) over the data: with `first` 1..500, thousands of distinct aggregates, so most requests miss the cache and bill. */
const RANGES = DAYS.flatMap((from, i) => DAYS.slice(i).map((to) => [from, to] as const));
/** allow-up-to-cap's threshold: one-job operations (10 MiB) pass unrecorded, two-job ones (20 MiB) do not. */
const FAILOPEN_MAX_BYTES = 15 * MiB;
/** How long after Redis is back the gateways must be charging again (client reconnect backoff ≤ 0.55 s, plus a loaded 2-core machine). */
const RECOVERY_BOUND_MS = 5000;

/** One job on the rollup: 10 MiB. */
const small = (from: string, to: string, first: number) => `{ tenant { topTimeWasters(from: "${from}", to: "${to}", first: ${first}) { totalWasteHours } } }`;
/** Two jobs: 20 MiB. */
const large = (from: string, to: string, first: number) =>
  `{ tenant { topTimeWasters(from: "${from}", to: "${to}", first: ${first}) { totalWasteHours } appUsage(from: "${from}", to: "${to}", first: ${first}) { events users } } }`;
/** The same dashboard every time: served from the aggregate cache once warm (metrics + users). */
const DASHBOARD = `{ tenant { topTimeWasters(from: "${tenant.start}", to: "${LAST}", first: 5) { totalWasteHours user { displayName } } } }`;
/** Reads no warehouse data: never charged or refused, whatever the ledger's state. */
const FREE = '{ tenant { dataRange { from to } } }';

let remove: () => void;
let env: NodeJS.ProcessEnv;
let redis: RedisServer;
let redisPort: number;
let subgraphs: Record<SubgraphName, RunningCli>;
let subgraphOrigins: string[];
let reject: { process: RunningCli; origin: string };
let failOpen: { process: RunningCli; origin: string };
/** The load of the test running, stopped by afterEach even when the test failed half-way. */
let running: Load | undefined;

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  const [users, tenants, metrics, rejectPort, failOpenPort, port] = await freePorts(6);
  redisPort = port;
  redis = await startRedisServer(redisPort);
  // RESERVATION_TTL_MS short, so holds a frozen Redis applies late (see the freeze test) expire within it.
  env = baseEnv({ dataDir: seeded.dataDir, ports: { users, tenants, metrics }, redisUrl: redis.url }, { RESERVATION_TTL_MS: '4000' });
  subgraphOrigins = [users, tenants, metrics].map((p) => `http://127.0.0.1:${p}`);
  subgraphs = await startSubgraphProcesses(env);
  [reject, failOpen] = await Promise.all([
    startGatewayProcess(rejectPort, { ...env, LEDGER_FAILURE_POLICY: 'reject' }),
    startGatewayProcess(failOpenPort, { ...env, LEDGER_FAILURE_POLICY: 'allow-up-to-cap', LEDGER_FAILOPEN_MAX_BYTES: String(FAILOPEN_MAX_BYTES) }),
  ]);
  // Warm up: the gateways fetch the tenant's statistics on their first priced operation.
  const token = await tokenFor(tenant.tenant, 'warmup', 'executive');
  for (const gateway of [reject, failOpen]) expect(isData(await post(gateway.origin, token, DASHBOARD))).toBe(true);
}, 120_000);

afterEach(async () => {
  await running?.stop();
  running = undefined;
  redis?.child.kill('SIGCONT'); // a test that failed while Redis was frozen must not leave it so
});

afterAll(async () => {
  dumpOutputs({ reject: reject?.process, failOpen: failOpen?.process, ...subgraphs });
  await Promise.all([reject?.process.stop(), failOpen?.process.stop(), ...Object.values(subgraphs ?? {}).map((s) => s.stop())]);
  await redis?.stop();
  remove?.();
});

test('Redis killed under load and restarted empty: data or the policy\'s refusal, nothing hangs, no wrong charge, recovery without a restart', async () => {
  const load = await startMixedLoad('kill');
  await sleep(1500);

  const killAt = Date.now();
  await redis.stop('SIGKILL');
  const killedAt = Date.now();
  note(`redis killed after ${load.outcomes.length} answers`);
  // Both policies act at once: reject refuses, allow-up-to-cap admits a small operation unrecorded.
  await load.waitFor((o) => o.origin === reject.origin && o.startedAt > killedAt && isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503), 5000);
  await load.waitFor((o) => o.origin === failOpen.origin && o.startedAt > killedAt && o.label === 'small' && isData(o) && !wasReserved(o), 5000);
  await load.waitFor((o) => o.origin === failOpen.origin && o.startedAt > killedAt && isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503), 5000);
  for (const gateway of [reject, failOpen]) {
    const ready = await readiness(gateway.origin);
    // The ledger does not gate readiness (its failure policy handles the outage): 200, with the state shown.
    expect(ready).toMatchObject({ http: 200, checks: { budgets: { ledger: 'unreachable' } } });
    expect(ready.checks.budgets.onLedgerError).toBe(gateway === reject ? 'reject' : 'allow-up-to-cap');
  }
  // The subgraphs' aggregate cache failed open, and says so.
  const cache = await eventually(async () => {
    const ready = await readiness(subgraphOrigins[2]);
    return ready.checks?.aggregateCache?.state === 'unreachable' ? ready : undefined;
  }, 5000);
  expect(cache.http).toBe(200);
  await sleep(1500);

  const restartAt = Date.now();
  note(`restarting redis after ${load.outcomes.length} answers`);
  redis = await startRedisServer(redisPort);
  const upAt = Date.now();
  note('redis up');
  // Recovery: each gateway admits and charges again within the bound, on its own.
  const recovered = await Promise.all([reject, failOpen].map((gateway) =>
    load.waitFor((o) => o.origin === gateway.origin && o.startedAt >= upAt && isData(o) && wasReserved(o), RECOVERY_BOUND_MS)));
  for (const outcome of recovered) expect(outcome.endedAt - upAt).toBeLessThan(RECOVERY_BOUND_MS);
  note(`recovered after ${recovered.map((o) => o.endedAt - upAt).join(', ')} ms`);
  await sleep(1500);
  const outcomes = await load.stop();
  note(`load stopped: ${outcomes.length} answers`);

  // No process crashed or was restarted; all of them still answer.
  expectAllAlive();
  for (const origin of [reject.origin, failOpen.origin, ...subgraphOrigins]) expect(await healthz(origin)).toBe(200);
  for (const gateway of [reject, failOpen]) {
    expect(await readiness(gateway.origin)).toMatchObject({ http: 200, checks: { budgets: { ledger: 'ok' } } });
    expect(gateway.process.output()).toMatch(/budget ledger unreachable/);
    expect(gateway.process.output()).toMatch(/budget ledger reachable again/);
  }
  // The outage is logged when it begins and when it ends, not per failed call (hundreds failed). (At
  // most twice: a call that began before the kill and succeeded after the first failure ends the
  // outage early, and the next failure begins it again — see the report.)
  expect(count(subgraphs.metrics.output(), /aggregate cache unavailable/)).toBeLessThanOrEqual(2);
  expect(count(reject.process.output(), /budget ledger unreachable/)).toBeLessThanOrEqual(2);

  checkAnswers(outcomes, { outageFrom: killAt, outageTo: restartAt, upAt });
  await checkCharges(outcomes, 0, (o) => {
    // Redis came back empty (no persistence): the new ledger can only know reservations it received.
    // Made after the restart: reserved and settled there, so charged exactly once.
    if (o.startedAt >= restartAt) return 'charged';
    // Made before the kill and settled only after the restart (an operation outliving the outage):
    // charged once if its settle reached the new Redis, else never — both are acceptable.
    if (o.endedAt >= restartAt) return 'maybe';
    // Settled (or failed to settle) before the restart: on the Redis that was lost.
    return 'lost';
  });
  // The cache is back too (a lookup, driven here after the charges were read, succeeds and ends its outage).
  const probeToken = await tokenFor(tenant.tenant, 'cache-probe', 'executive');
  const cacheAfter = await eventually(async () => {
    await post(failOpen.origin, probeToken, small(tenant.start, LAST, 1));
    const ready = await readiness(subgraphOrigins[2]);
    return ready.checks?.aggregateCache?.state === 'ok' ? ready : undefined;
  }, 5000);
  expect(cacheAfter.checks.aggregateCache.errors).toBeGreaterThan(0);
}, 90_000);

test('Redis frozen (SIGSTOP) under load and thawed: answers within the ledger and cache deadlines, holds it applies late expire, no wrong charge', async () => {
  // What the tenant was charged before (the previous test's operations after the restart).
  const baseline = (await ledgerCounters(redis.url, tenant.tenant, [])).tenant.usedBytes;
  const load = await startMixedLoad('freeze');
  await sleep(1500);

  const freezeAt = Date.now();
  redis.child.kill('SIGSTOP');
  note(`redis frozen after ${load.outcomes.length} answers`);
  await load.waitFor((o) => o.origin === reject.origin && o.startedAt > freezeAt && isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503), 8000);
  await load.waitFor((o) => o.origin === failOpen.origin && o.startedAt > freezeAt && o.label === 'small' && isData(o) && !wasReserved(o), 8000);
  await load.waitFor((o) => o.origin === failOpen.origin && o.startedAt > freezeAt && isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503), 8000);
  expect(await readiness(reject.origin)).toMatchObject({ http: 200, checks: { budgets: { ledger: 'unreachable', onLedgerError: 'reject' } } });
  await sleep(2500);

  const thawAt = Date.now();
  redis.child.kill('SIGCONT');
  note(`redis thawed after ${load.outcomes.length} answers`);
  await Promise.all([reject, failOpen].map((gateway) =>
    load.waitFor((o) => o.origin === gateway.origin && o.startedAt >= thawAt && isData(o) && wasReserved(o), RECOVERY_BOUND_MS)));
  await sleep(1000);
  const outcomes = await load.stop();

  expectAllAlive();
  // A frozen Redis is not a refused connection: the calls in flight at the freeze wait out their
  // deadline (ledger 1 s, cache 250 ms per round trip). No answer took much longer than those together.
  const slowest = outcomes.reduce((worst, o) => (o.endedAt - o.startedAt > worst.endedAt - worst.startedAt ? o : worst));
  expect(slowest.endedAt - slowest.startedAt).toBeLessThan(4000);
  // But Redis answers in order, so while one call is overdue every later one would be too: they fail
  // at once (common/inOrderDeadline.ts). A refusal that began well into the freeze waited no deadline.
  const refusedLater = outcomes.filter((o) => o.origin === reject.origin && o.startedAt > freezeAt + 1500 && o.endedAt < thawAt && isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503));
  expect(refusedLater.length).toBeGreaterThan(3);
  expect(refusedLater.filter((o) => o.endedAt - o.startedAt >= 500).map(describe)).toEqual([]);
  checkAnswers(outcomes, { outageFrom: freezeAt, outageTo: thawAt, upAt: thawAt });

  // The frozen Redis kept every command the gateways sent and ran them on SIGCONT, in order: the
  // settles the gateway gave up on are applied late (charged once), and the reservations it gave up
  // on become holds nobody settles — the operation was refused (reject) or admitted unrecorded
  // (allow-up-to-cap) — which hold bytes until RESERVATION_TTL_MS (4 s here), never charge them.
  // checkCharges waits for held to reach 0 first.
  await checkCharges(outcomes, baseline, (o) => (wasReserved(o) ? 'charged' : 'lost'));
}, 90_000);

// Private:

/** 10 clients on the reject gateway and 4 on the allow-up-to-cap one, each its own user, cycling small, large, dashboard and free operations. */
async function startMixedLoad(run: string): Promise<Load> {
  const clients = [
    ...Array.from({ length: 10 }, (_, i) => ({ origin: reject.origin, user: `${run}-reject-${i}` })),
    ...Array.from({ length: 4 }, (_, i) => ({ origin: failOpen.origin, user: `${run}-failopen-${i}` })),
  ];
  const tokens = await Promise.all(clients.map((c) => tokenFor(tenant.tenant, c.user, 'executive')));
  const salt = [...run].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) >>> 0, 7);
  running = startLoad(clients.length, (client, i) => {
    const { origin, user } = clients[client];
    // Arguments differ between runs too: the subgraphs' local cache level keeps what an earlier run computed.
    const pick = (salt + client * 7919 + i * 104_729) >>> 0;
    const [from, to] = RANGES[pick % RANGES.length];
    const first = 1 + (pick % 500);
    const kind = (['small', 'large', 'dashboard', 'free'] as const)[(client + i) % 4];
    const query = kind === 'small' ? small(from, to, first) : kind === 'large' ? large(from, to, first) : kind === 'dashboard' ? DASHBOARD : FREE;
    return { label: kind, origin, user, token: tokens[client], query };
  }, { deadlineMs: 15_000, run });
  return running;
}

/**
 * Every answer is data or the documented refusal of the gateway's policy, at the right time:
 * - nothing hung or failed at the HTTP level, and no error code outside README's table;
 * - free operations (no warehouse data) are answered throughout;
 * - reject: LEDGER_UNAVAILABLE (503) only between the outage's start and recovery, and every
 *   warehouse-reading operation started well inside the outage is refused — a stored answer of the
 *   gateway's response cache reads no warehouse data, so it is served, billing 0;
 * - allow-up-to-cap: inside the outage, operations estimated ≤ LEDGER_FAILOPEN_MAX_BYTES answer data
 *   unrecorded (no budget), larger ones LEDGER_UNAVAILABLE;
 * - the same operation gives the same data whether the cache is up, down or empty again.
 */
function checkAnswers(outcomes: readonly Outcome[], { outageFrom, outageTo, upAt }: { outageFrom: number; outageTo: number; upAt: number }): void {
  expect(outcomes.length).toBeGreaterThan(100);
  const unexpected = outcomes.filter((o) => !(isData(o) || isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503)));
  expect(unexpected.map(describe)).toEqual([]);
  for (const o of outcomes) for (const code of codesOf(o)) expect(Object.values(ErrorCode)).toContain(code);
  expect(outcomes.filter((o) => o.label === 'free' && !isData(o)).map(describe)).toEqual([]);

  const refusals = outcomes.filter((o) => isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503));
  expect(refusals.filter((o) => o.endedAt < outageFrom || o.startedAt > upAt + RECOVERY_BOUND_MS).map(describe)).toEqual([]);
  // Well inside the outage: started after it began (with a margin for the operation to reach its
  // reservation) and answered before it ended.
  const inside = (o: Outcome) => o.startedAt > outageFrom + 250 && o.endedAt < outageTo && o.label !== 'free';
  const storedAnswer = (o: Outcome) => isData(o) && o.body.extensions?.cost?.responseCache === 'hit';
  expect(outcomes.filter((o) => storedAnswer(o) && (billedOf(o) !== 0 || wasReserved(o))).map(describe)).toEqual([]);
  const rejectInside = outcomes.filter((o) => o.origin === reject.origin && inside(o) && !storedAnswer(o));
  expect(rejectInside.length).toBeGreaterThan(3);
  expect(rejectInside.filter((o) => !isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503)).map(describe)).toEqual([]);

  const failOpenInside = outcomes.filter((o) => o.origin === failOpen.origin && inside(o));
  const estimated = (o: Outcome) => Number(o.body?.extensions?.cost?.estimatedBilledBytes);
  const admitted = failOpenInside.filter((o) => estimated(o) <= FAILOPEN_MAX_BYTES);
  const refused = failOpenInside.filter((o) => estimated(o) > FAILOPEN_MAX_BYTES);
  // (The test waited for one of each kind before ending the outage: here every one is checked.)
  expect(admitted.length + refused.length).toBeGreaterThan(0);
  expect(admitted.filter((o) => !isData(o) || wasReserved(o)).map(describe)).toEqual([]);
  expect(refused.filter((o) => !isRefusal(o, ErrorCode.LEDGER_UNAVAILABLE, 503)).map(describe)).toEqual([]);

  const dataByQuery = new Map<string, string>();
  for (const o of outcomes.filter(isData)) {
    const data = JSON.stringify(o.body.data);
    if (!dataByQuery.has(o.query)) dataByQuery.set(o.query, data);
    else expect({ query: o.query, data }).toEqual({ query: o.query, data: dataByQuery.get(o.query) });
  }
  // Some operations were answered many times (the dashboard, the free one) across the outage.
  expect(Math.max(...[...dataByQuery.keys()].map((q) => outcomes.filter((o) => o.query === q && isData(o)).length))).toBeGreaterThan(20);
}

/**
 * No wrong charge. `classify` says, for each answered operation, whether the ledger serving now must
 * have charged it ('charged'), may have ('maybe': counted at most once), or cannot know it ('lost').
 * Then, for each user and for the tenant: Σ billedBytes of the 'charged' ≤ used ≤ that + Σ of the
 * 'maybe' — so nothing is charged twice, nothing unbilled is charged (a refused or failed operation
 * bills 0), and nothing admitted after recovery goes uncharged — and no reservation is left held.
 */
async function checkCharges(outcomes: readonly Outcome[], tenantBaseline: number, classify: (o: Outcome) => 'charged' | 'maybe' | 'lost'): Promise<void> {
  const users = [...new Set(outcomes.map((o) => o.user))];
  const counters = await eventually(async () => {
    const read = await ledgerCounters(redis.url, tenant.tenant, users);
    return read.tenant.heldBytes === 0 ? read : undefined;
  }, 10_000, 250);
  // An operation the ledger never reserved (refused, or admitted unrecorded) is never charged.
  const bounds = (list: readonly Outcome[]) => {
    const reserved = list.filter(wasReserved);
    return {
      low: sum(reserved.filter((o) => classify(o) === 'charged').map(billedOf)),
      high: sum(reserved.filter((o) => classify(o) !== 'lost').map(billedOf)),
    };
  };
  for (const user of users) {
    const { low, high } = bounds(outcomes.filter((o) => o.user === user));
    const { usedBytes, heldBytes } = counters.users.get(user)!;
    expect({ user, heldBytes }).toEqual({ user, heldBytes: 0 });
    expect({ user, usedBytes, atLeast: usedBytes >= low, atMost: usedBytes <= high }).toEqual({ user, usedBytes, atLeast: true, atMost: true });
  }
  const { low, high } = bounds(outcomes);
  expect(low).toBeGreaterThan(0); // operations were charged after recovery
  // The tenant's counter moved by exactly this run's users' charges (both scripts change the two together).
  const mine = sum(users.map((u) => counters.users.get(u)!.usedBytes));
  expect(mine).toBeGreaterThanOrEqual(low);
  expect(mine).toBeLessThanOrEqual(high);
  expect(counters.tenant.usedBytes).toBe(tenantBaseline + mine);
  // What a quota admin reads with the CLI is the same ledger: nothing left reserved.
  const cli = await cliUsage(env, tenant.tenant, users[0]);
  expect(cli.tenant).toEqual(counters.tenant);
  expect(cli.user).toEqual(counters.users.get(users[0]));
}

function expectAllAlive(): void {
  const processes = { reject: reject.process, failOpen: failOpen.process, ...subgraphs };
  expect(Object.keys(processes)).toHaveLength(2 + SUBGRAPH_NAMES.length);
  expect(Object.entries(processes).filter(([, p]) => !isAlive(p)).map(([name]) => name)).toEqual([]);
}

function count(text: string, pattern: RegExp): number {
  return text.split('\n').filter((line) => pattern.test(line)).length;
}
