/**
 * The production Warehouse adapter: one BigQuery dataset per tenant (`${datasetPrefix}_${tenant}`).
 *
 * Per query, one job (jobs.insert, then getQueryResults, then jobs.get for its statistics):
 * - named parameters only: the SQL text is built from the query's code, never from input;
 * - `maximumBytesBilled` = the query's cap, so BigQuery refuses an over-cap job without charge
 *   (bytesBilledLimitExceeded → QUERY_TOO_EXPENSIVE); never "0", which some tools read as no limit:
 *   a cap of 0 is sent as 1 byte, so a job that would bill anything is refused (maximumBytesBilled());
 * - labels {tenant, user, operation, request_id, query, bytegate_version}, so billing exports attribute
 *   every byte (and a request id leads from a log line to its jobs);
 * - `jobTimeoutMs`, so a runaway job is cancelled by BigQuery, not just abandoned by us — each retried
 *   attempt gets only what is left of it, counted from the first attempt;
 * - a job whose caller gives up (its signal aborts: the subgraph's deadline) is cancelled (jobs.cancel)
 *   and read back, so what BigQuery billed for it is reported, not lost (stopJob);
 * - rate limits, quota and backend errors (and HTTP 5xx) retried with exponential backoff, then
 *   WAREHOUSE_UNAVAILABLE. The client's own retries are off so there is one retry policy, ours.
 * Bytes are BigQuery's own totalBytesProcessed / totalBytesBilled; rows come back as the DuckDB
 * adapter returns them (INT64 as numbers, TIMESTAMP as ISO-8601 UTC, DATE as YYYY-MM-DD).
 * Statistics, data versions and table versions come from the tenant's metadata, read only when its
 * tables changed and shared by replicas (metadata.ts); metadata reads and dry runs are metered as
 * bytegate's own bill (overhead.ts).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { BigQueryDate, BigQueryTimestamp, type Job } from '@google-cloud/bigquery';
import { withDeadline } from '../../common/deadline';
import { ErrorCode, badUserInput, bytegateError } from '../../common/errors';
import { MiB } from '../../common/units';
import { MIN_BILLED_BYTES_PER_TABLE, billedBytes } from '../../pricing/billing';
import { type PartitionStat } from '../../pricing/scanBytes';
import { TABLES } from '../../pricing/tables';
import { OVERHEAD_REASONS, type OverheadMeter } from '../overhead';
import {
  type JobBill, NOTHING_BILLED, STOP_GRACE_MS, StoppedJobError, UNPARTITIONED_TABLES, UNWRITTEN_TABLE_VERSION, type Warehouse, type WarehouseQuery, type WarehouseResult,
} from '../warehouse';
import { bigQueryDialect, toBigQueryParams } from './bigQueryDialect';
import { type BigQueryConnection, billOf, bigQueryClient, jobMetadata, labelValue, withRetries } from './jobs';
import { type MetadataOptions, createBigQueryMetadata } from './metadata';
import type { TenantMetadata } from './metadataStore';
import { columnStatsFromPartitions } from './partitionEstimates';

export interface BigQueryWarehouseOptions extends BigQueryConnection {
  /** Dataset of tenant T is `${datasetPrefix}_${T}`; default `bytegate`. */
  datasetPrefix?: string;
  /** BigQuery cancels a job running longer (all its retried attempts together); default 60 s. */
  jobTimeoutMs?: number;
  /** Retries of a retryable failure before WAREHOUSE_UNAVAILABLE; default 3. */
  maxRetries?: number;
  /** The `bytegate_version` job label. */
  version?: string;
  /** Backoff between retries (tests inject one that records). */
  sleep?: (ms: number) => Promise<void>;
  /** Where the tenants' metadata (statistics, data and table versions) is kept and how often it is checked (metadata.ts). */
  metadata?: MetadataOptions;
  /** Meters the jobs the adapter runs for itself (metadata reads, dry runs). */
  overhead?: OverheadMeter;
  now?: () => number;
}

const TENANT_ID = /^[a-z][a-z0-9_]{0,62}$/;

