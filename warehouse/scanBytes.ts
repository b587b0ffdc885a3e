/**
 * What a query scans, and what that costs by BigQuery's rules: the referenced leaf columns of each
 * table, over the day partitions its filter selects, priced from the recorded partition statistics.
 * Pure: the DuckDB adapter derives scans from the SQL it runs; the gateway's estimator (later)
 * derives them from cost declarations. Both price them here.
 */
import type { PartitionStat } from './warehouse';

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

/** Processed bytes per scan, in scan order. */
export function scanBytes(scans: readonly TableScan[], stats: readonly PartitionStat[]): number[] {
  return scans.map((scan) => {
    const columns = new Set(scan.columns);
    let bytes = 0;
    for (const stat of stats) {
      if (stat.table !== scan.table || !columns.has(stat.column)) continue;
      if (scan.days !== null && (stat.day === null || !scan.days.some((range) => inRange(stat.day!, range)))) continue;
      bytes += stat.logicalBytes;
    }
    return bytes;
  });
}

export function inRange(day: string, range: DayRange): boolean {
  return (range.from === undefined || day >= range.from) && (range.to === undefined || day <= range.to);
}
