/**
 * What DataLoader batching saves. One realistic request — a page of 50 users with each one's
 * manager, 30-day productivity and last 7 days' daily rows — through the real gateway and the three
 * subgraphs over HTTP, twice over the same DuckDB dataset:
 * - batched: the product as it is (one warehouse query per loader batch: `usersPage`, `usersById`
 *   for the managers outside the page, `productivityByUser`, `dailyByUser`);
 * - unbatched (the baseline): the same gateway and subgraphs over a warehouse wrapper that splits
 *   every loader batch query (`usersById`, `productivityByUser`, `dailyByUser`) into one query per
 *   key, all issued at once — what DataLoader does with `maxBatchSize: 1`, which the product has no
 *   option for. Everything else (the plan, the subgraph requests, the resolvers) is identical.
 * Both run with COST_MODE=measure (priced and charged, no caps: an unbatched request bills far more
 * than its estimate and would be refused in enforce mode) and without the aggregate cache (the cold
 * path, where batching matters; a warm cache answers either from memory). Counted per request:
 * warehouse jobs actually run and bytes billed (each job bills at least 10 MiB, as on BigQuery).
 * Latency: sequential requests, alternating which side goes first; throughput: autocannon with
 * 10 connections in alternating rounds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { seedTenant } from '../cli/seedTenant';
import { addDays } from '../common/dates';
import { generateDirectory } from '../okta/generator';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import { duckDbDatasetWriter } from '../warehouse/duckdb/tenantDataset';
import type { QueryParam, Warehouse, WarehouseQuery, WarehouseResult } from '../warehouse/warehouse';
import { type Stack, startStack } from './stack';

export interface BatchingBenchOptions {
  readonly users: number;
  readonly days: number;
  readonly eventsPerUser: number;
  /** Sequential requests per side for the latency figures. */
  readonly samples: number;
  readonly rounds: number;
  readonly secondsPerRound: number;
}

export interface BatchingSide {
  /** Warehouse jobs of one request, by query name (the same for every request, checked). */
  readonly queries: Readonly<Record<string, number>>;
  readonly queriesPerRequest: number;
  readonly billedBytesPerRequest: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly requestsPerSecond: number;
}

export interface BatchingBenchResult {
  readonly events: number;
  readonly pageSize: number;
  readonly batched: BatchingSide;
  readonly unbatched: BatchingSide;
}

/** The DataLoader batch functions' queries (subgraphs/users/loaders.ts, subgraphs/metrics/loaders.ts). */
export const LOADER_QUERIES: readonly string[] = ['usersById', 'productivityByUser', 'dailyByUser'];
const PAGE_SIZE = 50;
const START = '2025-01-01';

