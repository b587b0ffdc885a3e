/**
 * Batching through the real gateway and subgraphs (no aggregate cache): an operation touching N users
 * runs one warehouse query per (table, range, column set) and nesting level, never N. Each expected
 * count is derived from the generated directory or from the response itself.
 */
import { addDays } from '../../common/dates';
import type { Principal } from '../../common/principal';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { useSystem } from './smallSystem';

const tenant: GeneratorOptions = { tenant: 'acme', users: 80, days: 7, eventsPerUser: 10, start: '2025-09-01', seed: 12 };
const LAST = addDays(tenant.start, tenant.days - 1);
const directory = generateDirectory(tenant);
const byId = new Map(directory.map((u) => [u.id, u]));
const ceo = directory.find((u) => u.managerId === null)!;
const executive: Principal = { tenant: 'acme', userId: ceo.id, roles: ['executive'] };

const system = useSystem(tenant);

async function queriesOf(query: string): Promise<{ body: any; queries: Record<string, number> }> {
  const start = system().warehouseQueries.length;
  const { body } = await system().query(executive, query);
  expect(body.errors).toBeUndefined();
  const queries: Record<string, number> = {};
  for (const name of system().warehouseQueries.slice(start)) queries[name] = (queries[name] ?? 0) + 1;
  return { body, queries };
}

test('50 users with their managers, productivity and daily rows: one query each, whatever N', async () => {
  const { queries } = await queriesOf(`{ users(first: 50) { edges { node {
    displayName manager { displayName }
    productivity(from: "${tenant.start}", to: "${LAST}") { totalEvents }
    daily(from: "${tenant.start}", to: "${LAST}") { date totalEvents } } } } }`);
  // The page primes the per-request user loader: only managers outside it are looked up, in one batch.
  const page = new Set([...directory].map((u) => u.id).sort().slice(0, 50));
  const outside = new Set([...page].map((id) => byId.get(id)!.managerId).filter((id): id is string => id !== null && !page.has(id)));
  expect(outside.size).toBeGreaterThan(0);
  expect(queries).toEqual({ usersPage: 1, usersById: 1, productivityByUser: 1, dailyByUser: 1 });
});

test('topTimeWasters with each user resolved from the users subgraph, their manager and their productivity', async () => {
  const { body, queries } = await queriesOf(`{ tenant { topTimeWasters(from: "${tenant.start}", to: "${LAST}", first: 20) {
    totalWasteHours user { displayName manager { id displayName } productivity(from: "${tenant.start}", to: "${LAST}") { totalEvents } } } } }`);
  const wasters = body.data.tenant.topTimeWasters as { user: { manager: { id: string } | null } }[];
  expect(wasters).toHaveLength(20);
  // Entity resolution of the 20 users is one batch; their managers a second batch, one per nesting level.
  expect(queries).toEqual({ topTimeWasters: 1, usersById: 2, productivityByUser: 1 });
});

test('two ranges in one operation: one query per range, not per user', async () => {
  const { queries } = await queriesOf(`{ users(first: 30) { edges { node {
    week: productivity(from: "${tenant.start}", to: "${LAST}") { totalEvents }
    day: productivity(from: "${LAST}", to: "${LAST}") { totalEvents } } } } }`);
  expect(queries).toEqual({ usersPage: 1, productivityByUser: 2 });
});
