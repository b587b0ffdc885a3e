/**
 * bytegate's own bill: every warehouse job it runs for itself rather than for a user's query —
 * reading metadata, dry runs, provisioning, loads, ingest transactions, directory and tenant writes —
 * counted per tenant and reason with what the warehouse says it billed. The process's totals feed
 * `/metrics` (`bytegate_overhead_billed_bytes_total{tenant,reason}`, `bytegate_overhead_jobs_total`)
 * and the CLIs' summaries; a job run on behalf of a request (`attributeOverhead`) is also added to that
 * request's usage, so its log line shows overhead apart from the user's bill.
 * README.md ("bytegate's own bill") says what each reason costs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { formatBytes } from '../common/units';
import type { JobBill } from './warehouse';

export const OVERHEAD_REASONS = {
  /** Partition statistics and data versions (INFORMATION_SCHEMA.PARTITIONS, `_partition_stats`). */
  metadata: 'metadata',
  /** Dry runs verifying an expensive operation's jobs (free, counted as jobs). */
  dryRun: 'dryRun',
  /** The dataset's DDL (CREATE … IF NOT EXISTS). */
  provision: 'provision',
  /** Load jobs into staging tables (free, counted as jobs). */
  load: 'load',
  /** An events batch's transaction: dedupe, insert, rollup refresh, statistics. */
  ingest: 'ingest',
  /** A directory upsert's transaction. */
  directory: 'directory',
  /** A tenant's name and timezone. */
  tenant: 'tenant',
} as const;
export type OverheadReason = (typeof OVERHEAD_REASONS)[keyof typeof OVERHEAD_REASONS];

export interface OverheadTotal extends JobBill {
  readonly tenant: string;
  readonly reason: OverheadReason;
  readonly jobs: number;
}

/** Where a request's share of the overhead is added up (the subgraphs' WarehouseUsage). */
export interface OverheadSink {
  overheadBilledBytes: number;
  overheadJobs: number;
}

export interface OverheadMeter {
  /** One job bytegate ran for itself, and what it billed. */
  record(tenant: string, reason: OverheadReason, bill: JobBill): void;
  /** Every (tenant, reason) so far, in the order first seen. */
  totals(): OverheadTotal[];
}

export function createOverheadMeter(): OverheadMeter {
  const totals = new Map<string, { tenant: string; reason: OverheadReason; jobs: number; processedBytes: number; billedBytes: number }>();
  return {
    record(tenant, reason, bill) {
      const key = `${tenant}\u0000${reason}`;
      let total = totals.get(key);
      if (!total) totals.set(key, (total = { tenant, reason, jobs: 0, processedBytes: 0, billedBytes: 0 }));
      total.jobs += 1;
      total.processedBytes += bill.processedBytes;
      total.billedBytes += bill.billedBytes;
      const sink = requestScope.getStore();
      if (sink) {
        sink.overheadJobs += 1;
        sink.overheadBilledBytes += bill.billedBytes;
      }
    },
    totals: () => [...totals.values()].map((total) => ({ ...total })),
  };
}

/** Runs `work` so that every overhead job it causes is also added to `sink` (a request's usage). */
export function attributeOverhead<T>(sink: OverheadSink, work: () => Promise<T>): Promise<T> {
  return requestScope.run(sink, work);
}

/** The totals by reason, summed over tenants, as one line per reason (the CLIs' summary). */
export function describeOverhead(totals: readonly OverheadTotal[]): string[] {
  const byReason = new Map<OverheadReason, { jobs: number; billedBytes: number }>();
  for (const { reason, jobs, billedBytes } of totals) {
    const sum = byReason.get(reason) ?? { jobs: 0, billedBytes: 0 };
    sum.jobs += jobs;
    sum.billedBytes += billedBytes;
    byReason.set(reason, sum);
  }
  return [...byReason].map(([reason, { jobs, billedBytes }]) => `${reason}: ${jobs} job${jobs === 1 ? '' : 's'}, ${formatBytes(billedBytes)} billed`);
}

// Private:

const requestScope = new AsyncLocalStorage<OverheadSink>();
