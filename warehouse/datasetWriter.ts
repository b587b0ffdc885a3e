/**
 * The write side of the tenants' datasets: create one, load directory users, ingest Okta System
 * Log events. Adapters: the embedded DuckDB files (warehouse/duckdb/tenantDataset.ts) and BigQuery
 * load jobs (warehouse/bigquery/bigQueryLoader.ts); `openDatasetWriter` (openWarehouse.ts) picks
 * the configured one. Every adapter refreshes the derived data a write invalidates — the
 * productivity_daily rollup and the statistics the estimator prices with — before it returns.
 */
import type { DataChangeFeed } from '../common/changeFeed';
import type { DirectoryUser, LogEvent } from '../okta/logEvent';

export interface TenantInfo {
  id: string;
  name: string;
  /** IANA timezone the tenant's budgets reset in; default UTC. */
  timezone?: string;
}

export interface IngestReport {
  /** New events stored. */
  accepted: number;
  /** Valid events already stored (same uuid), or repeated within the input. */
  duplicates: number;
  /** Lines that could not be stored, with their 1-based line numbers. */
  rejected: { line: number; reason: string }[];
  /** Days that received new events, ascending. */
  days: string[];
}

export interface IngestOptions {
  /** Called after every `progressEvery` lines read (default 100,000). */
  onProgress?: (linesRead: number) => void;
  progressEvery?: number;
  /** Called while the write waits for something (another writer, a load job). */
  onWait?: (reason: string) => void;
}

export interface DatasetWriter {
  /** Creates the dataset (idempotent) and records the tenant's display name and timezone. */
  createTenant(tenant: TenantInfo): Promise<void>;
  /** Inserts or replaces directory users by id. */
  upsertUsers(tenant: string, people: readonly DirectoryUser[]): Promise<void>;
  /**
   * Loads Okta LogEvents, one JSON object per line; creates the dataset when missing. Idempotent on
   * `uuid`. Malformed lines are reported and skipped, the rest loads.
   */
  ingestEvents(tenant: string, lines: Iterable<string> | AsyncIterable<string>, options?: IngestOptions): Promise<IngestReport>;
  /**
   * `ingestEvents` of an Okta System Log export file (NDJSON, or a JSON array as the Okta API returns
   * it), line numbers as in the file; the embedded warehouse parses an NDJSON file itself.
   */
  ingestFile(tenant: string, file: string, options?: IngestOptions): Promise<IngestReport>;
  /** `ingestEvents` of LogEvent objects, a batch at a time (the seed's generator, a day per batch), without a JSON round trip where the warehouse can. */
  ingestLogEvents(tenant: string, batches: Iterable<readonly LogEvent[]>, options?: IngestOptions): Promise<IngestReport>;
}

/** `writer`, announcing each completed write on `changes` with the days it wrote (none for a directory or tenant write). */
export function announceWrites(writer: DatasetWriter, changes: DataChangeFeed): DatasetWriter {
  const announced = async (tenant: string, ingest: Promise<IngestReport>) => {
    const report = await ingest;
    if (report.accepted > 0) await changes.publish({ tenant, days: report.days });
    return report;
  };
  return {
    async createTenant(tenant) {
      await writer.createTenant(tenant);
      await changes.publish({ tenant: tenant.id, days: [] });
    },
    async upsertUsers(tenant, people) {
      await writer.upsertUsers(tenant, people);
      await changes.publish({ tenant, days: [] });
    },
    ingestEvents: (tenant, lines, options) => announced(tenant, writer.ingestEvents(tenant, lines, options)),
    ingestFile: (tenant, file, options) => announced(tenant, writer.ingestFile(tenant, file, options)),
    ingestLogEvents: (tenant, batches, options) => announced(tenant, writer.ingestLogEvents(tenant, batches, options)),
  };
}
