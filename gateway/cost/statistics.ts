/**
 * Partition statistics for the estimator, per tenant, cached at the gateway. They come from
 * `fetchStatistics` (by default the subgraph serving `_scanStatistics`: execute/statisticsFetch.ts)
 * and are refreshed in the background once older than `ttlMs`, so an ingest shows up within that
 * time while estimation itself never waits on I/O after the first request of a tenant. A failed
 * refresh keeps serving the previous statistics.
 */
import { type PartitionStat, PartitionStatistics } from '../../pricing/scanBytes';

export type FetchStatistics = (tenant: string) => Promise<PartitionStat[]>;

export interface StatisticsCache {
  get(tenant: string): Promise<PartitionStatistics>;
  /** Forgets the tenant's statistics (e.g. a job refused by its cap suggests they are stale). */
  invalidate(tenant: string): void;
}

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
