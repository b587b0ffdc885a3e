/**
 * Daily budgets across real processes: three subgraphs and two gateways sharing the Redis ledger on
 * 127.0.0.1:6379 (and one budget store), where 500 concurrent operations split over both gateways
 * admit exactly what the budget allows; and a third gateway on a redis-server of its own that is
 * killed mid-test and restarted, which keeps serving under the failure policy, says so on /readyz,
 * and recovers without a restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addDays } from '../../common/dates';
import type { Role } from '../../common/principal';
import { signDevToken } from '../../gateway/auth/devToken';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { MiB } from '../../common/units';
import { type RedisServer, type RunningCli, freePorts, runMain, startMain, startRedisServer } from './processes';

/** A tenant id of its own, so the shared Redis holds no usage of an earlier run. */
const tenant: GeneratorOptions = {
  tenant: `budget_${Math.random().toString(36).slice(2, 10)}`, users: 8, days: 3, eventsPerUser: 20, start: '2025-05-05', seed: 9,
};
const LAST = addDays(tenant.start, tenant.days - 1);
const directory = generateDirectory(tenant);
const staff = directory.filter((u) => u.managerId !== null);
/** One job over one day of the rollup: bills BigQuery's 10 MiB minimum. */
const ONE_JOB = `{ tenant { topTimeWasters(from: "${LAST}", to: "${LAST}", first: 3) { totalWasteHours } } }`;
const TWO_JOBS = `{ tenant { topTimeWasters(from: "${LAST}", to: "${LAST}") { totalWasteHours } appUsage(from: "${LAST}", to: "${LAST}") { events } } }`;
const JOB_BYTES = 10 * MiB;
const JWT_SECRET = 'e2e-jwt-secret-0123456789abcdef0123456789';
const SHARED_REDIS = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

