/**
 * Daily budgets through the real gateway and subgraphs: reserve before, settle after, refusals with
 * Retry-After, no overspend under 500 concurrent operations, the admin API and its audit trail (users'
 * budgets only for users of the tenant's directory; a user's reset on the in-memory and the Redis
 * ledger), and the ledger failure policy.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { addDays } from '../../common/dates';
import { close, listen } from '../../common/http/graphqlHttpServer';
import type { Principal } from '../../common/principal';
import { Client } from 'pg';
import { createClient } from '@redis/client';
import type { BudgetLedger } from '../../budgets/ledger';
import type { BudgetStore } from '../../budgets/store';
import { createFileStore } from '../../budgets/fileStore';
import { createPostgresStore } from '../../budgets/postgresStore';
import { createMemoryLedger } from '../../budgets/memoryLedger';
import { createRedisLedger } from '../../budgets/redisLedger';
import { GiB, MiB } from '../../common/units';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { type System, seedDataDir, startSystem } from '../support/system';

const tenant: GeneratorOptions = { tenant: 'acme', users: 30, days: 10, eventsPerUser: 20, start: '2025-05-05', seed: 4 };
/** Another tenant, with a directory of its own. */
const globex: GeneratorOptions = { tenant: 'globex', users: 3, days: 1, eventsPerUser: 2, start: '2025-05-05', seed: 4 };
const LAST = addDays(tenant.start, tenant.days - 1);
const directory = generateDirectory(tenant);
const globexUser = generateDirectory(globex)[0];
const ceo = directory.find((u) => u.managerId === null)!;
const staff = directory.filter((u) => u.managerId !== null);
const as = (userId: string, ...roles: Principal['roles']): Principal => ({ tenant: 'acme', userId, roles });
const admin = as(ceo.id, 'executive', 'quota-admin');
/** One job over one day of the rollup: bills the 10 MiB minimum. */
const ONE_JOB = `{ tenant { topTimeWasters(from: "${LAST}", to: "${LAST}", first: 3) { totalWasteHours } } }`;
const JOB_BYTES = 10 * MiB;
/** Spend is charged to today's budget day (UTC here), whatever days the data covers. */
const TODAY = new Date().toISOString().slice(0, 10);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
/** This run's Redis keys, deleted afterwards. */
const REDIS_PREFIX = `bytegate-test:${randomUUID()}:`;

let dataDir: string;
let remove: () => void;
let system: System;
let budgetsDir: string;
let store: BudgetStore;

beforeAll(async () => {
  ({ dataDir, remove } = await seedDataDir([tenant, globex]));
  budgetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-budget-store-'));
  store = await createFileStore({ dir: budgetsDir });
  system = await startSystem(dataDir, { gateway: { budgets: { store, ledger: createMemoryLedger() } } });
}, 120_000);

afterAll(async () => {
  await system?.close();
  remove?.();
  fs.rmSync(budgetsDir, { recursive: true, force: true });
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  for await (const keys of redis.scanIterator({ MATCH: `${REDIS_PREFIX}*` })) if (keys.length > 0) await redis.del(keys);
  redis.destroy();
});

async function setDaily(userId: string, bytes: number | null) {
  const { body } = await system.query(admin, 'mutation($u: ID!, $d: Bytes) { setUserBudget(userId: $u, dailyLimitBytes: $d, reason: "test") { dailyLimitBytes } }', { u: userId, d: bytes });
  expect(body.errors).toBeUndefined();
}

test('every response reports the remaining budget, and it goes down by what was billed', async () => {
  const user = staff[0];
  await setDaily(user.id, 100 * JOB_BYTES);
  const first = await system.query(as(user.id, 'executive'), ONE_JOB);
  const second = await system.query(as(user.id, 'executive'), ONE_JOB);
  expect(first.body.extensions.cost.billedBytes).toBe(JOB_BYTES);
  const before = first.body.extensions.cost.budget.user;
  const after = second.body.extensions.cost.budget.user;
  expect(before).toMatchObject({ limitBytes: 100 * JOB_BYTES, usedBytes: JOB_BYTES, remainingBytes: 99 * JOB_BYTES });
  expect(after).toMatchObject({ usedBytes: 2 * JOB_BYTES, remainingBytes: 98 * JOB_BYTES });
  expect(Date.parse(after.resetsAt)).toBeGreaterThan(Date.now());
  expect(second.body.extensions.cost.budget.tenant.usedBytes).toBeGreaterThanOrEqual(2 * JOB_BYTES);
});

