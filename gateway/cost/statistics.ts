/**
 * Partition statistics for the estimator, per tenant, cached at the gateway. They come from
 * `fetchStatistics` (by default the subgraph serving `_scanStatistics`: execute/internalFetch.ts)
 * and are refreshed in the background once older than `ttlMs`, so an ingest shows up within that
 * time while estimation itself never waits on I/O after the first request of a tenant. A failed
 * refresh keeps serving the previous statistics.
 */
import { createRefreshingCache } from '../../common/refreshingCache';
import { type PartitionStat, PartitionStatistics } from '../../pricing/scanBytes';

export type FetchStatistics = (tenant: string) => Promise<PartitionStat[]>;

export interface StatisticsCache {
  get(tenant: string): Promise<PartitionStatistics>;
  /** Forgets the tenant's statistics (e.g. a job refused by its cap suggests they are stale). */
  invalidate(tenant: string): void;
}

export function createStatisticsCache(fetchStatistics: FetchStatistics, options: { ttlMs: number; now?: () => number }): StatisticsCache {
  return createRefreshingCache((tenant) => fetchStatistics(tenant).then((stats) => new PartitionStatistics(stats)), { ...options, stale: 'serve' });
}
