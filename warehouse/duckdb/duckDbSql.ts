/**
 * DuckDB's SQL as both sides of the embedded warehouse speak it: the dialect the shared queries are
 * rendered in (warehouse/warehouse.ts SqlDialect), parameter binding, and the bookkeeping table of
 * table versions that writers (tenantDataset.ts) fill and readers (duckDbWarehouse.ts) read.
 */
import { type DuckDBType, type DuckDBValue, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { QueryParam, SqlDialect } from '../warehouse';
import { quoteIdent } from './duckDbSchema';

/**
 * Per unpartitioned table: how many writes touched it and when the last one did — its version
 * (tableVersions). Every writer of `users` or `tenant_info` (tenantDataset.ts) bumps it in the
 * transaction of its write. A dataset written before it existed gets it with its next write; until
 * then every table reads as never written.
 */
export const TABLE_VERSIONS_TABLE = '_table_versions';

export const duckDbDialect: SqlDialect = {
  name: 'duckdb',
  table: (name) => `"${name}"`,
  param: (name, type) => `CAST($${name} AS ${PARAM_TYPES[type]})`,
  inArray: (expression, name) => `${expression} IN (SELECT unnest(CAST($${name} AS VARCHAR[])))`,
  flatten: (arrayExpression, alias) => ({ select: `unnest(${arrayExpression}) AS ${alias}`, from: '' }),
  ident: quoteIdent,
  byteLength: (expression, type) => (type === 'BYTES' ? `octet_length(${expression})` : `strlen(${expression})`),
  sumOver: (arrayExpression, element, expression) => `list_sum(list_transform(${arrayExpression}, ${element} -> ${expression}))`,
};

/** The parameters the statement uses (DuckDB refuses to bind others), with list types spelled out. */
export function toDuckDbValues(sql: string, params: Readonly<Record<string, QueryParam>>) {
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const [name, param] of Object.entries(params)) {
    if (!new RegExp(`\\$${name}\\b`).test(sql)) continue;
    if (param.type === 'STRING_ARRAY') {
      values[name] = listValue([...param.value]);
      types[name] = LIST(VARCHAR);
    } else {
      values[name] = param.value;
    }
  }
  return { values, types };
}

// Private:

const PARAM_TYPES: Record<QueryParam['type'], string> = {
  STRING: 'VARCHAR', INT64: 'BIGINT', DATE: 'DATE', TIMESTAMP: 'TIMESTAMP', STRING_ARRAY: 'VARCHAR[]',
};
