/**
 * A key-value cache for values that are never stale for their key (keys carry the data versions they
 * were computed from), shared by the subgraphs' aggregate cache and the gateway's response cache:
 *
 * - With REDIS_URL: Redis (Keyv + @keyv/redis), shared by replicas, entries kept `ttlMs`; in front of it
 *   a local LRU level kept `localTtlMs`, so a hot entry costs no round trip. Without: an in-memory LRU.
 * - Fails open: a store that errs or does not answer within `timeoutMs` reads as a miss and skips
 *   writes; the failure is counted, logged once per outage, and reported by `status()`. The Redis
 *   client does not queue commands while disconnected (they fail at once) and reconnects by itself.
 */
import KeyvRedis, { createClient } from '@keyv/redis';
import Keyv from 'keyv';
import { LRUCache } from 'lru-cache';
import { inOrderDeadline } from './inOrderDeadline';
import { trackOutage } from './outage';
import { connectWithin, resilientClientOptions } from './redis';

export interface TieredCache<V> {
  /** The values of `keys`, in order (undefined: not stored, or the store failed). */
  getMany(keys: readonly string[]): Promise<(V | undefined)[]>;
  /** Stores the entries (kept locally at once; the store's answer awaited, failures swallowed). */
  setMany(entries: readonly { key: string; value: V }[]): Promise<void>;
  status(): TieredCacheStatus;
  /** Lets pending writes finish, then closes the store. */
  close(): Promise<void>;
}

export interface TieredCacheStatus {
  readonly store: 'redis' | 'memory';
  readonly state: 'ok' | 'unreachable';
  readonly since?: string;
  /** Store calls that failed or were too slow. */
  readonly errors: number;
}

export interface TieredCacheOptions<V = unknown> {
  /** Redis URL; undefined: in memory, this process only. */
  readonly redisUrl?: string;
  /** Redis key prefix (@keyv/redis puts `::` after it). */
  readonly namespace: string;
  readonly ttlMs: number;
  /** Longest wait for the store before treating it as down; default 250 ms. */
  readonly timeoutMs?: number;
  /** In-memory store: most entries kept (least recently used dropped first); default 50,000. */
  readonly maxEntries?: number;
  /** With Redis: how long this process keeps entries it read or wrote (0: no local level); default 60 s. */
  readonly localTtlMs?: number;
  /** With Redis: most entries of the local level; default 10,000. */
  readonly localEntries?: number;
  /** Bounds the memory of the local level (or the in-memory store) in bytes as `sizeOf` measures entries, besides their count. */
  readonly maxBytes?: number;
  readonly sizeOf?: (value: V) => number;
  /** Names the cache in its outage log lines, e.g. "aggregate cache". */
  readonly name: string;
  readonly log?: (message: string) => void;
}

export async function openTieredCache<V>(options: TieredCacheOptions<V>): Promise<TieredCache<V>> {
  const timeoutMs = options.timeoutMs ?? 250;
  const { maxBytes, sizeOf } = options;
  const bySize = maxBytes !== undefined && sizeOf ? { maxSize: maxBytes, sizeCalculation: (entry: Stored<V>) => Math.max(1, sizeOf(entry.value)) } : {};
  const log = options.log ?? ((message: string) => console.warn(message));
  /** Redis, shared by replicas; none: this process's memory is the whole store. */
  let remote: Keyv<Stored<V>> | undefined;
  /** The local level: in front of Redis, or the store itself. */
  let local: LRUCache<string, Stored<V>> | undefined;
  let closeStore = async () => undefined;
  if (options.redisUrl) {
    const client = createClient({ url: options.redisUrl, ...resilientClientOptions(1000) });
    client.on('error', () => undefined); // counted where a command fails; the client reconnects by itself
    await connectWithin(client, timeoutMs);
    // Keyv hands its namespace to the store, which prefixes the keys (Keyv's own prefix would come on top).
    const store = new KeyvRedis<Stored<V>>(client, { throwOnErrors: true, throwOnConnectError: true, connectionTimeout: timeoutMs });
    remote = new Keyv<Stored<V>>({ store, namespace: options.namespace, useKeyPrefix: false, throwOnErrors: true });
    remote.on('error', () => undefined); // errors also reject the call (throwOnErrors), handled there
    const localTtlMs = Math.min(options.localTtlMs ?? LOCAL_TTL_MS, options.ttlMs);
    if (localTtlMs > 0) local = new LRUCache<string, Stored<V>>({ max: options.localEntries ?? LOCAL_ENTRIES, ttl: localTtlMs, ...bySize });
    closeStore = async () => {
      if (client.isOpen) client.destroy();
    };
  } else {
    local = new LRUCache<string, Stored<V>>({ max: options.maxEntries ?? 50_000, ttl: options.ttlMs, ...bySize });
  }

  /** Writes not yet answered: close() lets them finish (a store call after close would reconnect). */
  const writes = new Set<Promise<unknown>>();
  let errors = 0;
  const outage = trackOutage({
    down: (error) => log(`${options.name} unavailable (${error.message}); serving without it until it returns`),
    up: (seconds) => log(`${options.name} reachable again after ${seconds} s`),
  });
  const deadline = inOrderDeadline(timeoutMs);
  /** The store's answer, or undefined when it failed or was too slow (at once while an earlier call is overdue). */
  async function guarded<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await deadline(call);
      outage.ok();
      return result;
    } catch (error) {
      errors++;
      outage.failed(error as Error);
      return undefined;
    }
  }

  return {
    async getMany(keys) {
      const values = new Array<V | undefined>(keys.length);
      const missing: number[] = [];
      keys.forEach((key, i) => {
        const entry = local?.get(key);
        if (entry) values[i] = entry.value;
        else missing.push(i);
      });
      if (!remote || missing.length === 0) return values;
      const stored = (await guarded(() => remote!.getMany(missing.map((i) => keys[i])))) ?? [];
      missing.forEach((i, j) => {
        const entry = stored[j];
        if (!entry || typeof entry !== 'object' || !('value' in entry)) return;
        values[i] = entry.value;
        local?.set(keys[i], entry);
      });
      return values;
    },

    async setMany(entries) {
      for (const { key, value } of entries) local?.set(key, { value });
      if (!remote) return;
      const store = remote;
      const write = guarded(() => store.setMany(entries.map(({ key, value }) => ({ key, value: { value }, ttl: options.ttlMs }))));
      writes.add(write);
      await write;
      writes.delete(write);
    },

    status() {
      const since = outage.since();
      return {
        store: options.redisUrl ? 'redis' : 'memory',
        state: since === undefined ? 'ok' : 'unreachable',
        ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
        errors,
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

const LOCAL_TTL_MS = 60_000;
const LOCAL_ENTRIES = 10_000;

/** Wrapped, so a stored null (a user without activity) is told apart from a miss. */
interface Stored<V> {
  value: V;
}
