/**
 * The BigQuery adapter of the DatasetWriter port: load jobs, then one transaction per batch.
 *
 * ingestEvents, per batch of up to `batchLines` lines:
 * 1. parse, validate and dedupe within the batch exactly as the embedded ingest does
 *    (stageEventBatch, in a scratch DuckDB file), into newline-delimited JSON rows of sso_events;
 * 2. load them (a load job: free) into a staging table `_load_…` that expires after a day, so a
 *    crash leaves nothing behind for long;
 * 3. one multi-statement transaction: insert the rows whose uuid the batch's days do not hold yet,
 *    add their actors to users, recompute the rollups for the touched (day, actor)s, add the
 *    new rows' per-column bytes to `_partition_stats` and refresh the small tables' statistics — it
 *    commits whole or not at all, so a retried or replayed batch lands exactly once;
 * 4. drop the staging table.
 * What a batch bills: the uuid column of the touched days' partitions (the dedupe), the touched
 * actors' clustered blocks of those days (the rollups), and the small tables; never a whole table.
 *
 * Every dataset is provisioned on first use (provision.ts, idempotent DDL; with the tenant's
 * customer-managed key when one is configured), and app_usage_daily backfilled when the dataset
 * predates it (events present, the rollup empty). Statement texts are
 * built from the table declarations; every value travels as a named parameter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BigQuery } from '@google-cloud/bigquery';
import type { DirectoryUser } from '../../okta/logEvent';
import { readLogFile } from '../../okta/logFile';
import type { DatasetWriter, IngestOptions, IngestReport, TenantInfo } from '../datasetWriter';
import { inSlices } from '../duckdb/eventBatches';
import { stageEventBatch } from '../duckdb/tenantDataset';
import { logicalByteExpressions } from '../logicalBytes';
import { BACKFILL_PARAMS, ROLLUPS, backfillAppUsageDailySql, refreshRollupsSql, rollupParams } from '../rollup';
import { type FieldSchema, type TableSchema, appUsageDaily, ssoEvents, tenantInfo, users } from '../../pricing/tables';
import { OVERHEAD_REASONS, type OverheadMeter, type OverheadReason } from '../overhead';
import { NOTHING_BILLED, type QueryParam, type SqlDialect } from '../warehouse';
import { bigQueryDialect } from './bigQueryDialect';
import { type RetryPolicy, labelValue, runOwnJob, withRetries } from './jobs';
import { type MetadataOptions, createBigQueryMetadata } from './metadata';
import { STATISTICS_TABLE, provisionDdl } from './provision';

export interface BigQueryLoaderOptions {
  /** Meters every job the loader runs (it runs them all for bytegate itself). */
  overhead?: OverheadMeter;
  /** With a store shared by the replicas (Redis): each write's changes are re-read once, right after it, for all of them. */
  metadata?: MetadataOptions;
  /** A client made by `bigQueryClient` (jobs.ts): its own retries off. */
  client: BigQuery;
  projectId: string;
  location: string;
  datasetPrefix: string;
  /** Customer-managed keys by tenant (BIGQUERY_KMS_KEYS): a dataset the loader creates gets its tenant's. */
  kmsKeys?: Readonly<Record<string, string>>;
  /** The `bytegate_version` job label. */
  version: string;
  /** Lines per batch (one load job and one transaction each); default 200,000. */
  batchLines?: number;
  /** Where batches are staged on local disk; default the OS temp directory. */
  tmpDir?: string;
  /** BigQuery cancels a job running longer; default 10 minutes. */
  jobTimeoutMs?: number;
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** A staging table outlives a crashed load by at most this long. */
const STAGING_TTL_MS = 24 * 3600 * 1000;

