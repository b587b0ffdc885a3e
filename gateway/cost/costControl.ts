/**
 * Cost control at the gateway, one Apollo Server plugin (Apollo runs plugins' didResolveOperation
 * concurrently, so estimating and enforcing must be one step):
 *
 * - after parse and validation, before planning, the operation is estimated (estimate.ts) from the
 *   supergraph's cost declarations and the tenant's cached statistics;
 * - `enforce` (default): an estimate billing more than MAX_QUERY_BYTES, or scoring more than
 *   MAX_QUERY_POINTS demand-control points (demandControl.ts, for what the warehouse does not
 *   serve), is refused with QUERY_TOO_EXPENSIVE (HTTP 400) — no subgraph is called; otherwise
 *   every warehouse job runs under caps signed into the subgraph requests (the largest job
 *   estimated, the whole estimate together);
 * - `measure` (COST_MODE): estimated and reported, never refused, no caps;
 * - `x-cost-mode: estimate` (request header): validated and estimated, `data: null`, nothing runs;
 * - every response carries `extensions.cost`: the estimate, and what the subgraphs report in their
 *   `extensions.warehouse` as actually processed and billed.
 *
 * A dashboard repeats the same operations: Apollo hands back the same parsed DocumentNode for the
 * same query text, so the jobs and points of (document, operation, variables, roles) are kept with
 * the document until the schema reloads; pricing them against current statistics is per request.
 */
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import type { Config } from '../../common/config';
import { ErrorCode, badUserInput, bytegateError } from '../../common/errors';
import type { Principal } from '../../common/principal';
import type { WarehouseCaps } from '../../common/signedIdentity';
import { bytesToUsd } from '../../warehouse/billing';
import { PartitionStatistics } from '../../warehouse/scanBytes';
import type { Admission, BudgetGuard, BudgetReport } from '../budgets/budgetGuard';
import { CostDeclarationError, type CostIndex, STATISTICS_FIELD, indexCostDeclarations } from './costIndex';
import { type DemandControlIndex, indexDemandControl, operationPoints } from './demandControl';
import { type Estimate, type PlannedJob, planJobs, priceJobs } from './estimate';
import { type FetchStatistics, type StatisticsCache, createStatisticsCache, subgraphStatistics } from './statistics';

export type CostMode = 'enforce' | 'measure' | 'estimate';

/** The request header asking for an estimate only. */
export const COST_MODE_HEADER = 'x-cost-mode';

/** One operation's cost, carried in the gateway's per-request context. */
export interface OperationCost {
  readonly mode: CostMode;
  estimate?: Estimate;
  /** Demand-control points (Apollo Router semantics of @cost / @listSize). */
  points?: number;
  /** The per-query cap that applied: MAX_QUERY_BYTES, or the tenant's or user's lower one. */
  limitBytes?: number;
  /** Set in enforce mode once the estimate passed: signed into every subgraph request. */
  caps?: WarehouseCaps;
  /** Summed from the subgraphs' `extensions.warehouse` as their responses arrive. */
  readonly actual: { processedBytes: number; billedBytes: number; queries: number; cacheHits: number; dryRuns: unknown[] };
  /** The reservation against the caller's daily budgets, settled when the response is sent. */
  admission?: Admission;
  /** The caller's budgets, as last known (after settlement on a successful response). */
  budget?: BudgetReport;
  /** Set when the operation was refused for budget: the `Retry-After` header. */
  retryAfterSeconds?: number;
}

export interface CostContext {
  readonly principal: Principal;
  readonly cost: OperationCost;
}

export interface CostControl {
  /** Indexes the supergraph's cost declarations; throws CostDeclarationError when one is missing. */
  load(supergraphSdl: string): void;
  /** The per-request cost state for a request with these headers (BAD_USER_INPUT for a bad x-cost-mode). */
  begin(costModeHeader: string | string[] | undefined): OperationCost;
  /** Adds what a subgraph reported in its response extensions to the operation's actual cost. */
  observe(context: CostContext, extensions: Record<string, unknown> | undefined, errorCodes: readonly unknown[]): void;
  readonly plugin: ApolloServerPlugin<CostContext>;
}

export interface CostControlOptions {
  /** Where statistics come from; default: the subgraph serving `_scanStatistics`, asked over HTTP. */
  fetchStatistics?: FetchStatistics;
  /** Daily budgets; without it only the per-query caps apply. */
  guard?: BudgetGuard;
  now?: () => number;
  /** Called once per response, after its reservation settled: how it ended and what it cost (metrics, logs). */
  onResponse?: (context: CostContext, response: ResponseSummary) => void;
}

