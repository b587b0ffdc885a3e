/**
 * Enforcement through the real gateway and subgraphs: refusals happen before planning (no subgraph
 * operation at all), modes, the estimate-only header, and caps that stop a wrong estimate from
 * overspending.
 */
import { addDays } from '../../common/dates';
import type { Principal } from '../../common/principal';
import { MiB, formatBytes } from '../../common/units';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { type System, type SystemOptions, seedDataDir, startSystem } from '../support/system';

/** Big enough that two months of raw events bill well over the 10 MiB minimum a week bills. */
const tenant: GeneratorOptions = { tenant: 'acme', users: 200, days: 60, eventsPerUser: 40, start: '2025-03-03', seed: 9 };
const LAST = addDays(tenant.start, tenant.days - 1);
const ceo = generateDirectory(tenant).find((u) => u.managerId === null)!;
const executive: Principal = { tenant: 'acme', userId: ceo.id, roles: ['executive'] };
/** One event type's daily counts: raw events (published, eventType), so the bytes grow with the range. */
const rawEvents = (days: number) => `{ tenant { eventCounts(from: "${addDays(LAST, 1 - days)}", to: "${LAST}", eventType: "user.authentication.sso") { count } } }`;

let dataDir: string;
let remove: () => void;
const systems: System[] = [];

beforeAll(async () => {
  ({ dataDir, remove } = await seedDataDir([tenant]));
}, 120_000);

afterAll(async () => {
  await Promise.all(systems.map((s) => s.close()));
  remove?.();
});

async function system(env: NodeJS.ProcessEnv = {}, gateway?: SystemOptions['gateway']): Promise<System> {
  const started = await startSystem(dataDir, { env, gateway });
  systems.push(started);
  return started;
}

/** Bytes rawEvents over `days` bills, measured by running it uncapped. */
async function rawEventsBilled(days: number): Promise<number> {
  const open = await system();
  return (await open.query(executive, rawEvents(days))).body.extensions.cost.billedBytes;
}

