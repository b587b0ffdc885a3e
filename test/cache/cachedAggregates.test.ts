/**
 * The aggregate cache through the real gateway and subgraphs, on the real Redis: who may receive a
 * cached aggregate (tenants, roles, users), freshness after an ingest, single flight, what a hit is
 * charged, and the batching it leaves intact — every count of warehouse queries is exact.
 */
import { randomUUID } from 'node:crypto';
import { addDays } from '../../common/dates';
import type { Principal, Role } from '../../common/principal';
import { type GeneratorOptions, generateDays, generateDirectory } from '../../okta/generator';
import { type AggregateCache, openAggregateCache } from '../../subgraphs/common/aggregateCache';
import { ingestEvents } from '../../warehouse/duckdb/tenantDataset';
import { type System, seedDataDir, startSystem } from '../support/system';
import { freePorts, startRedisServer } from '../e2e/processes';

/** Tenant ids of this run only, so the shared Redis holds nothing of theirs yet. */
const run = randomUUID().slice(0, 8);
const first: GeneratorOptions = { tenant: `cache_a_${run}`, users: 40, days: 10, eventsPerUser: 20, start: '2025-04-07', seed: 1 };
const second: GeneratorOptions = { ...first, tenant: `cache_b_${run}`, seed: 2 };
const LAST = addDays(first.start, first.days - 1);
const EARLY = { from: first.start, to: addDays(first.start, 4) };
const LATE = { from: addDays(first.start, 5), to: LAST };
const directory = generateDirectory(first);
const ceo = directory.find((u) => u.managerId === null)!;
const manager = directory.find((u) => u.managerId === ceo.id && directory.some((r) => r.managerId === u.id))!;
const staff = directory.filter((u) => u.managerId !== null);
const as = (tenant: GeneratorOptions, userId: string, role: Role): Principal => ({ tenant: tenant.tenant, userId, roles: [role] });

const DASHBOARD = `query($from: Date!, $to: Date!) { tenant {
  topTimeWasters(from: $from, to: $to, first: 5) { user { id } totalWasteHours }
  appUsage(from: $from, to: $to, first: 5) { app { id } events users } } }`;

let system: System;
let cache: AggregateCache;
let remove: () => void;
let dataDir: string;

