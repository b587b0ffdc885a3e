/**
 * The estimate is an upper bound, and a tight one: for a table of operations run through the real
 * gateway and subgraphs over a generated tenant, the bytes estimated before planning are never below
 * what the warehouse then measures from the SQL it ran (an independent measurement, see
 * warehouse/duckdb/scanAnalyzer.ts), and at most 25% above it.
 */
import { addDays } from '../../common/dates';
import type { Principal, Role } from '../../common/principal';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { type System, seedDataDir, startSystem } from '../support/system';

const tenant: GeneratorOptions = { tenant: 'acme', users: 120, days: 95, eventsPerUser: 20, start: '2025-06-02', seed: 5 };
const LAST = addDays(tenant.start, tenant.days - 1);
const since = (days: number) => addDays(LAST, 1 - days);
const directory = generateDirectory(tenant);
const as = (user: { id: string }, role: Role): Principal => ({ tenant: 'acme', userId: user.id, roles: [role] });
const ceo = directory.find((u) => u.managerId === null)!;
const head = directory.find((u) => u.managerId === ceo.id)!;
const individual = directory.find((u) => !directory.some((r) => r.managerId === u.id))!;
const executive = as(ceo, 'executive');

let system: System;
let remove: () => void;
const ratios: { name: string; estimated: number; actual: number }[] = [];

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  system = await startSystem(seeded.dataDir, { env: { MAX_RANGE_DAYS: '120' } });
}, 120_000);

afterAll(async () => {
  await system?.close();
  remove?.();
  const sorted = ratios.map((r) => r.estimated / r.actual).sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(4);
  process.stdout.write(`estimate / actual over ${sorted.length} operations: min ${pick(0)}, median ${pick(0.5)}, p90 ${pick(0.9)}, max ${pick(1)}\n`);
});

const week = { from: since(7), to: LAST };
interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  who?: Principal;
  /** The estimate names exactly the jobs that run (otherwise it may count a lookup the subgraph skips). */
  exactJobs?: boolean;
}

const cases: Case[] = [
  { name: 'single user', query: `{ me { displayName productivity(from: "${week.from}", to: "${week.to}") { totalEvents totalWasteHours } } }`, exactJobs: true },
  { name: '100 users, batched', query: `{ users(first: 100) { edges { node { displayName productivity(from: "${since(30)}", to: "${LAST}") { totalWasteHours } } } } }`, exactJobs: true },
  { name: 'topTimeWasters 30 days', query: `{ tenant { topTimeWasters(from: "${since(30)}", to: "${LAST}", first: 10) { user { displayName department } totalWasteHours } } }`, exactJobs: true },
  ...[1, 7, 30, 90].map((days): Case => ({ name: `appUsage ${days} days`, query: `{ tenant { appUsage(from: "${since(days)}", to: "${LAST}", first: 5) { app { name } events users } } }`, exactJobs: true })),
  { name: 'eventCounts of one type, 30 days', query: `{ tenant { eventCounts(from: "${since(30)}", to: "${LAST}", eventType: "user.authentication.sso") { date count } } }`, exactJobs: true },
  {
    name: 'aliases: the same field over other ranges',
    query: `{ tenant { a: appUsage(from: "${since(7)}", to: "${LAST}") { events } b: appUsage(from: "${since(30)}", to: "${LAST}") { events } c: eventCounts(from: "${since(7)}", to: "${LAST}") { count } } }`,
    exactJobs: true,
  },
  {
    name: 'fragments',
    query: `query { me { ...Week } users(first: 20) { edges { node { ...Week } } } }
      fragment Week on User { displayName productivity(from: "${week.from}", to: "${week.to}") { totalEvents } daily(from: "${week.from}", to: "${week.to}") { date uniqueApps } }`,
    exactJobs: true,
  },
  {
    name: 'variables',
    query: `query Dashboard($from: Date!, $to: Date!, $n: Int!) { tenant { topTimeWasters(from: $from, to: $to, first: $n) { totalWasteHours } appUsage(from: $from, to: $to, first: $n) { events } } }`,
    variables: { from: since(30), to: LAST, n: 3 },
    exactJobs: true,
  },
  {
    name: 'repeated fields merge',
    query: `{ me { productivity(from: "${week.from}", to: "${week.to}") { totalEvents } productivity(from: "${week.from}", to: "${week.to}") { uniqueApps } }
      tenant { eventCounts(from: "${week.from}", to: "${week.to}") { count } eventCounts(from: "${week.from}", to: "${week.to}") { date } } }`,
    exactJobs: true,
  },
  { name: 'tenant name', query: '{ tenant { name dataRange { from to } } }', exactJobs: true },
  { name: 'a range reaching far past the data', query: `{ tenant { appUsage(from: "${addDays(LAST, -110)}", to: "${addDays(LAST, 5)}") { events } } }`, exactJobs: true },
  { name: 'manager: team scope per subgraph request', who: as(head, 'manager'), query: `{ tenant { appUsage(from: "${since(30)}", to: "${LAST}") { events } eventCounts(from: "${since(30)}", to: "${LAST}") { count } } users(first: 50) { totalCount } }`, exactJobs: true },
  { name: 'viewer: own metrics', who: as(individual, 'viewer'), query: `{ me { productivity(from: "${since(90)}", to: "${LAST}") { totalEvents } } tenant { eventCounts(from: "${since(90)}", to: "${LAST}") { count } } }`, exactJobs: true },
  { name: 'viewer: own manager (management chain)', who: as(individual, 'viewer'), query: `{ me { manager { displayName } productivity(from: "${since(30)}", to: "${LAST}") { totalEvents } } }`, exactJobs: true },
];

test.each(cases)('$name', async ({ query, variables, who, exactJobs }) => {
  const start = system.warehouseQueries.length;
  const { status, body } = await system.query(who ?? executive, query, variables);
  expect(body.errors).toBeUndefined();
  expect(status).toBe(200);
  const cost = body.extensions.cost;
  expect(cost.actualBytes).toBeGreaterThan(0);
  expect(cost.estimatedBytes).toBeGreaterThanOrEqual(cost.actualBytes);
  expect(cost.estimatedBytes).toBeLessThanOrEqual(1.25 * cost.actualBytes);
  expect(cost.estimatedBilledBytes).toBeGreaterThanOrEqual(cost.billedBytes);
  expect(cost.warehouseQueries).toBe(system.warehouseQueries.length - start);
  if (exactJobs) expect(cost.estimatedWarehouseQueries).toBe(cost.warehouseQueries);
  ratios.push({ name: query, estimated: cost.estimatedBytes, actual: cost.actualBytes });
});

test('introspection and __typename cost nothing and run nothing', async () => {
  const start = system.warehouseQueries.length;
  const { body } = await system.query(executive, '{ __typename __schema { queryType { name } types { name } } }');
  expect(body.data.__typename).toBe('Query');
  expect(body.extensions.cost).toMatchObject({ estimatedBytes: 0, estimatedBilledBytes: 0, actualBytes: 0, warehouseQueries: 0 });
  expect(system.warehouseQueries.length).toBe(start);
});

test('100 users cost one productivity query, not 100', async () => {
  const start = system.warehouseQueries.length;
  const { body } = await system.query(executive, `{ users(first: 100) { edges { node { productivity(from: "${week.from}", to: "${week.to}") { totalEvents } } } } }`);
  expect(body.data.users.edges).toHaveLength(100);
  expect(system.warehouseQueries.slice(start).sort()).toEqual(['productivityByUser', 'usersPage']);
  expect(body.extensions.cost.estimatedWarehouseQueries).toBe(2);
});
