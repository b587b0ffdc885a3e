/**
 * The embedded Warehouse adapter: one DuckDB database file per tenant (warehouse/duckdb/datasetFiles.ts),
 * opened read-only and shared by the requests of this process until an ingest changes it.
 *
 * Bytes are measured, not declared: each statement is parsed by DuckDB (`json_serialize_sql`),
 * analysed for the columns and day partitions it reads (scanAnalyzer.ts), and priced from the
 * statistics ingest recorded — the number BigQuery would report as totalBytesProcessed.
 */
import fs from 'node:fs';
import { type DuckDBConnection, type DuckDBInstance, DuckDBTypeId } from '@duckdb/node-api';
import { ErrorCode, badUserInput, bytegateError } from '../../common/errors';
import { billedBytes } from '../../pricing/billing';
import { PartitionStatistics, scanBytes } from '../../pricing/scanBytes';
import {
  NOTHING_BILLED, StoppedJobError, UNPARTITIONED_TABLES, UNWRITTEN_TABLE_VERSION, type Warehouse, type WarehouseQuery, type WarehouseResult,
} from '../warehouse';
import { type PartitionStat } from '../../pricing/scanBytes';
import { TABLES } from '../../pricing/tables';
import { type ReaderLimits, datasetPath, openReadOnly, sleep, writerActive } from './datasetFiles';
import { analyzeScans } from './scanAnalyzer';
import { TABLE_VERSIONS_TABLE, duckDbDialect, toDuckDbValues } from './duckDbSql';
import { createEmptyDataset } from './tenantDataset';

export interface DuckDbWarehouseOptions {
  dataDir: string;
  /** How long a query waits for an ingest holding the tenant's file, default 30 s; then WAREHOUSE_UNAVAILABLE. */
  busyTimeoutMs?: number;
  /** DuckDB's memory and thread bounds of each tenant's handle. */
  limits?: ReaderLimits;
}

/** How often idle handles look for a writer's marker: an ingest waits at most this long for an idle reader. */
const WRITER_POLL_MS = 200;

