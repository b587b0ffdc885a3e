import { billedBytes, bytesToUsd, scalarBytes } from '../../pricing/billing';
import { MiB, TiB } from '../../common/units';

describe('BigQuery logical sizes', () => {
  // https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#data_type_sizes
  test.each([
    ['INT64', 42, 8],
    ['FLOAT64', 0.5, 8],
    ['TIMESTAMP', '2025-01-01T00:00:00Z', 8],
    ['DATE', '2025-01-01', 8],
    ['NUMERIC', '1.5', 16],
    ['BIGNUMERIC', '1.5', 32],
    ['BOOL', false, 1],
    ['STRING', '', 2], //                     2 + 0
    ['STRING', 'okta', 6], //                 2 + 4
    ['STRING', 'Zoë', 6], //                  2 + 4 (ë is 2 bytes in UTF-8)
    ['STRING', '東京', 8], //                 2 + 6
    ['STRING', '😀', 6], //                   2 + 4
    ['BYTES', new Uint8Array([1, 2, 3]), 5], // 2 + 3
    ['STRING', null, 0], //                   NULL is free
    ['INT64', undefined, 0],
  ] as const)('%s %p is %i bytes', (type, value, bytes) => {
    expect(scalarBytes(type, value)).toBe(bytes);
  });
});

describe('billed bytes', () => {
  test.each([
    [[0], 0], //                              nothing read, nothing billed
    [[1], 10 * MiB], //                       10 MiB minimum per table
    [[10 * MiB + 1], 11 * MiB], //            rounded up to a whole MiB
    [[1, 1], 20 * MiB], //                    10 MiB per table referenced
    [[15 * MiB, 0], 25 * MiB], //             a referenced table read for 0 bytes still has its minimum
    [[3 * 1024 * MiB], 3 * 1024 * MiB], //    exact MiB stays
  ])('%p processed bills %i', (perTable, billed) => {
    expect(billedBytes(perTable)).toBe(billed);
  });

  test('USD at the configured price per TiB', () => {
    expect(bytesToUsd(TiB, 6.25)).toBe(6.25);
    expect(bytesToUsd(10 * MiB, 6.25)).toBeCloseTo(6.25 * 10 / (1024 * 1024), 12);
  });
});
