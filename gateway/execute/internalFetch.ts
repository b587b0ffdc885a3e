/**
 * The gateway's own requests to the subgraph serving the internal fields (`_scanStatistics`,
 * `_dataVersions`: the metrics subgraph), signed with an identity of the tenant like any fetch, under
 * a principal with no role, so they see nobody's data.
 */
import { ErrorCode, bytegateError } from '../../common/errors';
import { IDENTITY_HEADER, SIGNATURE_HEADER, signIdentity } from '../../common/signedIdentity';
import type { PartitionStat } from '../../pricing/scanBytes';
import { STATISTICS_FIELD } from '../cost/costIndex';
import type { FetchStatistics } from '../cost/statistics';
import type { DataVersion, FetchDataVersions } from '../responseCache/responseCache';

/** The internal field serving a tenant's data versions. */
export const DATA_VERSIONS_FIELD = '_dataVersions';

/** Asks the subgraph at `url` for the tenant's partition statistics (the estimator's). */
export function subgraphStatistics(url: string, secret: string, now: () => number = Date.now): FetchStatistics {
  return internalField<PartitionStat[]>(url, secret, now, STATISTICS_FIELD, 'table day column rows logicalBytes', 'The cost of this operation cannot be estimated now');
}

/** Asks the subgraph at `url` for the tenant's data versions (the response cache's). */
export function subgraphDataVersions(url: string, secret: string, now: () => number = Date.now): FetchDataVersions {
  return internalField<DataVersion[]>(url, secret, now, DATA_VERSIONS_FIELD, 'day table version', 'The data versions cannot be read now');
}

// Private:

/** The gateway's principal for its own requests: no role, so it sees nobody's data. */
const GATEWAY_USER = 'bytegate-gateway';
const REQUEST_TIMEOUT_MS = 5000;

/** A fetcher of one internal list field; WAREHOUSE_UNAVAILABLE (retryable) when the subgraph cannot say. */
function internalField<T>(url: string, secret: string, now: () => number, field: string, selection: string, failure: string): (tenant: string) => Promise<T> {
  const query = `{ ${field} { ${selection} } }`;
  const unavailable = (reason: string) => bytegateError(ErrorCode.WAREHOUSE_UNAVAILABLE, `${failure}: ${reason}. Retry shortly.`);
  return async (tenant) => {
    const headers = signIdentity({ tenant, userId: GATEWAY_USER, roles: [] }, { query }, secret, now());
    let body: { data?: Record<string, T>; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: headers[IDENTITY_HEADER], [SIGNATURE_HEADER]: headers[SIGNATURE_HEADER] },
        body: JSON.stringify({ query }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw unavailable(`the subgraph serving ${field} did not answer (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`);
    }
    const value = body.data?.[field];
    if (value) return value;
    const [first] = body.errors ?? [];
    // An unknown tenant is the caller's problem, reported as the subgraph coded it.
    if (first?.extensions?.code === ErrorCode.BAD_USER_INPUT) throw bytegateError(ErrorCode.BAD_USER_INPUT, first.message, { http: { status: 400 } });
    throw unavailable(first?.message ?? `the subgraph serving ${field} returned no data`);
  };
}
