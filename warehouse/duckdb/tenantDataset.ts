/**
 * The write side of a tenant's embedded dataset: create it, load directory users, ingest Okta
 * System Log NDJSON. Every write refreshes the derived data it invalidates — the per-(day, column)
 * statistics and the rollups (warehouse/rollup.ts) — for the days it touched, and no others.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { MiB } from '../../common/units';
import type { DirectoryUser, LogEvent } from '../../okta/logEvent';
import { readLogFile } from '../../okta/logFile';
import type { DatasetWriter, IngestOptions, IngestReport, TenantInfo } from '../datasetWriter';
import { logicalByteExpressions } from '../logicalBytes';
import { BACKFILL_PARAMS, ROLLUPS, backfillAppUsageDailySql, refreshRollupsSql, rollupParams } from '../rollup';
import type { QueryParam } from '../warehouse';
import { TABLES, type TableSchema, appUsageDaily, ssoEvents, tenantInfo, users } from '../../pricing/tables';
import { DUCKDB_OPTIONS, type ReaderLimits, type WriterOptions, withDatasetWriter } from './datasetFiles';
import { createTableSql, derivedColumns, duckDbType, quoteIdent } from './duckDbSchema';
import {
  type BatchReport, type LineCount, PENDING_DAYS_TABLE, chunkLines, countFileLines, discardFileKeys, inSlices, ndjsonChunks, stageEventRecords, stageFileChunk,
  stageFileKeys, stageLines, storeBatch, storeCleanFile, writeEventRecords,
} from './eventBatches';
import { TABLE_VERSIONS_TABLE, duckDbDialect, toDuckDbValues } from './duckDbSql';

export interface DuckDbIngestOptions extends IngestOptions, WriterOptions {
  /** ingestFile: the size of the chunks an NDJSON file that is not clean is read in; default CHUNK_BYTES. */
  chunkBytes?: number;
  /** ingestLogEvents: the most events stored per batch (a larger one is cut); default LOG_EVENTS_PER_BATCH. */
  batchEvents?: number;
  /** Events stored between two refreshes of the derived data during the ingest; default REFRESH_EVERY_EVENTS. */
  refreshEvents?: number;
}

/** These functions as the DatasetWriter port; `limits` bound the memory and threads of each write (DUCKDB_MEMORY_LIMIT, DUCKDB_THREADS). */
export function duckDbDatasetWriter(dataDir: string, limits?: ReaderLimits): DatasetWriter {
  return {
    createTenant: (tenant) => createTenantDataset(dataDir, tenant, { limits }),
    upsertUsers: (tenant, people) => upsertUsers(dataDir, tenant, people, { limits }),
    ingestEvents: (tenant, lines, options) => ingestEvents(dataDir, tenant, lines, { ...options, limits }),
    ingestFile: (tenant, file, options) => ingestFile(dataDir, tenant, file, { ...options, limits }),
    ingestLogEvents: (tenant, batches, options) => ingestLogEvents(dataDir, tenant, batches, { ...options, limits }),
  };
}

/** Creates the dataset (idempotent) and records the tenant's display name and timezone. */
export async function createTenantDataset(dataDir: string, tenant: TenantInfo, options: WriterOptions = {}): Promise<void> {
  await withDatasetWriter(dataDir, tenant.id, async (instance) => {
    await withConnection(instance, async (connection) => {
      await ensureSchema(connection);
      await inTransaction(connection, async () => {
        await connection.run(`DELETE FROM tenant_info`);
        await connection.run(`INSERT INTO tenant_info VALUES ($id, $name, $timezone)`, {
          id: tenant.id, name: tenant.name, timezone: tenant.timezone ?? 'UTC',
        });
        await refreshUnpartitionedStats(connection, tenantInfo);
        await bumpTableVersion(connection, tenantInfo);
      });
    });
  }, options);
}