test('500 concurrent operations from one user whose budget admits 7: exactly 7 run, the rest are 429', async () => {
  const user = staff[1];
  await setDaily(user.id, 7 * JOB_BYTES);
  const start = system.warehouseQueries.length;
  const results = await Promise.all(Array.from({ length: 500 }, () => system.query(as(user.id, 'executive'), ONE_JOB)));
  const admitted = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 429);
  expect(admitted).toHaveLength(7);
  expect(refused).toHaveLength(493);
  expect(system.warehouseQueries.length - start).toBe(7);
  const billed = admitted.reduce((sum, r) => sum + r.body.extensions.cost.billedBytes, 0);
  expect(billed).toBeLessThanOrEqual(7 * JOB_BYTES);

  const refusal = refused[0];
  expect(refusal.body.errors[0].extensions.code).toBe('BUDGET_EXCEEDED');
  // People read it: human units next to the exact bytes, and when it resets in the tenant's timezone.
  expect(refusal.body.errors[0].message).toMatch(/^This operation would bill an estimated \d+(\.\d+)? [KMGT]iB \([\d,]+ bytes\), .* over your remaining daily budget of 0 B; it resets at 00:00 UTC \(\d{4}-\d\d-\d\dT00:00:00\.000Z\)\.$/);
  const retryAfter = Number(refusal.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(86_400);
  expect(refusal.body.errors[0].extensions.cost.budget.user).toMatchObject({ limitBytes: 7 * JOB_BYTES, remainingBytes: 0 });
  const { body } = await system.query(admin, `{ user(id: "${user.id}") { budget { usedBytes remainingBytes dailyLimitBytes } } }`);
  expect(body.data.user.budget).toEqual({ usedBytes: 7 * JOB_BYTES, remainingBytes: 0, dailyLimitBytes: 7 * JOB_BYTES });

  // The spent user can still see their budget: myBudget reads no warehouse data, so it costs nothing.
  const mine = await system.query(as(user.id, 'executive'), '{ myBudget { usedBytes remainingBytes resetsAt } }');
  expect(mine.status).toBe(200);
  expect(mine.body.data.myBudget).toMatchObject({ usedBytes: 7 * JOB_BYTES, remainingBytes: 0 });
  expect(mine.body.extensions.cost).toMatchObject({ estimatedBilledBytes: 0, billedBytes: 0 });
});

