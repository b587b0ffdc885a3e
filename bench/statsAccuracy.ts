/**
 * How accurate BigQuery's per-column partition statistics are (warehouse/bigquery/partitionEstimates.ts):
 * INFORMATION_SCHEMA.PARTITIONS gives each day's rows and total logical bytes, and the split over the
 * columns comes from the bytes recorded at ingest. Measured against the exact per-(day, column)
 * statistics the embedded DuckDB warehouse records for a freshly seeded tenant, on sso_events:
 * - days bytegate loaded: the recorded split of that very day — must be exact (a sanity check);
 * - days it never loaded: each day in turn estimated from the other days' proportions (leave-one-out),
 *   per column and per set of columns real queries read (QUERY_COLUMN_SETS);
 * - a partition shrunk outside bytegate (SHRINK_FACTOR of its rows kept, deleted uniformly): PARTITIONS
 *   scales down, the recorded split stays — exact only when the deleted rows have the day's average mix.
 * The tenant is generated into a temporary directory, removed afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { progress } from '../cli/progress';
import { seedTenant } from '../cli/seedTenant';
import { DEFAULT_EVENTS_PER_USER } from '../okta/generator';
import { type PartitionTotals, columnStatsFromPartitions } from '../warehouse/bigquery/partitionEstimates';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import { duckDbDatasetWriter } from '../warehouse/duckdb/tenantDataset';
import { leafColumns, ssoEvents } from '../pricing/tables';
import type { PartitionStat } from '../pricing/scanBytes';

/** The column sets of realistic queries on sso_events, whose summed bytes price them. */
export const QUERY_COLUMN_SETS: readonly { readonly name: string; readonly columns: readonly string[] | 'all' }[] = [
  { name: 'uuid', columns: ['uuid'] },
  { name: 'by type', columns: ['published', 'eventType', 'actor.id'] },
  { name: 'rollup', columns: ['published', 'actor_id', 'eventType', 'authenticationContext.authenticationStep', 'target.id', 'target.type'] },
  { name: 'all', columns: 'all' },
];

/** Share of a partition's rows left after a delete outside bytegate. */
export const SHRINK_FACTOR = 0.9;

/** Relative errors |estimate − exact| / exact, as fractions (0.01 = 1%). */
export interface ErrorSummary {
  readonly median: number;
  readonly p95: number;
  readonly max: number;
  /** The largest under-estimate, (exact − estimate) / exact; 0 when the estimate never fell short. */
  readonly maxUnder: number;
}

export interface ColumnError extends ErrorSummary {
  readonly column: string;
  /** The column's share of the table's bytes over all days, for weighing its error. */
  readonly byteShare: number;
  /** Days on which the column held 0 bytes (no relative error), with a non-zero estimate. */
  readonly zeroDaysEstimatedNonZero: number;
}

export interface StatsAccuracy {
  readonly users: number;
  readonly days: number;
  readonly eventsPerUser: number;
  readonly events: number;
  readonly columns: number;
  readonly seedSeconds: number;
  /** Days loaded by bytegate: largest |estimate − exact| in bytes over every (day, column); 0 expected. */
  readonly recordedMaxAbsErrorBytes: number;
  readonly leaveOneOut: {
    /** Over every (day, column) with exact bytes > 0. */
    readonly overall: ErrorSummary;
    /** Worst first (by max). */
    readonly perColumn: readonly ColumnError[];
    /** Error of the summed bytes of each QUERY_COLUMN_SETS entry, over the days. */
    readonly columnSets: readonly (ErrorSummary & { readonly name: string; readonly columns: readonly string[] })[];
  };
  readonly shrunk: {
    readonly factor: number;
    /** Against the exact statistics × factor, over every (day, column) with exact bytes > 0. */
    readonly maxRelativeError: number;
    readonly maxAbsErrorBytes: number;
  };
}