export async function benchBatching(options: BatchingBenchOptions): Promise<BatchingBenchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-batching-'));
  const tenant = { tenant: 'bench', users: options.users, days: options.days, eventsPerUser: options.eventsPerUser, start: START, seed: 5 };
  const stacks: CountedStack[] = [];
  const duckdb = createDuckDbWarehouse({ dataDir });
  try {
    const report = await seedTenant(duckDbDatasetWriter(dataDir), tenant);
    const env = { DATA_DIR: dataDir, PORT: '0', COST_MODE: 'measure', BUDGET_DEFAULTS: 'executive=512TiB,tenant=1024TiB' };
    stacks.push(await startCountedStack(env, duckdb, false));
    stacks.push(await startCountedStack(env, duckdb, true));

    const ceo = generateDirectory(tenant).find((u) => u.managerId === null)!;
    const last = addDays(START, options.days - 1);
    const request = { query: TEAM_PAGE, variables: { first: PAGE_SIZE, from: addDays(last, -29), week: addDays(last, -6), to: last } };
    const tokens = await Promise.all(stacks.map((stack) => stack.token(tenant.tenant, ceo.id)));

    // Warm both (DuckDB handles, statistics, plans), then check every request runs the same jobs.
    for (let i = 0; i < 3; i++) for (const [i2, stack] of stacks.entries()) await stack.post(tokens[i2], request);
    const latencies: number[][] = [[], []];
    const jobs: Map<string, number>[] = [new Map(), new Map()];
    const billed: Set<number>[] = [new Set(), new Set()];
    for (let i = 0; i < options.samples; i++) {
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      for (const side of order) {
        const before = stacks[side].jobs.length;
        const { ms, billedBytes } = await stacks[side].post(tokens[side], request);
        latencies[side].push(ms);
        billed[side].add(billedBytes);
        const key = JSON.stringify(countNames(stacks[side].jobs.slice(before)));
        jobs[side].set(key, (jobs[side].get(key) ?? 0) + 1);
      }
    }
    for (const side of [0, 1]) {
      if (jobs[side].size !== 1 || billed[side].size !== 1) {
        throw new Error(`batching bench: requests differed (${side === 0 ? 'batched' : 'unbatched'}): jobs ${[...jobs[side].keys()].join(' | ')}; billed ${[...billed[side]].join(', ')}`);
      }
    }

    const throughput: number[][] = [[], []];
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const side of order) throughput[side].push(await load(stacks[side].url, tokens[side], request, options.secondsPerRound));
    }

    const side = (i: number): BatchingSide => {
      const queries = JSON.parse([...jobs[i].keys()][0]) as Record<string, number>;
      return {
        queries,
        queriesPerRequest: Object.values(queries).reduce((a, b) => a + b, 0),
        billedBytesPerRequest: [...billed[i]][0],
        p50Ms: percentile(latencies[i], 0.5),
        p95Ms: percentile(latencies[i], 0.95),
        requestsPerSecond: percentile(throughput[i], 0.5),
      };
    };
    return { events: report.accepted, pageSize: PAGE_SIZE, batched: side(0), unbatched: side(1) };
  } finally {
    for (const stack of stacks) await stack.close();
    await duckdb.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** "usersById 1, productivityByUser 50" — a query count for the table. */
export function describeQueries(queries: Readonly<Record<string, number>>): string {
  return Object.entries(queries).map(([name, count]) => `${name} ${count}`).join(', ');
}

// Private:

/** A team page: each user's directory entry, manager, 30-day totals and last week's daily rows. */
const TEAM_PAGE = `query TeamPage($first: Int!, $from: Date!, $week: Date!, $to: Date!) { users(first: $first) { edges { node {
  id displayName department manager { displayName }
  productivity(from: $from, to: $to) { totalEvents uniqueApps totalWasteHours }
  daily(from: $week, to: $to) { date totalEvents } } } } }`;

interface CountedStack extends Stack {
  /** Names of the warehouse jobs run, in order (after splitting, for the unbatched side). */
  readonly jobs: string[];
}

/** Gateway and subgraphs over `duckdb`; jobs are counted as they reach it (after splitting). */
async function startCountedStack(env: NodeJS.ProcessEnv, duckdb: Warehouse, unbatched: boolean): Promise<CountedStack> {
  const jobs: string[] = [];
  const counted = countingWarehouse(duckdb, jobs);
  const stack = await startStack('batching', env, unbatched ? unbatchedWarehouse(counted) : counted);
  return {
    ...stack,
    jobs,
    async post(token, request) {
      const answer = await stack.post(token, request);
      if (answer.data?.users.edges.length !== PAGE_SIZE) throw new Error(`batching bench: expected a page of ${PAGE_SIZE} users`);
      return answer;
    },
  };
}

/** `inner`, recording each query's name in `names`. */
export function countingWarehouse(inner: Warehouse, names: string[]): Warehouse {
  return {
    query: (tenant, query) => {
      names.push(query.name);
      return inner.query(tenant, query);
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
 * DataLoader with `maxBatchSize: 1`, emulated below the subgraphs: a loader batch query over N keys
 * (its one STRING_ARRAY parameter) becomes N one-key queries, issued together; rows are concatenated
 * in key order and bytes summed, so the resolvers see the same rows.
 */
export function unbatchedWarehouse(inner: Warehouse): Warehouse {
  return {
    async query<Row extends object>(tenant: string, query: WarehouseQuery): Promise<WarehouseResult<Row>> {
      const keysParam = LOADER_QUERIES.includes(query.name)
        ? Object.entries(query.params).find((entry): entry is [string, Extract<QueryParam, { type: 'STRING_ARRAY' }>] => entry[1].type === 'STRING_ARRAY')
        : undefined;
      if (!keysParam || keysParam[1].value.length <= 1) return inner.query<Row>(tenant, query);
      const [name, { value: keys }] = keysParam;
      const results = await Promise.all(keys.map((key) =>
        inner.query<Row>(tenant, { ...query, maxBytesBilled: undefined, params: { ...query.params, [name]: { type: 'STRING_ARRAY', value: [key] } } })));
      return {
        rows: results.flatMap((r) => r.rows),
        processedBytes: results.reduce((sum, r) => sum + r.processedBytes, 0),
        billedBytes: results.reduce((sum, r) => sum + r.billedBytes, 0),
        cacheHit: results.every((r) => r.cacheHit),
      };
    },
    dryRun: (tenant, query) => inner.dryRun(tenant, query),
    partitionStats: (tenant) => inner.partitionStats(tenant),
    dataVersions: (tenant) => inner.dataVersions(tenant),
    tableVersions: (tenant) => inner.tableVersions(tenant),
    hasTenant: (tenant) => inner.hasTenant(tenant),
    close: async () => {},
  };
}

/** How many of each name, by name. */
export function countNames(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of [...names].sort()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

async function load(url: string, token: string, request: object, seconds: number): Promise<number> {
  const result = await autocannon({
    url, connections: 10, duration: seconds,
    requests: [{ method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(request) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  return result.requests.average;
}

export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