export function createBigQueryLoader(options: BigQueryLoaderOptions): DatasetWriter {
  const { client, projectId, location, datasetPrefix } = options;
  const batchLines = options.batchLines ?? 200_000;
  const jobTimeoutMs = options.jobTimeoutMs ?? 600_000;
  const policy: RetryPolicy = { maxRetries: options.maxRetries ?? 3, sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))) };
  const provisioned = new Map<string, Promise<void>>();

  const datasetOf = (tenant: string) => `${datasetPrefix}_${tenant}`;
  const dialectOf = (tenant: string) => bigQueryDialect(projectId, datasetOf(tenant));

  /** One query job (a statement or a script) to completion, metered as `reason`; the rows of its last statement. */
  async function run<Row>(tenant: string, reason: OverheadReason, name: string, sql: string, params: Readonly<Record<string, QueryParam>> = {}): Promise<Row[]> {
    const { rows, bill } = await withRetries(`${name} of tenant ${tenant}`, policy, () => runOwnJob<Row>(client, {
      sql, params, location, jobTimeoutMs, labels: { tenant: labelValue(tenant), query: labelValue(name), bytegate_version: labelValue(options.version) },
    }));
    options.overhead?.record(tenant, reason, bill);
    return rows;
  }

  /** With a shared store: what a write changed, re-read once for every replica (metadata.ts). */
  const metadata = options.metadata?.store
    ? createBigQueryMetadata({ client, projectId, location, datasetPrefix, version: options.version, policy, jobTimeoutMs, overhead: options.overhead, ...options.metadata })
    : undefined;
  // The write stands either way: should this fail, the replicas' own checks find it within METADATA_CHECK_MS.
  const reread = (tenant: string) => metadata?.afterWrite(tenant).catch(() => undefined);

  /** The dataset and its tables, created once per process (the DDL is idempotent). */
  function provision(tenant: string): Promise<void> {
    let done = provisioned.get(tenant);
    if (!done) {
      done = (async () => {
        for (const statement of provisionDdl({ projectId, datasetPrefix, tenant, location, kmsKeyName: options.kmsKeys?.[tenant] })) await run(tenant, OVERHEAD_REASONS.provision, 'provision', statement);
        await backfillAppUsageDaily(tenant);
      })();
      provisioned.set(tenant, done);
      done.catch(() => provisioned.delete(tenant));
    }
    return done;
  }

  /**
   * A dataset loaded before app_usage_daily was declared has it empty once provisioned: it is filled
   * for every day holding events, with its statistics, in one transaction. Both tables' row counts
   * come from tables.get (an API call, billed 0), so a dataset that needs nothing costs no job.
   */
  async function backfillAppUsageDaily(tenant: string): Promise<void> {
    const dataset = client.dataset(datasetOf(tenant), { location });
    const rowsOf = async (table: TableSchema) => {
      const [metadata] = await withRetries(`tables.get ${table.name} of tenant ${tenant}`, policy, () => dataset.table(table.name).getMetadata());
      return Number((metadata as { numRows?: string }).numRows ?? 0);
    };
    if ((await rowsOf(appUsageDaily)) > 0 || (await rowsOf(ssoEvents)) === 0) return;
    const d = dialectOf(tenant);
    await run(tenant, OVERHEAD_REASONS.provision, 'backfillAppUsageDaily', transaction([...backfillAppUsageDailySql(d), ...rollupStatisticsSql(d, appUsageDaily)]), BACKFILL_PARAMS);
    await reread(tenant);
  }

  /** Loads a newline-delimited JSON file into a fresh staging table shaped like `table`; drop it after use. */
  async function stage(tenant: string, table: TableSchema, file: string, onWait?: (reason: string) => void): Promise<{ name: string; drop(): Promise<void> }> {
    const name = `_load_${table.name}_${randomUUID().replace(/-/g, '')}`;
    const dataset = client.dataset(datasetOf(tenant), { location });
    await withRetries(`staging table ${name}`, policy, () => dataset.createTable(name, {
      schema: { fields: restFields(table.fields) }, expirationTime: String(Date.now() + STAGING_TTL_MS),
    }));
    const drop = async () => {
      await withRetries(`dropping ${name}`, policy, () => dataset.table(name).delete({ ignoreNotFound: true })).catch(() => undefined); // it expires anyway
    };
    try {
      onWait?.('the load job');
      await withRetries(`load job into ${name}`, policy, () => dataset.table(name).load(file, {
        sourceFormat: 'NEWLINE_DELIMITED_JSON', writeDisposition: 'WRITE_TRUNCATE', createDisposition: 'CREATE_NEVER',
      }));
      options.overhead?.record(tenant, OVERHEAD_REASONS.load, NOTHING_BILLED); // load jobs are free
    } catch (error) {
      await drop();
      throw error;
    }
    return { name, drop };
  }

  return {
    async createTenant(tenant: TenantInfo): Promise<void> {
      await provision(tenant.id);
      const d = dialectOf(tenant.id);
      await run(tenant.id, OVERHEAD_REASONS.tenant, 'createTenant', transaction([
        `DELETE FROM ${d.table(tenantInfo.name)} WHERE TRUE`,
        `INSERT INTO ${d.table(tenantInfo.name)} (id, name, timezone) VALUES (@id, @name, @timezone)`,
        ...statisticsSql(d, tenantInfo, { source: d.table(tenantInfo.name) }),
      ]), {
        id: { type: 'STRING', value: tenant.id }, name: { type: 'STRING', value: tenant.name }, timezone: { type: 'STRING', value: tenant.timezone ?? 'UTC' },
      });
      await reread(tenant.id);
    },

    async upsertUsers(tenant: string, people: readonly DirectoryUser[]): Promise<void> {
      await provision(tenant);
      const latest = new Map(people.map((p) => [p.id, p]));
      if (latest.size === 0) return;
      await withTempDir(options.tmpDir, async (dir) => {
        const file = path.join(dir, 'users.ndjson');
        fs.writeFileSync(file, [...latest.values()].map((p) => JSON.stringify({
          id: p.id, email: p.email, display_name: p.displayName, department: p.department, title: p.title, manager_id: p.managerId,
        })).join('\n'));
        const staged = await stage(tenant, users, file);
        try {
          const d = dialectOf(tenant);
          const columns = users.fields.map((f) => f.name);
          await run(tenant, OVERHEAD_REASONS.directory, 'upsertUsers', transaction([
            `MERGE INTO ${d.table(users.name)} AS t USING ${d.table(staged.name)} AS s ON t.id = s.id
             WHEN MATCHED THEN UPDATE SET ${columns.filter((c) => c !== 'id').map((c) => `${c} = s.${c}`).join(', ')}
             WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`,
            ...statisticsSql(d, users, { source: d.table(users.name) }),
          ]));
        } finally {
          await staged.drop();
        }
      });
      await reread(tenant);
    },

    async ingestEvents(tenant: string, lines: Iterable<string> | AsyncIterable<string>, ingestOptions: IngestOptions = {}): Promise<IngestReport> {
      await provision(tenant);
      const total: IngestReport = { accepted: 0, duplicates: 0, rejected: [], days: [] };
      const days = new Set<string>();
      const input = inSlices(lines);
      for (let offset = 0; !input.done; offset += batchLines) {
        await withTempDir(options.tmpDir, async (dir) => {
          const file = path.join(dir, 'events.ndjson');
          const batch = await stageEventBatch(input.take(batchLines), file, {
            ...ingestOptions, onProgress: ingestOptions.onProgress && ((read) => ingestOptions.onProgress!(offset + read)),
          });
          for (const { line, reason } of batch.rejected) total.rejected.push({ line: line + offset, reason });
          total.duplicates += batch.duplicates;
          if (batch.accepted === 0) return;
          const staged = await stage(tenant, ssoEvents, file, ingestOptions.onWait);
          try {
            const d = dialectOf(tenant);
            const rows = await run<{ day: string; accepted: number }>(tenant, OVERHEAD_REASONS.ingest, 'ingestEvents', eventsTransaction(d, staged.name), {
              ...rollupParams(batch.days[0], batch.days[batch.days.length - 1]), tenant: { type: 'STRING', value: tenant },
            });
            const accepted = Number(rows[0]?.accepted ?? 0);
            total.accepted += accepted;
            total.duplicates += batch.accepted - accepted;
            for (const { day } of rows) days.add(String(day));
          } finally {
            await staged.drop();
          }
        });
      }
      total.days = [...days].sort();
      if (total.accepted > 0) await reread(tenant);
      return total;
    },

    // Load jobs take newline-delimited JSON: both as lines, staged and validated like any others.
    ingestFile(tenant, file, ingestOptions) {
      return this.ingestEvents(tenant, readLogFile(file), ingestOptions);
    },

    ingestLogEvents(tenant, batches, ingestOptions) {
      return this.ingestEvents(tenant, (function* lines() {
        for (const batch of batches) for (const event of batch) yield JSON.stringify(event);
      })(), ingestOptions);
    },
  };
}

