/**
 * The aggregate cache: resolved aggregates (a tenant's topTimeWasters for a range, a user's
 * productivity for a range, …) kept for CACHE_TTL_MS (24 h) across requests, and across replicas
 * when the store is Redis (REDIS_URL; Keyv + @keyv/redis). Without REDIS_URL: an in-memory LRU.
 *
 * - Keys are built by cachedAggregates.ts and carry the tenant and everything that changes the
 *   answer; this module only stores and fetches them.
 * - Two levels with Redis: hot entries are also kept in this process for LOCAL_TTL_MS (an LRU), so a
 *   warm dashboard costs no round trip. Safe because keys carry the data version: an entry is never
 *   stale for its key, it only outlives its Redis TTL by at most LOCAL_TTL_MS.
 * - Single flight: a key being computed in this process is not computed again; concurrent callers
 *   missing it wait for the one computation (until its value is stored, so no caller falls between
 *   the computation and the store).
 * - Fails open: a store that errs or does not answer within `timeoutMs` counts as a miss (reads) or
 *   is skipped (writes); the failure is counted, logged once per outage, and reported by `status()`.
 *   No request fails because of the cache. The Redis client does not queue commands while
 *   disconnected (they fail at once) and reconnects by itself.
 */
import KeyvRedis, { createClient } from '@keyv/redis';
import Keyv from 'keyv';
import { LRUCache } from 'lru-cache';
import { trackOutage } from '../../common/outage';
import { inOrderDeadline } from '../../common/inOrderDeadline';
import { connectWithin, resilientClientOptions } from '../../common/redis';

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

export interface CacheStatus {
  readonly store: 'redis' | 'memory';
  readonly state: 'ok' | 'unreachable';
  readonly since?: string;
  readonly hits: number;
  readonly misses: number;
  readonly errors: number;
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
const LOCAL_TTL_MS = 60_000;
const LOCAL_ENTRIES = 10_000;

export async function openAggregateCache(options: AggregateCacheOptions): Promise<AggregateCache> {
  const timeoutMs = options.timeoutMs ?? 250;
  const log = options.log ?? ((message: string) => console.warn(message));
  let keyv: Keyv<Stored>;
  /** The local level in front of Redis (none for the in-memory store, which is local already). */
  let local: LRUCache<string, Stored> | undefined;
  let closeStore: () => Promise<void>;
  if (options.redisUrl) {
    const client = createClient({ url: options.redisUrl, ...resilientClientOptions(1000) });
    client.on('error', () => undefined); // counted where a command fails; the client reconnects by itself
    await connectWithin(client, timeoutMs);
    // Keyv hands its namespace to the store, which prefixes the keys (Keyv's own prefix would come on top).
    const store = new KeyvRedis<Stored>(client, { throwOnErrors: true, throwOnConnectError: true, connectionTimeout: timeoutMs });
    keyv = new Keyv<Stored>({ store, namespace: options.namespace ?? CACHE_KEY_PREFIX, useKeyPrefix: false, throwOnErrors: true });
    const localTtlMs = Math.min(options.localTtlMs ?? LOCAL_TTL_MS, options.ttlMs);
    if (localTtlMs > 0) local = new LRUCache<string, Stored>({ max: LOCAL_ENTRIES, ttl: localTtlMs });
    closeStore = async () => {
      if (client.isOpen) client.destroy();
    };
  } else {
    const lru = new LRUCache<string, Stored>({ max: options.maxEntries ?? 50_000 });
    // Keyv calls set(key, value, ttlMs) on a Map-like store, and LRUCache's third argument is an
    // options object: hand it the entry only (Keyv keeps the expiry inside the entry anyway).
    const store = {
      get: (key: string) => lru.get(key),
      set: (key: string, value: Stored) => void lru.set(key, value),
      delete: (key: string) => lru.delete(key),
      has: (key: string) => lru.has(key),
      clear: () => lru.clear(),
    };
    keyv = new Keyv<Stored>({ store, useKeyPrefix: false, throwOnErrors: true });
    closeStore = async () => lru.clear();
  }
  keyv.on('error', () => undefined); // errors also reject the call (throwOnErrors), handled there

  const inFlight = new Map<string, Promise<unknown>>();
  /** Writes not yet answered: close() lets them finish (a store call after close would reconnect). */
  const writes = new Set<Promise<unknown>>();
  const counts = { hits: 0, misses: 0, errors: 0 };
  const outage = trackOutage({
    down: (error) => log(`aggregate cache unavailable (${error.message}); serving from the warehouse until it returns`),
    up: (seconds) => log(`aggregate cache reachable again after ${seconds} s`),
  });

  const deadline = inOrderDeadline(timeoutMs);
  /** The store's answer, or undefined when it failed or was too slow (at once while an earlier call is overdue). */
  async function guarded<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await deadline(call);
      outage.ok();
      return result;
    } catch (error) {
      counts.errors++;
      outage.failed(error as Error);
      return undefined;
    }
  }

  return {
    async loadMany<T>(keys: readonly string[], computeMissing: (missing: readonly number[]) => Promise<T[]>) {
      const values = new Array<T>(keys.length);
      const remote: number[] = [];
      keys.forEach((key, i) => {
        const entry = local?.get(key);
        if (entry) values[i] = entry.value as T;
        else remote.push(i);
      });
      const stored = remote.length > 0 ? ((await guarded(() => keyv.getMany(remote.map((i) => keys[i])))) ?? []) : [];
      const missing: number[] = [];
      const shared: Promise<void>[] = [];
      /** Shared computations that failed: computed again under this caller's own caps. */
      const retry: number[] = [];
      remote.forEach((i, j) => {
        const key = keys[i];
        const entry = stored[j];
        if (entry && typeof entry === 'object' && 'value' in entry) {
          values[i] = entry.value as T;
          local?.set(key, entry);
          return;
        }
        const computing = inFlight.get(key);
        if (computing) shared.push(computing.then((value) => void (values[i] = value as T), () => void retry.push(i)));
        else missing.push(i);
      });
      if (missing.length > 0) {
        // Registered before anything is awaited, so a concurrent caller finds the computation.
        const computed = computeMissing(missing);
        const stored = computed.then(async (results) => {
          missing.forEach((i, j) => local?.set(keys[i], { value: results[j] }));
          const write = guarded(() => keyv.setMany(missing.map((i, j) => ({ key: keys[i], value: { value: results[j] }, ttl: options.ttlMs }))));
          writes.add(write);
          await write;
          writes.delete(write);
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

    status() {
      const since = outage.since();
      return {
        store: options.redisUrl ? 'redis' : 'memory',
        state: since === undefined ? 'ok' : 'unreachable',
        ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
        ...counts,
      };
    },

    async close() {
      await Promise.all(writes);
      local?.clear();
      await closeStore();
    },
  };
}

// Private:

/** Wrapped, so a cached null (a user without activity) is told apart from a miss. */
interface Stored {
  value: unknown;
}