export function createBigQueryWarehouse(options: BigQueryWarehouseOptions): Warehouse {
  const { projectId, location } = options;
  const datasetPrefix = options.datasetPrefix ?? 'bytegate';
  const jobTimeoutMs = options.jobTimeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 3;
  const version = labelValue(options.version ?? 'unknown');
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const client = bigQueryClient(options);
  const now = options.now ?? Date.now;
  /** Datasets seen to exist: a tenant does not disappear while we run (a 404 evicts it anyway). */
  const knownTenants = new Set<string>();

  function datasetOf(tenant: string): string {
    if (typeof tenant !== 'string' || !TENANT_ID.test(tenant)) throw badUserInput(`Unknown tenant "${tenant}".`);
    return `${datasetPrefix}_${tenant}`;
  }

  const policy = { maxRetries, sleep };
  const metadata = createBigQueryMetadata({ client, projectId, location, datasetPrefix, version, policy, jobTimeoutMs, overhead: options.overhead, now, ...options.metadata });
  /** What each snapshot derives to, computed once per snapshot. */
  const derived = new WeakMap<TenantMetadata, Derived>();
  const derive = async (tenant: string): Promise<Derived> => {
    const snapshot = await metadata.get(tenant);
    let values = derived.get(snapshot);
    if (!values) derived.set(snapshot, (values = deriveFrom(snapshot)));
    return values;
  };

  /** `attempt` under the retry policy, a cap overrun and a missing dataset mapped to our errors. */
  function withJobRetries<T>(tenant: string, query: Pick<WarehouseQuery, 'name' | 'maxBytesBilled'>, attempt: () => Promise<T>): Promise<T> {
    return withRetries(`query ${query.name}`, policy, attempt, ({ status, reason, message }) => {
      if (reason === 'bytesBilledLimitExceeded') {
        const required = /(\d+) or higher required/.exec(message)?.[1];
        return bytegateError(ErrorCode.QUERY_TOO_EXPENSIVE, `Query ${query.name} would bill more than its cap of ${query.maxBytesBilled} bytes.`, {
          limitBytes: query.maxBytesBilled, ...(required ? { billedBytes: Number(required) } : {}),
        });
      }
      if (status === 404 || reason === 'notFound') {
        knownTenants.delete(tenant);
        return badUserInput(`Unknown tenant "${tenant}".`);
      }
      return undefined;
    });
  }

  /**
   * Runs one job to completion: its rows (normalized) and its statistics. Aborting `signal` stops the
   * current attempt's job (stopJob) and starts no other.
   */
  async function runJob<Row extends object>(tenant: string, query: WarehouseQuery, signal?: AbortSignal): Promise<WarehouseResult<Row>> {
    const dataset = datasetOf(tenant);
    const sql = query.sql(bigQueryDialect(projectId, dataset));
    const { params, types } = toBigQueryParams(sql, query.params);
    if (signal?.aborted) throw new StoppedJobError(NOTHING_BILLED);
    let firstAttemptAt: number | undefined;
    let current: Job | undefined;
    const run = withJobRetries(tenant, query, async () => {
      signal?.throwIfAborted();
      const at = now();
      firstAttemptAt ??= at;
      // Named before its insert, so it can be cancelled while the insert is still in flight.
      const named = client.job(`bytegate_${randomUUID()}`, { location });
      current = named;
      const [job] = await client.createQueryJob({
        jobId: named.id,
        query: sql,
        useLegacySql: false,
        params,
        types,
        labels: {
          tenant: labelValue(tenant), query: labelValue(query.name), bytegate_version: version,
          ...(query.attribution ? { user: labelValue(query.attribution.user) } : {}),
          ...(query.attribution?.operation ? { operation: labelValue(query.attribution.operation) } : {}),
          ...(query.attribution?.requestId ? { request_id: labelValue(query.attribution.requestId) } : {}),
        },
        jobTimeoutMs: Math.max(1, jobTimeoutMs - (at - firstAttemptAt)),
        location,
        ...(query.maxBytesBilled !== undefined ? { maximumBytesBilled: maximumBytesBilled(query.maxBytesBilled) } : {}),
      });
      current = job;
      // Polls while the job runs (no client-side timeout: jobTimeoutMs makes BigQuery end it, the signal us).
      const [rows] = await job.getQueryResults({ autoPaginate: true });
      const statistics = (await jobMetadata(job)).statistics?.query;
      return { rows: normalizeRows(rows) as Row[], ...billOf(statistics), cacheHit: statistics?.cacheHit === true };
    });
    return signal ? untilStopped(run, signal, () => stopJob(current)) : run;
  }

  return {
    async query<Row extends object>(tenant: string, query: WarehouseQuery, signal?: AbortSignal): Promise<WarehouseResult<Row>> {
      const result = await runJob<Row>(tenant, query, signal);
      knownTenants.add(tenant);
      return result;
    },

    async dryRun(tenant: string, query: WarehouseQuery) {
      const dataset = datasetOf(tenant);
      const sql = query.sql(bigQueryDialect(projectId, dataset));
      const { params, types } = toBigQueryParams(sql, query.params);
      return withJobRetries(tenant, { name: query.name }, async () => {
        const [job] = await client.createQueryJob({ query: sql, useLegacySql: false, params, types, location, dryRun: true });
        const statistics = job.metadata?.statistics;
        const processedBytes = Number(statistics?.totalBytesProcessed ?? 0);
        // A dry run reports processed bytes only: exact for one table; over several, each table's
        // 10 MiB minimum is added on top (an upper bound).
        const tables = Math.max(1, statistics?.query?.referencedTables?.length ?? 1);
        const billed = tables === 1 ? billedBytes([processedBytes])
          : processedBytes === 0 ? 0 : Math.ceil((processedBytes + tables * MIN_BILLED_BYTES_PER_TABLE) / MiB) * MiB;
        options.overhead?.record(tenant, OVERHEAD_REASONS.dryRun, NOTHING_BILLED); // free, counted as a job
        return { processedBytes, billedBytes: billed };
      });
    },

    async partitionStats(tenant: string): Promise<PartitionStat[]> {
      return (await derive(tenant)).stats;
    },

    async dataVersions(tenant: string): Promise<ReadonlyMap<string, string>> {
      return (await derive(tenant)).days;
    },

    async tableVersions(tenant: string): Promise<ReadonlyMap<string, string>> {
      return (await derive(tenant)).tables;
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
        await withJobRetries(tenant, { name: 'hasTenant' }, () => client.dataset(dataset, { location }).getMetadata());
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

interface Derived {
  readonly stats: PartitionStat[];
  readonly days: ReadonlyMap<string, string>;
  readonly tables: ReadonlyMap<string, string>;
}

/**
 * Statistics: PARTITIONS' rows and bytes per partition, split over the columns as ingest recorded
 * (partitionEstimates.ts). Data versions: each day's partitions' last modifications, in every
 * partitioned table — the rollups' too, so a rollup rewritten without new events (a backfill) still
 * changes the versions of the days it wrote. Table versions: an
 * unpartitioned table is one partition whose last modification changes with every write to it; one
 * PARTITIONS does not list yet (never written) has UNWRITTEN_TABLE_VERSION.
 */
function deriveFrom({ partitions, recorded }: TenantMetadata): Derived {
  const written = new Map(partitions.filter((p) => p.day === null).map((p) => [p.table, p.version]));
  return {
    stats: columnStatsFromPartitions(partitions, recorded.map((r) => ({ ...r, rows: 0 }))),
    days: dayVersions(partitions),
    tables: new Map(UNPARTITIONED_TABLES.map((table) => [table, written.get(table) ?? UNWRITTEN_TABLE_VERSION])),
  };
}

/** Per day, `table:version` of its partition in each partitioned table (partitions come ordered by table, then day). */
function dayVersions(partitions: TenantMetadata['partitions']): Map<string, string> {
  const days = new Map<string, string[]>();
  for (const p of partitions) {
    if (p.day === null || !TABLES[p.table]?.partitionBy) continue;
    days.set(p.day, [...(days.get(p.day) ?? []), `${p.table}:${p.version}`]);
  }
  return new Map([...days].map(([day, versions]) => [day, versions.join(' ')]));
}

/**
 * A cap as BigQuery's `maximumBytesBilled` (https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobConfigurationQuery):
 * at least 1 byte. "0" is ambiguous — some BigQuery drivers document it as no limit — so a job estimated
 * to read nothing could run uncapped; with 1, BigQuery refuses it as soon as it would bill anything (its
 * least bill is 10 MiB per table), as the DuckDB adapter refuses any bill over a cap of 0.
 */
function maximumBytesBilled(capBytes: number): string {
  return String(Math.max(1, capBytes));
}

/** How often a stopped job's state is read until BigQuery reports it DONE. */
const STOP_POLL_MS = 100;

/** `run`, unless `signal` aborts first: then it fails with a StoppedJobError carrying `stop()`'s bill. */
function untilStopped<T>(run: Promise<T>, signal: AbortSignal, stop: () => Promise<JobBill | undefined>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      run.catch(() => undefined); // its outcome no longer matters: the stopped job's statistics say what it billed
      void stop().then((bill) => reject(new StoppedJobError(bill)));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Cancels `job` (jobs.cancel) and reads what it billed once BigQuery reports it DONE: a job that had
 * finished keeps its bill; a cancelled one bills what it processed; a failed one, nothing. Undefined when
 * BigQuery cannot tell within STOP_GRACE_MS. A job BigQuery does not know (no attempt yet, or an insert
 * that never arrived; jobs.get says 404) billed nothing.
 */
async function stopJob(job: Job | undefined): Promise<JobBill | undefined> {
  if (!job) return NOTHING_BILLED;
  let expired = false;
  try {
    return await withDeadline(async () => {
      await job.cancel().catch(() => undefined); // nothing to cancel in a job that ended or never was: jobs.get tells
      for (;;) {
        const metadata = await jobMetadata(job);
        if (metadata.status?.state === 'DONE') return billOf(metadata.statistics?.query);
        if (expired) return undefined;
        await delay(STOP_POLL_MS);
      }
    }, STOP_GRACE_MS);
  } catch (error) {
    return (error as { code?: unknown }).code === 404 ? NOTHING_BILLED : undefined;
  } finally {
    expired = true;
  }
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
