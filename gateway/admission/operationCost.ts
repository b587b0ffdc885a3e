/**
 * One operation's cost, carried in the gateway's per-request context from admission to the answer:
 * its mode, its estimate and points, the caps signed into its subgraph fetches, its budget
 * reservation, and what the subgraphs report having processed and billed.
 */
import { badUserInput } from '../../common/errors';
import type { Principal } from '../../common/principal';
import type { WarehouseCaps } from '../../common/signedIdentity';
import type { Estimate } from '../cost/estimate';
import type { CacheOutcome, CachedAnswer } from '../responseCache/responseCache';
import type { Admission, BudgetReport } from './budgetGuard';

/**
 * - `enforce` (default): refused over the per-query caps or the remaining budget; jobs run capped;
 * - `measure` (COST_MODE): estimated and reported, never refused, no caps;
 * - `estimate` (the `x-cost-mode: estimate` request header): validated and estimated, nothing runs.
 */
export type CostMode = 'enforce' | 'measure' | 'estimate';

/** The request header asking for an estimate only. */
export const COST_MODE_HEADER = 'x-cost-mode';

export interface OperationCost {
  readonly mode: CostMode;
  /** The request, as the response cache identifies it (responseCache/responseCache.ts requestKeyOf). */
  readonly requestKey: string;
  /** hit: answered from the response cache; miss: looked up, stored once complete; bypass: not looked up. */
  responseCache?: CacheOutcome;
  /** On a miss: where the complete answer is stored. */
  cacheKey?: string;
  /** On a hit: the stored answer. */
  cached?: CachedAnswer;
  /** The ETag of a cacheable answer. */
  etag?: string;
  estimate?: Estimate;
  /** Demand-control points (Apollo Router semantics of @cost / @listSize). */
  points?: number;
  /** The per-query cap that applied: MAX_QUERY_BYTES, or the tenant's or user's lower one. */
  limitBytes?: number;
  /** Set in enforce mode once the estimate passed: signed into every subgraph request. */
  caps?: WarehouseCaps;
  /** Summed from the subgraphs' `extensions.warehouse` as their responses arrive. */
  readonly actual: {
    processedBytes: number; billedBytes: number; queries: number; cacheHits: number; dryRuns: unknown[];
    /** What the subgraphs' warehouse ran for bytegate itself while serving it (metadata, dry runs): logged, never charged. */
    overheadBilledBytes: number;
  };
  /** The reservation against the caller's daily budgets, settled when the response is sent. */
  admission?: Admission;
  /** The caller's budgets, as last known (after settlement on a successful response). */
  budget?: BudgetReport;
  /** Set when the operation was refused for budget: the `Retry-After` header. */
  retryAfterSeconds?: number;
}

/** What admission needs of the gateway's request context. */
export interface CostContext {
  readonly principal: Principal;
  readonly cost: OperationCost;
}

/** The cost state of a request with this `x-cost-mode` header (BAD_USER_INPUT for anything but "estimate"). */
export function beginCost(header: string | string[] | undefined, configuredMode: 'enforce' | 'measure', requestKey: string): OperationCost {
  const requested = Array.isArray(header) ? header[0] : header;
  if (requested === undefined || requested === '') return newCost(configuredMode, requestKey);
  if (requested !== 'estimate') {
    throw badUserInput(`${COST_MODE_HEADER} must be "estimate" (or absent), not "${requested.slice(0, 40)}".`, { http: { status: 400 } });
  }
  return newCost('estimate', requestKey);
}

/** Adds what one subgraph reported in its response's `extensions.warehouse` to the operation's actual cost. */
export function addSubgraphUsage(cost: OperationCost, extensions: Record<string, unknown> | undefined): void {
  const usage = extensions?.warehouse as Partial<OperationCost['actual']> | undefined;
  cost.actual.processedBytes += Number(usage?.processedBytes ?? 0);
  cost.actual.billedBytes += Number(usage?.billedBytes ?? 0);
  cost.actual.queries += Number(usage?.queries ?? 0);
  cost.actual.cacheHits += Number(usage?.cacheHits ?? 0);
  cost.actual.overheadBilledBytes += Number(usage?.overheadBilledBytes ?? 0);
  if (Array.isArray(usage?.dryRuns)) cost.actual.dryRuns.push(...usage.dryRuns);
}

/** An operation that has cost nothing yet. */
export function newCost(mode: CostMode, requestKey: string): OperationCost {
  return { mode, requestKey, actual: { processedBytes: 0, billedBytes: 0, queries: 0, cacheHits: 0, dryRuns: [], overheadBilledBytes: 0 } };
}
