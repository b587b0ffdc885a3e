/**
 * DuckDB renderings of the table declarations in warehouse/tables.ts: DDL, the `from_json`
 * structure that parses Okta JSON straight into a row, and the SQL that measures each leaf
 * column's logical bytes by BigQuery's rules (warehouse/billing.ts) inside DuckDB.
 */
import { FIXED_SIZE_BYTES } from '../billing';
import { type FieldSchema, type ScalarType, type TableSchema, leafColumns } from '../tables';

const DUCKDB_TYPE: Record<ScalarType, string> = {
  STRING: 'VARCHAR', INT64: 'BIGINT', FLOAT64: 'DOUBLE', BOOL: 'BOOLEAN', TIMESTAMP: 'TIMESTAMP',
  DATE: 'DATE', NUMERIC: 'DECIMAL(38,9)', BIGNUMERIC: 'DOUBLE', BYTES: 'BLOB',
};

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function duckDbType(field: FieldSchema): string {
  const base = field.type === 'STRUCT'
    ? `STRUCT(${field.fields.map((f) => `${quoteIdent(f.name)} ${duckDbType(f)}`).join(', ')})`
    : DUCKDB_TYPE[field.type];
  return field.mode === 'REPEATED' ? `${base}[]` : base;
}

/** Each derived column of `table` (quoted) and the expression of its source in `rowAlias`'s row. */
export function derivedColumns(table: TableSchema, rowAlias: string): { column: string; source: string }[] {
  return table.fields.flatMap((f) => ('derivedFrom' in f && f.derivedFrom
    ? [{ column: quoteIdent(f.name), source: `${rowAlias}.${f.derivedFrom.split('.').map(quoteIdent).join('.')}` }]
    : []));
}

export function createTableSql(table: TableSchema): string {
  const columns = table.fields.map((f) => `${quoteIdent(f.name)} ${duckDbType(f)}${f.mode === 'REQUIRED' ? ' NOT NULL' : ''}`);
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(table.name)} (${columns.join(', ')})`;
}

/**
 * The structure argument of DuckDB's `from_json` for a table: the same types as the table, except
 * that `jsonTextFields` (dotted paths) are read as JSON text (Okta's free-form debugData map) and
 * derived columns (`derivedFrom`), which the source does not have, are left out.
 * https://duckdb.org/docs/stable/data/json/json_functions#transforming-json-to-nested-types
 */
export function jsonStructure(table: TableSchema, jsonTextFields: readonly string[] = []): string {
  const render = (fields: readonly FieldSchema[], prefix: string): Record<string, unknown> =>
    Object.fromEntries(fields.filter((f) => !('derivedFrom' in f && f.derivedFrom)).map((f) => {
      const path = prefix ? `${prefix}.${f.name}` : f.name;
      const type = jsonTextFields.includes(path)
        ? 'JSON'
        : f.type === 'STRUCT' ? render(f.fields, path) : DUCKDB_TYPE[f.type];
      return [f.name, f.mode === 'REPEATED' ? [type] : type];
    }));
  return JSON.stringify(render(table.fields, ''));
}

/**
 * One SQL expression per leaf column of `table` that yields the leaf's logical bytes in the
 * current row by BigQuery's rules: fixed sizes for numbers/dates/bools, 2 + UTF-8 length for
 * strings, 0 for NULL, and ARRAY = the sum over its elements. `rowAlias` qualifies columns.
 */
export function leafByteExpressions(table: TableSchema, rowAlias: string): { column: string; sql: string }[] {
  return leafColumns(table).map((leaf) => {
    const segments = leaf.path.split('.');
    // Innermost first: the value of the leaf, relative to the nearest repeated ancestor's element.
    const sizeOf = (value: string) => {
      const fixed = FIXED_SIZE_BYTES[leaf.type];
      if (fixed !== undefined) return `(CASE WHEN ${value} IS NULL THEN 0 ELSE ${fixed} END)`;
      const length = leaf.type === 'BYTES' ? `octet_length(${value})` : `strlen(${value})`;
      return `coalesce(${length} + 2, 0)`;
    };
    // Wrap each REPEATED level in list_sum(list_transform(...)) from the innermost outwards.
    const build = (from: number, base: string, depth: number): string => {
      const next = leaf.repeatedAt.find((index) => index >= from);
      const access = (to: number) => segments.slice(from, to + 1).map(quoteIdent).reduce((expr, seg) => `${expr}.${seg}`, base);
      if (next === undefined) return sizeOf(access(segments.length - 1));
      const element = `el${depth}`;
      return `coalesce(list_sum(list_transform(${access(next)}, ${element} -> ${build(next + 1, element, depth + 1)})), 0)`;
    };
    return { column: leaf.path, sql: build(0, rowAlias, 0) };
  });
}
