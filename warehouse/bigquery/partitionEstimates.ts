/**
 * Per-column partition statistics on BigQuery, where INFORMATION_SCHEMA.PARTITIONS knows each
 * partition's rows and total logical bytes but not how they split over the columns.
 *
 * The split comes from the per-(table, day, column) bytes the loader records at ingest
 * (`_partition_stats`): a partition's total is divided in the proportions recorded for that day,
 * or — for a day bytegate never loaded — in the table's proportions over all recorded days. With no
 * proportions at all for a table, every column is charged the whole partition: an upper bound, so
 * the gateway over-estimates rather than lets a query through unpriced.
 *
 * Accuracy: a day written only through bytegate is exact (same bytes, same rows). PARTITIONS stays
 * authoritative for what changed outside bytegate — an expired partition disappears, a partition
 * shrunk by a DML delete scales down — and only the column split can then be off, by how far that
 * day's column mix differs from its recorded one. README.md (BigQuery → Statistics) has measurements: `npm run bench -- stats`.
 */
import { TABLES, leafColumns } from '../../pricing/tables';
import type { PartitionStat } from '../../pricing/scanBytes';

/** One row of INFORMATION_SCHEMA.PARTITIONS: day null for an unpartitioned table. */
export interface PartitionTotals {
  readonly table: string;
  readonly day: string | null;
  readonly rows: number;
  readonly logicalBytes: number;
}

export function columnStatsFromPartitions(partitions: readonly PartitionTotals[], recorded: readonly PartitionStat[]): PartitionStat[] {
  const byPartition = new Map<string, Map<string, number>>();
  const byTable = new Map<string, Map<string, number>>();
  const add = (index: Map<string, Map<string, number>>, key: string, column: string, bytes: number) => {
    let columns = index.get(key);
    if (!columns) index.set(key, (columns = new Map()));
    columns.set(column, (columns.get(column) ?? 0) + bytes);
  };
  for (const stat of recorded) {
    add(byPartition, partitionKey(stat.table, stat.day), stat.column, stat.logicalBytes);
    add(byTable, stat.table, stat.column, stat.logicalBytes);
  }

  const stats: PartitionStat[] = [];
  for (const partition of partitions) {
    const table = TABLES[partition.table];
    if (!table) continue; // staging and statistics tables are not priced
    const shares = proportions(byPartition.get(partitionKey(partition.table, partition.day))) ?? proportions(byTable.get(partition.table));
    for (const { path } of leafColumns(table)) {
      const share = shares ? shares.get(path) ?? 0 : 1;
      stats.push({ table: partition.table, day: partition.day, column: path, rows: partition.rows, logicalBytes: Math.round(partition.logicalBytes * share) });
    }
  }
  return stats;
}

// Private:

function partitionKey(table: string, day: string | null): string {
  return `${table}\u0000${day ?? ''}`;
}

/** Each column's fraction of the bytes, or undefined when nothing was recorded. */
function proportions(columns: Map<string, number> | undefined): Map<string, number> | undefined {
  if (!columns) return undefined;
  let total = 0;
  for (const bytes of columns.values()) total += bytes;
  if (total <= 0) return undefined;
  return new Map([...columns].map(([column, bytes]) => [column, bytes / total]));
}
