/**
 * The gateway's response cache through the real gateway and subgraphs (DuckDB datasets, in-process):
 * a repeat is served without a subgraph fetch, bills 0 and is never refused by a spent budget; the
 * key separates tenants and scopes; an ingest changes exactly the answers over the days it wrote;
 * ETag / If-None-Match, Cache-Control: no-cache, estimate mode, mutations and budget fields.
 */
import { addDays } from '../../common/dates';
import type { Principal } from '../../common/principal';
import { MiB } from '../../common/units';
import { signDevToken } from '../../gateway/auth/devToken';
import { type AnswerStore, openAnswerStore } from '../../gateway/responseCache/responseCache';
import { type GeneratorOptions, generateDays, generateDirectory } from '../../okta/generator';
import { duckDbDatasetWriter } from '../../warehouse/duckdb/tenantDataset';
import { type System, seedDataDir, startSystem } from '../support/system';

const ACME: GeneratorOptions = { tenant: 'acme', users: 30, days: 10, eventsPerUser: 20, start: '2025-05-05', seed: 4 };
const GLOBEX: GeneratorOptions = { tenant: 'globex', users: 12, days: 10, eventsPerUser: 20, start: '2025-05-05', seed: 9 };
const FIRST = ACME.start;
const LAST = addDays(ACME.start, ACME.days - 1);
const acme = generateDirectory(ACME);
const ceo = acme.find((u) => u.managerId === null)!;
const manager = acme.find((u) => u.managerId === ceo.id && acme.some((r) => r.managerId === u.id))!;
const viewers = acme.filter((u) => !acme.some((r) => r.managerId === u.id)).slice(0, 2);
const globexCeo = generateDirectory(GLOBEX).find((u) => u.managerId === null)!;
const as = (tenant: string, userId: string, ...roles: Principal['roles']): Principal => ({ tenant, userId, roles });
const executive = as('acme', ceo.id, 'executive');

/** Tenant-level figures over a range: shared by every executive of the tenant. */
const TOP = (from: string, to: string) => `{ tenant { name topTimeWasters(from: "${from}", to: "${to}", first: 3) { user { displayName } totalWasteHours } } }`;

let dataDir: string;
let remove: () => void;
let answers: AnswerStore;
let system: System;

beforeAll(async () => {
  ({ dataDir, remove } = await seedDataDir([ACME, GLOBEX]));
  answers = await openAnswerStore({ ttlMs: 600_000, maxBytes: 16 * MiB });
  // Versions read fresh on every lookup: an ingest shows at once.
  system = await startSystem(dataDir, { env: { COST_STATS_TTL_MS: '0', BUDGET_DEFAULTS: 'executive=1TiB,manager=1TiB,viewer=1TiB,tenant=4TiB' }, gateway: { answers } });
}, 120_000);

afterAll(async () => {
  await system?.close();
  await answers?.close();
  remove?.();
});

/** Subgraph operations (not statistics) the gateway sent while `run` ran. */
async function fetchesDuring<T>(run: () => Promise<T>): Promise<{ result: T; fetches: number }> {
  const before = system.subgraphOperations.length;
  const result = await run();
  return { result, fetches: system.subgraphOperations.length - before };
}

test('a repeat is served from the cache: no subgraph fetch, 0 bytes billed, the same data and ETag', async () => {
  const query = TOP(FIRST, addDays(FIRST, 2));
  const first = await system.query(executive, query);
  expect(first.status).toBe(200);
  expect(first.body.extensions.cost).toMatchObject({ responseCache: 'miss' });
  expect(first.body.extensions.cost.billedBytes).toBeGreaterThan(0);
  const etag = first.headers.get('etag');
  expect(etag).toMatch(/^"[\w-]+"$/);

  const { result: second, fetches } = await fetchesDuring(() => system.query(executive, query));
  expect(fetches).toBe(0);
  expect(second.body.data).toEqual(first.body.data);
  expect(second.headers.get('etag')).toBe(etag);
  expect(second.body.extensions.cost).toMatchObject({ responseCache: 'hit', billedBytes: 0, warehouseQueries: 0, estimatedBilledBytes: 0 });
  expect(second.body.extensions.cost.budget.user).toMatchObject({ usedBytes: first.body.extensions.cost.budget.user.usedBytes });
});