export interface ResponseSummary {
  readonly operationName: string | undefined;
  /** False when the operation was refused before execution: nothing ran, nothing was charged. */
  readonly executed: boolean;
  readonly hasData: boolean;
  readonly errorCodes: readonly string[];
  readonly report: CostReport;
}

export function createCostControl(config: Config, options: CostControlOptions = {}): CostControl {
  let index: CostIndex | undefined;
  let demandControl: DemandControlIndex | undefined;
  let plans = new PlanCache();
  let statistics: StatisticsCache = createStatisticsCache(async () => [], { ttlMs: config.costStatisticsTtlMs });
  const report = (cost: OperationCost) => costReport(cost, config);

  const listener: GraphQLRequestListener<CostContext> = {
    async didResolveOperation({ schema, document, request, operation, operationName, contextValue }) {
      if (!operation) return; // refused by the gateway (buildGateway.ts requireOperation): nothing to price
      const { cost, principal } = contextValue;
      const plan = plans.get(document, `${operationName ?? ''}|${principal.roles.join(',')}|${JSON.stringify(request.variables ?? {})}`, () => ({
        jobs: index
          ? planJobs(schema, index, document, request.variables, operationName, {
            roles: principal.roles, maxRangeDays: config.limits.maxRangeDays, defaultListSize: config.limits.maxPageSize,
          })
          : [],
        points: demandControl ? operationPoints(schema, demandControl, document, request.variables, operationName) : 0,
      }));
      const { jobs } = plan;
      // Statistics are fetched (once per tenant, then cached) only when something reads the warehouse.
      cost.estimate = priceJobs(jobs, jobs.length > 0 ? await statistics.get(principal.tenant) : NO_STATISTICS);
      cost.points = plan.points;
      const guard = options.guard;
      const limits = guard ? await guard.limits(principal) : undefined;
      const maxQueryBytes = limits?.maxQueryBytes ?? config.maxQueryBytes;
      cost.limitBytes = maxQueryBytes;
      if (cost.mode === 'enforce' && cost.points > config.maxQueryPoints) {
        throw bytegateError(
          ErrorCode.QUERY_TOO_EXPENSIVE,
          `This operation scores ${cost.points} demand-control points, over the per-query limit of ${config.maxQueryPoints}. Ask for fewer items or fewer fields.`,
          { cost: report(cost) },
        );
      }
      if (cost.mode === 'enforce' && cost.estimate.billedBytes > maxQueryBytes) {
        throw bytegateError(
          ErrorCode.QUERY_TOO_EXPENSIVE,
          `This operation would bill an estimated ${cost.estimate.billedBytes} bytes, over the per-query limit of ${maxQueryBytes}. Narrow the date ranges or ask for fewer fields.`,
          { cost: report(cost) },
        );
      }
      if (guard && limits) {
        if (cost.mode === 'estimate' || cost.estimate.billedBytes === 0) {
          cost.budget = await guard.peek(principal, limits);
        } else {
          const admission = await guard.admit(principal, limits, cost.estimate.billedBytes, cost.mode === 'enforce');
          cost.budget = admission.report;
          if (!admission.admitted) {
            cost.retryAfterSeconds = admission.retryAfterSeconds;
            throw bytegateError(ErrorCode.BUDGET_EXCEEDED, admission.message, { cost: report(cost) });
          }
          cost.admission = admission;
        }
      }
      if (cost.mode === 'enforce') cost.caps = { maxJobBilledBytes: cost.estimate.maxJobBilledBytes, maxTotalBilledBytes: cost.estimate.billedBytes };
    },

    async responseForOperation({ contextValue }) {
      if (contextValue.cost.mode !== 'estimate') return null;
      return { http: { status: 200, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: null } } };
    },

    async willSendResponse({ response, contextValue, operationName }) {
      const { cost } = contextValue;
      if (cost.admission && options.guard) cost.budget = await options.guard.settle(cost.admission, cost.actual.billedBytes);
      if (cost.retryAfterSeconds !== undefined) response.http.headers.set('retry-after', String(cost.retryAfterSeconds));
      if (response.body.kind !== 'single') return;
      const result = response.body.singleResult;
      const costReport = report(cost);
      result.extensions = { ...result.extensions, cost: costReport };
      options.onResponse?.(contextValue, {
        operationName: operationName ?? undefined,
        executed: 'data' in result, // Apollo leaves `data` out when it never executed
        hasData: result.data !== undefined && result.data !== null,
        errorCodes: (result.errors ?? []).map((e) => String(e.extensions?.code ?? 'UNCODED')),
        report: costReport,
      });
    },
  };

  return {
    load(supergraphSdl) {
      const loaded = indexCostDeclarations(supergraphSdl);
      const url = loaded.statisticsSubgraph && loaded.subgraphUrls.get(loaded.statisticsSubgraph);
      const declaresScans = [...loaded.fields.values()].some((f) => f.scans.length > 0) || loaded.entityScans.size > 0;
      if (declaresScans && !url && !options.fetchStatistics) {
        throw new CostDeclarationError(`Fields declare @scan, but no subgraph serves ${STATISTICS_FIELD} to price them.`);
      }
      const fetchStatistics = options.fetchStatistics ?? (url ? subgraphStatistics(url, config.subgraphSecret, options.now) : async () => []);
      statistics = createStatisticsCache(fetchStatistics, { ttlMs: config.costStatisticsTtlMs, now: options.now });
      index = loaded;
      demandControl = indexDemandControl(supergraphSdl);
      plans = new PlanCache();
    },
    begin(header) {
      const requested = Array.isArray(header) ? header[0] : header;
      if (requested === undefined || requested === '') return newCost(config.costMode);
      if (requested !== 'estimate') {
        throw badUserInput(`${COST_MODE_HEADER} must be "estimate" (or absent), not "${requested.slice(0, 40)}".`, { http: { status: 400 } });
      }
      return newCost('estimate');
    },
    observe({ cost, principal }, extensions, errorCodes) {
      const usage = extensions?.warehouse as Partial<OperationCost['actual']> | undefined;
      cost.actual.processedBytes += Number(usage?.processedBytes ?? 0);
      cost.actual.billedBytes += Number(usage?.billedBytes ?? 0);
      cost.actual.queries += Number(usage?.queries ?? 0);
      cost.actual.cacheHits += Number(usage?.cacheHits ?? 0);
      if (Array.isArray(usage?.dryRuns)) cost.actual.dryRuns.push(...usage.dryRuns);
      // A job over its cap means the estimate was low: most likely statistics older than an ingest.
      if (errorCodes.includes(ErrorCode.QUERY_TOO_EXPENSIVE)) statistics.invalidate(principal.tenant);
    },
    plugin: { requestDidStart: async () => listener },
  };
}

