/**
 * What a query scans, and what that costs by BigQuery's rules: the referenced leaf columns of each
 * table, over the day partitions its filter selects, priced from the recorded partition statistics.
 * Pure: the DuckDB adapter derives scans from the SQL it runs; the gateway's estimator derives them
 * from cost declarations. Both price them with the same `PartitionStatistics`.
 */
import { lowerBound, upperBound } from '../common/sorted';

/** Recorded statistics of one column in one day partition (or of an unpartitioned table: day null). */
export interface PartitionStat {
  readonly table: string;
  readonly day: string | null;
  /** Leaf path, e.g. `actor.id`. */
  readonly column: string;
  readonly rows: number;
  readonly logicalBytes: number;
}

/** Inclusive day bounds; a missing bound is open (every partition on that side). */
export interface DayRange {
  readonly from?: string;
  readonly to?: string;
}

export interface TableScan {
  readonly table: string;
  /** Leaf column paths read, e.g. `actor.id`. */
  readonly columns: readonly string[];
  /** Partitions read: any day inside any of these ranges; `null` for an unpartitioned table. */
  readonly days: readonly DayRange[] | null;
}

/**
 * A tenant's recorded statistics, indexed for pricing: per (table, column), the day partitions in
 * order with running byte totals, so a day range costs two binary searches whatever its length.
 */
export class PartitionStatistics {
  private readonly columns = new Map<string, ColumnBytes>();
  private readonly tableDays = new Map<string, string[]>();

  constructor(stats: readonly PartitionStat[]) {
    const grouped = new Map<string, PartitionStat[]>();
    for (const stat of stats) {
      const key = columnKey(stat.table, stat.column);
      const group = grouped.get(key);
      if (group) group.push(stat);
      else grouped.set(key, [stat]);
    }
    for (const [key, group] of grouped) {
      const partitioned = group.filter((stat) => stat.day !== null).sort((a, b) => (a.day! < b.day! ? -1 : 1));
      const running: number[] = [0];
      for (const stat of partitioned) running.push(running[running.length - 1] + stat.logicalBytes);
      const unpartitioned = group.filter((stat) => stat.day === null).reduce((sum, stat) => sum + stat.logicalBytes, 0);
      this.columns.set(key, { days: partitioned.map((stat) => stat.day!), running, unpartitioned });
    }
    for (const stat of stats) {
      if (stat.day === null || stat.rows === 0) continue;
      const days = this.tableDays.get(stat.table) ?? [];
      days.push(stat.day);
      this.tableDays.set(stat.table, days);
    }
    for (const [table, days] of this.tableDays) this.tableDays.set(table, [...new Set(days)].sort());
  }

  /** Processed bytes of one table scan. */
  bytes(scan: TableScan): number {
    let total = 0;
    for (const column of new Set(scan.columns)) {
      const entry = this.columns.get(columnKey(scan.table, column));
      if (!entry) continue;
      if (scan.days === null) {
        total += entry.unpartitioned;
        continue;
      }
      for (const range of mergeRanges(scan.days)) {
        const start = range.from === undefined ? 0 : lowerBound(entry.days, range.from);
        const end = range.to === undefined ? entry.days.length : upperBound(entry.days, range.to);
        if (end > start) total += entry.running[end] - entry.running[start];
      }
    }
    return total;
  }

  /** The first and last day with rows in `table`, or undefined when it has none. */
  dataRange(table: string): { from: string; to: string } | undefined {
    const days = this.tableDays.get(table);
    return days?.length ? { from: days[0], to: days[days.length - 1] } : undefined;
  }
}

/** Processed bytes per scan, in scan order. */
export function scanBytes(scans: readonly TableScan[], statistics: PartitionStatistics): number[] {
  return scans.map((scan) => statistics.bytes(scan));
}

// Private:

interface ColumnBytes {
  /** Day partitions with statistics, ascending. */
  days: string[];
  /** running[i] = bytes of days[0..i-1]. */
  running: number[];
  /** Bytes recorded without a day (an unpartitioned table). */
  unpartitioned: number;
}

function columnKey(table: string, column: string): string {
  return `${table}\u0000${column}`;
}

/** Overlapping ranges merged, so a partition is never counted twice. */
function mergeRanges(ranges: readonly DayRange[]): DayRange[] {
  const sorted = [...ranges].sort((a, b) => ((a.from ?? '') < (b.from ?? '') ? -1 : 1));
  const merged: DayRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && (last.to === undefined || (range.from ?? '') <= last.to)) {
      if (last.to !== undefined && (range.to === undefined || range.to > last.to)) merged[merged.length - 1] = { from: last.from, to: range.to };
    } else {
      merged.push(range);
    }
  }
  return merged;
}
