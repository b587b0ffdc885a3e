/**
 * SQL that measures each leaf column's logical bytes by BigQuery's rules (pricing/billing.ts),
 * in either dialect: fixed sizes for numbers/dates/bools, 2 + UTF-8 length for strings, 0 for
 * NULL, and an ARRAY the sum over its elements. The ingest records these per day partition; the
 * estimator prices scans with them.
 */
import { FIXED_SIZE_BYTES } from '../pricing/billing';
import { type TableSchema, leafColumns } from '../pricing/tables';
import type { SqlDialect } from './warehouse';

/** One expression per leaf column of `table` (in declaration order) over the row `rowAlias`. */
export function logicalByteExpressions(table: TableSchema, rowAlias: string, dialect: SqlDialect): { column: string; sql: string }[] {
  return leafColumns(table).map((leaf) => {
    const segments = leaf.path.split('.');
    const sizeOf = (value: string) => {
      const fixed = FIXED_SIZE_BYTES[leaf.type];
      if (fixed !== undefined) return `(CASE WHEN ${value} IS NULL THEN 0 ELSE ${fixed} END)`;
      return `coalesce(${dialect.byteLength(value, leaf.type === 'BYTES' ? 'BYTES' : 'STRING')} + 2, 0)`;
    };
    // Each REPEATED level sums over its elements, from the outermost inwards.
    const build = (from: number, base: string, depth: number): string => {
      const next = leaf.repeatedAt.find((index) => index >= from);
      const access = (to: number) => segments.slice(from, to + 1).map(dialect.ident).reduce((expr, seg) => `${expr}.${seg}`, base);
      if (next === undefined) return sizeOf(access(segments.length - 1));
      const element = `el${depth}`;
      return `coalesce(${dialect.sumOver(access(next), element, build(next + 1, element, depth + 1))}, 0)`;
    };
    return { column: leaf.path, sql: build(0, rowAlias, 0) };
  });
}