/** Inserts or replaces directory users by id. */
export async function upsertUsers(dataDir: string, tenant: string, people: readonly DirectoryUser[], options: WriterOptions = {}): Promise<void> {
  await withDatasetWriter(dataDir, tenant, async (instance) => {
    await withConnection(instance, async (connection) => {
      await ensureSchema(connection);
      await connection.run(`CREATE OR REPLACE TEMP TABLE staged_users AS SELECT * FROM users LIMIT 0`);
      const appender = await connection.createAppender('staged_users', 'main', 'temp');
      for (const person of people) {
        appender.appendVarchar(person.id);
        for (const value of [person.email, person.displayName, person.department, person.title, person.managerId]) {
          if (value === null || value === undefined) appender.appendNull();
          else appender.appendVarchar(value);
        }
        appender.endRow();
      }
      appender.closeSync();
      await inTransaction(connection, async () => {
        await connection.run(`DELETE FROM users WHERE id IN (SELECT id FROM staged_users)`);
        await connection.run(`INSERT INTO users SELECT DISTINCT ON (id) * FROM staged_users ORDER BY id`);
        await refreshUnpartitionedStats(connection, users);
        await bumpTableVersion(connection, users);
      });
      await connection.run(`DROP TABLE staged_users`);
    });
  }, options);
}

/**
 * Loads Okta LogEvents, one JSON object per line, into the tenant's dataset; creates the dataset
 * when missing. Idempotent on `uuid`. Malformed lines are reported and skipped; the rest loads.
 * Parsing happens inside DuckDB (`from_json` with the table's own structure): the lines are
 * appended as text (STACK.md: nested appends are slow). See `ingest` for batches and transactions.
 */
export function ingestEvents(dataDir: string, tenant: string, lines: Iterable<string> | AsyncIterable<string>, options: DuckDbIngestOptions = {}): Promise<IngestReport> {
  return ingest(dataDir, tenant, options, async (store) => {
    const input = inSlices(lines);
    for (let firstLine = 1; !input.done;) {
      let read = 0;
      await store(staged((connection) => stageLines(connection, input.take(BATCH_LINES), firstLine).then((n) => void (read = n))));
      firstLine += read;
      options.onProgress?.(firstLine - 1);
    }
  });
}

/**
 * Loads an Okta System Log export. NDJSON is read by DuckDB itself: a clean file — every line an
 * event, no uuid twice — in one statement (eventBatches.ts storeCleanFile), as fast as DuckDB loads
 * JSON at all; any other in chunks (CHUNK_BYTES), and a chunk with a bad line, like a JSON array (the
 * Okta API's shape), line by line as `ingestEvents`, so every bad line gets its number and reason.
 */
export async function ingestFile(dataDir: string, tenant: string, file: string, options: DuckDbIngestOptions = {}): Promise<IngestReport> {
  if (await isJsonArray(file)) return ingestEvents(dataDir, tenant, readLogFile(file), options);
  return ingest(dataDir, tenant, options, async (store, scratch) => {
    const lineCount = countFileLines(file); // while DuckDB reads the file's keys
    lineCount.catch(() => {}); // awaited below, or by the store
    const onShareRead = (share: number) => void lineCount.then(({ lines }) => options.onProgress?.(Math.floor(lines * share)));
    if (!(await store((connection) => storeWholeFile(connection, file, lineCount, onShareRead)))) {
      for await (const chunk of ndjsonChunks(file, scratch, options.chunkBytes ?? CHUNK_BYTES)) {
        await store(staged(async (connection) => {
          if (!(await stageFileChunk(connection, chunk))) await stageLines(connection, chunkLines(chunk), chunk.firstLine);
        }));
        options.onProgress?.(chunk.firstLine + chunk.lines - 1);
      }
    }
    options.onProgress?.((await lineCount).lines);
  });
}

/**
 * Loads LogEvent objects a batch at a time (the seed: a day per batch, cut at `batchEvents`), without
 * their JSON (eventBatches.ts writeEventRecords): each batch's records are written while DuckDB stores
 * the previous batch, so the JS work and DuckDB's overlap.
 */
