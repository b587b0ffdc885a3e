/**
 * What cost control costs. Two gateways over the same three subgraphs and the same generated
 * tenant — one with cost control, one without (`costControl: false`) — take the same dashboard-like
 * operation mix from autocannon, in alternating rounds so drift hits both alike; the medians of the
 * rounds are compared. "With" includes the daily-budget reservation (in-memory ledger). A micro-benchmark times the estimator (one walk for jobs and points, then price) on a 50-field
 * operation against graphql-js `validate` of the same document, which every request pays anyway.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { ApolloGateway } from '@apollo/gateway';
import { parse, specifiedRules, validate } from 'graphql';
import { SUBGRAPH_NAMES, type SubgraphName, loadConfig } from '../common/config';
import { addDays } from '../common/dates';
import { createFileStore } from '../budgets/fileStore';
import { createMemoryLedger } from '../budgets/memoryLedger';
import { seedTenant } from '../cli/seedTenant';
import { duckDbDatasetWriter } from '../warehouse/duckdb/tenantDataset';
import { signDevToken } from '../gateway/auth/devToken';
import { startGateway } from '../gateway';
import { indexCostDirectives } from '../gateway/cost/costIndex';
import { priceJobs } from '../gateway/cost/estimate';
import { planOperation } from '../gateway/cost/planOperation';
import { bytegateSubgraphs, composeSupergraph } from '../gateway/supergraph';
import { generateDirectory } from '../okta/generator';
import { startSubgraph } from '../subgraphs';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import { PartitionStatistics } from '../pricing/scanBytes';
import { quiet } from './stack';

export interface CostControlBenchResult {
  withCost: { requestsPerSecond: number; p50Ms: number };
  without: { requestsPerSecond: number; p50Ms: number };
  rounds: number;
  secondsPerRound: number;
  estimateMicros: number;
  validateMicros: number;
  estimateFields: number;
}

export async function benchCostControl(options: { users: number; days: number; rounds: number; secondsPerRound: number }): Promise<CostControlBenchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-cost-'));
  const tenant = { tenant: 'bench', users: options.users, days: options.days, eventsPerUser: 50, start: '2025-01-01', seed: 3 };
  try {
    await seedTenant(duckDbDatasetWriter(dataDir), tenant);
    // Budgets large enough that no round is refused (an executive's default 20 GiB/day is ~1,000 of these operations).
    const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', BUDGET_DEFAULTS: 'executive=512TiB,tenant=1024TiB' });
    const warehouse = createDuckDbWarehouse({ dataDir });
    const subgraphs = await Promise.all(SUBGRAPH_NAMES.map((name) => startSubgraph(name, { warehouse, config, port: 0 })));
    const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [name, subgraphs[i].url])) as Record<SubgraphName, string>;
    const supergraphSdl = composeSupergraph(bytegateSubgraphs(urls));
    // Budgets as the embedded default has them: reserved and settled in memory, limits from files.
    const budgets = { store: await createFileStore({ dir: path.join(dataDir, 'budgets') }), ledger: createMemoryLedger() };
    const withCost = await startGateway(config, { supergraphSdl, logger: quiet, budgets });
    const without = await startGateway(config, { supergraphSdl, logger: quiet, budgets, costControl: false });

    const ceo = generateDirectory(tenant).find((u) => u.managerId === null)!;
    const token = await signDevToken({ tenant: 'bench', user: ceo.id, roles: ['executive'], secret: (config.auth as { secret: string }).secret, ttlSeconds: 3600 });
    const last = addDays(tenant.start, tenant.days - 1);
    const requests = dashboardMix(addDays(last, -6), last).map((query) => ({
      method: 'POST' as const,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    }));
    const run = async (url: string) => {
      const result = await autocannon({ url, connections: 10, duration: options.secondsPerRound, requests });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
      return { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50 };
    };
    await run(withCost.url); // warm both paths (statistics cache, JIT, DuckDB handles)
    await run(without.url);
    const on: { requestsPerSecond: number; p50Ms: number }[] = [];
    const off: typeof on = [];
    for (let round = 0; round < options.rounds; round++) {
      // Alternate which goes first, so warming and drift favour neither.
      if (round % 2 === 0) {
        off.push(await run(without.url));
        on.push(await run(withCost.url));
      } else {
        on.push(await run(withCost.url));
        off.push(await run(without.url));
      }
    }
    const estimator = await benchEstimator(supergraphSdl, await warehouse.partitionStats('bench'), addDays(last, -6), last);

    await withCost.close();
    await without.close();
    await Promise.all(subgraphs.map((s) => s.close()));
    await warehouse.close();
    await Promise.all([budgets.store.close(), budgets.ledger.close()]);
    return { withCost: medianOf(on), without: medianOf(off), rounds: options.rounds, secondsPerRound: options.secondsPerRound, ...estimator };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// Private:

/**
 * Dashboard panels served from the productivity rollup and the directory. appUsage is left out so the
 * mix stays the one the earlier figures were measured on (it once flattened raw events and made DuckDB
 * the bottleneck, hiding the gateway's own overhead).
 */
