/**
 * Admission: the gateway's cost stage, one Apollo Server plugin (Apollo runs plugins'
 * `didResolveOperation` concurrently, so everything that decides whether and how an operation runs
 * is one step). After parse, validation and the operation limits, before planning:
 *
 *   plan (cost/pricer.ts: jobs, points, cache plan)
 *     → the response cache (responseCache/): a stored answer is served — no price, no reservation, bills 0
 *     → price (cost/estimate.ts) → caps (caps.ts) → reserve (budgetGuard.ts)
 *     → execute: the subgraphs, every warehouse job under the caps signed into its fetch
 *     → settle the reservation to the bytes billed → store a complete answer
 *     → answer with `extensions.cost` (costReport.ts) and, when cacheable, an ETag (304 on If-None-Match)
 *
 * A refused operation calls no subgraph and charges nothing: QUERY_TOO_EXPENSIVE (HTTP 400) over a
 * per-query cap, BUDGET_EXCEEDED (HTTP 429 with Retry-After) over the remaining daily budget. In
 * `measure` mode nothing is refused or capped; `estimate` mode answers `data: null`, runs nothing and
 * bypasses the cache (operationCost.ts). `Cache-Control: no-cache` bypasses the lookup (see
 * responseCache.ts wantsFreshAnswer).
 */
import { type ApolloServerPlugin, type GraphQLRequestListener, HeaderMap } from '@apollo/server';
import { ErrorCode, bytegateError } from '../../common/errors';
import type { Principal } from '../../common/principal';
import type { OperationPlan } from '../cost/planOperation';
import type { Pricer } from '../cost/pricer';
import { type CacheOutcome, type OperationIdentity, type ResponseCache, etagMatches, operationKeyOf, wantsFreshAnswer } from '../responseCache/responseCache';
import type { BudgetGuard } from './budgetGuard';
import { type CostReport, type ReportOptions, costReport } from './costReport';
import { overCap } from './caps';
import { type CostContext, type OperationCost, addSubgraphUsage, beginCost } from './operationCost';

export interface AdmissionOptions extends ReportOptions {
  /** COST_MODE: `enforce` or `measure`. */
  readonly costMode: 'enforce' | 'measure';
}

export interface AdmissionDeps {
  readonly pricer: Pricer;
  /** Whole answers of query operations; without it every operation runs. */
  readonly responseCache?: ResponseCache;
  /** Daily budgets; without it only the per-query caps apply. */
  readonly guard?: BudgetGuard;
  /** Called once per response, after its reservation settled: how it ended and what it cost (metrics, logs). */
  readonly onResponse?: (context: CostContext, response: ResponseSummary) => void;
}

export interface ResponseSummary {
  readonly operationName: string | undefined;
  /** False when the operation was refused before execution: nothing ran, nothing was charged. */
  readonly executed: boolean;
  readonly hasData: boolean;
  readonly errorCodes: readonly string[];
  readonly report: CostReport;
  /** Answered 304 Not Modified: the client holds this very answer (If-None-Match). */
  readonly notModified: boolean;
}

export interface Admission {
  readonly plugin: ApolloServerPlugin<CostContext>;
  /** The per-request cost state for a request with this `x-cost-mode` header (BAD_USER_INPUT for a bad one). */
  begin(costModeHeader: string | string[] | undefined, requestKey: string): OperationCost;
  /** Adds what a subgraph reported in its response extensions to the operation's actual cost. */
  observe(context: CostContext, extensions: Record<string, unknown> | undefined, errorCodes: readonly unknown[]): void;
}