export function ingestLogEvents(dataDir: string, tenant: string, batches: Iterable<readonly LogEvent[]>, options: DuckDbIngestOptions = {}): Promise<IngestReport> {
  return ingest(dataDir, tenant, options, async (store, scratch) => {
    const slices = inBatches(batches, options.batchEvents ?? LOG_EVENTS_PER_BATCH)[Symbol.iterator]();
    let written = 0;
    const prepare = () => {
      const slice = slices.next();
      if (slice.done) return undefined;
      const records = writeEventRecords(slice.value, path.join(scratch, `events-${written++}.tsv`));
      records.catch(() => {}); // awaited below; a store failing first must not leave it unhandled
      return { events: slice.value.length, records };
    };
    let stored = 0;
    for (let next = prepare(); next;) {
      const records = await next.records;
      const events = next.events;
      next = prepare();
      await store(staged((connection) => stageEventRecords(connection, records)));
      options.onProgress?.((stored += events));
    }
  });
}

/**
 * The parse-and-dedupe half of an ingest, for loaders of other warehouses (BigQuery load jobs):
 * the valid events of `lines`, each uuid once, written to `file` as newline-delimited JSON rows of
 * sso_events (derived columns filled, timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]` UTC). The same
 * parsing and validation as `ingestEvents`, in a scratch database next to `file`, removed after.
 * `accepted` counts the rows written, `duplicates` the uuids repeated within the input.
 */
export async function stageEventBatch(lines: Iterable<string> | AsyncIterable<string>, file: string, options: IngestOptions = {}): Promise<IngestReport> {
  const scratch = `${file}.duckdb`;
  const instance = await DuckDBInstance.create(scratch, DUCKDB_OPTIONS);
  try {
    return await withConnection(instance, async (connection) => {
      for (const table of [ssoEvents, users]) await connection.run(createTableSql(table));
      await connection.run(PENDING_DAYS_DDL);
      const read = await stageLines(connection, lines, 1);
      options.onProgress?.(read);
      const { usersAdded: _, ...report } = await storeBatch(connection);
      await connection.run(`COPY (SELECT * FROM sso_events ORDER BY published) TO '${file.replace(/'/g, "''")}' (FORMAT JSON)`);
      return report;
    });
  } finally {
    instance.closeSync();
    for (const leftover of [scratch, `${scratch}.wal`]) fs.rmSync(leftover, { force: true });
  }
}

/**
 * An empty dataset with every table, or an existing one brought up to the declarations (ensureSchema:
 * tables and columns added since, app_usage_daily backfilled); idempotent. For tools that fill a
 * dataset by other means, and for readers opening a file an earlier version wrote.
 */
export async function createEmptyDataset(dataDir: string, tenant: string, options: WriterOptions = {}): Promise<void> {
  await withDatasetWriter(dataDir, tenant, (instance) => withConnection(instance, ensureSchema), options);
}

// Private:

const STATS_TABLE = '_partition_stats';
const PENDING_DAYS_DDL = `CREATE TABLE IF NOT EXISTS ${PENDING_DAYS_TABLE} (day DATE PRIMARY KEY)`;

/**
 * Brings the dataset up to the declarations, in one transaction: app_usage_daily, declared after
 * datasets were written, appears together with its backfill or not at all — so a reader that finds
 * the table (duckDbWarehouse.ts checks before its first read) finds it complete.
 */
async function ensureSchema(connection: DuckDBConnection): Promise<void> {
  await inTransaction(connection, async () => {
    const backfill = !(await hasTable(connection, appUsageDaily));
    for (const table of Object.values(TABLES)) {
      await connection.run(createTableSql(table));
      await addMissingColumns(connection, table);
    }
    await connection.run(`CREATE TABLE IF NOT EXISTS ${STATS_TABLE} (
      table_name VARCHAR NOT NULL, day DATE, column_path VARCHAR NOT NULL, rows BIGINT NOT NULL, logical_bytes BIGINT NOT NULL)`);
    await connection.run(`CREATE TABLE IF NOT EXISTS ${TABLE_VERSIONS_TABLE} (
      table_name VARCHAR PRIMARY KEY, writes BIGINT NOT NULL, written_at TIMESTAMP NOT NULL)`);
    await connection.run(PENDING_DAYS_DDL);
    await connection.run(`CREATE TABLE IF NOT EXISTS _ingest_log (
      ingested_at TIMESTAMP NOT NULL, accepted BIGINT NOT NULL, duplicates BIGINT NOT NULL, rejected BIGINT NOT NULL, days DATE[] NOT NULL)`);
    if (backfill) await backfillAppUsageDaily(connection);
  });
}

