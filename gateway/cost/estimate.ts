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

export function priceJobs(jobs: readonly PlannedJob[], statistics: PartitionStatistics): Estimate {
  const estimated = jobs.map((job): EstimatedJob => {
    const perTable = job.tables.map((t) => statistics.bytes({ table: t.table, columns: t.columns, days: t.days === null ? null : [t.days] }));
    return { ...job, processedBytes: perTable.reduce((sum, b) => sum + b, 0), billedBytes: billedBytes(perTable) };
  });
  return {
    jobs: estimated,
    processedBytes: estimated.reduce((sum, job) => sum + job.processedBytes * job.times, 0),
    billedBytes: estimated.reduce((sum, job) => sum + job.billedBytes * job.times, 0),
    maxJobBilledBytes: estimated.reduce((max, job) => Math.max(max, job.billedBytes), 0),
  };
}
