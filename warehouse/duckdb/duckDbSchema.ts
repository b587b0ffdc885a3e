/**
 * DuckDB renderings of the table declarations in pricing/tables.ts: the DDL, and the `from_json`
 * structure that parses Okta JSON straight into a row.
 */
import type { FieldSchema, ScalarType, TableSchema } from '../../pricing/tables';

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