// Private:

/**
 * The statements of one events batch from `staging`: what the embedded ingest does in its write
 * transaction (tenantDataset.ts), with the rollup scoped to the touched actors and the events'
 * statistics grown by the new rows. Ends with one row per touched day and the count of new rows.
 */
function eventsTransaction(d: SqlDialect, staging: string): string {
  const columns = ssoEvents.fields.map((f) => d.ident(f.name)).join(', ');
  return transaction([
    `CREATE TEMP TABLE fresh AS
     SELECT s.* FROM ${d.table(staging)} AS s
     WHERE s.uuid NOT IN (SELECT e.uuid FROM ${d.table(ssoEvents.name)} AS e
                          WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')})`,
    `INSERT INTO ${d.table(ssoEvents.name)} (${columns}) SELECT ${columns} FROM fresh`,
    `CREATE TEMP TABLE touched_days AS SELECT DISTINCT CAST(f.published AS DATE) AS day FROM fresh AS f`,
    `CREATE TEMP TABLE touched_actors AS SELECT DISTINCT f.actor_id FROM fresh AS f`,
    // A dataset ingested before createTenant gets a default name and UTC, as the embedded ingest does.
    `INSERT INTO ${d.table(tenantInfo.name)} (id, name, timezone)
     SELECT ${d.param('tenant', 'STRING')}, ${d.param('tenant', 'STRING')}, 'UTC' FROM UNNEST([1])
     WHERE NOT EXISTS (SELECT 1 FROM ${d.table(tenantInfo.name)})`,
    // Actors not in the directory yet become users with what the event says about them.
    `INSERT INTO ${d.table(users.name)} (id, email, display_name)
     SELECT f.actor_id, ANY_VALUE(f.actor.alternateId), ANY_VALUE(f.actor.displayName) FROM fresh AS f
     WHERE f.actor_id NOT IN (SELECT u.id FROM ${d.table(users.name)} AS u)
     GROUP BY f.actor_id`,
    ...refreshRollupsSql(d, 'touched_actors'),
    ...statisticsSql(d, ssoEvents, { source: 'fresh', add: true }),
    ...ROLLUPS.flatMap((rollup) => rollupStatisticsSql(d, rollup)),
    ...statisticsSql(d, users, { source: d.table(users.name) }),
    ...statisticsSql(d, tenantInfo, { source: d.table(tenantInfo.name) }),
  ], `SELECT CAST(t.day AS STRING) AS day, (SELECT COUNT(*) FROM fresh) AS accepted FROM touched_days AS t ORDER BY day`);
}