// Private:

const NO_STATISTICS = new PartitionStatistics([]);
/** Plans kept per document: enough for a dashboard's variable sets, bounded against variable spraying. */
const PLANS_PER_DOCUMENT = 64;

interface Plan {
  readonly jobs: readonly PlannedJob[];
  readonly points: number;
}

/** Plans by document (weakly: Apollo's document cache decides how long a document lives) and key. */
class PlanCache {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, Plan>>();

  get(document: DocumentNode, key: string, plan: () => Plan): Plan {
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

function newCost(mode: CostMode): OperationCost {
  return { mode, actual: { processedBytes: 0, billedBytes: 0, queries: 0, cacheHits: 0, dryRuns: [] } };
}

export type CostReport = ReturnType<typeof costReport>;

/** `extensions.cost` (public contract; README.md documents every field). */
function costReport(cost: OperationCost, config: Config) {
  const estimate = cost.estimate;
  return {
    mode: cost.mode,
    estimatedBytes: estimate?.processedBytes ?? 0,
    estimatedBilledBytes: estimate?.billedBytes ?? 0,
    estimatedUsd: bytesToUsd(estimate?.billedBytes ?? 0, config.pricePerTibUsd),
    estimatedWarehouseQueries: estimate?.jobs.reduce((sum, job) => sum + job.times, 0) ?? 0,
    limitBytes: cost.limitBytes ?? config.maxQueryBytes,
    points: cost.points ?? 0,
    limitPoints: config.maxQueryPoints,
    actualBytes: cost.actual.processedBytes,
    billedBytes: cost.actual.billedBytes,
    billedUsd: bytesToUsd(cost.actual.billedBytes, config.pricePerTibUsd),
    warehouseQueries: cost.actual.queries,
    cacheHits: cost.actual.cacheHits,
    // Jobs dry-run first (operations estimated above DRY_RUN_ABOVE_BYTES): the signed cap and the dry run's bill.
    ...(cost.actual.dryRuns.length > 0 ? { dryRuns: cost.actual.dryRuns } : {}),
    ...(cost.budget ? { budget: cost.budget } : {}),
    ...(cost.mode === 'estimate' && estimate
      ? { jobs: estimate.jobs.map(({ subgraph, query, path, tables, times, processedBytes, billedBytes }) => ({ subgraph, query, path, tables, times, processedBytes, billedBytes })) }
      : {}),
  };
}