beforeAll(async () => {
  ({ dataDir, remove } = await seedDataDir([first, second]));
  cache = await openAggregateCache({ redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379', ttlMs: 600_000 });
  system = await startSystem(dataDir, { aggregates: cache });
}, 120_000);

afterAll(async () => {
  await system?.close();
  await cache?.close();
  remove?.();
});

/** Runs `query` and returns the response with the warehouse queries it caused, by name. */
async function load(principal: Principal, query: string, variables?: Record<string, unknown>) {
  const start = system.warehouseQueries.length;
  const response = await system.query(principal, query, variables);
  expect(response.body.errors).toBeUndefined();
  return { ...response, queries: system.warehouseQueries.slice(start) };
}

test("a repeated dashboard is served from the cache: no warehouse query, 0 billed, cacheHits counted, the estimate unchanged", async () => {
  const executive = as(first, ceo.id, 'executive');
  const cold = await load(executive, DASHBOARD, EARLY);
  expect(cold.queries.sort()).toEqual(['appUsage', 'topTimeWasters']);
  expect(cold.body.extensions.cost).toMatchObject({ cacheHits: 0, warehouseQueries: 2 });
  expect(cold.body.extensions.cost.billedBytes).toBeGreaterThan(0);

  const warm = await load(executive, DASHBOARD, EARLY);
  expect(warm.queries).toEqual([]);
  expect(warm.body.data).toEqual(cold.body.data);
  expect(warm.body.extensions.cost).toMatchObject({ cacheHits: 2, warehouseQueries: 0, billedBytes: 0, actualBytes: 0 });
  // Still an upper bound: the gateway cannot know before running that everything is cached.
  expect(warm.body.extensions.cost.estimatedBilledBytes).toBe(cold.body.extensions.cost.estimatedBilledBytes);
  // And the budget is charged what was billed: nothing.
  expect(warm.body.extensions.cost.budget.user.usedBytes).toBe(cold.body.extensions.cost.budget.user.usedBytes);
});

test("tenant B never receives tenant A's cached aggregate", async () => {
  const a = await load(as(first, ceo.id, 'executive'), DASHBOARD, LATE);
  expect((await load(as(first, ceo.id, 'executive'), DASHBOARD, LATE)).body.extensions.cost.cacheHits).toBe(2);
  const bCeo = generateDirectory(second).find((u) => u.managerId === null)!;
  const b = await load(as(second, bCeo.id, 'executive'), DASHBOARD, LATE);
  expect(b.body.extensions.cost.cacheHits).toBe(0);
  expect(b.queries.sort()).toEqual(['appUsage', 'topTimeWasters']);
  // The tenants' answers differ, so serving A's to B could not have gone unnoticed.
  expect(b.body.data).not.toEqual(a.body.data);
  const bIds = new Set(generateDirectory(second).map((u) => u.id));
  for (const waster of b.body.data.tenant.topTimeWasters) expect(bIds.has(waster.user.id)).toBe(true);
});

test("a manager never receives an executive's aggregate, and gets their own team's", async () => {
  const range = { from: addDays(first.start, 1), to: addDays(first.start, 6) };
  await load(as(first, ceo.id, 'executive'), DASHBOARD, range);
  const managers = await load(as(first, manager.id, 'manager'), DASHBOARD, range);
  expect(managers.body.extensions.cost.cacheHits).toBe(0);
  const team = new Set([manager.id, ...reportsOf(manager.id)]);
  expect(managers.body.data.tenant.topTimeWasters.length).toBeGreaterThan(0);
  for (const waster of managers.body.data.tenant.topTimeWasters) expect(team.has(waster.user.id)).toBe(true);
  // The manager's own entries are theirs to reuse: both aggregates, and their team (teamScope).
  expect((await load(as(first, manager.id, 'manager'), DASHBOARD, range)).body.extensions.cost.cacheHits).toBe(3);
});

test("a user's cached productivity is still authorized per caller: another viewer is FORBIDDEN", async () => {
  const [ana, bob] = staff;
  const own = `{ user(id: "${ana.id}") { productivity(from: "${EARLY.from}", to: "${EARLY.to}") { totalEvents } } }`;
  await load(as(first, ana.id, 'viewer'), own);
  // Her productivity and her directory row (usersById).
  expect((await load(as(first, ana.id, 'viewer'), own)).body.extensions.cost.cacheHits).toBe(2);
  const denied = await system.query(as(first, bob.id, 'viewer'), own);
  expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
  expect(denied.body.data?.user ?? null).toBeNull();
});

test('a batch of users asks the warehouse only for those not cached: one query for the rest', async () => {
  const executive = as(first, ceo.id, 'executive');
  const page = (size: number) => `{ users(first: ${size}) { edges { node { id productivity(from: "${LATE.from}", to: "${LATE.to}") { totalEvents totalWasteHours } } } } }`;
  const some = await load(executive, page(4));
  expect(some.queries).toEqual(['usersPage', 'productivityByUser']);
  const all = await load(executive, page(10));
  expect(all.queries).toEqual(['usersPage', 'productivityByUser']);
  expect(all.body.extensions.cost.cacheHits).toBe(4);
  expect(all.body.data.users.edges.slice(0, 4)).toEqual(some.body.data.users.edges);
});

test('50 concurrent identical operations run one warehouse query per aggregate', async () => {
  const range = { from: addDays(first.start, 2), to: addDays(first.start, 8) };
  const executive = as(first, ceo.id, 'executive');
  const start = system.warehouseQueries.length;
  const responses = await Promise.all(Array.from({ length: 50 }, () => system.query(executive, DASHBOARD, range)));
  expect(responses.every((r) => r.status === 200 && !r.body.errors)).toBe(true);
  expect(system.warehouseQueries.slice(start).sort()).toEqual(['appUsage', 'topTimeWasters']);
  expect(responses.reduce((sum, r) => sum + r.body.extensions.cost.cacheHits, 0)).toBe(2 * 49);
  expect(new Set(responses.map((r) => JSON.stringify(r.body.data))).size).toBe(1);
});

test('an ingest makes the ranges it touched fresh at once; ranges it did not touch stay cached', async () => {
  const executive = as(first, ceo.id, 'executive');
  const eventCounts = `query($from: Date!, $to: Date!) { tenant { eventCounts(from: $from, to: $to) { date count } } }`;
  const [early, late] = [await load(executive, eventCounts, EARLY), await load(executive, eventCounts, LATE)];
  expect((await load(executive, eventCounts, LATE)).body.extensions.cost.cacheHits).toBe(1);

  // More events on one day of LATE (another seed: new uuids), while the system serves.
  const day = addDays(LATE.from, 2);
  const extra = [...generateDays({ ...first, seed: 77, start: day, days: 1 }, directory)].flatMap((d) => d.events);
  const report = await ingestEvents(dataDir, first.tenant, extra.map((e) => JSON.stringify(e)));
  expect(report.accepted).toBe(extra.length);

  const lateAfter = await load(executive, eventCounts, LATE);
  expect(lateAfter.body.extensions.cost.cacheHits).toBe(0);
  const countOn = (body: any, date: string) => body.data.tenant.eventCounts.find((c: { date: string }) => c.date === date).count;
  expect(countOn(lateAfter.body, day)).toBe(countOn(late.body, day) + extra.length);
  const earlyAfter = await load(executive, eventCounts, EARLY);
  expect(earlyAfter.body.extensions.cost.cacheHits).toBe(1);
  expect(earlyAfter.queries).toEqual([]);
  expect(earlyAfter.body.data).toEqual(early.body.data);
});

test("each subgraph's /readyz reports the cache: store, state, hits, misses, errors", async () => {
  const ready = await fetch(system.subgraphUrls.metrics.replace('/graphql', '/readyz'));
  expect(ready.status).toBe(200);
  const { checks } = (await ready.json()) as any;
  expect(checks.aggregateCache).toMatchObject({ store: 'redis', state: 'ok', errors: 0 });
  expect(checks.aggregateCache.hits).toBeGreaterThan(0);
  expect(checks.aggregateCache.misses).toBeGreaterThan(0);
});

test('with its Redis killed, the cache fails open: every operation answered from the warehouse, the outage on /readyz', async () => {
  const [port] = await freePorts(1);
  const redis = await startRedisServer(port);
  const logged: string[] = [];
  // Without the local level, which would keep serving the hot entries through the outage.
  const ownCache = await openAggregateCache({ redisUrl: redis.url, ttlMs: 600_000, localTtlMs: 0, log: (m) => logged.push(m) });
  const own = await startSystem(dataDir, { aggregates: ownCache });
  try {
    const executive = as(first, ceo.id, 'executive');
    const warm = await own.query(executive, DASHBOARD, EARLY);
    expect((await own.query(executive, DASHBOARD, EARLY)).body.extensions.cost.cacheHits).toBe(2);
    await redis.stop();
    for (let i = 0; i < 3; i++) {
      // Past the write timeout of the previous miss, which single flight would otherwise share.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const down = await own.query(executive, DASHBOARD, EARLY);
      expect(down.status).toBe(200);
      expect(down.body.errors).toBeUndefined();
      expect(down.body.data).toEqual(warm.body.data);
      expect(down.body.extensions.cost).toMatchObject({ cacheHits: 0, warehouseQueries: 2 });
    }
    const { checks } = (await (await fetch(own.subgraphUrls.metrics.replace('/graphql', '/readyz'))).json()) as any;
    expect(checks.aggregateCache).toMatchObject({ store: 'redis', state: 'unreachable' });
    expect(checks.aggregateCache.errors).toBeGreaterThan(0);
    expect(logged.filter((m) => m.includes('unavailable'))).toHaveLength(1);
  } finally {
    await own.close();
    await ownCache.close();
    await redis.stop();
  }
});

function reportsOf(managerId: string): string[] {
  const direct = directory.filter((u) => u.managerId === managerId).map((u) => u.id);
  return [...direct, ...direct.flatMap(reportsOf)];
}
