/**
 * What the BigQuery adapter knows of each tenant's tables — every partition's rows, logical bytes and
 * last modification (the estimator's statistics, the caches' data versions) and the column split
 * recorded at ingest — read only when something changed:
 *
 * - Change is detected with tables.get (`lastModifiedTime`: an API call, not a query job, billed 0),
 *   at most once per `checkIntervalMs` for a tenant someone asks about, never for an idle one.
 * - Only what changed is re-read: one INFORMATION_SCHEMA.PARTITIONS query for the changed priced
 *   tables, and `_partition_stats` when it changed — at most one metadata query per changed table.
 * - The safety net: everything is re-read at most once per `fullReadIntervalMs` (what tables.get does
 *   not show, e.g. an expired partition).
 * - One process at a time checks a tenant (a lease in the store); what it read is stored (with Redis,
 *   for every replica) and the others adopt it without asking BigQuery.
 * - bytegate's own writer re-reads what it wrote right after writing (`afterWrite`) and announces the
 *   write on the data-change feed: every replica drops its copy and adopts the stored one, again
 *   without asking BigQuery. A check that finds changes made outside bytegate announces them too.
 * Every metadata query is metered as overhead `metadata` (overhead.ts).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { BigQuery } from '@google-cloud/bigquery';
import type { DataChangeFeed } from '../../common/changeFeed';
import { DEFAULT_METADATA_CHECK_MS, DEFAULT_METADATA_FULL_READ_MS } from '../../common/config';
import { badUserInput } from '../../common/errors';
import { TABLES } from '../../pricing/tables';
import { OVERHEAD_REASONS, type OverheadMeter } from '../overhead';
import type { QueryParam, SqlDialect } from '../warehouse';
import { bigQueryDialect } from './bigQueryDialect';
import { type RetryPolicy, labelValue, runOwnJob, withRetries } from './jobs';
import { type MetadataStamp, type MetadataStore, type PartitionRow, type RecordedColumn, type TenantMetadata, memoryMetadataStore } from './metadataStore';
import { STATISTICS_TABLE } from './provision';

/** How metadata is kept and checked: the configuration's part (METADATA_CHECK_MS, METADATA_FULL_READ_MS, REDIS_URL). */
export interface MetadataOptions {
  /** Default: this process's memory. */
  readonly store?: MetadataStore;
  /** Drops this process's copy of a tenant when a write is announced; a check announces outside writes. */
  readonly changes?: DataChangeFeed;
  /** How often a tenant's tables are checked for change (0: on every read); default 60 s. */
  readonly checkIntervalMs?: number;
  /** How often everything is re-read whatever the checks say; default 1 h. */
  readonly fullReadIntervalMs?: number;
}

export interface BigQueryMetadataOptions extends MetadataOptions {
  readonly client: BigQuery;
  readonly projectId: string;
  readonly location?: string;
  readonly datasetPrefix: string;
  /** The `bytegate_version` job label. */
  readonly version: string;
  readonly policy: RetryPolicy;
  readonly jobTimeoutMs: number;
  readonly overhead?: OverheadMeter;
  readonly now?: () => number;
}

export interface BigQueryMetadata {
  /** The tenant's metadata: at most `checkIntervalMs` behind its tables, or behind an announced write. */
  get(tenant: string): Promise<TenantMetadata>;
  /** Right after bytegate wrote the tenant's dataset: re-reads what changed and stores it for every process. */
  afterWrite(tenant: string): Promise<void>;
}

/** The tables a check looks at: the priced ones and the recorded column split. */
export const WATCHED_TABLES: readonly string[] = [...Object.keys(TABLES), STATISTICS_TABLE.name];

/** A check holds its tenant's lease at most this long (a process that died holding it is waited out). */
export const LEASE_MS = 30_000;
/** While another process checks: how often its result is looked for, and how long a copy in hand is served meanwhile. */
const LEASE_POLL_MS = 100;
const SERVE_WHILE_CHECKED_MS = 1000;

