/**
 * The documents of automatic persisted queries (Apollo's APQ: a query's sha256 → its text), in the
 * shared tiered cache (common/tieredCache.ts): with REDIS_URL in Redis, so a hash registered through one
 * gateway replica is known to all of them; without, in this process's memory. A hash names its text for
 * ever, so an entry can never be stale; a store that fails reads as "not found", and the client sends
 * the full query again (APQ's own recovery).
 */
import { type TieredCache, type TieredCacheStatus, openTieredCache } from '../common/tieredCache';

/** Apollo Server's KeyValueCache of persisted query texts, and the store's health. */
export interface PersistedQueryStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /** Documents are never deleted (Apollo Server never asks). */
  delete(key: string): Promise<boolean>;
  status(): TieredCacheStatus;
  close(): Promise<void>;
}

/** How long a registered document is kept after its last registration. */
export const PERSISTED_QUERY_TTL_MS = 7 * 24 * 3_600_000;

export async function openPersistedQueries(options: { redisUrl?: string; log?: (message: string) => void }): Promise<PersistedQueryStore> {
  const cache: TieredCache<string> = await openTieredCache<string>({
    redisUrl: options.redisUrl,
    namespace: 'bytegate:apq',
    ttlMs: PERSISTED_QUERY_TTL_MS,
    maxEntries: 10_000,
    maxBytes: 64 * 2 ** 20,
    sizeOf: (text) => text.length,
    name: 'persisted query store',
    log: options.log,
  });
  return {
    get: async (key) => (await cache.getMany([key]))[0],
    set: (key, value) => cache.setMany([{ key, value }]),
    delete: async () => false,
    status: () => cache.status(),
    close: () => cache.close(),
  };
}