/**
 * A dataset written by an earlier version lacks the columns declared since: they are added (NULL
 * for existing rows), and derived ones filled from their source, so loads by name keep working.
 */
async function addMissingColumns(connection: DuckDBConnection, table: TableSchema): Promise<void> {
  const existing = await connection.runAndReadAll(`SELECT column_name FROM duckdb_columns() WHERE table_name = '${table.name}'`);
  const present = new Set(existing.getRows().map(([name]) => String(name)));
  for (const field of table.fields.filter((f) => !present.has(f.name))) {
    await connection.run(`ALTER TABLE ${quoteIdent(table.name)} ADD COLUMN ${quoteIdent(field.name)} ${duckDbType(field)}`);
    for (const { column, source } of derivedColumns({ ...table, fields: [field] }, quoteIdent(table.name))) {
      await connection.run(`UPDATE ${quoteIdent(table.name)} SET ${column} = ${source}`);
    }
  }
}

/**
 * Batch sizes: lines of `ingestEvents`; bytes of a chunk of an NDJSON file that is not clean (~50,000
 * Okta events); events of `ingestLogEvents` (a generated day of a large tenant is cut). Larger staged
 * batches barely speed a write up and raise its peak memory: 128 MiB chunks ingested 10% faster at
 * 986 MiB peak RSS, 64 MiB at 725 MiB. A clean file is not cut: DuckDB streams it, and cutting costs —
 * a 3.7 GB file stored in 1 GiB pieces took 36 s instead of 25 s, at the same peak RSS (~570 MiB).
 */
const BATCH_LINES = 100_000;
/** Events stored between two refreshes of the pending days' derived data during an ingest. */
const REFRESH_EVERY_EVENTS = 1_000_000;
const CHUNK_BYTES = 64 * MiB;
const LOG_EVENTS_PER_BATCH = 50_000;

/**
 * An ingest's frame: the dataset opened for writing (under DUCKDB_MEMORY_LIMIT), then batch by batch
 * — `feed` calls `store` with a write of each (`staged`, `storeWholeFile`) — each batch's new events
 * stored in a transaction of its own, so memory stays bounded whatever the input's size; the derived
 * data of the days touched refreshed every REFRESH_EVERY_EVENTS events and at the end, in transactions
 * of their own. An ingest that fails midway keeps the batches it stored (ingesting the same input
 * again stores the rest: uuids dedupe), and the days whose derived data it had not refreshed yet stay
 * in `_pending_days` for the next write to refresh.
 */
