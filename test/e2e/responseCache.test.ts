/**
 * The response cache across real processes: three subgraphs and two gateway replicas sharing the Redis
 * on 127.0.0.1:6379 (response cache, aggregate cache, ledger, budget change feed). An answer stored
 * through one replica is served by the other; it is never served to another tenant, another scope or
 * another caller of `me`, nor for a forged, expired or missing token; a quota admin's change shows on
 * the next request; an ingest (the `npm run ingest` CLI) changes exactly the answers over the days it
 * wrote.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addDays } from '../../common/dates';
import type { Role } from '../../common/principal';
import { signDevToken } from '../../gateway/auth/devToken';
import { type GeneratorOptions, generateDays, generateDirectory } from '../../okta/generator';
import { type RunningCli, freePorts, runMain, startMain } from './processes';

/** Tenant ids of their own, so the shared Redis holds nothing of an earlier run. */
const run = Math.random().toString(36).slice(2, 8);
const A: GeneratorOptions = { tenant: `cache_a_${run}`, users: 20, days: 6, eventsPerUser: 20, start: '2025-06-02', seed: 21 };
const B: GeneratorOptions = { tenant: `cache_b_${run}`, users: 20, days: 6, eventsPerUser: 20, start: '2025-06-02', seed: 22 };
const LAST = addDays(A.start, A.days - 1);
const people = generateDirectory(A);
const ceo = people.find((u) => u.managerId === null)!;
const manager = people.find((u) => u.managerId === ceo.id && people.some((r) => r.managerId === u.id))!;
const [viewer1, viewer2] = people.filter((u) => !people.some((r) => r.managerId === u.id));
const bCeo = generateDirectory(B).find((u) => u.managerId === null)!;
const JWT_SECRET = 'e2e-cache-jwt-secret-0123456789abcdef0123';
const TOP = (from: string, to: string) => `{ tenant { name topTimeWasters(from: "${from}", to: "${to}", first: 5) { user { displayName } totalWasteHours } } }`;

let dataDir: string;
let env: NodeJS.ProcessEnv;
const processes: RunningCli[] = [];
let gateways: [string, string];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-cache-e2e-'));
  const [users, tenants, metrics, a, b] = await freePorts(5);
  env = {
    DATA_DIR: dataDir, USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics),
    JWT_SECRET, SUBGRAPH_SECRET: 'e2e-cache-subgraph-secret-0123456789abcd', REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    // Data versions read afresh on every lookup: an ingest shows on the next request.
    COST_STATS_TTL_MS: '0', BUDGET_DEFAULTS: 'viewer=1TiB,manager=1TiB,executive=1TiB,quota-admin=1TiB,tenant=8TiB',
  };
  for (const t of [A, B]) {
    const seeded = await runMain('seed', ['--tenant', t.tenant, '--users', String(t.users), '--days', String(t.days), '--events-per-user',
      String(t.eventsPerUser), '--start', t.start, '--seed', String(t.seed)], env);
    expect(seeded).toMatchObject({ code: 0 });
  }
  const started = [
    ...['users', 'tenants', 'metrics'].map((name) => [startMain('subgraphs/main.ts', [name], env), `${name} subgraph on`] as const),
    [startMain('gateway/main.ts', [], { ...env, PORT: String(a) }), 'response cache: redis'] as const,
    [startMain('gateway/main.ts', [], { ...env, PORT: String(b) }), 'response cache: redis'] as const,
  ];
  processes.push(...started.map(([process]) => process));
  await Promise.all(started.map(([process, text]) => process.waitFor(text, 60_000)));
  gateways = [`http://127.0.0.1:${a}/graphql`, `http://127.0.0.1:${b}/graphql`];
}, 180_000);

afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('an answer stored through one replica is served by the other, billing 0; other tenants, scopes and callers get their own', async () => {
  const query = TOP(A.start, addDays(A.start, 2));
  const executive = await tokenOf(A, ceo.id, 'executive');
  const first = await ask(gateways[0], executive, query);
  expect(first.body.extensions.cost.responseCache).toBe('miss');
  const other = await ask(gateways[1], executive, query);
  expect(other.body.extensions.cost).toMatchObject({ responseCache: 'hit', billedBytes: 0 });
  expect(other.body.data).toEqual(first.body.data);
  expect(other.headers.get('etag')).toBe(first.headers.get('etag'));

  // Same text, another tenant: its own answer, from its own data.
  const b = await ask(gateways[1], await tokenOf(B, bCeo.id, 'executive'), query);
  expect(b.body.extensions.cost.responseCache).toBe('miss');
  expect(b.body.data.tenant.name).not.toBe(first.body.data.tenant.name);
  expect(b.body.data.tenant.topTimeWasters).not.toEqual(first.body.data.tenant.topTimeWasters);
  // A manager sees their reporting set, never the executive's answer; each viewer only themself.
  // (The generated data differs per run with the tenant's name, so answers are checked against scopes, not each other.)
  const namesIn = (answer: { body: { data: { tenant: { topTimeWasters: { user: { displayName: string } }[] } } } }) =>
    answer.body.data.tenant.topTimeWasters.map((row) => row.user.displayName);
  const team = await ask(gateways[1], await tokenOf(A, manager.id, 'manager'), query);
  expect(team.body.extensions.cost.responseCache).toBe('miss');
  expect(namesIn(team).length).toBeGreaterThan(0);
  expect(namesIn(team).filter((name) => !reportingSet(manager.id).has(name))).toEqual([]);
  const [v1, v2] = await Promise.all([viewer1, viewer2].map(async (v) => ask(gateways[1], await tokenOf(A, v.id, 'viewer'), query)));
  expect([v1, v2].map((v) => v.body.extensions.cost.responseCache)).toEqual(['miss', 'miss']);
  expect(namesIn(v1).filter((name) => name !== viewer1.displayName)).toEqual([]);
  expect(namesIn(v2).filter((name) => name !== viewer2.displayName)).toEqual([]);
  // Each viewer's answer is then theirs, through either replica.
  expect((await ask(gateways[0], await tokenOf(A, viewer1.id, 'viewer'), query)).body).toMatchObject({ data: v1.body.data, extensions: { cost: { responseCache: 'hit' } } });
  // `me` is the caller's own, even among executives of one tenant.
  const me = '{ me { id displayName } }';
  expect((await ask(gateways[0], executive, me)).body.data.me.id).toBe(ceo.id);
  expect((await ask(gateways[1], await tokenOf(A, manager.id, 'executive'), me)).body.data.me.id).toBe(manager.id);
}, 60_000);

