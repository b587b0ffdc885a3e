/**
 * The BigQuery DDL of one tenant's dataset, derived from the table declarations (pricing/tables.ts)
 * like the DuckDB schema is: the dataset `<prefix>_<tenant>`, then every table, with
 * - day partitioning (`DATE(published)` for sso_events, `day` for the rollup), a partition filter
 *   required on every query (BigQuery refuses a full scan instead of billing it) and partitions
 *   expiring after PARTITION_EXPIRATION_DAYS;
 * - clustering as declared (top-level columns only, as BigQuery requires: sso_events by actor_id);
 * - the tenant's customer-managed key, when one is given, as the dataset default and on every table.
 * Only the statement text is built here; identifiers come from validated configuration and the
 * declarations, never from request input.
 */
import { TABLES, type FieldSchema, type TableSchema } from '../../pricing/tables';

export interface ProvisionOptions {
  readonly projectId: string;
  readonly datasetPrefix: string;
  readonly tenant: string;
  readonly location: string;
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
  readonly kmsKeyName?: string;
}

/** Raw events and the rollup keep two years. */
export const PARTITION_EXPIRATION_DAYS = 730;

/**
 * Logical bytes per (table, day, leaf column), maintained at ingest: how a partition's bytes split
 * over its columns (warehouse/bigquery/partitionEstimates.ts). Rows are kept for the embedded adapter's sake.
 */
export const STATISTICS_TABLE: TableSchema = {
  name: '_partition_stats',
  clusterBy: ['table_name'],
  fields: [
    { name: 'table_name', type: 'STRING', mode: 'REQUIRED' },
    { name: 'day', type: 'DATE' },
    { name: 'column_path', type: 'STRING', mode: 'REQUIRED' },
    { name: 'rows', type: 'INT64', mode: 'REQUIRED' },
    { name: 'logical_bytes', type: 'INT64', mode: 'REQUIRED' },
  ],
};

const TENANT_ID = /^[a-z][a-z0-9_]{0,62}$/;
const KMS_KEY = /^projects\/[^/\s"]+\/locations\/[^/\s"]+\/keyRings\/[^/\s"]+\/cryptoKeys\/[^/\s"]+$/;

/** The statements, in order: the dataset, then its tables. Each is idempotent (IF NOT EXISTS). */
export function provisionDdl(options: ProvisionOptions): string[] {
  if (!TENANT_ID.test(options.tenant)) throw new Error(`Tenant "${options.tenant}" must be lowercase letters, digits and underscores, starting with a letter.`);
  if (options.kmsKeyName !== undefined && !KMS_KEY.test(options.kmsKeyName)) {
    throw new Error(`A KMS key name looks like projects/P/locations/L/keyRings/R/cryptoKeys/K, not "${options.kmsKeyName}".`);
  }
  const dataset = `${options.projectId}.${options.datasetPrefix}_${options.tenant}`;
  const kms = options.kmsKeyName;
  const schemaOptions = [`location = ${quote(options.location)}`, ...(kms ? [`default_kms_key_name = ${quote(kms)}`] : [])];
  return [
    `CREATE SCHEMA IF NOT EXISTS \`${dataset}\`\nOPTIONS (${schemaOptions.join(', ')})`,
    ...[...Object.values(TABLES), STATISTICS_TABLE].map((table) => createTable(dataset, table, kms)),
  ];
}

// Private:

function createTable(dataset: string, table: TableSchema, kms: string | undefined): string {
  for (const column of table.clusterBy ?? []) {
    if (!table.fields.some((f) => f.name === column && f.type !== 'STRUCT' && f.mode !== 'REPEATED')) {
      throw new Error(`${table.name}: BigQuery clusters on top-level scalar columns only, not "${column}".`);
    }
  }
  const partition = table.partitionBy && partitionExpression(table);
  const options = [
    ...(partition ? ['require_partition_filter = TRUE', `partition_expiration_days = ${PARTITION_EXPIRATION_DAYS}`] : []),
    ...(kms ? [`kms_key_name = ${quote(kms)}`] : []),
  ];
  return [
    `CREATE TABLE IF NOT EXISTS \`${dataset}.${table.name}\` (\n  ${table.fields.map(column).join(',\n  ')}\n)`,
    ...(partition ? [`PARTITION BY ${partition}`] : []),
    ...(table.clusterBy?.length ? [`CLUSTER BY ${table.clusterBy.join(', ')}`] : []),
    ...(options.length ? [`OPTIONS (${options.join(', ')})`] : []),
  ].join('\n');
}

function partitionExpression(table: TableSchema): string {
  const column = table.partitionBy!.column;
  const field = table.fields.find((f) => f.name === column);
  if (!field) throw new Error(`${table.name}: no partitioning column ${column}.`);
  return field.type === 'TIMESTAMP' ? `DATE(${column})` : column;
}

function column(field: FieldSchema): string {
  return `\`${field.name}\` ${type(field)}${field.mode === 'REQUIRED' ? ' NOT NULL' : ''}`;
}

function type(field: FieldSchema): string {
  const base = field.type === 'STRUCT' ? `STRUCT<${field.fields.map(column).join(', ')}>` : field.type;
  return field.mode === 'REPEATED' ? `ARRAY<${base}>` : base;
}

function quote(value: string): string {
  return JSON.stringify(value);
}