describe('per-query byte cap (MAX_QUERY_BYTES)', () => {
  let capped: System;
  let limit: number;
  beforeAll(async () => {
    limit = (await rawEventsBilled(7)) + MiB; // admits a week of raw events, not two months
    capped = await system({ MAX_QUERY_BYTES: String(limit) });
  });

  test('over the cap: 400 QUERY_TOO_EXPENSIVE with the estimate, and no subgraph is asked anything', async () => {
    const { status, body } = await capped.query(executive, rawEvents(60));
    expect(status).toBe(400);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions.code).toBe('QUERY_TOO_EXPENSIVE');
    expect(body.errors[0].message).toContain(`over the per-query limit of ${formatBytes(limit)} (${limit.toLocaleString('en-US')} bytes)`);
    expect(body.errors[0].extensions.cost).toMatchObject({ limitBytes: limit, mode: 'enforce' });
    expect(body.errors[0].extensions.cost.estimatedBilledBytes).toBeGreaterThan(limit);
    expect(body.extensions.cost).toMatchObject({ actualBytes: 0, billedBytes: 0, warehouseQueries: 0 });
    expect(capped.subgraphOperations).toEqual([]);
    expect(capped.warehouseQueries).toEqual([]);
  });

  test('under the cap: runs, and every job carried the caps', async () => {
    const { status, body } = await capped.query(executive, rawEvents(7));
    expect(status).toBe(200);
    expect(body.data.tenant.eventCounts.length).toBeGreaterThan(0);
    expect(body.extensions.cost.billedBytes).toBeGreaterThan(0);
    expect(body.extensions.cost.billedBytes).toBeLessThanOrEqual(limit);
    expect(capped.warehouseQueries).toEqual(['eventCounts']);
  });

  test('x-cost-mode: estimate returns data null and the estimate, runs nothing, even over the cap', async () => {
    const before = capped.subgraphOperations.length;
    const { status, body } = await capped.query(executive, rawEvents(60), undefined, { 'x-cost-mode': 'estimate' });
    expect(status).toBe(200);
    expect(body.data).toBeNull();
    expect(body.errors).toBeUndefined();
    expect(body.extensions.cost).toMatchObject({ mode: 'estimate', actualBytes: 0, warehouseQueries: 0, estimatedWarehouseQueries: 1 });
    expect(body.extensions.cost.estimatedBilledBytes).toBeGreaterThan(limit);
    expect(body.extensions.cost.jobs).toEqual([expect.objectContaining({ subgraph: 'metrics', query: 'eventCounts', path: 'tenant.eventCounts' })]);
    // Each column's share, for the people reading it: they add up to the job's bytes.
    const [job] = body.extensions.cost.jobs as { processedBytes: number; tables: { columns: string[]; columnBytes: Record<string, number> }[] }[];
    expect(Object.keys(job.tables[0].columnBytes).sort()).toEqual([...job.tables[0].columns].sort());
    expect(Object.values(job.tables[0].columnBytes).every((bytes) => bytes > 0)).toBe(true);
    expect(job.tables.flatMap((t) => Object.values(t.columnBytes)).reduce((sum, bytes) => sum + bytes, 0)).toBe(job.processedBytes);
    expect(capped.subgraphOperations.length).toBe(before);
  });

  test('an estimate request for a malformed operation gets the same errors as a real one', async () => {
    for (const bad of ['{ tenant { appUsage(from: "2025-01-01") { events } } }', '{ tenant { nope } }', '{ tenant { ']) {
      const real = await capped.query(executive, bad);
      const estimated = await capped.query(executive, bad, undefined, { 'x-cost-mode': 'estimate' });
      expect(estimated.status).toBe(real.status);
      expect(estimated.body.errors).toEqual(real.body.errors);
    }
  });

  test('an unknown x-cost-mode is refused, not silently ignored', async () => {
    const { status, body } = await capped.query(executive, rawEvents(60), undefined, { 'x-cost-mode': 'measure' });
    expect(status).toBe(400);
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  test('introspection is free under any cap', async () => {
    const zero = await system({ MAX_QUERY_BYTES: '0' });
    const { status, body } = await zero.query(executive, '{ __schema { types { name } } }');
    expect(status).toBe(200);
    expect(body.data.__schema.types.length).toBeGreaterThan(10);
    expect((await zero.query(executive, rawEvents(1))).status).toBe(400);
  });
});

test('COST_MODE=measure estimates and reports, but never refuses', async () => {
  const measuring = await system({ COST_MODE: 'measure', MAX_QUERY_BYTES: '0' });
  const { status, body } = await measuring.query(executive, rawEvents(60));
  expect(status).toBe(200);
  expect(body.data.tenant.eventCounts.length).toBeGreaterThan(0);
  expect(body.extensions.cost.mode).toBe('measure');
  expect(body.extensions.cost.estimatedBytes).toBe(body.extensions.cost.actualBytes);
});

test('demand-control points have their own cap (MAX_QUERY_POINTS)', async () => {
  const strict = await system({ MAX_QUERY_POINTS: '50' });
  const ok = await strict.query(executive, '{ users(first: 10) { edges { node { displayName } } } }');
  expect(ok.status).toBe(200);
  expect(ok.body.extensions.cost.points).toBeGreaterThan(0);
  const refused = await strict.query(executive, '{ users(first: 200) { edges { node { displayName manager { displayName } } } } }');
  expect(refused.status).toBe(400);
  expect(refused.body.errors[0].extensions.code).toBe('QUERY_TOO_EXPENSIVE');
  expect(refused.body.errors[0].extensions.cost.points).toBeGreaterThan(50);
  expect(strict.subgraphOperations.length).toBe(1);
});

test('a wrong (too low) estimate cannot overspend: the job is refused under its signed cap and bills nothing', async () => {
  // Statistics that understate every partition 1000-fold: the gateway's estimate is far too low.
  const warehouse = createDuckDbWarehouse({ dataDir });
  const understated = await system({}, {
    fetchStatistics: async (t: string) => (await warehouse.partitionStats(t)).map((s) => ({ ...s, logicalBytes: Math.floor(s.logicalBytes / 1000) })),
  });
  try {
    const { status, body } = await understated.query(executive, rawEvents(60));
    expect(status).toBe(200);
    expect(body.data).toBeNull();
    expect(body.errors[0].extensions.code).toBe('QUERY_TOO_EXPENSIVE');
    expect(body.extensions.cost).toMatchObject({ billedBytes: 0, warehouseQueries: 0 });
    expect(understated.warehouseQueries).toEqual(['eventCounts']); // asked for, refused before running
  } finally {
    await warehouse.close();
  }
});

test('hostile operations are refused or priced, concurrently, and the gateway keeps answering', async () => {
  const open = await system({ MAX_RANGE_DAYS: '366' });
  const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: appUsage(from: "${LAST}", to: "${LAST}") { events }`).join(' ');
  const deepFragments = Array.from({ length: 20 }, (_, i) => `fragment F${i} on User { manager { ...F${i + 1} } }`).join(' ') + ' fragment F20 on User { id }';
  const hostile: [string, Record<string, unknown>?][] = [
    [`{ tenant { ${aliases} } }`],
    [`{ me { ...F0 } } ${deepFragments}`],
    ['{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }'],
    ['query($d: Date!) { tenant { appUsage(from: $d, to: $d) { events } } }', { d: 'x'.repeat(40_000) }],
    [`{ tenant { appUsage(from: "1900-01-01", to: "1900-12-31") { events } } }`],
    [`{ tenant { appUsage(from: "${LAST}", to: "${LAST}", first: 1000000) { events } } }`],
    [`{ tenant { eventCounts(from: "${LAST}", to: "${LAST}", eventType: "'; DROP TABLE sso_events; --") { count } } }`],
  ];
  const results = await Promise.all(hostile.flatMap(([query, variables]) => Array.from({ length: 5 }, () => open.query(executive, query, variables))));
  for (const { status, body } of results) {
    expect(status).toBeLessThan(500);
    for (const error of body.errors ?? []) expect(error.extensions?.code).toEqual(expect.any(String));
  }
  const normal = await open.query(executive, rawEvents(7));
  expect(normal.status).toBe(200);
  expect(normal.body.data.tenant.eventCounts.length).toBeGreaterThan(0);
});

test('an unknown tenant is BAD_USER_INPUT before anything runs', async () => {
  const open = await system();
  const { status, body } = await open.query({ tenant: 'nosuch', userId: 'x', roles: ['executive'] }, rawEvents(1));
  expect(status).toBe(400);
  expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(open.subgraphOperations).toEqual([]);
});

test('the same operation text with other variables or another role is priced anew', async () => {
  const open = await system();
  const query = 'query($from: Date!, $to: Date!) { tenant { appUsage(from: $from, to: $to) { events } } }';
  const week = await open.query(executive, query, { from: addDays(LAST, -6), to: LAST });
  const month = await open.query(executive, query, { from: addDays(LAST, -29), to: LAST });
  expect(month.body.extensions.cost.estimatedBytes).toBeGreaterThan(week.body.extensions.cost.estimatedBytes);
  expect(month.body.extensions.cost.estimatedBytes).toBe(month.body.extensions.cost.actualBytes);
  const viewer = await open.query({ ...executive, roles: ['viewer'] }, query, { from: addDays(LAST, -29), to: LAST });
  expect(viewer.body.extensions.cost.estimatedBytes).toBe(viewer.body.extensions.cost.actualBytes);
});
