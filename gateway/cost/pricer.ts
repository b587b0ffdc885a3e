/**
 * The pricing stage: what turns an operation and its caller into a plan (warehouse jobs, demand-control
 * points, what its answer depends on) and an estimate in BigQuery bytes, from three things it keeps — the supergraph's cost index (costIndex.ts),
 * the plans of the operations seen (planOperation.ts) and the tenants' partition statistics
 * (statistics.ts) — and prices with estimate.ts. Nothing here decides whether an operation runs.
 *
 * A dashboard repeats the same operations: Apollo hands back the same parsed DocumentNode for the
 * same query text, so the plan of (document, operation, variables, roles) is kept with the document
 * until the schema reloads; pricing it against current statistics is per request.
 */
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Principal } from '../../common/principal';
import { PartitionStatistics } from '../../pricing/scanBytes';
import { CostDeclarationError, type CostIndex, STATISTICS_FIELD, indexCostDirectives } from './costIndex';
import { type Estimate, priceJobs } from './estimate';
import { type OperationPlan, planOperation } from './planOperation';
import { type FetchStatistics, type StatisticsCache, createStatisticsCache } from './statistics';

export interface PricerOptions {
  /** MAX_RANGE_DAYS: a longer range is refused by the subgraphs, so it is priced as running nothing. */
  readonly maxRangeDays: number;
  /** MAX_PAGE_SIZE: objects assumed under a list without `first`. */
  readonly maxPageSize: number;
  /** COST_STATS_TTL_MS: how stale cached statistics may get before a background refresh. */
  readonly statisticsTtlMs: number;
  /** Where statistics come from, given the URL of the subgraph serving `_scanStatistics`. */
  readonly statisticsFrom: (url: string) => FetchStatistics;
  /** Overrides `statisticsFrom` (tests, benchmarks). */
  readonly fetchStatistics?: FetchStatistics;
  readonly now?: () => number;
}

/** An operation to price, as Apollo Server has resolved it. */
export interface PricingRequest {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | undefined;
  readonly principal: Principal;
}

export interface Pricer {
  /** Indexes the supergraph's cost declarations (and answers the index); throws CostDeclarationError when one is missing. */
  load(supergraphSdl: string): CostIndex;
  /** The operation's plan — its jobs, points and cache plan — kept with the document. Pure, no I/O. */
  plan(request: PricingRequest): OperationPlan;
  /** The plan's jobs priced for `tenant`. Statistics are fetched (once per tenant, then cached) only when it reads the warehouse. */
  /** `columnBytes`: each column's share too (estimate mode shows it). */
  price(plan: OperationPlan, tenant: string, options?: { columnBytes?: boolean }): Promise<Estimate>;
  /** Forgets the tenant's statistics: a job refused by its cap suggests they are older than an ingest. */
  invalidate(tenant: string): void;
}

export function createPricer(options: PricerOptions): Pricer {
  let index: CostIndex | undefined;
  let plans = new PlanCache();
  let statistics: StatisticsCache = createStatisticsCache(async () => [], { ttlMs: options.statisticsTtlMs });

  return {
    load(supergraphSdl) {
      const loaded = indexCostDirectives(supergraphSdl);
      const url = loaded.statisticsSubgraph && loaded.subgraphUrls.get(loaded.statisticsSubgraph);
      const declaresScans = [...loaded.fields.values()].some((fields) => [...fields.values()].some((f) => f.scans.length > 0)) || loaded.entityScans.size > 0;
      if (declaresScans && !url && !options.fetchStatistics) {
        throw new CostDeclarationError(`Fields declare @scan, but no subgraph serves ${STATISTICS_FIELD} to price them.`);
      }
      const fetchStatistics = options.fetchStatistics ?? (url ? options.statisticsFrom(url) : async () => []);
      statistics = createStatisticsCache(fetchStatistics, { ttlMs: options.statisticsTtlMs, now: options.now });
      index = loaded;
      plans = new PlanCache();
      return loaded;
    },

    plan({ schema, document, operationName, variables, principal }) {
      const loaded = index;
      if (!loaded) return NO_PLAN;
      return plans.get(document, `${operationName ?? ''}|${principal.roles.join(',')}|${JSON.stringify(variables ?? {})}`, () =>
        planOperation(schema, loaded, document, variables, operationName, { roles: principal.roles, maxRangeDays: options.maxRangeDays, maxPageSize: options.maxPageSize }));
    },

    async price(plan, tenant, priceOptions) {
      return priceJobs(plan.jobs, plan.jobs.length > 0 ? await statistics.get(tenant) : NO_STATISTICS, priceOptions);
    },

    invalidate(tenant) {
      statistics.invalidate(tenant);
    },
  };
}

// Private:

const NO_STATISTICS = new PartitionStatistics([]);
const NO_PLAN: OperationPlan = { jobs: [], points: 0, cache: { scope: 'NONE', allDays: false } };
/** Plans kept per document: enough for a dashboard's variable sets, bounded against variable spraying. */
const PLANS_PER_DOCUMENT = 64;

/** Plans by document (weakly: Apollo's document cache decides how long a document lives) and key. */
class PlanCache {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, OperationPlan>>();

  get(document: DocumentNode, key: string, plan: () => OperationPlan): OperationPlan {
    let plans = this.byDocument.get(document);
    if (!plans) this.byDocument.set(document, (plans = new Map()));
    let found = plans.get(key);
    if (!found) {
      if (plans.size >= PLANS_PER_DOCUMENT) plans.clear();
      plans.set(key, (found = plan()));
    }
    return found;
  }
}
