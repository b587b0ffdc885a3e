/**
 * The aggregate cache: resolved aggregates (a tenant's topTimeWasters for a range, a user's
 * productivity for a range, …) kept for CACHE_TTL_MS (24 h) across requests, and across replicas
 * when the store is Redis (REDIS_URL). Stored in a TieredCache (common/tieredCache.ts): Redis with a
 * local level in front (safe because keys carry the data version: an entry is never stale for its
 * key), or an in-memory LRU; failing open, so no request fails because of the cache.
 *
 * - Keys are built by cachedAggregates.ts and carry the tenant and everything that changes the
 *   answer; this module only stores and fetches them.
 * - Single flight: a key being computed in this process is not computed again; concurrent callers
 *   missing it wait for the one computation (until its value is stored, so no caller falls between
 *   the computation and the store).
 */
import { type TieredCacheStatus, openTieredCache } from '../../common/tieredCache';

export interface AggregateCache {
  /**
   * The values of `keys`, in order: from the store where present, else from one call of
   * `computeMissing(missing)` (indexes into keys, ascending), which must return their values in the
   * same order; those are then stored. `hits` counts the values this call did not compute (stored,
   * or computed by a concurrent caller).
   */
  loadMany<T>(keys: readonly string[], computeMissing: (missing: readonly number[]) => Promise<T[]>): Promise<{ values: T[]; hits: number }>;
  status(): CacheStatus;
  close(): Promise<void>;
}

export interface CacheStatus extends TieredCacheStatus {
  readonly hits: number;
  readonly misses: number;
}

export interface AggregateCacheOptions {
  /** Redis URL; undefined: in memory, this process only. */
  readonly redisUrl?: string;
  readonly ttlMs: number;
  /** Longest wait for the store before treating it as down; default 250 ms. */
  readonly timeoutMs?: number;
  /** In-memory store: most entries kept (least recently used dropped first); default 50,000. */
  readonly maxEntries?: number;
  readonly log?: (message: string) => void;
  /** Redis key prefix; default CACHE_KEY_PREFIX (benchmarks use one of their own to start cold). */
  readonly namespace?: string;
  /** With Redis: how long this process keeps entries it read or wrote (0: no local level); default 60 s. */
  readonly localTtlMs?: number;
}

/** Redis keys: `bytegate:aggregate::<key>` (@keyv/redis puts `::` after its namespace). */
export const CACHE_KEY_PREFIX = 'bytegate:aggregate';

export async function openAggregateCache(options: AggregateCacheOptions): Promise<AggregateCache> {
  const store = await openTieredCache<unknown>({ ...options, namespace: options.namespace ?? CACHE_KEY_PREFIX, name: 'aggregate cache' });
  const inFlight = new Map<string, Promise<unknown>>();
  const counts = { hits: 0, misses: 0 };

  return {
    async loadMany<T>(keys: readonly string[], computeMissing: (missing: readonly number[]) => Promise<T[]>) {
      const values = (await store.getMany(keys)) as T[];
      const missing: number[] = [];
      const shared: Promise<void>[] = [];
      /** Shared computations that failed: computed again under this caller's own caps. */
      const retry: number[] = [];
      keys.forEach((key, i) => {
        if (values[i] !== undefined) return;
        const computing = inFlight.get(key);
        if (computing) shared.push(computing.then((value) => void (values[i] = value as T), () => void retry.push(i)));
        else missing.push(i);
      });
      if (missing.length > 0) {
        // Registered before anything is awaited, so a concurrent caller finds the computation.
        const computed = computeMissing(missing);
        const stored = computed.then(async (results) => {
          await store.setMany(missing.map((i, j) => ({ key: keys[i], value: results[j] })));
          return results;
        });
        missing.forEach((i, j) => {
          const one = stored.then((results) => results[j]);
          one.catch(() => undefined);
          inFlight.set(keys[i], one);
          void one.finally(() => inFlight.get(keys[i]) === one && inFlight.delete(keys[i])).catch(() => undefined);
        });
        const results = await computed;
        missing.forEach((i, j) => (values[i] = results[j]));
      }
      await Promise.all(shared);
      if (retry.length > 0) {
        retry.sort((a, b) => a - b);
        const results = await computeMissing(retry);
        retry.forEach((i, j) => (values[i] = results[j]));
      }
      const hits = keys.length - missing.length - retry.length;
      counts.hits += hits;
      counts.misses += keys.length - hits;
      return { values, hits };
    },

    status: () => ({ ...store.status(), ...counts }),
    close: () => store.close(),
  };
}
