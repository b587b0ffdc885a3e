/** PartitionStatistics prices scans by prefix sums; checked against a plain sum over every statistic. */
import { type DayRange, PartitionStatistics, type TableScan } from '../../pricing/scanBytes';
import type { PartitionStat } from '../../pricing/scanBytes';

const days = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10));
const stats: PartitionStat[] = [
  ...days.flatMap((day, i) => [
    { table: 'sso_events', day, column: 'published', rows: 10 + i, logicalBytes: 8 * (10 + i) },
    { table: 'sso_events', day, column: 'actor.id', rows: 10 + i, logicalBytes: 22 * (10 + i) + (i % 3) },
  ]),
  { table: 'users', day: null, column: 'id', rows: 5, logicalBytes: 110 },
  { table: 'users', day: null, column: 'email', rows: 5, logicalBytes: 97 },
];
const statistics = new PartitionStatistics(stats);

/** The definition: every statistic of a referenced column in a selected partition, once. */
function naive(scan: TableScan): number {
  const inRange = (day: string, r: DayRange) => (r.from === undefined || day >= r.from) && (r.to === undefined || day <= r.to);
  return stats
    .filter((s) => s.table === scan.table && scan.columns.includes(s.column))
    .filter((s) => (scan.days === null ? s.day === null : s.day !== null && scan.days.some((r) => inRange(s.day!, r))))
    .reduce((sum, s) => sum + s.logicalBytes, 0);
}

test.each<[string, TableScan]>([
  ['one day', { table: 'sso_events', columns: ['published'], days: [{ from: days[3], to: days[3] }] }],
  ['a range of two columns', { table: 'sso_events', columns: ['published', 'actor.id'], days: [{ from: days[5], to: days[25] }] }],
  ['a range reaching past the data', { table: 'sso_events', columns: ['actor.id'], days: [{ from: '2024-12-01', to: '2025-12-31' }] }],
  ['open-ended ranges', { table: 'sso_events', columns: ['published'], days: [{ to: days[4] }, { from: days[30] }] }],
  ['overlapping ranges count a day once', { table: 'sso_events', columns: ['published'], days: [{ from: days[2], to: days[10] }, { from: days[8], to: days[12] }, { to: days[3] }] }],
  ['no partition selected', { table: 'sso_events', columns: ['published'], days: [] }],
  ['a range with no data', { table: 'sso_events', columns: ['published'], days: [{ from: '2030-01-01', to: '2030-02-01' }] }],
  ['an unpartitioned table', { table: 'users', columns: ['id', 'email', 'id'], days: null }],
  ['an unknown column', { table: 'users', columns: ['nope'], days: null }],
])('%s', (_name, scan) => {
  expect(statistics.bytes(scan)).toBe(naive(scan));
  expect(naive(scan) > 0 || scan.days?.length === 0 || _name.includes('no data') || _name.includes('unknown')).toBe(true);
});

test('dataRange is the first and last day with rows', () => {
  expect(statistics.dataRange('sso_events')).toEqual({ from: days[0], to: days[days.length - 1] });
  expect(statistics.dataRange('users')).toBeUndefined();
});