export function createBigQueryMetadata(options: BigQueryMetadataOptions): BigQueryMetadata {
  const { client, projectId, location, datasetPrefix, policy } = options;
  const store = options.store ?? memoryMetadataStore();
  const checkIntervalMs = options.checkIntervalMs ?? DEFAULT_METADATA_CHECK_MS;
  const fullReadIntervalMs = options.fullReadIntervalMs ?? DEFAULT_METADATA_FULL_READ_MS;
  const now = options.now ?? Date.now;
  /** This process's copies, each served until `validUntil`. */
  const copies = new Map<string, { metadata: TenantMetadata; validUntil: number }>();
  /** One refresh per tenant at a time. */
  const refreshing = new Map<string, Promise<TenantMetadata>>();
  /** Announced writes per tenant: a refresh that began before one keeps nothing (what it read may predate the write). */
  const announced = new Map<string, number>();
  options.changes?.subscribe(({ tenant }) => {
    copies.delete(tenant);
    refreshing.delete(tenant);
    announced.set(tenant, (announced.get(tenant) ?? 0) + 1);
  });

  const datasetOf = (tenant: string) => `${datasetPrefix}_${tenant}`;
  /** Keeps `metadata` as this process's copy until `validUntil` — unless a write was announced since `since`. */
  const keep = (tenant: string, since: number, metadata: TenantMetadata, validUntil = metadata.checkedAt + checkIntervalMs) => {
    if ((announced.get(tenant) ?? 0) === since) copies.set(tenant, { metadata, validUntil });
    return metadata;
  };

  /** A metadata query, metered. */
  async function metadataQuery<Row>(tenant: string, name: string, sql: (d: SqlDialect) => string, params: Record<string, QueryParam>): Promise<Row[]> {
    const d = bigQueryDialect(projectId, datasetOf(tenant));
    const { rows, bill } = await withRetries(`${name} of tenant ${tenant}`, policy, () => runOwnJob<Row>(client, {
      sql: sql(d), params, location, jobTimeoutMs: options.jobTimeoutMs,
      labels: { tenant: labelValue(tenant), query: labelValue(name), bytegate_version: labelValue(options.version) },
    }), ({ status }) => (status === 404 ? unknownTenant(tenant) : undefined));
    options.overhead?.record(tenant, OVERHEAD_REASONS.metadata, bill);
    return rows;
  }

  /** tables.get of every watched table: when each was last modified (absent: no such table). */
  async function lastModified(tenant: string): Promise<Record<string, string>> {
    const dataset = client.dataset(datasetOf(tenant), { location });
    const found = await Promise.all(WATCHED_TABLES.map(async (table) => {
      try {
        const [metadata] = await withRetries(`tables.get ${table} of tenant ${tenant}`, policy, () => dataset.table(table).getMetadata());
        return [table, String((metadata as { lastModifiedTime?: string }).lastModifiedTime)] as const;
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return undefined;
        throw error;
      }
    }));
    if (found.every((entry) => entry === undefined)) throw unknownTenant(tenant);
    return Object.fromEntries(found.filter((entry) => entry !== undefined));
  }

  /** Partitions of the priced `tables` (INFORMATION_SCHEMA.PARTITIONS), days only and unpartitioned tables. */
  async function readPartitions(tenant: string, tables: readonly string[]): Promise<PartitionRow[]> {
    const rows = await metadataQuery<{ table_name: string; partition_id: string | null; total_rows: number | null; total_logical_bytes: number | null; version: string }>(
      tenant, 'partitions',
      (d) => `SELECT p.table_name, p.partition_id, p.total_rows, p.total_logical_bytes, CAST(UNIX_MICROS(p.last_modified_time) AS STRING) AS version
        FROM ${d.table('INFORMATION_SCHEMA.PARTITIONS')} AS p WHERE ${d.inArray('p.table_name', 'tables')}`,
      { tables: { type: 'STRING_ARRAY', value: tables } },
    );
    return rows.flatMap((r): PartitionRow[] => {
      // NULL: an unpartitioned table; YYYYMMDD: a day; __NULL__ / __UNPARTITIONED__ hold no day's data.
      if (r.partition_id !== null && !/^\d{8}$/.test(r.partition_id)) return [];
      const day = r.partition_id === null ? null : `${r.partition_id.slice(0, 4)}-${r.partition_id.slice(4, 6)}-${r.partition_id.slice(6, 8)}`;
      return [{ table: r.table_name, day, rows: Number(r.total_rows ?? 0), logicalBytes: Number(r.total_logical_bytes ?? 0), version: String(r.version) }];
    });
  }

  async function readRecorded(tenant: string): Promise<RecordedColumn[]> {
    const rows = await metadataQuery<{ table_name: string; day: string | null; column_path: string; logical_bytes: number }>(
      tenant, 'partitionStats',
      (d) => `SELECT s.table_name, CAST(s.day AS STRING) AS day, s.column_path, s.logical_bytes FROM ${d.table(STATISTICS_TABLE.name)} AS s`,
      {},
    );
    return rows.map((r) => ({ table: r.table_name, day: r.day, column: r.column_path, logicalBytes: Number(r.logical_bytes) }));
  }

  /**
   * Checks the tables against `base` and re-reads what changed (everything without a base, or when
   * the safety net is due); `reread` says whether any query ran.
   */
  async function check(tenant: string, base: TenantMetadata | undefined): Promise<{ metadata: TenantMetadata; reread: boolean }> {
    const at = now();
    const modified = await lastModified(tenant);
    const full = !base || at - base.fullReadAt >= fullReadIntervalMs;
    const priced = Object.keys(TABLES).filter((table) => table in modified);
    const changedTables = full ? priced : priced.filter((table) => modified[table] !== base.lastModified[table]);
    const statsChanged = full || modified[STATISTICS_TABLE.name] !== base.lastModified[STATISTICS_TABLE.name];
    if (!full && changedTables.length === 0 && !statsChanged) return { metadata: { ...base, lastModified: modified, checkedAt: at }, reread: false };
    const [partitions, recorded] = await Promise.all([
      changedTables.length === 0 ? base!.partitions
        : readPartitions(tenant, changedTables).then((fresh) => (full ? fresh
          : [...base!.partitions.filter((p) => p.table in modified && !changedTables.includes(p.table)), ...fresh])),
      statsChanged && STATISTICS_TABLE.name in modified ? readRecorded(tenant) : statsChanged ? [] : base!.recorded,
    ]);
    return { metadata: { lastModified: modified, checkedAt: at, fullReadAt: full ? at : base!.fullReadAt, partitions: inOrder(partitions), recorded }, reread: true };
  }

  /** Checks `tenant` from the freshest state known and stores the result for every process. */
  async function checkAndStore(tenant: string, base: TenantMetadata | undefined): Promise<{ metadata: TenantMetadata; reread: boolean }> {
    const dataset = datasetOf(tenant);
    const result = await check(tenant, base);
    const { lastModified: modified, checkedAt, fullReadAt } = result.metadata;
    await (result.reread ? store.put(dataset, result.metadata) : store.touch(dataset, { lastModified: modified, checkedAt, fullReadAt }));
    return result;
  }

  /** The stored snapshot `stamp` describes: `mine` when it is the same, else fetched (undefined when the store lost it). */
  async function adopt(tenant: string, stamp: MetadataStamp, mine: TenantMetadata | undefined): Promise<TenantMetadata | undefined> {
    if (mine && sameState(mine, stamp)) return { ...mine, checkedAt: stamp.checkedAt };
    const stored = await store.get(datasetOf(tenant));
    return stored && sameState(stored, stamp) ? stored : undefined;
  }

  async function refresh(tenant: string, mine: TenantMetadata | undefined): Promise<TenantMetadata> {
    const dataset = datasetOf(tenant);
    const giveUpAt = now() + LEASE_MS;
    const since = announced.get(tenant) ?? 0;
    for (;;) {
      const stamp = await store.stamp(dataset);
      if (stamp && now() - stamp.checkedAt < checkIntervalMs) {
        const adopted = await adopt(tenant, stamp, mine);
        if (adopted) return keep(tenant, since, adopted);
      }
      const release = await store.lease(dataset, LEASE_MS);
      if (release) {
        try {
          const base = stamp ? (await adopt(tenant, stamp, mine)) ?? mine : mine;
          const { metadata, reread } = await checkAndStore(tenant, base);
          if (reread && base) void options.changes?.publish({ tenant, days: [] });
          return keep(tenant, since, metadata);
        } finally {
          await release();
        }
      }
      // Another process is checking: serve what is at hand meanwhile, else wait for its result
      // (or, should it have died holding the lease, check after all).
      const atHand = mine ?? (stamp && (await store.get(dataset)));
      if (atHand) return keep(tenant, since, atHand, now() + SERVE_WHILE_CHECKED_MS);
      if (now() >= giveUpAt) return keep(tenant, since, (await checkAndStore(tenant, undefined)).metadata);
      await delay(LEASE_POLL_MS);
    }
  }

  return {
    get(tenant) {
      const copy = copies.get(tenant);
      if (copy && now() < copy.validUntil) return Promise.resolve(copy.metadata);
      let pending = refreshing.get(tenant);
      if (!pending) {
        const started: Promise<TenantMetadata> = refresh(tenant, copy?.metadata).finally(() => {
          if (refreshing.get(tenant) === started) refreshing.delete(tenant);
        });
        refreshing.set(tenant, (pending = started));
      }
      return pending;
    },

    async afterWrite(tenant) {
      const dataset = datasetOf(tenant);
      let release: (() => Promise<void>) | undefined;
      // Waits out a check in progress, so it cannot store what it read before this write over what this reads after it.
      for (const giveUpAt = now() + LEASE_MS; !(release = await store.lease(dataset, LEASE_MS)) && now() < giveUpAt;) await delay(LEASE_POLL_MS);
      try {
        const since = announced.get(tenant) ?? 0;
        keep(tenant, since, (await checkAndStore(tenant, await store.get(dataset))).metadata);
      } finally {
        await release?.();
      }
    },
  };
}

// Private:

function unknownTenant(tenant: string) {
  return badUserInput(`Unknown tenant "${tenant}".`);
}

/** By table, then day (a partial re-read lists the same partitions as a full one, in the same order). */
function inOrder(partitions: readonly PartitionRow[]): PartitionRow[] {
  const key = (p: PartitionRow) => `${p.table}\u0000${p.day ?? ''}`;
  return [...partitions].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Whether two states describe the same tables as last read (a check may have happened since). */
function sameState(a: MetadataStamp, b: MetadataStamp): boolean {
  if (a.fullReadAt !== b.fullReadAt) return false;
  const keys = Object.keys(a.lastModified);
  return keys.length === Object.keys(b.lastModified).length && keys.every((table) => a.lastModified[table] === b.lastModified[table]);
}
