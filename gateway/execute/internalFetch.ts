/**
 * The gateway's own requests for internal fields: `_scanStatistics` and `_dataVersions` (the metrics
 * subgraph's), `_knownUsers` (the users subgraph's). Each is signed with an identity of the tenant like
 * any fetch, under a principal with no role, so no scoped field would show it anyone's data; the fields
 * are @inaccessible, out of every client's reach.
 */
import type { SubgraphName } from '../../common/config';
import { ErrorCode, bytegateError } from '../../common/errors';
import { IDENTITY_HEADER, SIGNATURE_HEADER, type SignedRequest, signIdentity } from '../../common/signedIdentity';
import type { PartitionStat } from '../../pricing/scanBytes';
import { STATISTICS_FIELD } from '../cost/costIndex';
import type { FetchStatistics } from '../cost/statistics';
import type { DataVersion, FetchDataVersions } from '../responseCache/responseCache';

/** The internal field serving a tenant's data versions. */
export const DATA_VERSIONS_FIELD = '_dataVersions';
/** The internal field saying which user ids a tenant's directory holds. */
export const KNOWN_USERS_FIELD = '_knownUsers';

/** Asks the subgraph at `url` for the tenant's partition statistics (the estimator's). */
export function subgraphStatistics(url: string, secret: string, now: () => number = Date.now): FetchStatistics {
  const request = { query: `{ ${STATISTICS_FIELD} { table day column rows logicalBytes } }` };
  return (tenant) => internalField<PartitionStat[]>({ url, secret, now }, tenant, STATISTICS_FIELD, request, 'The cost of this operation cannot be estimated now');
}

/** Asks the subgraph at `url` for the tenant's data versions (the response cache's). */
export function subgraphDataVersions(url: string, secret: string, now: () => number = Date.now): FetchDataVersions {
  const request = { query: `{ ${DATA_VERSIONS_FIELD} { day table version } }` };
  return (tenant) => internalField<DataVersion[]>({ url, secret, now }, tenant, DATA_VERSIONS_FIELD, request, 'The data versions cannot be read now');
}

/**
 * Asks the users subgraph which of `ids` the tenant's directory holds, all in one request.
 * `subgraphUrls`: subgraph name → URL, as the gateway built its data sources (read at each call).
 */
export function subgraphKnownUsers(subgraphUrls: ReadonlyMap<string, string>, secret: string, now: () => number = Date.now) {
  const query = `query KnownUsers($ids: [ID!]!) { ${KNOWN_USERS_FIELD}(ids: $ids) }`;
  return async (tenant: string, ids: readonly string[]): Promise<ReadonlySet<string>> => {
    const asking = { url: subgraphUrls.get(DIRECTORY_SUBGRAPH), secret, now };
    return new Set(await internalField<string[]>(asking, tenant, KNOWN_USERS_FIELD, { query, variables: { ids } }, 'The user directory cannot be read now'));
  };
}

// Private:

/** The gateway's principal for its own requests: no role, so it sees nobody's data. */
const GATEWAY_USER = 'bytegate-gateway';
const REQUEST_TIMEOUT_MS = 5000;
const DIRECTORY_SUBGRAPH: SubgraphName = 'users';

/** Where the gateway asks (undefined: the supergraph has no subgraph there), with what secret, by which clock. */
interface Asking {
  readonly url: string | undefined;
  readonly secret: string;
  readonly now: () => number;
}

/** One internal field of the tenant, as `request` selects it; WAREHOUSE_UNAVAILABLE (retryable) when the subgraph cannot say. */
async function internalField<T>({ url, secret, now }: Asking, tenant: string, field: string, request: SignedRequest, failure: string): Promise<T> {
  const unavailable = (reason: string) => bytegateError(ErrorCode.WAREHOUSE_UNAVAILABLE, `${failure}: ${reason}. Retry shortly.`);
  if (!url) throw unavailable(`no subgraph of the supergraph serves ${field}`);
  const headers = signIdentity({ tenant, userId: GATEWAY_USER, roles: [] }, request, secret, now());
  let body: { data?: Record<string, T>; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: headers[IDENTITY_HEADER], [SIGNATURE_HEADER]: headers[SIGNATURE_HEADER] },
      body: JSON.stringify(request),
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
}
