/**
 * The estimator's statistics, asked from the subgraph serving the internal `_scanStatistics` field
 * with a signed identity of the tenant, like any subgraph fetch.
 */
import { ErrorCode, bytegateError } from '../../common/errors';
import { IDENTITY_HEADER, SIGNATURE_HEADER, signIdentity } from '../../common/signedIdentity';
import type { PartitionStat } from '../../pricing/scanBytes';
import { STATISTICS_FIELD } from '../cost/costIndex';
import type { FetchStatistics } from '../cost/statistics';

/** The gateway's principal for its own statistics requests: no role, so it sees nobody's data. */
const GATEWAY_USER = 'bytegate-gateway';
const REQUEST_TIMEOUT_MS = 5000;

/** Asks the subgraph at `url` for the tenant's statistics, signed like every gateway fetch. */
export function subgraphStatistics(url: string, secret: string, now: () => number = Date.now): FetchStatistics {
  const query = `{ ${STATISTICS_FIELD} { table day column rows logicalBytes } }`;
  return async (tenant) => {
    const headers = signIdentity({ tenant, userId: GATEWAY_USER, roles: [] }, { query }, secret, now());
    let body: { data?: Record<string, PartitionStat[]>; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: headers[IDENTITY_HEADER], [SIGNATURE_HEADER]: headers[SIGNATURE_HEADER] },
        body: JSON.stringify({ query }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw unavailable(`the statistics subgraph did not answer (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`);
    }
    const stats = body.data?.[STATISTICS_FIELD];
    if (stats) return stats;
    const [first] = body.errors ?? [];
    // An unknown tenant is the caller's problem, reported as the subgraph coded it.
    if (first?.extensions?.code === ErrorCode.BAD_USER_INPUT) throw bytegateError(ErrorCode.BAD_USER_INPUT, first.message, { http: { status: 400 } });
    throw unavailable(first?.message ?? 'the statistics subgraph returned no data');
  };
}

// Private:

function unavailable(reason: string) {
  return bytegateError(ErrorCode.WAREHOUSE_UNAVAILABLE, `The cost of this operation cannot be estimated now: ${reason}. Retry shortly.`);
}
