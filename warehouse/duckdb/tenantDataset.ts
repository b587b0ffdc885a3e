/**
 * The write side of a tenant's embedded dataset: create it, load directory users, ingest Okta
 * System Log NDJSON. Every write refreshes the derived data it invalidates — the per-(day, column)
 * statistics and the productivity_daily rollup — for the days it touched, and no others.
 */
import fs from 'node:fs';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { DirectoryUser } from '../../okta/logEvent';
import type { DatasetWriter, IngestOptions, IngestReport, TenantInfo } from '../datasetWriter';
import { logicalByteExpressions } from '../logicalBytes';
import { refreshProductivityDailySql, rollupParams } from '../rollup';
import { TABLES, type TableSchema, productivityDaily, ssoEvents, tenantInfo, users } from '../../pricing/tables';
import { DUCKDB_OPTIONS, type WriterOptions, withDatasetWriter } from './datasetFiles';
import { createTableSql, derivedColumns, duckDbType, jsonStructure, quoteIdent } from './duckDbSchema';
import { TABLE_VERSIONS_TABLE, duckDbDialect, toDuckDbValues } from './duckDbWarehouse';

export interface DuckDbIngestOptions extends IngestOptions, WriterOptions {}

/** These functions as the DatasetWriter port. */
export function duckDbDatasetWriter(dataDir: string): DatasetWriter {
  return {
    createTenant: (tenant) => createTenantDataset(dataDir, tenant),
    upsertUsers: (tenant, people) => upsertUsers(dataDir, tenant, people),
    ingestEvents: (tenant, lines, options) => ingestEvents(dataDir, tenant, lines, options),
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
 * when missing. Idempotent on `uuid`. Malformed lines are reported and skipped; the rest loads,
 * all or nothing (one transaction).
 *
 * Parsing happens inside DuckDB (`from_json` with the table's own structure): the lines are
 * appended as text, which keeps JavaScript out of the per-field work (STACK.md: nested appends are slow).
 */
export async function ingestEvents(
  dataDir: string,
  tenant: string,
  lines: Iterable<string> | AsyncIterable<string>,
  options: DuckDbIngestOptions = {},
): Promise<IngestReport> {
  return withDatasetWriter(dataDir, tenant, (instance) => withConnection(instance, async (connection) => {
    await ensureSchema(connection);
    const hasInfo = await connection.runAndReadAll(`SELECT count(*) FROM tenant_info`);
    if (Number(hasInfo.getRows()[0][0]) === 0) {
      await inTransaction(connection, async () => {
        await connection.run(`INSERT INTO tenant_info VALUES ($id, $id, 'UTC')`, { id: tenant });
        await refreshUnpartitionedStats(connection, tenantInfo);
        await bumpTableVersion(connection, tenantInfo);
      });
    }
    await stageLines(connection, lines, options);
    return inTransaction(connection, () => loadStagedLines(connection));
  }), options);
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
      await connection.run(createTableSql(ssoEvents));
      await stageLines(connection, lines, options);
      const report = await insertFreshEvents(connection);
      await connection.run(`COPY (SELECT * FROM sso_events ORDER BY published) TO '${file.replace(/'/g, "''")}' (FORMAT JSON)`);
      return report;
    });
  } finally {
    instance.closeSync();
    for (const leftover of [scratch, `${scratch}.wal`]) fs.rmSync(leftover, { force: true });
  }
}

/** An empty dataset with every table (idempotent); for tools that fill it by other means. */
export async function createEmptyDataset(dataDir: string, tenant: string, options: WriterOptions = {}): Promise<void> {
  await withDatasetWriter(dataDir, tenant, (instance) => withConnection(instance, ensureSchema), options);
}

// Private:

const STATS_TABLE = '_partition_stats';

async function ensureSchema(connection: DuckDBConnection): Promise<void> {
  for (const table of Object.values(TABLES)) {
    await connection.run(createTableSql(table));
    await addMissingColumns(connection, table);
  }
  await connection.run(`CREATE TABLE IF NOT EXISTS ${STATS_TABLE} (
    table_name VARCHAR NOT NULL, day DATE, column_path VARCHAR NOT NULL, rows BIGINT NOT NULL, logical_bytes BIGINT NOT NULL)`);
  await connection.run(`CREATE TABLE IF NOT EXISTS ${TABLE_VERSIONS_TABLE} (
    table_name VARCHAR PRIMARY KEY, writes BIGINT NOT NULL, written_at TIMESTAMP NOT NULL)`);
  await connection.run(`CREATE TABLE IF NOT EXISTS _ingest_log (
    ingested_at TIMESTAMP NOT NULL, accepted BIGINT NOT NULL, duplicates BIGINT NOT NULL, rejected BIGINT NOT NULL, days DATE[] NOT NULL)`);
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

async function stageLines(connection: DuckDBConnection, lines: Iterable<string> | AsyncIterable<string>, options: IngestOptions): Promise<void> {
  await connection.run(`CREATE OR REPLACE TEMP TABLE staged_lines (line_no INTEGER NOT NULL, line VARCHAR NOT NULL)`);
  const appender = await connection.createAppender('staged_lines', 'main', 'temp');
  const progressEvery = options.progressEvery ?? 100_000;
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (options.onProgress && lineNo % progressEvery === 0) options.onProgress(lineNo);
    if (line.length === 0 || /^\s*$/.test(line)) continue;
    appender.appendInteger(lineNo);
    appender.appendVarchar(line);
    appender.endRow();
  }
  appender.closeSync();
}