test("a tenant's budget binds all its users together", async () => {
  const { body: set } = await system.query(admin, 'mutation { setTenantBudget(dailyLimitBytes: 0, reason: "freeze") { dailyLimitBytes remainingBytes } }');
  expect(set.data.setTenantBudget).toEqual({ dailyLimitBytes: 0, remainingBytes: 0 });
  const refused = await system.query(as(staff[2].id, 'executive'), ONE_JOB);
  expect(refused.status).toBe(429);
  expect(refused.body.errors[0].message).toMatch(/tenant's remaining daily budget/);
  // Free operations still run: nothing to charge.
  expect((await system.query(as(staff[2].id, 'executive'), '{ tenant { dataRange { from } } }')).status).toBe(200);
  await system.query(admin, 'mutation { setTenantBudget(dailyLimitBytes: null, reason: "thaw") { dailyLimitBytes } }');
  expect((await system.query(as(staff[2].id, 'executive'), ONE_JOB)).status).toBe(200);
});

describe('the admin API', () => {
  test('only quota admins change budgets; users read their own; bad values are BAD_USER_INPUT', async () => {
    const viewer = as(staff[3].id, 'viewer', 'executive');
    const denied = await system.query(viewer, `mutation { setUserBudget(userId: "${staff[3].id}", dailyLimitBytes: 1) { dailyLimitBytes } }`);
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const other = await system.query(as(staff[3].id, 'viewer'), `{ user(id: "${staff[3].id}") { budget { usedBytes } } }`);
    expect(other.body.data.user.budget).toEqual({ usedBytes: expect.any(Number) });
    const notMine = await system.query(as(staff[4].id, 'executive'), `{ user(id: "${staff[3].id}") { budget { usedBytes } } }`);
    expect(notMine.body.errors[0].extensions.code).toBe('FORBIDDEN');

    for (const bad of ['dailyLimitBytes: -1', 'dailyLimitBytes: 1.5', `dailyLimitBytes: ${2 ** 52}`, '']) {
      const { body } = await system.query(admin, `mutation { setUserBudget(userId: "${staff[3].id}", ${bad}) { dailyLimitBytes } }`.replace(', )', ')'));
      expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  test('every change is audited: who, old → new, reason', async () => {
    await system.query(admin, `mutation { setUserBudget(userId: "${staff[5].id}", dailyLimitBytes: 1000, reason: "first") { dailyLimitBytes } }`);
    await system.query(admin, `mutation { setUserBudget(userId: "${staff[5].id}", dailyLimitBytes: 2000, reason: "more") { dailyLimitBytes } }`);
    await system.query(admin, `mutation { resetBudgetUsage(userId: "${staff[5].id}", reason: "new quarter") { usedBytes } }`);
    const { body } = await system.query(admin, `{ budgetUsage(from: "${TODAY}", to: "${TODAY}", first: 50) { changes { actor user { id } action old new reason } topSpenders { user { id } usedBytes } recentRejections { user { id } exceeded } } }`);
    expect(body.errors).toBeUndefined();
    const mine = body.data.budgetUsage.changes.filter((c: { user: { id: string } | null }) => c.user?.id === staff[5].id);
    expect(mine.map((c: { action: string; reason: string }) => [c.action, c.reason])).toEqual([['resetUsage', 'new quarter'], ['setBudget', 'more'], ['setBudget', 'first']]);
    expect(JSON.parse(mine[1].old)).toMatchObject({ dailyLimitBytes: 1000 });
    expect(JSON.parse(mine[1].new)).toMatchObject({ dailyLimitBytes: 2000 });
    expect(mine[1].actor).toBe(admin.userId);
    expect(body.data.budgetUsage.recentRejections.length).toBeGreaterThan(0);
    expect(body.data.budgetUsage.topSpenders[0].usedBytes).toBeGreaterThan(0);

    const viewer = await system.query(as(staff[5].id, 'viewer'), `{ budgetUsage(from: "${LAST}", to: "${LAST}") { changes { action } } }`);
    expect(viewer.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe("a user's budget is set or reset only for a user of the tenant's directory", () => {
  const known = staff[9];
  const codesOf = (body: any) => body.errors.map((e: any) => [e.extensions.code, e.message]);
  const changes = (userId: string) => [
    `mutation { setUserBudget(userId: "${userId}", dailyLimitBytes: ${GiB}, reason: "q") { dailyLimitBytes } }`,
    `mutation { setUserBudget(userId: "${userId}", dailyLimitBytes: null, maxQueryBytes: ${MiB}, reason: "q") { maxQueryBytes } }`,
    `mutation { resetBudgetUsage(userId: "${userId}", reason: "q") { usedBytes } }`,
  ];

  test('an id the directory lacks (a typo) is BAD_USER_INPUT: nothing stored, nothing audited', async () => {
    const typo = `${known.id}x`;
    for (const mutation of changes(typo)) {
      const { body } = await system.query(admin, mutation);
      expect([mutation, body.data, codesOf(body)]).toEqual([mutation, null, [['BAD_USER_INPUT', `No user "${typo}" in tenant acme's directory; check the id.`]]]);
    }
    expect(await store.userBudget('acme', typo)).toBeNull();
    expect(await store.auditLog('acme', { userId: typo, limit: 10 })).toEqual([]);
    // The same changes of a user the directory holds are made.
    for (const mutation of changes(known.id)) expect((await system.query(admin, mutation)).body.errors).toBeUndefined();
    expect(await store.userBudget('acme', known.id)).toEqual({ dailyLimitBytes: null, maxQueryBytes: MiB });
  });

  test("clearing needs no directory entry: an old typo's override can be removed", async () => {
    const typo = `${known.id}y`;
    await store.setUserBudget('acme', typo, { dailyLimitBytes: GiB, maxQueryBytes: MiB }, { actor: 'stored before the check', reason: null });
    const { body } = await system.query(admin, `mutation { setUserBudget(userId: "${typo}", dailyLimitBytes: null, maxQueryBytes: null, reason: "typo") { dailyLimitBytes maxQueryBytes } }`);
    expect(body.errors).toBeUndefined();
    expect(await store.userBudget('acme', typo)).toEqual({ dailyLimitBytes: null, maxQueryBytes: null });
  });

  test('a directory that cannot be read: WAREHOUSE_UNAVAILABLE, retryable, nothing stored; a tenant change needs no directory', async () => {
    // The users subgraph on a port where nothing listens any more.
    const closed = http.createServer();
    const port = await listen(closed, 0);
    await close(closed);
    const down = await startSystem(dataDir, { subgraphUrls: { users: `http://127.0.0.1:${port}/graphql` }, gateway: { budgets: { store, ledger: createMemoryLedger() } } });
    try {
      const user = staff[10];
      for (const mutation of changes(user.id)) {
        const { body } = await down.query(admin, mutation);
        expect(body.data).toBeNull();
        expect(codesOf(body)).toEqual([['WAREHOUSE_UNAVAILABLE', expect.stringMatching(/^The user directory cannot be read now: the subgraph serving _knownUsers did not answer \(ECONNREFUSED\)\. Retry shortly\.$/)]]);
      }
      expect(await store.auditLog('acme', { userId: user.id, limit: 10 })).toEqual([]);
      const { body } = await down.query(admin, 'mutation { setTenantBudget(maxQueryBytes: null, reason: "no lookup") { maxQueryBytes } }');
      expect(body.errors).toBeUndefined();
    } finally {
      await down.close();
    }
  });
});

describe.each([
  ['in-memory', async () => createMemoryLedger()],
  ['Redis', () => createRedisLedger({ url: REDIS_URL, keyPrefix: REDIS_PREFIX })],
])('resetBudgetUsage of one user on the %s ledger', (_name, openLedger: () => Promise<BudgetLedger>) => {
  let own: System;
  let ledger: BudgetLedger;
  const ownDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-budget-store-'));
  beforeAll(async () => {
    ledger = await openLedger();
    own = await startSystem(dataDir, { gateway: { budgets: { store: await createFileStore({ dir: ownDir }), ledger } } });
  });
  afterAll(async () => {
    await own?.close();
    await ledger?.close();
    fs.rmSync(ownDir, { recursive: true, force: true });
  });

  test("lowers the tenant's usage by exactly that user's; the other users' stays", async () => {
    const [reset, kept] = [staff[13], staff[14]];
    for (const user of [reset, reset, kept]) expect((await own.query(as(user.id, 'executive'), ONE_JOB)).status).toBe(200);
    const usage = async () => {
      const { body } = await own.query(admin, '{ tenant { budget { usedBytes } } budgetUsers { user { id } usedBytes } }');
      const used = new Map(body.data.budgetUsers.map((row: { user: { id: string }; usedBytes: number }) => [row.user.id, row.usedBytes]));
      return { tenant: body.data.tenant.budget.usedBytes, reset: used.get(reset.id), kept: used.get(kept.id) };
    };
    const before = await usage();
    // This ledger's only spend today: 2 × ONE_JOB and 1 × ONE_JOB.
    expect(before).toEqual({ tenant: 3 * JOB_BYTES, reset: 2 * JOB_BYTES, kept: JOB_BYTES });
    const { body } = await own.query(admin, `mutation { resetBudgetUsage(userId: "${reset.id}", reason: "runaway refresh") { usedBytes } }`);
    expect(body.data).toEqual({ resetBudgetUsage: { usedBytes: 0 } });
    // The tenant's 3 × ONE_JOB less the reset user's 2 × ONE_JOB: not 0.
    expect(await usage()).toEqual({ tenant: 3 * JOB_BYTES - 2 * JOB_BYTES, reset: 0, kept: JOB_BYTES });
  });
});

describe('the quota-admin console data', () => {
  const named = (name: string) => `query ${name} ${ONE_JOB}`;
  /** What the responses reported: the sums estimatorAccuracy must show. */
  const reported = (responses: { body: any }[]) => ({
    operations: responses.length,
    estimatedBytes: responses.reduce((sum, r) => sum + r.body.extensions.cost.estimatedBilledBytes, 0),
    billedBytes: responses.reduce((sum, r) => sum + r.body.extensions.cost.billedBytes, 0),
  });
  const [roleDefault, overridden, capped] = [staff[6], staff[7], staff[8]];
  const globexAdmin: Principal = { tenant: 'globex', userId: ceo.id, roles: ['quota-admin'] };
  let wasters: { body: any }[];
  let apps: { body: any }[];

  beforeAll(async () => {
    await setDaily(overridden.id, 50 * JOB_BYTES);
    const { body } = await system.query(admin, `mutation { setUserBudget(userId: "${capped.id}", maxQueryBytes: ${JOB_BYTES}, reason: "cap only") { maxQueryBytes } }`);
    expect(body.errors).toBeUndefined();
    wasters = [
      await system.query(as(roleDefault.id, 'viewer', 'executive'), named('ConsoleWasters')),
      await system.query(as(roleDefault.id, 'viewer', 'executive'), named('ConsoleWasters')),
    ];
    apps = [await system.query(as(overridden.id, 'executive'), `query ConsoleApps { tenant { appUsage(from: "${LAST}", to: "${LAST}", first: 3) { events } } }`)];
    for (const response of [...wasters, ...apps]) expect(response.body.errors).toBeUndefined();
  });

  test("budgetHistory: billed bytes per budget day, the tenant's or one user's, 0 for a day without any", async () => {
    const yesterday = addDays(TODAY, -1);
    const { body } = await system.query(admin, `{ mine: budgetHistory(from: "${yesterday}", to: "${TODAY}", userId: "${roleDefault.id}") { date billedBytes }
      all: budgetHistory(from: "${TODAY}", to: "${TODAY}") { date billedBytes } }`);
    expect(body.errors).toBeUndefined();
    // 2 × ONE_JOB, billed today
    expect(body.data.mine).toEqual([{ date: yesterday, billedBytes: 0 }, { date: TODAY, billedBytes: reported(wasters).billedBytes }]);
    expect(reported(wasters).billedBytes).toBe(2 * JOB_BYTES);
    // The whole tenant: this block's operations and every other test's
    expect(body.data.all[0].billedBytes).toBeGreaterThanOrEqual(reported([...wasters, ...apps]).billedBytes);
    expect(body.extensions.cost).toMatchObject({ estimatedBilledBytes: 0, billedBytes: 0, responseCache: 'bypass' });
  });

  test('estimatorAccuracy: per operation name, the estimates the gateway reserved against what was billed', async () => {
    const { body } = await system.query(admin, `{ estimatorAccuracy(from: "${TODAY}", to: "${TODAY}", first: 100) { operationName operations estimatedBytes billedBytes } }`);
    expect(body.errors).toBeUndefined();
    const rows: { operationName: string }[] = body.data.estimatorAccuracy;
    expect(rows.find((row) => row.operationName === 'ConsoleWasters')).toEqual({ operationName: 'ConsoleWasters', ...reported(wasters) });
    expect(rows.find((row) => row.operationName === 'ConsoleApps')).toEqual({ operationName: 'ConsoleApps', ...reported(apps) });
    // The other tests' operations have no name.
    expect(rows.map((row) => row.operationName)).toContain('(anonymous)');
    const { body: top } = await system.query(admin, `{ estimatorAccuracy(from: "${TODAY}", to: "${TODAY}", first: 1) { operationName estimatedBytes } }`);
    expect(top.data.estimatorAccuracy).toEqual([{ operationName: rows[0].operationName, estimatedBytes: expect.any(Number) }]);
  });

  test('budgetUsers: today\'s use and the limits in effect, from an override or the default of the roles the user last ran with', async () => {
    const { body } = await system.query(admin, '{ budgetUsers { user { id displayName } usedBytes remainingBytes dailyLimitBytes maxQueryBytes limitSource roles } }');
    expect(body.errors).toBeUndefined();
    const rows: { user: { id: string }; usedBytes: number }[] = body.data.budgetUsers;
    const row = (userId: string) => rows.find((r) => r.user.id === userId);
    const { defaults } = system.config.budgets;
    const maxQueryBytes = system.config.maxQueryBytes;
    // executive, the more generous of viewer and executive: its default limit
    expect(row(roleDefault.id)).toEqual({
      user: { id: roleDefault.id, displayName: roleDefault.displayName }, usedBytes: 2 * JOB_BYTES, remainingBytes: defaults.roles.executive - 2 * JOB_BYTES,
      dailyLimitBytes: defaults.roles.executive, maxQueryBytes, limitSource: 'ROLE_DEFAULT', roles: ['viewer', 'executive'],
    });
    const appsBilled = reported(apps).billedBytes;
    expect(row(overridden.id)).toEqual({
      user: { id: overridden.id, displayName: overridden.displayName }, usedBytes: appsBilled, remainingBytes: 50 * JOB_BYTES - appsBilled,
      dailyLimitBytes: 50 * JOB_BYTES, maxQueryBytes, limitSource: 'OVERRIDE', roles: ['executive'],
    });
    // An override of the per-query cap only, never seen running anything: the least generous role default.
    expect(row(capped.id)).toEqual({
      user: { id: capped.id, displayName: capped.displayName }, usedBytes: 0, remainingBytes: Math.min(...Object.values(defaults.roles)),
      dailyLimitBytes: Math.min(...Object.values(defaults.roles)), maxQueryBytes: JOB_BYTES, limitSource: 'ROLE_DEFAULT', roles: [],
    });
    expect(rows.map((r) => r.usedBytes)).toEqual(rows.map((r) => r.usedBytes).sort((a, b) => b - a));
  });

  test('budgetDefaults: the configured defaults', async () => {
    const { body } = await system.query(admin, '{ budgetDefaults { roles { role dailyBytes } tenantDailyBytes maxQueryBytes } }');
    const { defaults } = system.config.budgets;
    expect(body.data.budgetDefaults).toEqual({
      roles: [
        { role: 'viewer', dailyBytes: defaults.roles.viewer }, { role: 'manager', dailyBytes: defaults.roles.manager },
        { role: 'executive', dailyBytes: defaults.roles.executive }, { role: 'quota-admin', dailyBytes: defaults.roles['quota-admin'] },
      ],
      tenantDailyBytes: defaults.tenant,
      maxQueryBytes: system.config.maxQueryBytes,
    });
  });

  test('only quota admins read them: FORBIDDEN for anyone else', async () => {
    const executive = as(roleDefault.id, 'viewer', 'executive');
    for (const field of [
      `budgetHistory(from: "${TODAY}", to: "${TODAY}") { billedBytes }`, `estimatorAccuracy(from: "${TODAY}", to: "${TODAY}") { operationName }`,
      'budgetUsers { usedBytes }', 'budgetDefaults { maxQueryBytes }',
    ]) {
      const { body } = await system.query(executive, `{ ${field} }`);
      expect([field, body.data, body.errors.map((e: any) => e.extensions.code)]).toEqual([field, null, ['FORBIDDEN']]);
    }
  });

  test("another tenant's quota admin sees only its own tenant: none of these rows", async () => {
    // acme's user is not in globex's directory; globex's own user is.
    const { body: refused } = await system.query(globexAdmin, `mutation { setUserBudget(userId: "${roleDefault.id}", dailyLimitBytes: 1234, reason: "not globex's") { dailyLimitBytes } }`);
    expect(refused.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    const { body: set } = await system.query(globexAdmin, `mutation { setUserBudget(userId: "${globexUser.id}", dailyLimitBytes: 1234, reason: "globex's own") { dailyLimitBytes } }`);
    expect(set.errors).toBeUndefined();
    const { body } = await system.query(globexAdmin, `{ budgetHistory(from: "${TODAY}", to: "${TODAY}") { date billedBytes }
      estimatorAccuracy(from: "${TODAY}", to: "${TODAY}") { operationName } budgetUsers { user { id } usedBytes dailyLimitBytes limitSource roles } }`);
    expect(body.data).toEqual({
      budgetHistory: [{ date: TODAY, billedBytes: 0 }],
      estimatorAccuracy: [],
      budgetUsers: [{ user: { id: globexUser.id }, usedBytes: 0, dailyLimitBytes: 1234, limitSource: 'OVERRIDE', roles: [] }],
    });
    // …and globex's override is not acme's.
    const { body: acme } = await system.query(admin, '{ budgetUsers { user { id } limitSource } }');
    expect(acme.data.budgetUsers).toContainEqual({ user: { id: roleDefault.id }, limitSource: 'ROLE_DEFAULT' });
    expect(acme.data.budgetUsers.map((row: { user: { id: string } }) => row.user.id)).not.toContain(globexUser.id);
  });

  test.each([
    ['from after to', `"${TODAY}"`, `"${addDays(TODAY, -1)}"`],
    ['not a date', '"2025-02-30"', `"${TODAY}"`],
    ['over the 35 days of history', `"${addDays(TODAY, -35)}"`, `"${TODAY}"`],
  ])('a range %s is BAD_USER_INPUT', async (_, from, to) => {
    for (const field of ['budgetHistory', 'estimatorAccuracy']) {
      const { body } = await system.query(admin, `{ ${field}(from: ${from}, to: ${to}) { billedBytes } }`);
      expect([field, body.errors.map((e: any) => e.extensions.code)]).toEqual([field, ['BAD_USER_INPUT']]);
    }
  });
});

describe('ledger failure policy', () => {
  let down: System;
  let ledger: Awaited<ReturnType<typeof createRedisLedger>>;
  beforeAll(async () => {
    // A Redis ledger pointed at a port where nothing listens.
    ledger = await createRedisLedger({ url: 'redis://127.0.0.1:9' });
    down = await startSystem(dataDir, {
      env: { LEDGER_FAILURE_POLICY: 'allow-up-to-cap', LEDGER_FAILOPEN_MAX_BYTES: String(15 * MiB) },
      gateway: { budgets: { store: await createFileStore({ dir: budgetsDir }), ledger } },
    });
  });
  afterAll(async () => {
    await down?.close();
    await ledger?.close();
  });

  test('small operations are admitted unrecorded, larger ones refused with LEDGER_UNAVAILABLE, and /readyz says so', async () => {
    const small = await down.query(admin, ONE_JOB);
    expect(small.status).toBe(200);
    expect(small.body.data.tenant.topTimeWasters.length).toBeGreaterThan(0);
    const large = await down.query(admin, `{ tenant { a: topTimeWasters(from: "${LAST}", to: "${LAST}") { totalWasteHours } b: appUsage(from: "${LAST}", to: "${LAST}") { events } } }`);
    expect(large.status).toBe(503);
    expect(large.body.errors[0].extensions.code).toBe('LEDGER_UNAVAILABLE');
    const ready = await fetch(down.gatewayUrl.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).checks.budgets).toMatchObject({ ledger: 'unreachable', onLedgerError: 'allow-up-to-cap' });
  });
});

describe('a failing budget store', () => {
  const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bytegate_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let failing: System;
  let store: Awaited<ReturnType<typeof createPostgresStore>>;
  const sql = async (text: string) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    store = await createPostgresStore({ url, schema });
    failing = await startSystem(dataDir, { gateway: { budgets: { store, ledger: createMemoryLedger() } } });
    // The audit table gone under a running store: every change (audited in the same transaction) fails in PostgreSQL.
    await sql(`DROP TABLE "${schema}".budget_audit`);
  });
  afterAll(async () => {
    await failing?.close();
    await store?.close();
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  test("answers INTERNAL_SERVER_ERROR for the failed field, without the database's text", async () => {
    const { status, body } = await failing.query(admin, `mutation { setUserBudget(userId: "${staff[0].id}", dailyLimitBytes: 1073741824, reason: "x") { dailyLimitBytes } }`);
    expect({ status, data: body.data, errors: body.errors.map((e: any) => [e.extensions.code, e.message, e.path]) }).toEqual({
      status: 200, data: null, errors: [['INTERNAL_SERVER_ERROR', 'The budget store failed; the details are logged.', ['setUserBudget']]],
    });
    expect(JSON.stringify(body)).not.toMatch(/relation|budget_audit|bytegate_test_/);
  });
});
