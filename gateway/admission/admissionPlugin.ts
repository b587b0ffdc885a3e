/**
 * Admission: the gateway's cost stage, one Apollo Server plugin (Apollo runs plugins'
 * `didResolveOperation` concurrently, so pricing and enforcing must be one step). After parse,
 * validation and the operation limits, before planning:
 *
 *   price (cost/pricer.ts) → caps (caps.ts) → reserve (budgetGuard.ts)
 *     → execute: the subgraphs, every warehouse job under the caps signed into its fetch
 *     → settle the reservation to the bytes billed → answer with `extensions.cost` (costReport.ts)
 *
 * A refused operation calls no subgraph and charges nothing: QUERY_TOO_EXPENSIVE (HTTP 400) over a
 * per-query cap, BUDGET_EXCEEDED (HTTP 429 with Retry-After) over the remaining daily budget. In
 * `measure` mode nothing is refused or capped; `estimate` mode answers `data: null` and runs nothing
 * (operationCost.ts).
 */
import { type ApolloServerPlugin, type GraphQLRequestListener, HeaderMap } from '@apollo/server';
import { ErrorCode, bytegateError } from '../../common/errors';
import type { Pricer } from '../cost/pricer';
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
}

export interface Admission {
  readonly plugin: ApolloServerPlugin<CostContext>;
  /** The per-request cost state for a request with this `x-cost-mode` header (BAD_USER_INPUT for a bad one). */
  begin(costModeHeader: string | string[] | undefined): OperationCost;
  /** Adds what a subgraph reported in its response extensions to the operation's actual cost. */
  observe(context: CostContext, extensions: Record<string, unknown> | undefined, errorCodes: readonly unknown[]): void;
}

export function createAdmission(options: AdmissionOptions, { pricer, guard, onResponse }: AdmissionDeps): Admission {
  const report = (cost: OperationCost) => costReport(cost, options);

  const listener: GraphQLRequestListener<CostContext> = {
    async didResolveOperation({ schema, document, request, operation, operationName, contextValue }) {
      if (!operation) return; // refused by the operation limits (limits/requireOperation.ts): nothing to price
      const { cost, principal } = contextValue;
      const price = await pricer.price({ schema, document, operationName, variables: request.variables, principal });
      cost.estimate = price.estimate;
      cost.points = price.points;
      const limits = guard ? await guard.limits(principal) : undefined;
      cost.limitBytes = limits?.maxQueryBytes ?? options.maxQueryBytes;
      const enforce = cost.mode === 'enforce';
      const over = enforce ? overCap(price, { maxQueryPoints: options.maxQueryPoints, maxQueryBytes: cost.limitBytes }) : undefined;
      if (over) throw bytegateError(ErrorCode.QUERY_TOO_EXPENSIVE, over, { cost: report(cost) });
      if (guard && limits) {
        if (cost.mode === 'estimate' || price.estimate.billedBytes === 0) {
          cost.budget = await guard.peek(principal, limits);
        } else {
          const decision = await guard.admit(principal, limits, price.estimate.billedBytes, enforce);
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
      if (enforce) cost.caps = { maxJobBilledBytes: price.estimate.maxJobBilledBytes, maxTotalBilledBytes: price.estimate.billedBytes };
    },

    async responseForOperation({ contextValue }) {
      if (contextValue.cost.mode !== 'estimate') return null;
      return { http: { status: 200, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: null } } };
    },

    async willSendResponse({ response, contextValue, operationName }) {
      const { cost } = contextValue;
      if (cost.admission && guard) cost.budget = await guard.settle(cost.admission, cost.actual.billedBytes);
      if (cost.retryAfterSeconds !== undefined) response.http.headers.set('retry-after', String(cost.retryAfterSeconds));
      if (response.body.kind !== 'single') return;
      const result = response.body.singleResult;
      const costReport = report(cost);
      result.extensions = { ...result.extensions, cost: costReport };
      onResponse?.(contextValue, {
        operationName: operationName ?? undefined,
        executed: 'data' in result, // Apollo leaves `data` out when it never executed
        hasData: result.data !== undefined && result.data !== null,
        errorCodes: (result.errors ?? []).map((e) => String(e.extensions?.code ?? 'UNCODED')),
        report: costReport,
      });
    },
  };

  return {
    plugin: { requestDidStart: async () => listener },
    begin: (header) => beginCost(header, options.costMode),
    observe({ cost, principal }, extensions, errorCodes) {
      addSubgraphUsage(cost, extensions);
      // A job over its cap means the estimate was low: most likely statistics older than an ingest.
      if (errorCodes.includes(ErrorCode.QUERY_TOO_EXPENSIVE)) pricer.invalidate(principal.tenant);
    },
  };
}
