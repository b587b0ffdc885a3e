/**
 * BigQuery's per-column statistics: INFORMATION_SCHEMA.PARTITIONS' rows and bytes per partition,
 * split over the columns in the proportions recorded at ingest (partitionEstimates.ts).
 */
import { columnStatsFromPartitions } from '../../warehouse/bigquery/partitionEstimates';
import { leafColumns, tenantInfo } from '../../pricing/tables';
import type { PartitionStat } from '../../pricing/scanBytes';

const stat = (day: string | null, column: string, logicalBytes: number, table = 'sso_events'): PartitionStat => ({ table, day, column, rows: 0, logicalBytes });
const bytesOf = (stats: PartitionStat[], day: string | null, column: string, table = 'sso_events') =>
  stats.find((s) => s.table === table && s.day === day && s.column === column)?.logicalBytes;

const recorded = [
  stat('2025-03-03', 'uuid', 300), stat('2025-03-03', 'actor.id', 100),
  stat('2025-03-04', 'uuid', 100), stat('2025-03-04', 'actor.id', 100),
];

test('a day bytegate loaded: its own recorded split, exact when the totals agree', () => {
  const stats = columnStatsFromPartitions([{ table: 'sso_events', day: '2025-03-03', rows: 4, logicalBytes: 400 }], recorded);
  expect(bytesOf(stats, '2025-03-03', 'uuid')).toBe(300);
  expect(bytesOf(stats, '2025-03-03', 'actor.id')).toBe(100);
  expect(bytesOf(stats, '2025-03-03', 'target.id')).toBe(0);
  expect(stats.every((s) => s.rows === 4)).toBe(true);
});

test('a partition that shrank or grew outside bytegate scales its recorded split; one that expired is gone', () => {
  const stats = columnStatsFromPartitions([{ table: 'sso_events', day: '2025-03-04', rows: 1, logicalBytes: 100 }], recorded);
  expect(bytesOf(stats, '2025-03-04', 'uuid')).toBe(50);
  expect(bytesOf(stats, '2025-03-04', 'actor.id')).toBe(50);
  expect(stats.some((s) => s.day === '2025-03-03')).toBe(false);
});

test('a day bytegate never loaded: the table\'s proportions over every recorded day', () => {
  const stats = columnStatsFromPartitions([{ table: 'sso_events', day: '2025-03-09', rows: 10, logicalBytes: 1200 }], recorded);
  expect(bytesOf(stats, '2025-03-09', 'uuid')).toBe(800); // 400 of 600 recorded bytes
  expect(bytesOf(stats, '2025-03-09', 'actor.id')).toBe(400);
});

test('a table with nothing recorded: every column charged the whole partition (an upper bound); undeclared tables skipped', () => {
  const stats = columnStatsFromPartitions([
    { table: 'tenant_info', day: null, rows: 1, logicalBytes: 40 },
    { table: '_load_sso_events_0123', day: null, rows: 5, logicalBytes: 999 },
  ], recorded);
  expect(stats.map((s) => s.column)).toEqual(leafColumns(tenantInfo).map((l) => l.path));
  expect(stats.every((s) => s.table === 'tenant_info' && s.logicalBytes === 40)).toBe(true);
});