export async function benchStatsAccuracy(options: { users: number; days: number; eventsPerUser?: number }): Promise<StatsAccuracy> {
  const eventsPerUser = options.eventsPerUser ?? DEFAULT_EVENTS_PER_USER;
  const tenant = 'stats';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-stats-'));
  let exactAll: PartitionStat[];
  let events: number;
  const started = process.hrtime.bigint();
  try {
    const dataDir = path.join(dir, 'data');
    const shown = progress();
    const report = await seedTenant(duckDbDatasetWriter(dataDir), { tenant, users: options.users, days: options.days, eventsPerUser, start: '2025-01-01', seed: 5 }, (p) =>
      shown.update(`stats bench: seeding day ${p.daysDone}/${p.days}, ${p.events.toLocaleString('en-US')} events`));
    shown.done();
    events = report.accepted;
    const warehouse = createDuckDbWarehouse({ dataDir });
    try {
      exactAll = await warehouse.partitionStats(tenant);
    } finally {
      await warehouse.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const seedSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  const exact = exactAll.filter((s) => s.table === ssoEvents.name);
  const columns = leafColumns(ssoEvents).map((leaf) => leaf.path);
  const known = new Set(columns);
  for (const set of QUERY_COLUMN_SETS) {
    if (set.columns !== 'all') for (const column of set.columns) if (!known.has(column)) throw new Error(`stats bench: no column ${column} in ${ssoEvents.name}`);
  }
  const days = [...new Set(exact.map((s) => s.day ?? ''))].sort();
  if (days.length < 2) throw new Error(`stats bench: ${days.length} day(s) of ${ssoEvents.name} statistics; leave-one-out needs at least 2`);
  const exactByKey = new Map(exact.map((s) => [statKey(s.day, s.column), s.logicalBytes]));
  const exactBytes = (day: string, column: string) => exactByKey.get(statKey(day, column)) ?? 0;
  const totals = partitionTotals(exact);

  // a. Days recorded at ingest: the day's own split.
  let recordedMaxAbsErrorBytes = 0;
  for (const estimate of columnStatsFromPartitions(totals, exact)) {
    recordedMaxAbsErrorBytes = Math.max(recordedMaxAbsErrorBytes, Math.abs(estimate.logicalBytes - exactBytes(estimate.day ?? '', estimate.column)));
  }

  // b. Days not recorded: each day from the other days' proportions. Signed errors, summarized below.
  const perColumnErrors = new Map(columns.map((c) => [c, [] as number[]]));
  const zeroDays = new Map(columns.map((c) => [c, 0]));
  const setErrors = QUERY_COLUMN_SETS.map(() => [] as number[]);
  for (const day of days) {
    const estimates = columnStatsFromPartitions(totals.filter((t) => t.day === day), exact.filter((s) => s.day !== day));
    const estimated = new Map(estimates.map((s) => [s.column, s.logicalBytes]));
    for (const column of columns) {
      const truth = exactBytes(day, column);
      const estimate = estimated.get(column) ?? 0;
      if (truth > 0) perColumnErrors.get(column)!.push((estimate - truth) / truth);
      else if (estimate > 0) zeroDays.set(column, zeroDays.get(column)! + 1);
    }
    QUERY_COLUMN_SETS.forEach((set, i) => {
      const members = set.columns === 'all' ? columns : set.columns;
      let truth = 0;
      let estimate = 0;
      for (const column of members) {
        truth += exactBytes(day, column);
        estimate += estimated.get(column) ?? 0;
      }
      if (truth > 0) setErrors[i].push((estimate - truth) / truth);
    });
  }
  const tableBytes = exact.reduce((sum, s) => sum + s.logicalBytes, 0);
  const perColumn: ColumnError[] = columns
    .map((column) => ({
      column,
      ...summarize(perColumnErrors.get(column)!),
      byteShare: days.reduce((sum, day) => sum + exactBytes(day, column), 0) / tableBytes,
      zeroDaysEstimatedNonZero: zeroDays.get(column)!,
    }))
    .sort((a, b) => b.max - a.max);

  // c. A partition shrunk outside bytegate: PARTITIONS scaled down, the recorded split unchanged.
  const shrunkTotals = totals.map((t) => ({ ...t, rows: Math.round(t.rows * SHRINK_FACTOR), logicalBytes: Math.round(t.logicalBytes * SHRINK_FACTOR) }));
  let shrunkMaxRelative = 0;
  let shrunkMaxAbs = 0;
  for (const estimate of columnStatsFromPartitions(shrunkTotals, exact)) {
    const truth = exactBytes(estimate.day ?? '', estimate.column) * SHRINK_FACTOR;
    if (truth <= 0) continue;
    const error = Math.abs(estimate.logicalBytes - truth);
    shrunkMaxAbs = Math.max(shrunkMaxAbs, error);
    shrunkMaxRelative = Math.max(shrunkMaxRelative, error / truth);
  }

  return {
    users: options.users, days: days.length, eventsPerUser, events, columns: columns.length, seedSeconds,
    recordedMaxAbsErrorBytes,
    leaveOneOut: {
      overall: summarize([...perColumnErrors.values()].flat()),
      perColumn,
      columnSets: QUERY_COLUMN_SETS.map((set, i) => ({ name: set.name, columns: set.columns === 'all' ? columns : set.columns, ...summarize(setErrors[i]) })),
    },
    shrunk: { factor: SHRINK_FACTOR, maxRelativeError: shrunkMaxRelative, maxAbsErrorBytes: shrunkMaxAbs },
  };
}

// Private:

function statKey(day: string | null, column: string): string {
  return `${day ?? ''}\u0000${column}`;
}

/** What INFORMATION_SCHEMA.PARTITIONS reports per day: the rows (the same for every column) and the bytes of all columns. */
function partitionTotals(stats: readonly PartitionStat[]): PartitionTotals[] {
  const byDay = new Map<string, { table: string; day: string | null; rows: number; logicalBytes: number }>();
  for (const stat of stats) {
    const key = `${stat.table}\u0000${stat.day ?? ''}`;
    const total = byDay.get(key);
    if (total) total.logicalBytes += stat.logicalBytes;
    else byDay.set(key, { table: stat.table, day: stat.day, rows: stat.rows, logicalBytes: stat.logicalBytes });
  }
  return [...byDay.values()];
}

/** Of signed relative errors (estimate − exact) / exact: median, nearest-rank 95th percentile and maximum of their size, and the largest under-estimate. */
function summarize(signed: readonly number[]): ErrorSummary {
  if (signed.length === 0) return { median: 0, p95: 0, max: 0, maxUnder: 0 };
  const sorted = signed.map(Math.abs).sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  return { median: rank(0.5), p95: rank(0.95), max: sorted[sorted.length - 1], maxUnder: Math.max(0, ...signed.map((e) => -e)) };
}
