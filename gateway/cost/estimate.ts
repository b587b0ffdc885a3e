/**
 * The byte estimate of an operation: its planned warehouse jobs (planOperation.ts) priced by
 * BigQuery's rules against the tenant's recorded partition statistics. Pure and synchronous. Days
 * outside the data cost nothing, so a range is in effect clamped to the data the tenant has.
 */
import { billedBytes } from '../../pricing/billing';
import type { PartitionStatistics } from '../../pricing/scanBytes';
import type { PlannedJob } from './planOperation';

export interface EstimatedJob extends PlannedJob {
  /** Processed bytes of one run. */
  readonly processedBytes: number;
  /** With `columnBytes` asked for: per table (as `tables`), each column's share of one run's processed bytes. */
  readonly columnBytes?: readonly Readonly<Record<string, number>>[];
  /** Billed bytes of one run (MiB rounding, 10 MiB minimum per table and per job). */
  readonly billedBytes: number;
}

export interface Estimate {
  readonly jobs: readonly EstimatedJob[];
  /** Processed bytes of every run of every job. */
  readonly processedBytes: number;
  /** Billed bytes of every run of every job. */
  readonly billedBytes: number;
  /** The largest single job's billed bytes: the cap each job runs under. */
  readonly maxJobBilledBytes: number;
}

/** `columnBytes`: also each column's bytes (for people reading an estimate; the admission needs only the sums). */
export function priceJobs(jobs: readonly PlannedJob[], statistics: PartitionStatistics, options: { columnBytes?: boolean } = {}): Estimate {
  const estimated = jobs.map((job): EstimatedJob => {
    const scans = job.tables.map((t) => ({ table: t.table, columns: t.columns, days: t.days === null ? null : [t.days] }));
    const perTable = scans.map((scan) => statistics.bytes(scan));
    const columnBytes = options.columnBytes
      ? scans.map((scan) => Object.fromEntries(scan.columns.map((column) => [column, statistics.bytes({ ...scan, columns: [column] })])))
      : undefined;
    return { ...job, processedBytes: perTable.reduce((sum, b) => sum + b, 0), billedBytes: billedBytes(perTable), ...(columnBytes ? { columnBytes } : {}) };
  });
  return {
    jobs: estimated,
    processedBytes: estimated.reduce((sum, job) => sum + job.processedBytes * job.times, 0),
    billedBytes: estimated.reduce((sum, job) => sum + job.billedBytes * job.times, 0),
    maxJobBilledBytes: estimated.reduce((max, job) => Math.max(max, job.billedBytes), 0),
  };
}