function dashboardMix(from: string, to: string): string[] {
  return [
    `{ me { displayName productivity(from: "${from}", to: "${to}") { totalEvents totalWasteHours } } }`,
    `{ tenant { name topTimeWasters(from: "${from}", to: "${to}", first: 5) { user { displayName } totalWasteHours } } }`,
    `{ users(first: 20) { totalCount edges { node { displayName productivity(from: "${from}", to: "${to}") { totalWasteHours } } } } }`,
    `{ me { daily(from: "${from}", to: "${to}") { date totalEvents uniqueApps } } }`,
  ];
}

/** A 50-field operation (aliases over ranges, fragments, nested entities) through plan (jobs + points) + price. */
async function benchEstimator(supergraphSdl: string, stats: Awaited<ReturnType<ReturnType<typeof createDuckDbWarehouse>['partitionStats']>>, from: string, to: string) {
  const gateway = new ApolloGateway({ supergraphSdl });
  const { schema } = await gateway.load();
  await gateway.stop();
  const index = indexCostDirectives(supergraphSdl);
  const statistics = new PartitionStatistics(stats);
  const ranges = Array.from({ length: 5 }, (_, i) => `r${i}: productivity(from: "${addDays(from, -i)}", to: "${to}") { totalEvents uniqueApps }`).join(' ');
  const document = parse(`query Fifty {
    me { id displayName email department manager { displayName email } ...Totals daily(from: "${from}", to: "${to}") { date totalEvents uniqueApps authWasteHours } }
    users(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id displayName department ...Totals } } }
    tenant { name dataRange { from to } topTimeWasters(from: "${from}", to: "${to}") { user { displayName } totalWasteHours authWasteHours }
      a: appUsage(from: "${to}", to: "${to}") { app { id name } events users } b: appUsage(from: "${from}", to: "${to}") { events }
      eventCounts(from: "${from}", to: "${to}", eventType: "user.session.start") { date count } }
  }
  fragment Totals on User { ${ranges} productivity(from: "${from}", to: "${to}") { totalWasteHours contextSwitchWasteHours } }`);
  const fields = countFields(document);
  const roles = ['executive'];
  const estimate = () => priceJobs(planOperation(schema, index, document, {}, 'Fifty', { roles, maxRangeDays: 366, maxPageSize: 500 }).jobs, statistics);
  const estimateMicros = microsPerCall(estimate);
  const validateMicros = microsPerCall(() => validate(schema, document, specifiedRules));
  return { estimateMicros, validateMicros, estimateFields: fields };
}

function microsPerCall(fn: () => void): number {
  for (let i = 0; i < 500; i++) fn();
  const samples: number[] = [];
  for (let round = 0; round < 7; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / 1000);
  }
  return samples.sort((a, b) => a - b)[3];
}

function countFields(document: ReturnType<typeof parse>): number {
  let count = 0;
  JSON.stringify(document, (_key, value) => {
    if (value && typeof value === 'object' && value.kind === 'Field') count++;
    return value;
  });
  return count;
}

function medianOf(runs: { requestsPerSecond: number; p50Ms: number }[]) {
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)), p50Ms: median(runs.map((r) => r.p50Ms)) };
}
