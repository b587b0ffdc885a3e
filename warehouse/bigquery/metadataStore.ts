/**
 * Where the BigQuery adapter keeps what it read of each tenant's tables (metadata.ts), so that one
 * process reads and every replica reuses: Redis when REDIS_URL is set (one hash per dataset: a small
 * `stamp` that says whether a copy is current, and the `snapshot` itself; a lease key so that one
 * process at a time checks a tenant), else this process's memory.
 *
 * Fails open: a Redis that errs or does not answer within `timeoutMs` reads as empty, skips writes and
 * grants the lease — each process then reads for itself (metered, never wrong) until Redis is back.
 * The outage is logged once.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { inOrderDeadline } from '../../common/inOrderDeadline';
import { trackOutage } from '../../common/outage';
import { connectWithin, resilientClientOptions } from '../../common/redis';
import type { PartitionTotals } from './partitionEstimates';

/** A partition as INFORMATION_SCHEMA.PARTITIONS lists it (day null: an unpartitioned table). */
export interface PartitionRow extends PartitionTotals {
  /** last_modified_time in µs: changes with every write to the partition, and only then. */
  readonly version: string;
}

/** A row of `_partition_stats`: the logical bytes ingest recorded for one column of one partition. */
export interface RecordedColumn {
  readonly table: string;
  readonly day: string | null;
  readonly column: string;
  readonly logicalBytes: number;
}

/** Enough to tell whether a copy of the snapshot is current, without fetching it. */
export interface MetadataStamp {
  /** tables.get `lastModifiedTime` of each table of the dataset at the last check (absent: no such table). */
  readonly lastModified: Readonly<Record<string, string>>;
  /** When the tables were last checked for change (epoch ms). */
  readonly checkedAt: number;
  /** When everything was last read whatever the checks said: the safety net (epoch ms). */
  readonly fullReadAt: number;
}

export interface TenantMetadata extends MetadataStamp {
  readonly partitions: readonly PartitionRow[];
  readonly recorded: readonly RecordedColumn[];
}

export interface MetadataStore {
  readonly kind: 'redis' | 'memory';
  stamp(dataset: string): Promise<MetadataStamp | undefined>;
  get(dataset: string): Promise<TenantMetadata | undefined>;
  put(dataset: string, metadata: TenantMetadata): Promise<void>;
  /** A check found nothing changed: only the stamp is written (the snapshot stays as stored). */
  touch(dataset: string, stamp: MetadataStamp): Promise<void>;
  /**
   * The right to check `dataset` now, for at most `ttlMs`: resolves to its release, or undefined
   * while another process holds it.
   */
  lease(dataset: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  close(): Promise<void>;
}

export function memoryMetadataStore(): MetadataStore {
  const entries = new Map<string, TenantMetadata>();
  return {
    kind: 'memory',
    stamp: async (dataset) => entries.get(dataset),
    get: async (dataset) => entries.get(dataset),
    async put(dataset, metadata) {
      entries.set(dataset, metadata);
    },
    async touch(dataset, stamp) {
      const stored = entries.get(dataset);
      if (stored) entries.set(dataset, { ...stored, ...stamp });
    },
    // One process: the catalog already runs one check per tenant at a time.
    lease: async () => async () => undefined,
    async close() {
      entries.clear();
    },
  };
}

export interface RedisMetadataStoreOptions {
  readonly url: string;
  /** Longest wait for Redis before treating it as down; default 250 ms. */
  readonly timeoutMs?: number;
  /** Entries expire this long after their last write (an idle tenant is read afresh later); default 1 day. */
  readonly ttlMs?: number;
  readonly log?: (message: string) => void;
}

/** Redis keys: `bytegate:metadata:<dataset>` (hash: stamp, snapshot) and `bytegate:metadata-lease:<dataset>`. */
export const METADATA_KEY_PREFIX = 'bytegate:metadata';

export async function openRedisMetadataStore(options: RedisMetadataStoreOptions): Promise<MetadataStore> {
  const timeoutMs = options.timeoutMs ?? 250;
  const ttlMs = options.ttlMs ?? 86_400_000;
  const log = options.log ?? ((message: string) => console.warn(message));
  const client = createClient({ url: options.url, ...resilientClientOptions(1000) });
  client.on('error', () => undefined); // counted where a command fails; the client reconnects by itself
  await connectWithin(client, timeoutMs);
  const deadline = inOrderDeadline(timeoutMs);
  const outage = trackOutage({
    down: (error) => log(`metadata store: Redis unreachable (${error.message}); each process reads BigQuery metadata for itself until it is back`),
    up: (seconds) => log(`metadata store: Redis reachable again after ${seconds} s`),
  });
  /** `command`'s answer, or `fallback` when Redis fails or is too slow. */
  const call = async <T>(command: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      const answer = await deadline(command);
      outage.ok();
      return answer;
    } catch (error) {
      outage.failed(error as Error);
      return fallback;
    }
  };
  const key = (dataset: string) => `${METADATA_KEY_PREFIX}:${dataset}`;
  const leaseKey = (dataset: string) => `${METADATA_KEY_PREFIX}-lease:${dataset}`;
  const parse = <T>(text: string | null | undefined): T | undefined => (text ? (JSON.parse(text) as T) : undefined);

  return {
    kind: 'redis',
    stamp: (dataset) => call(async () => parse<MetadataStamp>(await client.hGet(key(dataset), 'stamp')), undefined),
    // The stamp is written more often than the snapshot (touch): it is the one to believe.
    get: (dataset) => call(async () => {
      const [stamp, snapshot] = await client.hmGet(key(dataset), ['stamp', 'snapshot']);
      const metadata = parse<TenantMetadata>(snapshot);
      return metadata && { ...metadata, ...parse<MetadataStamp>(stamp) };
    }, undefined),
    async put(dataset, metadata) {
      const { lastModified, checkedAt, fullReadAt } = metadata;
      // One transaction: a reader never sees a stamp without its snapshot.
      await call(() => client.multi()
        .hSet(key(dataset), { stamp: JSON.stringify({ lastModified, checkedAt, fullReadAt }), snapshot: JSON.stringify(metadata) })
        .pExpire(key(dataset), ttlMs)
        .exec(), undefined);
    },
    async touch(dataset, stamp) {
      await call(() => client.multi().hSet(key(dataset), 'stamp', JSON.stringify(stamp)).pExpire(key(dataset), ttlMs).exec(), undefined);
    },
    async lease(dataset, leaseMs) {
      const owner = randomUUID();
      const granted = await call(async () => (await client.set(leaseKey(dataset), owner, { NX: true, PX: leaseMs })) === 'OK', true);
      if (!granted) return undefined;
      return async () => {
        // Only our own lease: one that expired and was taken by another process stays theirs.
        await call(() => client.eval(RELEASE_SCRIPT, { keys: [leaseKey(dataset)], arguments: [owner] }), undefined);
      };
    },
    async close() {
      if (client.isOpen) client.destroy();
    },
  };
}

// Private:

const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
