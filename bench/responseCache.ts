/**
 * The gateway's response cache on the dashboard tenant (1,000 users × 90 days, dashboard.ts), in one run:
 * - warm throughput: the CEO dashboard (top time wasters with their 10 users' productivity, app usage;
 *   30 days) answered from the response cache, against the same gateway's /healthz (the floor of one
 *   Node HTTP process on this machine) and against the same dashboard through today's path — no
 *   response cache, every aggregate already in the subgraphs' cache — in alternating rounds;
 * - latency of a hit against /healthz (p50, p99 of those rounds);
 * - bytes billed by `reloads` loads of the README's dashboard (with `me`) by 10 users of the tenant,
 *   round-robin: only each user's first load should bill.
 */
import { randomUUID } from 'node:crypto';
import { addDays } from '../common/dates';
import type { Role } from '../common/principal';
import { openAnswerStore } from '../gateway/responseCache/responseCache';
import { type GeneratorOptions, generateDirectory } from '../okta/generator';
import { openAggregateCache } from '../subgraphs/common/aggregateCache';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import { DASHBOARD, preparedTenant } from './dashboard';
import { type Throughput, deleteNamespace, load, median, reachableRedis, startStack } from './stack';

export interface ResponseCacheBenchOptions {
  readonly users: number;
  readonly days: number;
  readonly eventsPerUser: number;
  readonly rounds: number;
  readonly secondsPerRound: number;
  /** README dashboard loads, spread over LOADERS users. */
  readonly reloads: number;
}

export interface ResponseCacheBenchResult {
  readonly events: number;
  readonly store: 'redis' | 'memory';
  readonly hit: Throughput;
  readonly healthz: Throughput;
  readonly uncached: Throughput;
  readonly reloads: number;
  readonly loaders: number;
  /** Loads that billed anything, and what all of them billed. */
  readonly billedLoads: number;
  readonly billedBytes: number;
  /** Of those, first loads of a user. */
  readonly billedFirstLoads: number;
}

/** Users reloading the README dashboard: executives, managers and viewers of one tenant. */
const LOADERS = 10;
const START = '2025-01-01';

/** The README's first example: three subgraphs, the caller's own figures included. */
const README_DASHBOARD = `query($from: Date!, $to: Date!) { tenant { name dataRange { from to }
  topTimeWasters(from: $from, to: $to, first: 3) { user { displayName department manager { displayName } } totalWasteHours }
  appUsage(from: $from, to: $to, first: 3) { app { name } events users } }
  me { displayName productivity(from: $from, to: $to) { totalEvents totalWasteHours } } }`;

export async function benchResponseCache(options: ResponseCacheBenchOptions): Promise<ResponseCacheBenchResult> {
  const tenant: GeneratorOptions = { tenant: 'dashboard', users: options.users, days: options.days, eventsPerUser: options.eventsPerUser, start: START, seed: 11 };
  const { dataDir, events } = await preparedTenant(tenant);
  const last = addDays(START, options.days - 1);
  const env = { DATA_DIR: dataDir, PORT: '0', MAX_QUERY_BYTES: String(2 ** 40), BUDGET_DEFAULTS: 'viewer=512TiB,manager=512TiB,executive=512TiB,tenant=1024TiB' };
  const redisUrl = await reachableRedis();
  const namespace = `bytegate-bench:${randomUUID()}`;
  const directory = generateDirectory(tenant);
  const ceo = directory.find((u) => u.managerId === null)!;

  const duckdb = createDuckDbWarehouse({ dataDir });
  const aggregates = await openAggregateCache({ redisUrl, ttlMs: 86_400_000, namespace: `${namespace}:aggregate` });
  const answers = await openAnswerStore({ redisUrl, ttlMs: 86_400_000, maxBytes: 64 * 2 ** 20, namespace: `${namespace}:response` });
  const cached = await startStack('response cache', env, duckdb, aggregates, answers);
  const uncached = await startStack('response cache', env, duckdb, aggregates);
  try {
    // Warm: the same dashboard through the response cache, /healthz, and today's path (aggregates cached).
    const token = await cached.token(tenant.tenant, ceo.id);
    const dashboard = { query: DASHBOARD, variables: { from: addDays(last, -29), to: last } };
    await cached.post(token, dashboard);
    await cached.post(token, dashboard); // learned by the warm path
    await uncached.post(token, dashboard);
    const runs: Record<'hit' | 'healthz' | 'uncached', Throughput[]> = { hit: [], healthz: [], uncached: [] };
    for (let round = 0; round < options.rounds; round++) {
      const order = (['hit', 'healthz', 'uncached'] as const).map((_, i, all) => all[(i + round) % all.length]);
      for (const which of order) {
        if (which === 'hit') runs.hit.push(await load(cached.url, token, dashboard, options.secondsPerRound));
        if (which === 'healthz') runs.healthz.push(await load(cached.healthUrl, token, undefined, options.secondsPerRound));
        if (which === 'uncached') runs.uncached.push(await load(uncached.url, token, dashboard, options.secondsPerRound));
      }
    }

    // Bytes: the README dashboard over a week nothing has read yet, loaded round-robin by LOADERS users.
    const loaders = pickLoaders(directory, ceo.id);
    const tokens = await Promise.all(loaders.map(({ id, roles }) => cached.token(tenant.tenant, id, roles)));
    const week = { query: README_DASHBOARD, variables: { from: addDays(last, -46), to: addDays(last, -40) } };
    let billedLoads = 0;
    let billedFirstLoads = 0;
    let billedBytes = 0;
    for (let i = 0; i < options.reloads; i++) {
      const { billedBytes: billed } = await cached.post(tokens[i % loaders.length], week);
      billedBytes += billed;
      if (billed > 0) {
        billedLoads++;
        if (i < loaders.length) billedFirstLoads++;
      }
    }
    return {
      events, store: redisUrl ? 'redis' : 'memory', hit: median(runs.hit), healthz: median(runs.healthz), uncached: median(runs.uncached),
      reloads: options.reloads, loaders: loaders.length, billedLoads, billedBytes, billedFirstLoads,
    };
  } finally {
    await Promise.all([cached.close(), uncached.close()]);
    await Promise.all([aggregates.close(), answers.close(), duckdb.close()]);
    if (redisUrl) for (const store of ['aggregate', 'response']) await deleteNamespace(redisUrl, `${namespace}:${store}`);
  }
}

// Private:

/** The CEO, managers and viewers: each sees the dashboard through their own scope. */
function pickLoaders(directory: ReturnType<typeof generateDirectory>, ceoId: string): { id: string; roles: Role[] }[] {
  const managers = directory.filter((u) => u.id !== ceoId && directory.some((r) => r.managerId === u.id));
  const viewers = directory.filter((u) => !directory.some((r) => r.managerId === u.id));
  return [
    { id: ceoId, roles: ['executive'] },
    ...managers.slice(0, 2).map((u) => ({ id: u.id, roles: ['executive'] as Role[] })),
    ...managers.slice(2, 5).map((u) => ({ id: u.id, roles: ['manager'] as Role[] })),
    ...viewers.slice(0, LOADERS - 6).map((u) => ({ id: u.id, roles: ['viewer'] as Role[] })),
  ];
}