/**
 * Statements that record `table`'s rows and per-column logical bytes per day (or, unpartitioned,
 * for the table) over the rows of `source` (aliased `t`, filtered by `where`): summed once into a
 * temp table, then either added to `_partition_stats` (`add`: rows that were only appended) or
 * replacing what it holds for the table (limited to the days matching `replacing`).
 */
function statisticsSql(d: SqlDialect, table: TableSchema, scope: { source: string; where?: string; add?: boolean; replacing?: string }): string[] {
  const stats = d.table(STATISTICS_TABLE.name);
  const sums = `bytes_${table.name}`;
  const leaves = logicalByteExpressions(table, 't', d);
  const day = table.partitionBy ? `CAST(t.${d.ident(table.partitionBy.column)} AS DATE)` : 'CAST(NULL AS DATE)';
  const rows = d.ident('rows');
  const perColumn = leaves.map((leaf, i) => `SELECT '${table.name}' AS table_name, b.day, '${leaf.column}' AS column_path, b.n AS ${rows}, b.b${i} AS logical_bytes FROM ${sums} AS b`)
    .join('\n     UNION ALL ');
  const columns = `table_name, day, column_path, ${rows}, logical_bytes`;
  return [
    `CREATE TEMP TABLE ${sums} AS
     SELECT ${day} AS day, COUNT(*) AS n, ${leaves.map((leaf, i) => `SUM(${leaf.sql}) AS b${i}`).join(', ')}
     FROM ${scope.source} AS t${scope.where ? ` WHERE ${scope.where}` : ''}
     GROUP BY day`,
    ...(scope.add
      ? [`MERGE INTO ${stats} AS s USING (${perColumn}) AS x
          ON s.table_name = x.table_name AND s.day = x.day AND s.column_path = x.column_path
          WHEN MATCHED THEN UPDATE SET ${rows} = s.${rows} + x.${rows}, logical_bytes = s.logical_bytes + x.logical_bytes
          WHEN NOT MATCHED THEN INSERT (${columns}) VALUES (x.table_name, x.day, x.column_path, x.${rows}, x.logical_bytes)`]
      : [
        `DELETE FROM ${stats} WHERE table_name = '${table.name}'${scope.replacing ? ` AND ${scope.replacing}` : ''}`,
        `INSERT INTO ${stats} (${columns}) ${perColumn}`,
      ]),
  ];
}

/** A rollup's statistics for the days in `touched_days`, replacing what `_partition_stats` held for them. */
function rollupStatisticsSql(d: SqlDialect, rollup: TableSchema): string[] {
  return statisticsSql(d, rollup, {
    source: d.table(rollup.name),
    where: `t.day BETWEEN ${d.param('firstDay', 'DATE')} AND ${d.param('lastDay', 'DATE')} AND t.day IN (SELECT day FROM touched_days)`,
    replacing: 'day IN (SELECT day FROM touched_days)',
  });
}

/** A script: the statements in one transaction, then (outside it) `result`. */
function transaction(statements: string[], result?: string): string {
  return ['BEGIN TRANSACTION', ...statements, 'COMMIT TRANSACTION', ...(result ? [result] : [])].join(';\n');
}

/** The declared fields as a REST schema (derived columns are ordinary columns there). */
function restFields(fields: readonly FieldSchema[]): object[] {
  return fields.map((f) => ({
    name: f.name, type: f.type, mode: f.mode ?? 'NULLABLE', ...(f.type === 'STRUCT' ? { fields: restFields(f.fields) } : {}),
  }));
}

async function withTempDir<T>(parent: string | undefined, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(parent ?? os.tmpdir(), 'bytegate-load-'));
  try {
    return await use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