export function createDuckDbWarehouse(options: DuckDbWarehouseOptions): Warehouse {
  const busyTimeoutMs = options.busyTimeoutMs ?? 30_000;
  const handles = new Map<string, Promise<Handle>>();
  const parseTrees = new Map<string, Promise<object>>();
  // Readers let go as soon as a writer announces itself, even when no query comes to notice it.
  const writerWatch = setInterval(() => {
    for (const tenant of [...handles.keys()]) if (writerActive(datasetPath(options.dataDir, tenant))) retire(tenant);
  }, WRITER_POLL_MS);
  writerWatch.unref();

  /** A read-only handle on the tenant's current file, waiting out a writer; the caller must release it. */
  async function acquire(tenant: string): Promise<Handle> {
    const path = datasetPath(options.dataDir, tenant);
    const deadline = Date.now() + busyTimeoutMs;
    for (;;) {
      if (writerActive(path)) {
        retire(tenant);
        if (Date.now() > deadline) throw bytegateError(ErrorCode.WAREHOUSE_UNAVAILABLE, `Tenant ${tenant}'s dataset is being written; try again shortly.`);
        await sleep(50);
        continue;
      }
      const mtimeMs = statMtime(path);
      if (mtimeMs === undefined) throw badUserInput(`Unknown tenant "${tenant}".`);
      let pending = handles.get(tenant);
      const current = pending && (await pending.catch(() => undefined));
      if (current && current.mtimeMs !== mtimeMs) {
        retire(tenant);
        pending = undefined;
      }
      if (!pending) {
        pending = openHandle(options.dataDir, tenant, mtimeMs, deadline, options.limits);
        handles.set(tenant, pending);
        pending.catch(() => handles.delete(tenant));
      }
      let handle: Handle;
      try {
        handle = await pending;
      } catch (error) {
        if (Date.now() > deadline) throw bytegateError(ErrorCode.WAREHOUSE_UNAVAILABLE, `Tenant ${tenant}'s dataset cannot be opened: ${String(error)}`);
        continue;
      }
      if (handle.retired) continue;
      handle.inFlight++;
      return handle;
    }
  }

  function release(handle: Handle): void {
    handle.inFlight--;
    if (handle.retired && handle.inFlight === 0) handle.instance.closeSync();
  }

  function retire(tenant: string): void {
    const pending = handles.get(tenant);
    handles.delete(tenant);
    pending?.then((handle) => {
      handle.retired = true;
      if (handle.inFlight === 0) handle.instance.closeSync();
    }, () => undefined);
  }

  async function withHandle<T>(tenant: string, use: (handle: Handle, connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const handle = await acquire(tenant);
    const connection = await handle.instance.connect();
    try {
      return await use(handle, connection);
    } finally {
      connection.closeSync();
      release(handle);
    }
  }

  function parseTree(connection: DuckDBConnection, sql: string): Promise<object> {
    let tree = parseTrees.get(sql);
    if (!tree) {
      tree = connection
        .runAndReadAll(`SELECT json_serialize_sql('${sql.replace(/'/g, "''")}')`)
        .then((reader) => JSON.parse(String(reader.getRows()[0][0])) as object);
      parseTrees.set(sql, tree);
      tree.catch(() => parseTrees.delete(sql));
    }
    return tree;
  }

  /** Processed bytes per table the statement reads, from its parse tree and the recorded statistics. */
  async function measure(handle: Handle, connection: DuckDBConnection, sql: string, query: WarehouseQuery): Promise<number[]> {
    return scanBytes(analyzeScans(await parseTree(connection, sql), query.params), await statistics(handle, connection));
  }

  return {
    async query<Row extends object>(tenant: string, query: WarehouseQuery, signal?: AbortSignal): Promise<WarehouseResult<Row>> {
      const sql = query.sql(duckDbDialect);
      return withHandle(tenant, async (handle, connection) => {
        const perTable = await measure(handle, connection, sql, query);
        const billed = billedBytes(perTable);
        if (query.maxBytesBilled !== undefined && billed > query.maxBytesBilled) {
          // BigQuery refuses such a job without charge (bytesBilledLimitExceeded); so do we.
          throw bytegateError(ErrorCode.QUERY_TOO_EXPENSIVE, `Query ${query.name} would bill ${billed} bytes, over its cap of ${query.maxBytesBilled}.`, {
            billedBytes: billed, limitBytes: query.maxBytesBilled,
          });
        }
        if (signal?.aborted) throw new StoppedJobError(NOTHING_BILLED); // never started
        const processedBytes = perTable.reduce((sum, bytes) => sum + bytes, 0);
        const { values, types } = toDuckDbValues(sql, query.params);
        // Stopped while it runs: interrupted, and reported billed in full (BigQuery may bill a cancelled job up to that).
        const interrupt = () => connection.interrupt();
        signal?.addEventListener('abort', interrupt, { once: true });
        try {
          const reader = await connection.runAndReadAll(sql, values, types).catch((error: unknown) => {
            throw signal?.aborted ? new StoppedJobError({ processedBytes, billedBytes: billed }) : error;
          });
          return {
            rows: normalizeRows<Row>(reader.getRowObjectsJson(), reader.columnNames(), reader.columnTypes().map((t) => t.typeId)),
            processedBytes,
            billedBytes: billed,
            cacheHit: false,
          };
        } finally {
          signal?.removeEventListener('abort', interrupt);
        }
      });
    },

    dryRun(tenant: string, query: WarehouseQuery) {
      const sql = query.sql(duckDbDialect);
      return withHandle(tenant, async (handle, connection) => {
        const perTable = await measure(handle, connection, sql, query);
        return { processedBytes: perTable.reduce((sum, bytes) => sum + bytes, 0), billedBytes: billedBytes(perTable) };
      });
    },

    partitionStats(tenant: string): Promise<PartitionStat[]> {
      return withHandle(tenant, (handle, connection) => stats(handle, connection));
    },

    async dataVersions(tenant: string): Promise<ReadonlyMap<string, string>> {
      // Asked on every cached request: answered without a connection once read for this file.
      const handle = await acquire(tenant);
      try {
        if (handle.versions) return await handle.versions;
      } finally {
        release(handle);
      }
      return withHandle(tenant, (current, connection) => versions(current, connection));
    },

    async tableVersions(tenant: string): Promise<ReadonlyMap<string, string>> {
      // As dataVersions: read once per opened file, answered without a connection after that.
      const handle = await acquire(tenant);
      try {
        if (handle.tableVersions) return await handle.tableVersions;
      } finally {
        release(handle);
      }
      return withHandle(tenant, (current, connection) => tableVersions(current, connection));
    },

    async hasTenant(tenant: string): Promise<boolean> {
      try {
        return statMtime(datasetPath(options.dataDir, tenant)) !== undefined;
      } catch {
        return false; // not even a valid tenant id
      }
    },

    async close(): Promise<void> {
      clearInterval(writerWatch);
      for (const tenant of [...handles.keys()]) retire(tenant);
    },
  };
}

// Private:

interface Handle {
  instance: DuckDBInstance;
  /** The file's mtime when opened: a newer file means an ingest landed, so reopen. */
  mtimeMs: number;
  inFlight: number;
  retired: boolean;
  stats?: Promise<PartitionStat[]>;
  statistics?: Promise<PartitionStatistics>;
  versions?: Promise<ReadonlyMap<string, string>>;
  tableVersions?: Promise<ReadonlyMap<string, string>>;
}

/**
 * A read-only handle on the tenant's file. A file an earlier version wrote, lacking a declared table
 * or column, is first brought up to date by the writer's own schema step (tenantDataset.ts: a rollup
 * added since is backfilled), under the writer protocol: no read ever sees a rollup that is missing
 * or not yet filled. It happens once per file; readers in other processes wait for it like for an ingest.
 */
async function openHandle(dataDir: string, tenant: string, mtimeMs: number, deadline: number, limits: ReaderLimits | undefined): Promise<Handle> {
  const path = datasetPath(dataDir, tenant);
  const instance = await openReadOnly(path, deadline, limits);
  if (await declaredSchemaPresent(instance)) return { instance, mtimeMs, inFlight: 0, retired: false };
  instance.closeSync();
  await createEmptyDataset(dataDir, tenant, { timeoutMs: Math.max(deadline - Date.now(), 0) });
  const upgradedMtimeMs = statMtime(path) ?? mtimeMs;
  return { instance: await openReadOnly(path, deadline, limits), mtimeMs: upgradedMtimeMs, inFlight: 0, retired: false };
}

/** Whether the file holds every table and column pricing/tables.ts declares. */
async function declaredSchemaPresent(instance: DuckDBInstance): Promise<boolean> {
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database()`);
    const present = new Set(reader.getRows().map(([table, column]) => `${String(table)}.${String(column)}`));
    return Object.values(TABLES).every((table) => table.fields.every((field) => present.has(`${table.name}.${field.name}`)));
  } finally {
    connection.closeSync();
  }
}

/** The recorded statistics, read once per opened file. */
function stats(handle: Handle, connection: DuckDBConnection): Promise<PartitionStat[]> {
  handle.stats ??= connection
    .runAndReadAll(`SELECT table_name, strftime(day, '%Y-%m-%d') AS day, column_path, rows, logical_bytes FROM _partition_stats`)
    .then((reader) => reader.getRows().map(([table, day, column, rows, logicalBytes]) => ({
      table: String(table), day: day === null ? null : String(day), column: String(column), rows: Number(rows), logicalBytes: Number(logicalBytes),
    })));
  return handle.stats;
}

/**
 * Per day: how many ingests wrote it and when the last one did (µs), from `_ingest_log`; read once
 * per opened file (an ingest changes the file, which is then reopened). The count alone could
 * repeat after a dataset is recreated; with the time it cannot.
 */
function versions(handle: Handle, connection: DuckDBConnection): Promise<ReadonlyMap<string, string>> {
  handle.versions ??= connection
    .runAndReadAll(`SELECT strftime(day, '%Y-%m-%d'), count(*), max(epoch_us(ingested_at))
      FROM (SELECT unnest(days) AS day, ingested_at FROM _ingest_log) GROUP BY day`)
    .then((reader) => new Map(reader.getRows().map(([day, writes, lastMicros]) => [String(day), `${String(writes)}@${String(lastMicros)}`])));
  return handle.versions;
}

/**
 * Per unpartitioned table: how many writes touched it and when the last one did (µs), from
 * `_table_versions` (tenantDataset.ts); read once per opened file. A table never written — or every
 * table of a dataset written before versions were recorded — has UNWRITTEN_TABLE_VERSION.
 */
function tableVersions(handle: Handle, connection: DuckDBConnection): Promise<ReadonlyMap<string, string>> {
  handle.tableVersions ??= (async () => {
    const recorded = new Map<string, string>();
    const exists = await connection.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = '${TABLE_VERSIONS_TABLE}'`);
    if (Number(exists.getRows()[0][0]) > 0) {
      const reader = await connection.runAndReadAll(`SELECT table_name, writes, epoch_us(written_at) FROM ${TABLE_VERSIONS_TABLE}`);
      for (const [table, writes, writtenMicros] of reader.getRows()) recorded.set(String(table), `${String(writes)}@${String(writtenMicros)}`);
    }
    return new Map(UNPARTITIONED_TABLES.map((table) => [table, recorded.get(table) ?? UNWRITTEN_TABLE_VERSION]));
  })();
  return handle.tableVersions;
}

function statistics(handle: Handle, connection: DuckDBConnection): Promise<PartitionStatistics> {
  handle.statistics ??= stats(handle, connection).then((rows) => new PartitionStatistics(rows));
  return handle.statistics;
}

function statMtime(path: string): number | undefined {
  try {
    return fs.statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

const INTEGER_TYPES = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);

/** JSON rows with BIGINT as numbers and TIMESTAMP as ISO-8601 UTC, as BigQuery's client returns them. */
function normalizeRows<Row>(rows: Record<string, unknown>[], names: string[], types: DuckDBTypeId[]): Row[] {
  const integers = names.filter((_, i) => INTEGER_TYPES.has(types[i]));
  const timestamps = names.filter((_, i) => types[i] === DuckDBTypeId.TIMESTAMP);
  for (const row of rows) {
    for (const name of integers) if (row[name] !== null) row[name] = Number(row[name]);
    for (const name of timestamps) if (row[name] !== null) row[name] = `${String(row[name]).replace(' ', 'T')}Z`;
  }
  return rows as Row[];
}
