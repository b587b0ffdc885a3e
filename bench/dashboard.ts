/**
 * The CEO dashboard against a 1,000-user × 90-day tenant (200 events per user and day ≈ 18M events):
 * tenant topTimeWasters with each of the 10 users' productivity, and appUsage (all from the rollups),
 * over the last 30 days. Measured in one run:
 * - cold: the dashboard over ranges nothing has cached yet (a fresh cache namespace per run);
 * - filter change: a new 7-day range on the rollup panels, uncached;
 * - warm: autocannon on the cached dashboard, against the same gateway and subgraphs whose warehouse
 *   answers every query from memory, instantly (the "constant resolvers" baseline), in alternating
 *   rounds;
 * - bytes billed by 100 dashboard loads with the aggregate cache and without it (without: 5 loads
 *   run, found to bill identically, × 100).
 * The tenant is generated on first use into .bench-data/ (BENCH_DATA_DIR), in 10-day ingests with
 * progress, and reused by later runs.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { progress } from '../cli/progress';
import { seedTenant } from '../cli/seedTenant';
import { addDays } from '../common/dates';
import { type GeneratorOptions, generateDirectory } from '../okta/generator';
import { openAggregateCache } from '../subgraphs/common/aggregateCache';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import { createEmptyDataset, duckDbDatasetWriter } from '../warehouse/duckdb/tenantDataset';
import type { Warehouse, WarehouseResult } from '../warehouse/warehouse';
import { type Throughput, deleteNamespace, load, median, reachableRedis, startStack } from './stack';

export interface DashboardBenchOptions {
  readonly users: number;
  readonly days: number;
  readonly eventsPerUser: number;
  readonly rounds: number;
  readonly secondsPerRound: number;
  /** Dashboard loads for the bytes comparison. */
  readonly loads: number;
}

export interface DashboardBenchResult {
  readonly events: number;
  readonly store: 'redis' | 'memory';
  readonly coldMs: number[];
  readonly filterChangeMs: number[];
  readonly warm: Throughput;
  readonly constant: Throughput;
  readonly loads: number;
  readonly billedWithCache: number;
  readonly billedWithoutCache: number;
}

const ROOT = path.resolve(__dirname, '..');
/** Uncached dashboard loads actually run for the bytes comparison (each bills the same). */
const UNCACHED_SAMPLES = 5;
const START = '2025-01-01';

export async function benchDashboard(options: DashboardBenchOptions): Promise<DashboardBenchResult> {
  const tenant: GeneratorOptions = { tenant: 'dashboard', users: options.users, days: options.days, eventsPerUser: options.eventsPerUser, start: START, seed: 11 };
  const { dataDir, events } = await preparedTenant(tenant);
  const last = addDays(START, options.days - 1);
  const dashboard = (to: string) => ({ query: DASHBOARD, variables: { from: addDays(to, -29), to } });
  const rollupPanels = (from: string, to: string) => ({ query: ROLLUP_PANELS, variables: { from, to } });
  const env = { DATA_DIR: dataDir, PORT: '0', MAX_QUERY_BYTES: String(2 ** 40), BUDGET_DEFAULTS: 'executive=512TiB,tenant=1024TiB' };
  const redisUrl = await reachableRedis();
  const namespace = `bytegate-bench:${randomUUID()}`;
  const ceo = generateDirectory(tenant).find((u) => u.managerId === null)!;

  const duckdb = createDuckDbWarehouse({ dataDir });
  const cache = await openAggregateCache({ redisUrl, ttlMs: 86_400_000, namespace });
  const cached = await startStack('dashboard', env, duckdb, cache);
  const uncached = await startStack('dashboard', env, duckdb);
  const constant = await startStack('dashboard', env, constantWarehouse(duckdb));
  try {
    const token = await cached.token(tenant.tenant, ceo.id);
    // Cold: each range new to the cache (the first also opens DuckDB and fetches statistics; discarded).
    await cached.post(token, rollupPanels(addDays(last, -40), addDays(last, -34)));
    const coldMs: number[] = [];
    for (let i = 0; i < 5; i++) coldMs.push((await cached.post(token, dashboard(addDays(last, -i)))).ms);
    const filterChangeMs: number[] = [];
    for (let i = 0; i < 5; i++) filterChangeMs.push((await cached.post(token, rollupPanels(addDays(last, -6 - 7 * (i + 1)), addDays(last, -7 * (i + 1))))).ms);

    // Warm vs constant: the same dashboard, cached vs answered from memory.
    const warmRequest = dashboard(last);
    await cached.post(token, warmRequest);
    await constant.post(token, warmRequest);
    const warm: Throughput[] = [];
    const baseline: Throughput[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // Alternate which goes first, so warming and drift favour neither.
      const order = round % 2 === 0 ? [cached, constant] : [constant, cached];
      for (const stack of order) (stack === cached ? warm : baseline).push(await load(stack.url, token, warmRequest, options.secondsPerRound));
    }

    // Bytes: the same dashboard loaded `loads` times with the cache, on a range it has not seen. Without
    // the cache every load bills the same (checked over UNCACHED_SAMPLES loads), so the rest is multiplied.
    const bytesRequest = dashboard(addDays(last, -10));
    const shown = progress();
    let billedWithCache = 0;
    for (let i = 0; i < options.loads; i++) {
      billedWithCache += (await cached.post(token, bytesRequest)).billedBytes;
      shown.update(`dashboard bench: ${i + 1}/${options.loads} loads with the cache`);
    }
    const uncachedBills = new Set<number>();
    for (let i = 0; i < Math.min(UNCACHED_SAMPLES, options.loads); i++) {
      uncachedBills.add((await uncached.post(token, bytesRequest)).billedBytes);
      shown.update(`dashboard bench: ${i + 1}/${UNCACHED_SAMPLES} loads without the cache`);
    }
    if (uncachedBills.size !== 1) throw new Error(`dashboard bench: uncached loads billed differently: ${[...uncachedBills].join(', ')}`);
    const billedWithoutCache = [...uncachedBills][0] * options.loads;
    shown.done(`dashboard bench: ${options.loads} loads with the cache, ${Math.min(UNCACHED_SAMPLES, options.loads)} without`);
    return {
      events, store: redisUrl ? 'redis' : 'memory', coldMs, filterChangeMs,
      warm: median(warm), constant: median(baseline), loads: options.loads, billedWithCache, billedWithoutCache,
    };
  } finally {
    await Promise.all([cached.close(), uncached.close(), constant.close()]);
    await cache.close();
    await duckdb.close();
    if (redisUrl) await deleteNamespace(redisUrl, namespace);
  }
}