async function ingest(
  dataDir: string,
  tenant: string,
  options: DuckDbIngestOptions,
  feed: (store: (write: BatchWrite) => Promise<boolean>, scratch: string) => Promise<void>,
): Promise<IngestReport> {
  return withDatasetWriter(dataDir, tenant, (instance) => withConnection(instance, async (connection) => {
    await ensureSchema(connection);
    await ensureTenantInfo(connection, tenant);
    const leftover = await connection.runAndReadAll(`SELECT count(*) FROM ${PENDING_DAYS_TABLE}`);
    const interrupted = Number(leftover.getRows()[0][0]) > 0;
    const report: IngestReport = { accepted: 0, duplicates: 0, rejected: [], days: [] };
    const days = new Set<string>();
    let usersAdded = false;
    let sinceRefresh = 0;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-ingest-'));
    try {
      await feed(async (write) => {
        const batch = await write(connection);
        if (!batch) return false;
        report.accepted += batch.accepted;
        report.duplicates += batch.duplicates;
        report.rejected.push(...batch.rejected);
        for (const day of batch.days) days.add(day);
        usersAdded ||= batch.usersAdded;
        // Derived data as the ingest goes: each refresh reads a bounded span of events, however large the input.
        if ((sinceRefresh += batch.accepted) >= (options.refreshEvents ?? REFRESH_EVERY_EVENTS)) {
          await inTransaction(connection, () => refreshPendingDays(connection));
          sinceRefresh = 0;
        }
        return true;
      }, scratch);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    report.days = [...days].sort();
    await inTransaction(connection, () => refreshDerived(connection, report, usersAdded || interrupted));
    return report;
  }), options);
}

/** A batch's write: stores it and says what it stored, or — nothing stored — undefined. */
type BatchWrite = (connection: DuckDBConnection) => Promise<BatchReport | undefined>;

/** The write of a batch `stage` stages into `parsed` (eventBatches.ts): its new events stored in a transaction. */
function staged(stage: (connection: DuckDBConnection) => Promise<unknown>): BatchWrite {
  return async (connection) => {
    await stage(connection);
    return inTransaction(connection, () => storeBatch(connection));
  };
}

/** Stores a clean NDJSON file by one statement (eventBatches.ts stageFileKeys, storeCleanFile); nothing, and undefined, when it is not clean. */
async function storeWholeFile(connection: DuckDBConnection, file: string, lineCount: Promise<LineCount>, onShareRead: (share: number) => void): Promise<BatchReport | undefined> {
  if (!(await stageFileKeys(connection, file, lineCount))) return undefined;
  try {
    return await inTransaction(connection, () => storeCleanFile(connection, file, onShareRead));
  } catch {
    await discardFileKeys(connection);
    return undefined; // a field beyond the keys unreadable: in chunks, then lines, the bad line is found
  }
}

/**
 * The derived data of the days in `_pending_days` (this ingest's, and any an interrupted one left):
 * the rollups and the partition statistics (refreshPendingDays); the directory's statistics, and its
 * version when it may have grown (`usersAdded`: an interrupted ingest may have added people
 * unannounced); then the ingest's line in `_ingest_log`.
 */
async function refreshDerived(connection: DuckDBConnection, report: IngestReport, usersAdded: boolean): Promise<void> {
  if ((await refreshPendingDays(connection)) || usersAdded) {
    await refreshUnpartitionedStats(connection, users);
    if (usersAdded) await bumpTableVersion(connection, users);
  }
  await connection.run(`INSERT INTO _ingest_log SELECT now(), $accepted, $duplicates, $rejected, CAST($days AS DATE[])`, {
    accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejected.length, days: `[${report.days.join(', ')}]`,
  });
}

/** Refreshes the rollups and partition statistics of the days in `_pending_days` and empties it; false when none was pending. */
async function refreshPendingDays(connection: DuckDBConnection): Promise<boolean> {
  const pending = await connection.runAndReadAll(`SELECT strftime(min(day), '%Y-%m-%d'), strftime(max(day), '%Y-%m-%d'), count(*) FROM ${PENDING_DAYS_TABLE}`);
  const [first, last, count] = pending.getRows()[0];
  if (Number(count) === 0) return false;
  await connection.run(`CREATE OR REPLACE TEMP TABLE touched_days AS SELECT day FROM ${PENDING_DAYS_TABLE}`);
  await runStatements(connection, refreshRollupsSql(duckDbDialect), rollupParams(String(first), String(last)));
  for (const table of [ssoEvents, ...ROLLUPS]) await refreshPartitionStats(connection, table);
  await connection.run(`DROP TABLE touched_days; DELETE FROM ${PENDING_DAYS_TABLE}`);
  return true;
}

/** A dataset ingested before createTenant gets its id as name, and UTC. */
async function ensureTenantInfo(connection: DuckDBConnection, tenant: string): Promise<void> {
  const hasInfo = await connection.runAndReadAll(`SELECT count(*) FROM tenant_info`);
  if (Number(hasInfo.getRows()[0][0]) > 0) return;
  await inTransaction(connection, async () => {
    await connection.run(`INSERT INTO tenant_info VALUES ($id, $id, 'UTC')`, { id: tenant });
    await refreshUnpartitionedStats(connection, tenantInfo);
    await bumpTableVersion(connection, tenantInfo);
  });
}

/** Whether an export file is a JSON array (the Okta API's shape) rather than NDJSON. */
async function isJsonArray(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const probe = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    return probe.subarray(0, bytesRead).toString('utf8').trimStart().startsWith('[');
  } finally {
    await handle.close();
  }
}

