/**
 * The production Warehouse adapter: one BigQuery dataset per tenant (`${datasetPrefix}_${tenant}`).
 *
 * Per query, one job (jobs.insert, then getQueryResults, then jobs.get for its statistics):
 * - named parameters only: the SQL text is built from the query's code, never from input;
 * - `maximumBytesBilled` = the query's cap, so BigQuery refuses an over-cap job without charge
 *   (bytesBilledLimitExceeded → QUERY_TOO_EXPENSIVE);
 * - labels {tenant, query, bytegate_version}, so billing exports attribute every byte;
 * - `jobTimeoutMs`, so a runaway job is cancelled by BigQuery, not just abandoned by us;
 * - rate limits, quota and backend errors (and HTTP 5xx) retried with exponential backoff, then
 *   WAREHOUSE_UNAVAILABLE. The client's own retries are off so there is one retry policy, ours.
 * Bytes are BigQuery's own totalBytesProcessed / totalBytesBilled; rows come back as the DuckDB
 * adapter returns them (INT64 as numbers, TIMESTAMP as ISO-8601 UTC, DATE as YYYY-MM-DD).
 */
import { BigQuery, BigQueryDate, type BigQueryOptions, BigQueryTimestamp, type Job } from '@google-cloud/bigquery';
import { ErrorCode, badUserInput, bytegateError } from '../../common/errors';
import { MIN_BILLED_BYTES_PER_TABLE, MiB, billedBytes } from '../billing';
import type { PartitionStat, QueryParam, Warehouse, WarehouseQuery, WarehouseResult } from '../warehouse';
import { bigQueryDialect, toBigQueryParams } from './bigQueryDialect';

export interface BigQueryWarehouseOptions {
  projectId: string;
  location?: string;
  /** Dataset of tenant T is `${datasetPrefix}_${T}`; default `bytegate`. */
  datasetPrefix?: string;
  /** e.g. `http://127.0.0.1:PORT` for a local fake; default Google's endpoint. */
  apiEndpoint?: string;
  /** A google-auth-library AuthClient or GoogleAuth; default Application Default Credentials. */
  authClient?: unknown;
  /** BigQuery cancels a job running longer; default 60 s. */
  jobTimeoutMs?: number;
  /** Retries of a retryable failure before WAREHOUSE_UNAVAILABLE; default 3. */
  maxRetries?: number;
  /** The `bytegate_version` job label. */
  version?: string;
  /** Backoff between retries (tests inject one that records). */
  sleep?: (ms: number) => Promise<void>;
  /** How long a tenant's data versions are reused; default 5 s. Every cached request asks for them,
   * and each INFORMATION_SCHEMA job bills at least 10 MiB, so an ingest shows within this time. */
  dataVersionsTtlMs?: number;
  now?: () => number;
}

/** First retry waits this long, each next one twice as long. */
const RETRY_BASE_DELAY_MS = 250;

const TENANT_ID = /^[a-z][a-z0-9_]{0,62}$/;
const RETRYABLE_REASONS = new Set(['rateLimitExceeded', 'quotaExceeded', 'backendError', 'internalError']);