test('forged, expired and missing tokens get no answer, however cached it is', async () => {
  const query = TOP(A.start, addDays(A.start, 3));
  const executive = await tokenOf(A, ceo.id, 'executive');
  await ask(gateways[0], executive, query);
  expect((await ask(gateways[1], executive, query)).body.extensions.cost.responseCache).toBe('hit');
  const expired = await signDevToken({ tenant: A.tenant, user: ceo.id, roles: ['executive'], secret: JWT_SECRET, ttlSeconds: 1, nowMs: Date.now() - 60_000 });
  const forged = await signDevToken({ tenant: A.tenant, user: ceo.id, roles: ['executive'], secret: 'another-secret-than-the-gateways-01234567', ttlSeconds: 600 });
  for (const gateway of gateways) {
    for (const token of [expired, forged, undefined]) {
      const answer = await ask(gateway, token, query);
      expect(answer.status).toBe(401);
      expect(answer.body.data).toBeUndefined();
      expect(answer.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  }
}, 30_000);

test("a quota admin's change through one replica shows on the next request through the other, cached answers included", async () => {
  const query = TOP(A.start, addDays(A.start, 4));
  const viewer = await tokenOf(A, viewer2.id, 'viewer');
  await ask(gateways[1], viewer, query);
  const admin = await tokenOf(A, ceo.id, 'executive', 'quota-admin');
  const set = await ask(gateways[0], admin, `mutation { setUserBudget(userId: "${viewer2.id}", dailyLimitBytes: 123456789, reason: "e2e") { dailyLimitBytes } }`);
  expect(set.body.errors).toBeUndefined();
  const mine = await ask(gateways[1], viewer, '{ myBudget { dailyLimitBytes } }');
  expect(mine.body.data.myBudget.dailyLimitBytes).toBe(123456789);
  const cached = await ask(gateways[1], viewer, query);
  expect(cached.body.extensions.cost).toMatchObject({ responseCache: 'hit', budget: { user: { limitBytes: 123456789 } } });
}, 30_000);

test('an ingest changes exactly the answers over the days it wrote, on both replicas', async () => {
  const executive = await tokenOf(A, ceo.id, 'executive');
  const untouched = TOP(A.start, addDays(A.start, 1));
  const touched = TOP(addDays(LAST, -1), LAST);
  const before = await ask(gateways[0], executive, untouched);
  await ask(gateways[0], executive, touched);
  for (const gateway of gateways) expect((await ask(gateway, executive, touched)).body.extensions.cost.responseCache).toBe('hit');

  // One more event of a known user on the last day, through the ingest CLI.
  const [{ events: [event] }] = [...generateDays({ ...A, days: 1, start: LAST, seed: 99 }, people)];
  const file = path.join(dataDir, 'one-event.ndjson');
  fs.writeFileSync(file, `${JSON.stringify({ ...event, uuid: `e2e-cache-${run}` })}\n`);
  expect(await runMain('ingest', ['--tenant', A.tenant, '--file', file], env)).toMatchObject({ code: 0 });

  for (const gateway of gateways) {
    const after = await ask(gateway, executive, untouched);
    expect(after.body.extensions.cost.responseCache).toBe('hit');
    expect(after.body.data).toEqual(before.body.data);
  }
  // The first replica asked after the ingest recomputes and stores it; the other then finds that.
  expect((await ask(gateways[1], executive, touched)).body.extensions.cost.responseCache).toBe('miss');
  expect((await ask(gateways[0], executive, touched)).body.extensions.cost.responseCache).toBe('hit');
}, 60_000);

/** Display names of `id` and everyone reporting to them, transitively, in tenant A. */
function reportingSet(id: string): Set<string> {
  const ids = new Set([id]);
  for (let grew = true; grew;) {
    grew = false;
    for (const person of people) if (person.managerId !== null && ids.has(person.managerId) && !ids.has(person.id)) grew = Boolean(ids.add(person.id));
  }
  return new Set(people.filter((person) => ids.has(person.id)).map((person) => person.displayName));
}

function tokenOf(tenant: GeneratorOptions, userId: string, ...roles: Role[]): Promise<string> {
  return signDevToken({ tenant: tenant.tenant, user: userId, roles, secret: JWT_SECRET, ttlSeconds: 600 });
}

async function ask(gateway: string, token: string | undefined, query: string): Promise<{ status: number; headers: Headers; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(gateway, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}
