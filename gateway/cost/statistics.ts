/**
 * Partition statistics for the estimator, per tenant, cached at the gateway. They come from the
 * subgraph serving the internal `_scanStatistics` field (asked with a signed identity of the tenant,
 * like any subgraph request) and are refreshed in the background once older than `ttlMs`, so an
 * ingest shows up within that time while estimation itself never waits on I/O after the first
 * request of a tenant. A failed refresh keeps serving the previous statistics.
 */
import { ErrorCode, bytegateError } from '../../common/errors';
import { IDENTITY_HEADER, SIGNATURE_HEADER, signIdentity } from '../../common/signedIdentity';
import { PartitionStatistics } from '../../warehouse/scanBytes';
import type { PartitionStat } from '../../warehouse/warehouse';
import { STATISTICS_FIELD } from './costIndex';

export type FetchStatistics = (tenant: string) => Promise<PartitionStat[]>;

export interface StatisticsCache {
  get(tenant: string): Promise<PartitionStatistics>;
  /** Forgets the tenant's statistics (e.g. a job refused by its cap suggests they are stale). */
  invalidate(tenant: string): void;
}

/** The gateway's principal for its own statistics requests: no role, so it sees nobody's data. */
const GATEWAY_USER = 'bytegate-gateway';
const REQUEST_TIMEOUT_MS = 5000;

export function createStatisticsCache(fetchStatistics: FetchStatistics, options: { ttlMs: number; now?: () => number }): StatisticsCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { statistics: Promise<PartitionStatistics>; fetchedAt: number; refreshing: boolean }>();

  const load = (tenant: string) => fetchStatistics(tenant).then((stats) => new PartitionStatistics(stats));

  return {
    get(tenant) {
      const entry = entries.get(tenant);
      if (!entry) {
        const statistics = load(tenant);
        entries.set(tenant, { statistics, fetchedAt: now(), refreshing: false });
        statistics.catch(() => entries.delete(tenant)); // the next request tries again
        return statistics;
      }
      if (now() - entry.fetchedAt > options.ttlMs && !entry.refreshing) {
        entry.refreshing = true;
        load(tenant).then(
          (fresh) => entries.set(tenant, { statistics: Promise.resolve(fresh), fetchedAt: now(), refreshing: false }),
          () => {
            entry.refreshing = false;
            entry.fetchedAt = now(); // keep the previous statistics; retry after another ttl
          },
        );
      }
      return entry.statistics;
    },
    invalidate(tenant) {
      entries.delete(tenant);
    },
  };
}

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