/** Recomputes rows and logical bytes per leaf column for the partitions in `touched_days`. */
async function refreshPartitionStats(connection: DuckDBConnection, table: TableSchema): Promise<void> {
  const partitionColumn = quoteIdent(table.partitionBy!.column);
  const leaves = logicalByteExpressions(table, 't', duckDbDialect);
  const sums = leaves.map((leaf, i) => `sum(${leaf.sql})::BIGINT AS b${i}`).join(', ');
  await connection.run(`DELETE FROM ${STATS_TABLE} WHERE table_name = '${table.name}' AND day IN (SELECT day FROM touched_days)`);
  await connection.run(`INSERT INTO ${STATS_TABLE}
    SELECT '${table.name}', day, unnest([${leaves.map((l) => `'${l.column}'`).join(', ')}]), rows, unnest([${leaves.map((_, i) => `b${i}`).join(', ')}])
    FROM (
      SELECT CAST(t.${partitionColumn} AS DATE) AS day, count(*) AS rows, ${sums}
      FROM ${quoteIdent(table.name)} t
      WHERE t.${partitionColumn} >= (SELECT min(day) FROM touched_days)
        AND t.${partitionColumn} < (SELECT max(day) + 1 FROM touched_days)
        AND CAST(t.${partitionColumn} AS DATE) IN (SELECT day FROM touched_days)
      GROUP BY 1
    )`);
}

async function refreshUnpartitionedStats(connection: DuckDBConnection, table: TableSchema): Promise<void> {
  const leaves = logicalByteExpressions(table, 't', duckDbDialect);
  await connection.run(`DELETE FROM ${STATS_TABLE} WHERE table_name = '${table.name}'`);
  await connection.run(`INSERT INTO ${STATS_TABLE}
    SELECT '${table.name}', NULL, unnest([${leaves.map((l) => `'${l.column}'`).join(', ')}]), rows, unnest([${leaves.map((_, i) => `b${i}`).join(', ')}])
    FROM (SELECT count(*) AS rows, ${leaves.map((leaf, i) => `coalesce(sum(${leaf.sql}), 0)::BIGINT AS b${i}`).join(', ')} FROM ${quoteIdent(table.name)} t)`);
}

/** Records a write to `table` (in the write's transaction): a new version (the count alone could repeat after a dataset is recreated; with the time it cannot). */
async function bumpTableVersion(connection: DuckDBConnection, table: TableSchema): Promise<void> {
  await connection.run(`INSERT INTO ${TABLE_VERSIONS_TABLE} VALUES ($table, 1, now())
    ON CONFLICT (table_name) DO UPDATE SET writes = writes + 1, written_at = now()`, { table: table.name });
}

async function withConnection<T>(instance: DuckDBInstance, use: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const connection = await instance.connect();
  try {
    return await use(connection);
  } finally {
    connection.closeSync();
  }
}

async function inTransaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await connection.run('COMMIT');
    return result;
  } catch (error) {
    await connection.run('ROLLBACK');
    throw error;
  }
}

async function hasTable(connection: DuckDBConnection, table: TableSchema): Promise<boolean> {
  const found = await connection.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = $name AND NOT temporary`, { name: table.name });
  return Number(found.getRows()[0][0]) > 0;
}

/** app_usage_daily for every day holding events, and its statistics (inside ensureSchema's transaction). */
async function backfillAppUsageDaily(connection: DuckDBConnection): Promise<void> {
  await runStatements(connection, backfillAppUsageDailySql(duckDbDialect), BACKFILL_PARAMS);
  await refreshPartitionStats(connection, appUsageDaily);
  await connection.run('DROP TABLE touched_days');
}

/** Rollup statements (warehouse/rollup.ts), each bound to the parameters it uses. */
async function runStatements(connection: DuckDBConnection, statements: readonly string[], params: Readonly<Record<string, QueryParam>>): Promise<void> {
  for (const statement of statements) await connection.run(statement, toDuckDbValues(statement, params).values);
}

/** `batches`, each cut into slices of at most `size` events. */
function* inBatches<T>(batches: Iterable<readonly T[]>, size: number): Generator<readonly T[]> {
  for (const batch of batches) {
    for (let from = 0; from < batch.length; from += size) yield batch.length <= size ? batch : batch.slice(from, from + size);
  }
}