async function loadStagedLines(connection: DuckDBConnection): Promise<IngestReport> {
  const report = await insertFreshEvents(connection);
  const { days } = report;
  if (days.length > 0) {
    // Actors not in the directory yet become users with what the event says about them.
    const added = await connection.runAndReadAll(`INSERT INTO users (id, email, display_name)
      SELECT ev.actor.id, any_value(ev.actor.alternateId), any_value(ev.actor.displayName)
      FROM fresh WHERE ev.actor.id NOT IN (SELECT id FROM users) GROUP BY ev.actor.id`);
    await refreshUnpartitionedStats(connection, users);
    if (Number(added.getRows()[0]?.[0] ?? 0) > 0) await bumpTableVersion(connection, users);
    const params = rollupParams(days[0], days[days.length - 1]);
    for (const statement of refreshProductivityDailySql(duckDbDialect)) await connection.run(statement, toDuckDbValues(statement, params).values);
    await refreshPartitionStats(connection, ssoEvents);
    await refreshPartitionStats(connection, productivityDaily);
  }
  await connection.run(`INSERT INTO _ingest_log SELECT now(), $accepted, $duplicates, $rejected, (SELECT coalesce(list(day ORDER BY day), []) FROM touched_days)`, {
    accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejected.length,
  });
  await connection.run(`DROP TABLE staged_lines; DROP TABLE parsed; DROP VIEW fresh; DROP TABLE fresh_lines; DROP TABLE touched_days`);
  return report;
}

/**
 * Parses the staged lines, stores the new ones in sso_events, and leaves the view `fresh(ev)` of
 * them and the temp table `touched_days(day)` for the derived data.
 */
async function insertFreshEvents(connection: DuckDBConnection): Promise<IngestReport> {
  const structure = jsonStructure(ssoEvents, ['debugContext.debugData']).replace(/'/g, "''");
  // CASE evaluates from_json only for lines that are JSON objects, so bad lines cannot abort the load.
  await connection.run(`CREATE OR REPLACE TEMP TABLE parsed AS
    SELECT line_no, ev,
      CASE WHEN ev IS NULL THEN (CASE WHEN valid THEN 'not a JSON object' ELSE 'not valid JSON' END)
           WHEN ev.uuid IS NULL OR ev.uuid = '' THEN 'missing "uuid"'
           WHEN ev.published IS NULL THEN '"published" is missing or not an ISO-8601 timestamp'
           WHEN ev.eventType IS NULL OR ev.eventType = '' THEN 'missing "eventType"'
           WHEN ev.actor.id IS NULL OR ev.actor.id = '' THEN 'missing "actor.id"'
      END AS reason
    FROM (
      SELECT line_no, json_valid(line) AS valid,
        CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT' THEN from_json(line, '${structure}') END AS ev
      FROM staged_lines
    )`);
  const rejectedRows = await connection.runAndReadAll(`SELECT line_no, reason FROM parsed WHERE reason IS NOT NULL ORDER BY line_no`);
  const rejected = rejectedRows.getRows().map(([line, reason]) => ({ line: Number(line), reason: String(reason) }));

  // New = valid, first occurrence of its uuid in the input, and not stored yet in its day partitions.
  // Decided on narrow (line_no, uuid) rows: window and join operators copy whole rows, and events are wide.
  await connection.run(`CREATE OR REPLACE TEMP TABLE fresh_lines AS
    SELECT line_no FROM (
      SELECT line_no, ev.uuid AS uuid, row_number() OVER (PARTITION BY ev.uuid ORDER BY line_no) AS occurrence
      FROM parsed WHERE reason IS NULL
    ) candidates
    WHERE occurrence = 1 AND uuid NOT IN (
      SELECT s.uuid FROM sso_events s
      WHERE s.published >= (SELECT min(CAST(ev.published AS DATE)) FROM parsed WHERE reason IS NULL)
        AND s.published < (SELECT max(CAST(ev.published AS DATE)) + 1 FROM parsed WHERE reason IS NULL))`);
  await connection.run(`CREATE OR REPLACE TEMP VIEW fresh AS SELECT ev FROM parsed SEMI JOIN fresh_lines USING (line_no)`);
  const counts = await connection.runAndReadAll(`SELECT
    (SELECT count(*) FROM fresh_lines), (SELECT count(*) FROM parsed WHERE reason IS NULL)`);
  const [freshCount, validCount] = counts.getRows()[0].map(Number);

  // Stored in day order: DuckDB's per-row-group min/max then prunes by day, like BigQuery's partitions.
  await connection.run(`INSERT INTO sso_events BY NAME SELECT ${['unnest(ev)', ...derivedColumns(ssoEvents, 'ev').map((d) => `${d.source} AS ${d.column}`)].join(', ')} FROM fresh ORDER BY CAST(ev.published AS DATE)`);
  await connection.run(`CREATE OR REPLACE TEMP TABLE touched_days AS
    SELECT DISTINCT CAST(ev.published AS DATE) AS day FROM fresh ORDER BY day`);
  const dayRows = await connection.runAndReadAll(`SELECT strftime(day, '%Y-%m-%d') FROM touched_days ORDER BY day`);
  const days = dayRows.getRows().map(([day]) => String(day));
  return { accepted: freshCount, duplicates: validCount - freshCount, rejected, days };
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
