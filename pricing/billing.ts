/**
 * BigQuery on-demand billing rules, as pure functions.
 * https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#data_type_sizes
 * https://cloud.google.com/bigquery/pricing#on_demand_pricing
 */
import { MiB, TiB } from '../common/units';
import type { ScalarType } from './tables';

/** BigQuery bills at least this much per table referenced and per query. */
export const MIN_BILLED_BYTES_PER_TABLE = 10 * MiB;
export const DEFAULT_PRICE_PER_TIB_USD = 6.25;

/** Fixed logical size of a non-NULL scalar, or undefined for STRING/BYTES (2 + length). */
export const FIXED_SIZE_BYTES: Readonly<Partial<Record<ScalarType, number>>> = {
  INT64: 8, FLOAT64: 8, DATE: 8, TIMESTAMP: 8, NUMERIC: 16, BIGNUMERIC: 32, BOOL: 1,
};

/** Logical bytes of one scalar value by BigQuery's rules; NULL is 0. STRING counts UTF-8 bytes. */
export function scalarBytes(type: ScalarType, value: unknown): number {
  if (value === null || value === undefined) return 0;
  const fixed = FIXED_SIZE_BYTES[type];
  if (fixed !== undefined) return fixed;
  if (type === 'BYTES') return 2 + (value as Uint8Array).byteLength;
  return 2 + Buffer.byteLength(String(value), 'utf8');
}

/**
 * Bytes billed for a query that processed `processedBytesPerTable` (one entry per table referenced):
 * each table at least 10 MiB, the query at least 10 MiB, rounded up to a whole MiB.
 * A query that processes nothing (every partition pruned) bills nothing.
 */
export function billedBytes(processedBytesPerTable: readonly number[]): number {
  const processed = processedBytesPerTable.reduce((sum, bytes) => sum + bytes, 0);
  if (processed === 0) return 0;
  const perTable = processedBytesPerTable.reduce((sum, bytes) => sum + Math.max(bytes, MIN_BILLED_BYTES_PER_TABLE), 0);
  return Math.ceil(Math.max(perTable, MIN_BILLED_BYTES_PER_TABLE) / MiB) * MiB;
}

export function bytesToUsd(bytes: number, pricePerTibUsd: number): number {
  return (bytes / TiB) * pricePerTibUsd;
}