let dataDir: string;
let env: NodeJS.ProcessEnv;
const processes: RunningCli[] = [];
let gateways: string[];
let privateRedis: RedisServer;
let privatePort: number;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-budgets-e2e-'));
  const [users, tenants, metrics, a, b, c, redisPort] = await freePorts(7);
  privatePort = redisPort;
  env = {
    DATA_DIR: dataDir, USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics),
    JWT_SECRET, SUBGRAPH_SECRET: 'e2e-subgraph-secret-0123456789abcdef01', REDIS_URL: SHARED_REDIS,
    // No aggregate cache: every admitted operation runs its job and bills it, so usage is exact.
    CACHE_TTL_MS: '0',
  };
  expect(await runMain('seed', ['--tenant', tenant.tenant, '--users', String(tenant.users), '--days', String(tenant.days),
    '--events-per-user', String(tenant.eventsPerUser), '--start', tenant.start, '--seed', String(tenant.seed)], env)).toMatchObject({ code: 0 });
  privateRedis = await startRedisServer(privatePort);

  const started = [
    ...['users', 'tenants', 'metrics'].map((name) => [startMain('subgraphs/main.ts', [name], env), `${name} subgraph on`] as const),
    [startMain('gateway/main.ts', [], { ...env, PORT: String(a) }), 'gateway on'] as const,
    [startMain('gateway/main.ts', [], { ...env, PORT: String(b) }), 'gateway on'] as const,
    // The outage gateway admits operations up to 15 MiB unrecorded while its Redis is away.
    [startMain('gateway/main.ts', [], {
      ...env, PORT: String(c), REDIS_URL: privateRedis.url, LEDGER_FAILURE_POLICY: 'allow-up-to-cap', LEDGER_FAILOPEN_MAX_BYTES: String(15 * MiB),
    }), 'gateway on'] as const,
  ];
  processes.push(...started.map(([process]) => process));
  await Promise.all(started.map(([process, text]) => process.waitFor(text, 60_000)));
  gateways = [a, b, c].map((port) => `http://127.0.0.1:${port}`);
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await privateRedis?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('500 concurrent operations split over two gateways on one Redis: exactly the 7 the budget admits run', async () => {
  const user = staff[0];
  // The quota admin's CLI writes the budget store both gateways read.
  const set = await runMain('budget', ['set', '--tenant', tenant.tenant, '--user', user.id, '--daily', '70MiB', '--reason', 'e2e'], env);
  expect(set).toMatchObject({ code: 0 });
  const token = await tokenFor(user.id, 'executive');

  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => query(gateways[i % 2], token, ONE_JOB)));
  const admitted = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 429);
  expect(admitted).toHaveLength(7);
  expect(refused).toHaveLength(493);
  // Both gateways refused some: the ledger, not one process's memory, decided.
  expect(new Set(refused.map((r) => r.gateway)).size).toBe(2);
  expect(admitted.reduce((sum, r) => sum + r.body.extensions.cost.billedBytes, 0)).toBe(7 * JOB_BYTES);
  for (const refusal of refused) expect(refusal.body.errors[0].extensions.code).toBe('BUDGET_EXCEEDED');

  // The shared ledger, read by the CLI: the whole budget used, nothing left held.
  const usage = await runMain('budget', ['usage', '--tenant', tenant.tenant, '--user', user.id, '--role', 'executive'], env);
  expect(usage.code).toBe(0);
  expect(usage.stdout).toMatch(new RegExp(`user ${user.id} +used 70 MiB \\(73400320 bytes\\) · reserved 0 B · remaining 0 B`));
  // Either gateway reports the same budget (to an admin: reading a user costs a users scan, which
  // the exhausted user's own budget no longer covers).
  const admin = await tokenFor(staff[2].id, 'executive', 'quota-admin');
  for (const gateway of gateways.slice(0, 2)) {
    const { body } = await query(gateway, admin, `{ user(id: "${user.id}") { budget { usedBytes remainingBytes } } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data.user.budget).toEqual({ usedBytes: 7 * JOB_BYTES, remainingBytes: 0 });
  }
}, 60_000);

test("an admin's change through one gateway applies at once on the other (Redis pub/sub), not after its limits cache", async () => {
  const user = staff[3];
  const token = await tokenFor(user.id, 'executive');
  const admin = await tokenFor(staff[2].id, 'executive', 'quota-admin');
  const set = (gateway: string, daily: number) => query(gateway, admin, `mutation { setUserBudget(userId: "${user.id}", dailyLimitBytes: ${daily}) { dailyLimitBytes } }`);
  expect((await set(gateways[0], 0)).body.errors).toBeUndefined();
  // Gateway B now caches the user's limits (for 5 s): refused.
  const primed = Date.now();
  expect((await query(gateways[1], token, ONE_JOB)).status).toBe(429);
  expect((await set(gateways[0], 100 * JOB_BYTES)).body.errors).toBeUndefined();
  let admitted;
  for (;;) {
    admitted = await query(gateways[1], token, ONE_JOB);
    if (admitted.status === 200 || Date.now() - primed > 4000) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(admitted.status).toBe(200);
  expect(admitted.body.extensions.cost.budget.user.limitBytes).toBe(100 * JOB_BYTES);
  // Well inside the 5 s the old limits would otherwise have been reused.
  expect(Date.now() - primed).toBeLessThan(2000);
}, 30_000);

test('Redis killed under a gateway: it keeps serving per the failure policy, /readyz says so, and it recovers when Redis returns', async () => {
  const gateway = gateways[2];
  const outageGateway = processes[5];
  const token = await tokenFor(staff[1].id, 'executive');
  const before = await query(gateway, token, ONE_JOB);
  expect(before.status).toBe(200);
  expect(before.body.extensions.cost.budget.user.usedBytes).toBe(JOB_BYTES);

  await privateRedis.stop();
  // Small operations are admitted, unrecorded; larger ones are refused with a coded 503. None hangs.
  const small = await query(gateway, token, ONE_JOB);
  expect(small.status).toBe(200);
  expect(small.body.data.tenant.topTimeWasters.length).toBeGreaterThan(0);
  expect(small.body.extensions.cost.budget).toBeUndefined();
  const large = await query(gateway, token, TWO_JOBS);
  expect(large.status).toBe(503);
  expect(large.body.errors[0].extensions.code).toBe('LEDGER_UNAVAILABLE');
  const during = await readiness(gateway);
  expect(during).toMatchObject({ http: 200, checks: { budgets: { ledger: 'unreachable', onLedgerError: 'allow-up-to-cap' } } });
  expect(outageGateway.output()).toMatch(/budget ledger unreachable/);

  privateRedis = await startRedisServer(privatePort);
  const after = await eventually(async () => {
    const result = await query(gateway, token, TWO_JOBS);
    return result.status === 200 ? result : undefined;
  }, 10_000);
  // The restarted Redis kept nothing: today's usage starts over with this operation.
  expect(after.body.extensions.cost.budget.user.usedBytes).toBe(2 * JOB_BYTES);
  expect(await readiness(gateway)).toMatchObject({ http: 200, checks: { budgets: { ledger: 'ok' } } });
  expect(outageGateway.output()).toMatch(/budget ledger reachable again/);
  expect(outageGateway.child.exitCode).toBeNull();
}, 60_000);

// Private:

function tokenFor(userId: string, ...roles: Role[]): Promise<string> {
  return signDevToken({ tenant: tenant.tenant, user: userId, roles, secret: JWT_SECRET, ttlSeconds: 600 });
}

async function query(gateway: string, token: string, source: string) {
  const response = await fetch(`${gateway}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: source }),
  });
  return { gateway, status: response.status, body: (await response.json()) as any };
}

async function readiness(gateway: string) {
  const response = await fetch(`${gateway}/readyz`);
  return { http: response.status, ...((await response.json()) as object) } as any;
}

/** Polls `attempt` until it returns a value, for at most `withinMs`. */
async function eventually<T>(attempt: () => Promise<T | undefined>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
