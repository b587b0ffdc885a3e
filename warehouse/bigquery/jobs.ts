/**
 * What every BigQuery job of bytegate shares, reads and writes alike: one retry policy (the
 * client's own retries are off), error descriptions, and job label values.
 */
import { BigQuery, type BigQueryOptions, type Job } from '@google-cloud/bigquery';
import { ErrorCode, bytegateError } from '../../common/errors';
import type { JobBill, QueryParam } from '../warehouse';
import { toBigQueryParams } from './bigQueryDialect';

export interface BigQueryConnection {
  projectId: string;
  location?: string;
  /** e.g. `http://127.0.0.1:PORT` for a local fake; default Google's endpoint. */
  apiEndpoint?: string;
  /** A google-auth-library AuthClient or GoogleAuth; default Application Default Credentials. */
  authClient?: unknown;
}

/** A client with its own retries off, so `withRetries` is the one retry policy. */
export function bigQueryClient({ projectId, location, apiEndpoint, authClient }: BigQueryConnection): BigQuery {
  return new BigQuery({
    projectId, location, apiEndpoint, authClient: authClient as BigQueryOptions['authClient'], retryOptions: { autoRetry: false, maxRetries: 0 },
  });
}

/** First retry waits this long, each next one twice as long. */
export const RETRY_BASE_DELAY_MS = 250;

const RETRYABLE_REASONS = new Set(['rateLimitExceeded', 'quotaExceeded', 'backendError', 'internalError']);

export interface RetryPolicy {
  /** Retries of a retryable failure before WAREHOUSE_UNAVAILABLE. */
  readonly maxRetries: number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface JobError {
  readonly status?: number;
  readonly reason?: string;
  readonly message: string;
}

/**
 * `attempt` until it succeeds, retrying rate limits, quota, backend errors and HTTP 5xx with
 * exponential backoff, then WAREHOUSE_UNAVAILABLE (retryable). `mapError` may turn a failure into
 * one of ours first (it is then thrown as is); other failures are rethrown unchanged.
 */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  attempt: () => Promise<T>,
  mapError: (error: JobError) => Error | undefined = () => undefined,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      const described = describeError(error);
      const mapped = mapError(described);
      if (mapped) throw mapped;
      const { status, reason } = described;
      const retryable = (reason !== undefined && RETRYABLE_REASONS.has(reason)) || status === 429 || (status !== undefined && status >= 500);
      if (!retryable) throw error;
      if (retry >= policy.maxRetries) {
        throw bytegateError(ErrorCode.WAREHOUSE_UNAVAILABLE, `BigQuery is unavailable for ${what} (${reason ?? status}) after ${retry + 1} attempts.`, {
          reason: reason ?? `http_${status}`, retryable: true,
        });
      }
      await policy.sleep(RETRY_BASE_DELAY_MS * 2 ** retry);
    }
  }
}

/** A job bytegate runs for itself: uncapped, not cancelled by a caller. */
export interface OwnJob {
  /** One statement, or a script (its last statement's rows come back). */
  readonly sql: string;
  readonly params?: Readonly<Record<string, QueryParam>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly location?: string;
  readonly jobTimeoutMs: number;
}

/** Runs `job` to completion (one attempt: wrap it in `withRetries`): its rows, and what it billed (jobs.get). */
export async function runOwnJob<Row>(client: BigQuery, job: OwnJob): Promise<{ rows: Row[]; bill: JobBill }> {
  const { params, types } = toBigQueryParams(job.sql, job.params ?? {});
  const [created] = await client.createQueryJob({
    query: job.sql, useLegacySql: false, params, types, location: job.location, jobTimeoutMs: job.jobTimeoutMs, labels: { ...job.labels },
  });
  const [rows] = await created.getQueryResults({ autoPaginate: true });
  return { rows: rows as Row[], bill: billOf((await jobMetadata(created)).statistics?.query) };
}

/** The part of a jobs.get answer read here. */
export interface JobMetadata {
  status?: { state?: string };
  statistics?: { query?: JobStatistics };
}

export interface JobStatistics {
  totalBytesProcessed?: string;
  totalBytesBilled?: string;
  cacheHit?: boolean;
}

/** jobs.get */
export async function jobMetadata(job: Job): Promise<JobMetadata> {
  const [metadata] = await job.getMetadata();
  return metadata as JobMetadata;
}

export function billOf(statistics: JobStatistics | undefined): JobBill {
  return { processedBytes: Number(statistics?.totalBytesProcessed ?? 0), billedBytes: Number(statistics?.totalBytesBilled ?? 0) };
}

/** BigQuery label values: lowercase letters, digits, `_` and `-`, at most 63 characters. */
export function labelValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
}

/** What a client error says: HTTP status, BigQuery's reason, message. */
function describeError(error: unknown): JobError {
  const e = error as { code?: unknown; errors?: { reason?: string; message?: string }[]; message?: string } | null;
  return {
    status: typeof e?.code === 'number' ? e.code : undefined,
    reason: e?.errors?.[0]?.reason,
    message: `${e?.message ?? ''} ${e?.errors?.map((x) => x.message ?? '').join(' ') ?? ''}`,
  };
}
