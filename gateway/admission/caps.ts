/**
 * The per-query caps, checked in enforce mode before anything is reserved or run: demand-control
 * points first (MAX_QUERY_POINTS, for what the warehouse does not serve), then the estimate's billed
 * bytes (the lowest of MAX_QUERY_BYTES, the tenant's and the user's cap). Pure.
 */
import type { Estimate } from '../cost/estimate';
import { bytesForPeople } from '../../common/units';

export interface QueryCaps {
  readonly maxQueryPoints: number;
  readonly maxQueryBytes: number;
}

/** Why the operation is over a cap (the QUERY_TOO_EXPENSIVE message), or undefined when it is within both. */
export function overCap(estimate: Estimate, points: number, caps: QueryCaps): string | undefined {
  if (points > caps.maxQueryPoints) {
    return `This operation scores ${points} demand-control points, over the per-query limit of ${caps.maxQueryPoints}. Ask for fewer items or fewer fields.`;
  }
  if (estimate.billedBytes > caps.maxQueryBytes) {
    return `This operation would bill an estimated ${bytesForPeople(estimate.billedBytes)}, over the per-query limit of ${bytesForPeople(caps.maxQueryBytes)}. Narrow the date ranges or ask for fewer fields.`;
  }
  return undefined;
}