export function createBigQueryWarehouse(options: BigQueryWarehouseOptions): Warehouse {
  const { projectId, location } = options;
  const datasetPrefix = options.datasetPrefix ?? 'bytegate';
  const jobTimeoutMs = options.jobTimeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 3;
  const version = labelValue(options.version ?? 'unknown');
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const client = new BigQuery({
    projectId,
    location,
    apiEndpoint: options.apiEndpoint,
    authClient: options.authClient as BigQueryOptions['authClient'],
    retryOptions: { autoRetry: false, maxRetries: 0 },
  });
  const dataVersionsTtlMs = options.dataVersionsTtlMs ?? 5000;
  const now = options.now ?? Date.now;
  const versionsByTenant = new Map<string, { at: number; versions: Promise<ReadonlyMap<string, string>> }>();
  /** Datasets seen to exist: a tenant does not disappear while we run (a 404 evicts it anyway). */
  const knownTenants = new Set<string>();

  function datasetOf(tenant: string): string {
    if (typeof tenant !== 'string' || !TENANT_ID.test(tenant)) throw badUserInput(`Unknown tenant "${tenant}".`);
    return `${datasetPrefix}_${tenant}`;
  }

  /** `attempt` until it succeeds, retrying what BigQuery says is transient; errors mapped to ours. */
  async function withRetries<T>(tenant: string, query: Pick<WarehouseQuery, 'name' | 'maxBytesBilled'>, attempt: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        const { status, reason, message } = describeError(error);
        if (reason === 'bytesBilledLimitExceeded') {
          const required = /(\d+) or higher required/.exec(message)?.[1];
          throw bytegateError(ErrorCode.QUERY_TOO_EXPENSIVE, `Query ${query.name} would bill more than its cap of ${query.maxBytesBilled} bytes.`, {
            limitBytes: query.maxBytesBilled, ...(required ? { billedBytes: Number(required) } : {}),
          });
        }
        if (status === 404 || reason === 'notFound') {
          knownTenants.delete(tenant);
          throw badUserInput(`Unknown tenant "${tenant}".`);
        }
        const retryable = (reason !== undefined && RETRYABLE_REASONS.has(reason)) || status === 429 || (status !== undefined && status >= 500);
        if (!retryable) throw error;
        if (retry >= maxRetries) {
          throw bytegateError(ErrorCode.WAREHOUSE_UNAVAILABLE, `BigQuery is unavailable for query ${query.name} (${reason ?? status}) after ${retry + 1} attempts.`, {
            reason: reason ?? `http_${status}`, retryable: true,
          });
        }
        await sleep(RETRY_BASE_DELAY_MS * 2 ** retry);
      }
    }
  }

  /** Runs one job to completion: its rows (normalized) and its statistics. */
  async function runJob<Row extends object>(tenant: string, query: WarehouseQuery): Promise<WarehouseResult<Row>> {
    const dataset = datasetOf(tenant);
    const sql = query.sql(bigQueryDialect(projectId, dataset));
    const { params, types } = toBigQueryParams(sql, query.params);
    return withRetries(tenant, query, async () => {
      const [job] = await client.createQueryJob({
        query: sql,
        useLegacySql: false,
        params,
        types,
        labels: { tenant: labelValue(tenant), query: labelValue(query.name), bytegate_version: version },
        jobTimeoutMs,
        location,
        ...(query.maxBytesBilled !== undefined ? { maximumBytesBilled: String(query.maxBytesBilled) } : {}),
      });
      // Polls while the job runs (no client-side timeout: jobTimeoutMs makes BigQuery end it).
      const [rows] = await job.getQueryResults({ autoPaginate: true });
      const statistics = await jobStatistics(job);
      return {
        rows: normalizeRows(rows) as Row[],
        processedBytes: Number(statistics?.totalBytesProcessed ?? 0),
        billedBytes: Number(statistics?.totalBytesBilled ?? 0),
        cacheHit: statistics?.cacheHit === true,
      };
    });
  }

  /** Per day partition of sso_events: last_modified_time, which changes with every write to it, and only then. */
  async function readDataVersions(tenant: string): Promise<ReadonlyMap<string, string>> {
    const params: Record<string, QueryParam> = { table: { type: 'STRING', value: 'sso_events' } };
    const { rows } = await runJob<{ partition_id: string | null; version: string }>(tenant, {
      name: 'dataVersions',
      params,
      sql: (d) => `SELECT p.partition_id, CAST(UNIX_MICROS(p.last_modified_time) AS STRING) AS version
        FROM ${d.table('INFORMATION_SCHEMA.PARTITIONS')} AS p
        WHERE p.table_name = ${d.param('table', 'STRING')} AND p.partition_id NOT IN ('__NULL__', '__UNPARTITIONED__')`,
    });
    const versions = new Map<string, string>();
    for (const { partition_id: id, version: v } of rows) {
      if (id === null || !/^\d{8}$/.test(id)) continue; // __NULL__, __UNPARTITIONED__, or not daily
      versions.set(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`, String(v));
    }
    return versions;
  }

  return {
    async query<Row extends object>(tenant: string, query: WarehouseQuery): Promise<WarehouseResult<Row>> {
      const result = await runJob<Row>(tenant, query);
      knownTenants.add(tenant);
      return result;
    },

    async dryRun(tenant: string, query: WarehouseQuery) {
      const dataset = datasetOf(tenant);
      const sql = query.sql(bigQueryDialect(projectId, dataset));
      const { params, types } = toBigQueryParams(sql, query.params);
      return withRetries(tenant, { name: query.name }, async () => {
        const [job] = await client.createQueryJob({ query: sql, useLegacySql: false, params, types, location, dryRun: true });
        const statistics = job.metadata?.statistics;
        const processedBytes = Number(statistics?.totalBytesProcessed ?? 0);
        // A dry run reports processed bytes only: exact for one table; over several, each table's
        // 10 MiB minimum is added on top (an upper bound).
        const tables = Math.max(1, statistics?.query?.referencedTables?.length ?? 1);
        const billed = tables === 1 ? billedBytes([processedBytes])
          : processedBytes === 0 ? 0 : Math.ceil((processedBytes + tables * MIN_BILLED_BYTES_PER_TABLE) / MiB) * MiB;
        return { processedBytes, billedBytes: billed };
      });
    },

    async partitionStats(tenant: string): Promise<PartitionStat[]> {
      const { rows } = await runJob<{ table_name: string; day: string | null; column_path: string; rows: number; logical_bytes: number }>(tenant, {
        name: 'partitionStats',
        params: {},
        sql: (d) => `SELECT s.table_name, s.day, s.column_path, s.\`rows\`, s.logical_bytes FROM ${d.table('_partition_stats')} AS s`,
      });
      return rows.map((r) => ({ table: r.table_name, day: r.day, column: r.column_path, rows: Number(r.rows), logicalBytes: Number(r.logical_bytes) }));
    },

    dataVersions(tenant: string): Promise<ReadonlyMap<string, string>> {
      const cached = versionsByTenant.get(tenant);
      if (cached && now() - cached.at < dataVersionsTtlMs) return cached.versions;
      const versions = readDataVersions(tenant);
      versionsByTenant.set(tenant, { at: now(), versions });
      versions.catch(() => versionsByTenant.delete(tenant));
      return versions;
    },

    async hasTenant(tenant: string): Promise<boolean> {
      if (knownTenants.has(tenant)) return true;
      let dataset: string;
      try {
        dataset = datasetOf(tenant);
      } catch {
        return false; // not even a valid tenant id
      }
      try {
        await withRetries(tenant, { name: 'hasTenant' }, () => client.dataset(dataset, { location }).getMetadata());
      } catch (error) {
        if ((error as { extensions?: { code?: string } }).extensions?.code === ErrorCode.BAD_USER_INPUT) return false;
        throw error;
      }
      knownTenants.add(tenant);
      return true;
    },

    async close(): Promise<void> {
      knownTenants.clear();
    },
  };
}

