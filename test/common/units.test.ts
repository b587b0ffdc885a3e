import { GiB, MiB, bytesForPeople, formatBytes } from '../../common/units';

test('bytesForPeople gives human units and, when they round, the exact count', () => {
  expect(bytesForPeople(20 * MiB)).toBe('20 MiB (20,971,520 bytes)');
  expect(bytesForPeople(1.5 * GiB + 1)).toBe(`${formatBytes(1.5 * GiB + 1)} (1,610,612,737 bytes)`);
  expect(bytesForPeople(900)).toBe('900 B');
  expect(bytesForPeople(0)).toBe('0 B');
});