// Private:

/** topTimeWasters with each user's productivity and appUsage (all from the rollups, all in the metrics subgraph). */
export const DASHBOARD = `query Dashboard($from: Date!, $to: Date!) { tenant {
  topTimeWasters(from: $from, to: $to, first: 10) { totalWasteHours user { id productivity(from: $from, to: $to) { totalEvents uniqueApps totalWasteHours } } }
  appUsage(from: $from, to: $to, first: 10) { app { id name } events users } } }`;

/** The panels a range filter re-runs on the rollup. */
const ROLLUP_PANELS = `query Filter($from: Date!, $to: Date!) { tenant {
  topTimeWasters(from: $from, to: $to, first: 10) { totalWasteHours user { id productivity(from: $from, to: $to) { totalEvents totalWasteHours } } } } }`;

/** Every query answered from memory after its first run: the warehouse cost of a constant resolver. */
function constantWarehouse(inner: Warehouse): Warehouse {
  const answers = new Map<string, Promise<WarehouseResult<object>>>();
  return {
    query<Row extends object>(tenant: string, query: Parameters<Warehouse['query']>[1]) {
      const key = JSON.stringify([tenant, query.name, query.params]);
      let answer = answers.get(key);
      if (!answer) answers.set(key, (answer = inner.query<object>(tenant, { ...query, maxBytesBilled: undefined })));
      return answer as Promise<WarehouseResult<Row>>;
    },
    dryRun: (tenant, query) => inner.dryRun(tenant, query),
    partitionStats: (tenant) => inner.partitionStats(tenant),
    dataVersions: (tenant) => inner.dataVersions(tenant),
    tableVersions: (tenant) => inner.tableVersions(tenant),
    hasTenant: (tenant) => inner.hasTenant(tenant),
    close: async () => {},
  };
}

/**
 * The tenant's dataset under .bench-data/, generated once (10 days per ingest) and reused — brought up
 * to the current tables first (a dataset an earlier version generated gets its new rollup's backfill
 * here, not during a measurement).
 */
export async function preparedTenant(tenant: GeneratorOptions): Promise<{ dataDir: string; events: number }> {
  const dataDir = process.env.BENCH_DATA_DIR ?? path.join(ROOT, '.bench-data', `dashboard-${tenant.users}x${tenant.days}x${tenant.eventsPerUser}`);
  const marker = path.join(dataDir, 'ready.json');
  if (fs.existsSync(marker)) {
    await createEmptyDataset(dataDir, tenant.tenant);
    return { dataDir, events: (JSON.parse(fs.readFileSync(marker, 'utf8')) as { events: number }).events };
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const shown = progress();
  const report = await seedTenant(duckDbDatasetWriter(dataDir), { ...tenant, name: 'Dashboard Corp' }, (p) => {
    shown.update(`dashboard bench: generating ${tenant.tenant}: day ${p.daysDone}/${p.days}, ${p.events.toLocaleString('en-US')} events, ${Math.round(p.elapsedMs / 1000)} s`);
  });
  const events = report.accepted;
  shown.done(`dashboard bench: generated ${events.toLocaleString('en-US')} events (kept in ${path.relative(ROOT, dataDir)})`);
  fs.writeFileSync(marker, JSON.stringify({ events }));
  return { dataDir, events };
}