// Private:

/** BigQuery label values: lowercase letters, digits, `_` and `-`, at most 63 characters. */
function labelValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
}

interface JobStatistics {
  totalBytesProcessed?: string;
  totalBytesBilled?: string;
  cacheHit?: boolean;
}

async function jobStatistics(job: Job): Promise<JobStatistics | undefined> {
  const [metadata] = await job.getMetadata();
  return (metadata as { statistics?: { query?: JobStatistics } }).statistics?.query;
}

/** What a client error says: HTTP status, BigQuery's reason, message. */
function describeError(error: unknown): { status?: number; reason?: string; message: string } {
  const e = error as { code?: unknown; errors?: { reason?: string; message?: string }[]; message?: string } | null;
  return {
    status: typeof e?.code === 'number' ? e.code : undefined,
    reason: e?.errors?.[0]?.reason,
    message: `${e?.message ?? ''} ${e?.errors?.map((x) => x.message ?? '').join(' ') ?? ''}`,
  };
}

/** The client's DATE/TIMESTAMP wrappers as the DuckDB adapter's strings; INT64 already are numbers. */
function normalizeRows(rows: unknown[]): object[] {
  return rows.map((row) => normalizeValue(row) as object);
}

function normalizeValue(value: unknown): unknown {
  if (value instanceof BigQueryDate) return value.value;
  if (value instanceof BigQueryTimestamp) return isoTimestamp(value.value);
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, normalizeValue(v)]));
  }
  return value;
}

/** `YYYY-MM-DDTHH:MM:SS(.ffffff)Z`, microseconds with trailing zeros dropped (as DuckDB prints them). */
function isoTimestamp(value: string): string {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(value);
  if (!match) return value;
  const fraction = (match[2] ?? '').slice(0, 6).replace(/0+$/, '');
  return `${match[1]}${fraction ? `.${fraction}` : ''}Z`;
}