test('If-None-Match naming the ETag: 304 without a body', async () => {
  const query = TOP(FIRST, addDays(FIRST, 3));
  const first = await system.query(executive, query);
  const response = await raw(executive, query, { 'if-none-match': first.headers.get('etag')! });
  expect(response.status).toBe(304);
  expect(await response.text()).toBe('');
  expect((await raw(executive, query, { 'if-none-match': '"something-else"' })).status).toBe(200);
});

test('Cache-Control: no-cache and estimate mode bypass the lookup; mutations and budget fields are never cached', async () => {
  const query = TOP(FIRST, addDays(FIRST, 4));
  await system.query(executive, query);
  const { result: fresh, fetches } = await fetchesDuring(() => system.query(executive, query, undefined, { 'cache-control': 'no-cache' }));
  expect(fetches).toBeGreaterThan(0);
  expect(fresh.body.extensions.cost.responseCache).toBe('bypass');
  expect(fresh.headers.get('etag')).toMatch(/^"/); // the fresh answer is stored in its place
  expect((await system.query(executive, query)).body.extensions.cost.responseCache).toBe('hit');
  const estimate = await system.query(executive, query, undefined, { 'x-cost-mode': 'estimate' });
  expect(estimate.body).toMatchObject({ data: null, extensions: { cost: { mode: 'estimate', responseCache: 'bypass' } } });

  const budget = '{ myBudget { usedBytes } }';
  await system.query(executive, budget);
  expect((await system.query(executive, budget)).body.extensions.cost.responseCache).toBe('bypass');
});

test('tenants, scopes and callers never share an answer', async () => {
  const query = TOP(FIRST, addDays(FIRST, 5));
  const mine = await system.query(executive, query);
  // Another executive of the tenant shares it; the same text in another tenant does not.
  const otherExecutive = await system.query(as('acme', manager.id, 'manager', 'executive'), query);
  const globex = await system.query(as('globex', globexCeo.id, 'executive'), query);
  expect(globex.body.extensions.cost.responseCache).toBe('miss');
  expect(globex.body.data).not.toEqual(mine.body.data);
  expect(globex.body.data.tenant.name).not.toBe(mine.body.data.tenant.name);
  expect(otherExecutive.body.extensions.cost.responseCache).toBe('miss'); // other roles: another key
  const sameRoles = await system.query(as('acme', manager.id, 'executive'), query);
  expect(sameRoles.body.extensions.cost.responseCache).toBe('hit');
  // A manager sees their team's figures, never the executive's; each viewer only their own.
  const team = await system.query(as('acme', manager.id, 'manager'), query);
  expect(team.body.extensions.cost.responseCache).toBe('miss');
  const [a, b] = await Promise.all(viewers.map((v) => system.query(as('acme', v.id, 'viewer'), query)));
  expect(a.body.extensions.cost.responseCache).toBe('miss');
  expect(b.body.extensions.cost.responseCache).toBe('miss');
  expect(a.body.data).not.toEqual(b.body.data);
  // `me` is the caller's own, even for executives.
  const me = '{ me { id displayName } }';
  const ceoMe = await system.query(executive, me);
  const otherMe = await system.query(as('acme', manager.id, 'executive'), me);
  expect(otherMe.body.data.me.id).toBe(manager.id);
  expect(ceoMe.body.data.me.id).toBe(ceo.id);
});

test('forged, expired and missing tokens never get an answer, cached or not', async () => {
  const query = TOP(FIRST, addDays(FIRST, 6));
  await system.query(executive, query);
  const secret = (system.config.auth as { secret: string }).secret;
  const expired = await signDevToken({ tenant: 'acme', user: ceo.id, roles: ['executive'], secret, ttlSeconds: 1, nowMs: Date.now() - 60_000 });
  const forged = await signDevToken({ tenant: 'acme', user: ceo.id, roles: ['executive'], secret: 'not-the-secret-of-this-gateway-0123456789', ttlSeconds: 600 });
  for (const token of [expired, forged, undefined]) {
    const response = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  }
});

test('a spent budget refuses a miss but never a hit; me { id budget } reads no warehouse data and is always answered', async () => {
  const user = viewers[0];
  const viewer = as('acme', user.id, 'viewer');
  const query = `{ me { productivity(from: "${FIRST}", to: "${LAST}") { totalEvents } } }`;
  const warm = await system.query(viewer, query);
  expect(warm.body.extensions.cost.billedBytes).toBeGreaterThan(0);
  const admin = as('acme', ceo.id, 'executive', 'quota-admin');
  const set = await system.query(admin, 'mutation($u: ID!) { setUserBudget(userId: $u, dailyLimitBytes: 1, reason: "test: spent") { dailyLimitBytes } }', { u: user.id });
  expect(set.body.errors).toBeUndefined();

  const hit = await system.query(viewer, query);
  expect(hit.status).toBe(200);
  expect(hit.body.extensions.cost).toMatchObject({ responseCache: 'hit', billedBytes: 0 });
  const miss = await system.query(viewer, `{ me { productivity(from: "${FIRST}", to: "${addDays(FIRST, 1)}") { totalEvents } } }`);
  expect(miss.status).toBe(429);
  expect(miss.body.errors[0].extensions.code).toBe('BUDGET_EXCEEDED');

  const { result: identity, fetches } = await fetchesDuring(() => system.query(viewer, '{ me { id budget { usedBytes remainingBytes } } }'));
  expect(identity.status).toBe(200);
  expect(identity.body.data.me).toMatchObject({ id: user.id, budget: { remainingBytes: 0 } });
  expect(identity.body.extensions.cost).toMatchObject({ estimatedBilledBytes: 0, billedBytes: 0, warehouseQueries: 0 });
  expect(fetches).toBeGreaterThan(0); // the users subgraph answers the id, without the warehouse
});

test('an ingest changes exactly the answers over the days it wrote', async () => {
  const written = LAST;
  const untouched = TOP(FIRST, addDays(FIRST, 1));
  const touched = TOP(addDays(LAST, -1), LAST);
  const span = '{ tenant { dataRange { from to } } }'; // depends on every day (versionedBy: ALL_DAYS)
  const before = { untouched: await system.query(executive, untouched), touched: await system.query(executive, touched) };
  await system.query(executive, span);
  expect((await system.query(executive, touched)).body.extensions.cost.responseCache).toBe('hit');
  expect((await system.query(executive, span)).body.extensions.cost.responseCache).toBe('hit');

  // One new event of a known user, on the last day only.
  const [{ events: [event] }] = [...generateDays({ ...ACME, days: 1, start: written, seed: 77 }, acme)];
  const report = await duckDbDatasetWriter(dataDir).ingestEvents('acme', [JSON.stringify({ ...event, uuid: 'ingested-for-the-response-cache-test' })]);
  expect(report.days).toEqual([written]);

  const after = { untouched: await system.query(executive, untouched), touched: await system.query(executive, touched) };
  expect(after.untouched.body.extensions.cost.responseCache).toBe('hit');
  expect(after.untouched.body.data).toEqual(before.untouched.body.data);
  expect(after.touched.body.extensions.cost.responseCache).toBe('miss');
  expect((await system.query(executive, span)).body.extensions.cost.responseCache).toBe('miss');
});

async function raw(principal: Principal, query: string, headers: Record<string, string>): Promise<Response> {
  const secret = (system.config.auth as { secret: string }).secret;
  const token = await signDevToken({ tenant: principal.tenant, user: principal.userId, roles: [...principal.roles], secret, ttlSeconds: 600 });
  return fetch(system.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify({ query }) });
}

test('/metrics counts hits, misses, bypasses and 304s', async () => {
  const query = TOP(FIRST, addDays(FIRST, 7));
  const first = await system.query(executive, query);
  await system.query(executive, query);
  await raw(executive, query, { 'if-none-match': first.headers.get('etag')! });
  await system.query(executive, query, undefined, { 'cache-control': 'no-cache' });
  const metrics = await (await fetch(new URL('/metrics', system.gatewayUrl))).text();
  const count = (name: string) => Number(new RegExp(`^bytegate_${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);
  for (const result of ['hit', 'miss', 'bypass']) expect(count(`response_cache_lookups_total\\{result="${result}"\\}`)).toBeGreaterThan(0);
  expect(count('response_cache_not_modified_total')).toBeGreaterThan(0);
});