export function createAdmission(options: AdmissionOptions, { pricer, responseCache, guard, onResponse }: AdmissionDeps): Admission {
  const report = (cost: OperationCost) => costReport(cost, options);

  /**
   * Where the operation's answer is kept (`cost.cacheKey`, stored once complete), and, unless the
   * client asked for a fresh answer, the stored one (`cost.cached`). Fails open: a cache that cannot
   * answer is a bypass.
   */
  const lookUp = async (cost: OperationCost, plan: OperationPlan, operation: OperationIdentity, principal: Principal, fresh: boolean): Promise<CacheOutcome> => {
    if (!responseCache) return 'bypass';
    try {
      const operationKey = operationKeyOf(operation);
      cost.cacheKey = await responseCache.keyOf(plan, operationKey, principal);
      if (cost.cacheKey === undefined) return 'bypass';
      responseCache.remember(cost.requestKey, principal.roles, { plan, operationKey, operationName: operation.operationName ?? undefined });
      if (fresh) return 'bypass';
      cost.cached = await responseCache.get(cost.cacheKey);
      return cost.cached ? 'hit' : 'miss';
    } catch {
      return 'bypass'; // the data versions could not be read: run the operation
    }
  };

  const listener: GraphQLRequestListener<CostContext> = {
    async didResolveOperation({ schema, document, request, operation, operationName, contextValue }) {
      if (!operation) return; // refused by the operation limits (limits/requireOperation.ts): nothing to price
      const { cost, principal } = contextValue;
      const plan = pricer.plan({ schema, document, operationName, variables: request.variables, principal });
      cost.points = plan.points;
      const headers = request.http?.headers;
      const fresh = wantsFreshAnswer(headers?.get('cache-control'), headers?.get('if-none-match'));
      cost.responseCache = cost.mode === 'estimate' ? 'bypass' : await lookUp(cost, plan, { document, operationName, variables: request.variables }, principal, fresh);
      const limits = guard ? await guard.limits(principal) : undefined;
      if (cost.responseCache === 'hit') {
        // Nothing runs, nothing is reserved, no budget refuses it: the caller's budget is only reported.
        if (guard && limits) cost.budget = await guard.peek(principal, limits);
        return;
      }
      const estimate = await pricer.price(plan, principal.tenant, { columnBytes: cost.mode === 'estimate' });
      cost.estimate = estimate;
      cost.limitBytes = limits?.maxQueryBytes ?? options.maxQueryBytes;
      const enforce = cost.mode === 'enforce';
      const over = enforce ? overCap(estimate, plan.points, { maxQueryPoints: options.maxQueryPoints, maxQueryBytes: cost.limitBytes }) : undefined;
      if (over) throw bytegateError(ErrorCode.QUERY_TOO_EXPENSIVE, over, { cost: report(cost) });
      if (guard && limits) {
        if (cost.mode === 'estimate' || estimate.billedBytes === 0) {
          cost.budget = await guard.peek(principal, limits);
        } else {
          const decision = await guard.admit(principal, limits, estimate.billedBytes, enforce, operationName);
          switch (decision.kind) {
            case 'refused':
              cost.budget = decision.report;
              cost.retryAfterSeconds = decision.retryAfterSeconds;
              throw bytegateError(ErrorCode.BUDGET_EXCEEDED, decision.message, { cost: report(cost) });
            case 'reserved':
              cost.budget = decision.report;
              cost.admission = decision;
              break;
            case 'unrecorded':
              cost.admission = decision;
              break;
          }
        }
      }
      if (enforce) cost.caps = { maxJobBilledBytes: estimate.maxJobBilledBytes, maxTotalBilledBytes: estimate.billedBytes };
    },

    async responseForOperation({ contextValue: { cost } }) {
      if (cost.cached) return { http: { status: 200, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: JSON.parse(cost.cached.data) } } };
      if (cost.mode !== 'estimate') return null;
      return { http: { status: 200, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: null } } };
    },

    async willSendResponse({ request, response, contextValue, operationName }) {
      const { cost } = contextValue;
      if (cost.admission && guard) cost.budget = await guard.settle(cost.admission, cost.actual.billedBytes);
      if (cost.retryAfterSeconds !== undefined) response.http.headers.set('retry-after', String(cost.retryAfterSeconds));
      if (response.body.kind !== 'single') return;
      const result = response.body.singleResult;
      const complete = result.data !== undefined && result.data !== null && !result.errors?.length;
      if (cost.cached) cost.etag = cost.cached.etag;
      else if (cost.cacheKey && responseCache && complete) cost.etag = (await responseCache.set(cost.cacheKey, result.data)).etag;
      if (cost.etag) {
        response.http.headers.set('etag', cost.etag);
        if (etagMatches(request.http?.headers.get('if-none-match'), cost.etag)) response.http.status = 304; // the HTTP layer sends no body
      }
      const notModified = response.http.status === 304;
      const costReport = report(cost);
      result.extensions = { ...result.extensions, cost: costReport };
      onResponse?.(contextValue, {
        operationName: operationName ?? undefined,
        executed: 'data' in result, // Apollo leaves `data` out when it never executed
        hasData: result.data !== undefined && result.data !== null,
        errorCodes: (result.errors ?? []).map((e) => String(e.extensions?.code ?? 'UNCODED')),
        report: costReport,
        notModified,
      });
    },
  };

  return {
    plugin: { requestDidStart: async () => listener },
    begin: (header, requestKey) => beginCost(header, options.costMode, requestKey),
    observe({ cost, principal }, extensions, errorCodes) {
      addSubgraphUsage(cost, extensions);
      // A job over its cap means the estimate was low: most likely statistics older than an ingest.
      if (errorCodes.includes(ErrorCode.QUERY_TOO_EXPENSIVE)) pricer.invalidate(principal.tenant);
    },
  };
}
