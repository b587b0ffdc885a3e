/**
 * The warehouse tables of one tenant's dataset, declared once in BigQuery's own schema shape
 * (https://cloud.google.com/bigquery/docs/reference/rest/v2/tables#TableFieldSchema).
 * The DuckDB DDL, the JSON parsing structure, the per-column byte accounting and (later) the
 * BigQuery DDL are all derived from these declarations.
 */
export type ScalarType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'DATE' | 'NUMERIC' | 'BIGNUMERIC' | 'BYTES';

export type FieldSchema =
  | {
      readonly name: string; readonly type: ScalarType; readonly mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
      /** A copy of another column (dotted path), filled by the loader: not in the source data. */
      readonly derivedFrom?: string;
    }
  | { readonly name: string; readonly type: 'STRUCT'; readonly mode?: 'NULLABLE' | 'REPEATED'; readonly fields: readonly FieldSchema[] };

export interface TableSchema {
  readonly name: string;
  readonly fields: readonly FieldSchema[];
  /** Day partitioning. `column` is a TIMESTAMP (partitioned by DATE(column)) or a DATE column. */
  readonly partitionBy?: { readonly column: string };
  /** Clustering columns: top-level, as BigQuery requires. */
  readonly clusterBy?: readonly string[];
}

const s = (name: string): FieldSchema => ({ name, type: 'STRING' });
const struct = (name: string, fields: FieldSchema[], mode?: 'REPEATED'): FieldSchema => ({ name, type: 'STRUCT', fields, ...(mode ? { mode } : {}) });

/** Raw Okta System Log events: one row per LogEvent (okta/logEvent.ts). */
export const ssoEvents: TableSchema = {
  name: 'sso_events',
  partitionBy: { column: 'published' },
  clusterBy: ['actor_id'],
  fields: [
    { name: 'uuid', type: 'STRING', mode: 'REQUIRED' },
    { name: 'published', type: 'TIMESTAMP', mode: 'REQUIRED' },
    { name: 'eventType', type: 'STRING', mode: 'REQUIRED' },
    /** actor.id at the top level: BigQuery clusters only on top-level columns. */
    { name: 'actor_id', type: 'STRING', derivedFrom: 'actor.id' },
    s('version'),
    s('severity'),
    s('displayMessage'),
    struct('actor', [s('id'), s('type'), s('alternateId'), s('displayName')]),
    struct('client', [
      struct('userAgent', [s('rawUserAgent'), s('os'), s('browser')]),
      s('zone'),
      s('device'),
      s('ipAddress'),
      struct('geographicalContext', [
        s('city'), s('state'), s('country'), s('postalCode'),
        struct('geolocation', [{ name: 'lat', type: 'FLOAT64' }, { name: 'lon', type: 'FLOAT64' }]),
      ]),
    ]),
    struct('outcome', [s('result'), s('reason')]),
    struct('target', [s('id'), s('type'), s('alternateId'), s('displayName')], 'REPEATED'),
    struct('transaction', [s('type'), s('id')]),
    /** Okta's free-form debugData map, kept as JSON text. */
    struct('debugContext', [s('debugData')]),
    struct('authenticationContext', [
      s('authenticationProvider'), s('credentialProvider'), s('credentialType'), s('interface'),
      { name: 'authenticationStep', type: 'INT64' },
      s('externalSessionId'),
    ]),
    struct('securityContext', [
      { name: 'asNumber', type: 'INT64' }, s('asOrg'), s('isp'), s('domain'), { name: 'isProxy', type: 'BOOL' },
    ]),
  ],
};

/** The seed's materialized view: one row per (actor, day). See warehouse/rollup.ts for the formulas. */
export const productivityDaily: TableSchema = {
  name: 'productivity_daily',
  partitionBy: { column: 'day' },
  clusterBy: ['actor_id'],
  fields: [
    { name: 'actor_id', type: 'STRING', mode: 'REQUIRED' },
    { name: 'day', type: 'DATE', mode: 'REQUIRED' },
    { name: 'total_events', type: 'INT64' },
    { name: 'avg_auth_step', type: 'FLOAT64' },
    { name: 'unique_apps', type: 'INT64' },
    { name: 'auth_waste_hours', type: 'FLOAT64' },
    { name: 'context_switch_waste_hours', type: 'FLOAT64' },
  ],
};

/**
 * Applications used, one row per (actor, day, app): what appUsage reads instead of flattening raw
 * events' targets. See warehouse/rollup.ts for the columns' definitions.
 */
export const appUsageDaily: TableSchema = {
  name: 'app_usage_daily',
  partitionBy: { column: 'day' },
  clusterBy: ['actor_id'],
  fields: [
    { name: 'actor_id', type: 'STRING', mode: 'REQUIRED' },
    { name: 'day', type: 'DATE', mode: 'REQUIRED' },
    /** The AppInstance target's id; NULL when Okta gave none (then one row for all of them, as grouping raw events gives). */
    s('app_id'),
    s('app_name'),
    { name: 'events', type: 'INT64', mode: 'REQUIRED' },
  ],
};

/** The tenant's people (okta/logEvent.ts DirectoryUser). Small and unpartitioned. */
export const users: TableSchema = {
  name: 'users',
  fields: [
    { name: 'id', type: 'STRING', mode: 'REQUIRED' },
    s('email'), s('display_name'), s('department'), s('title'), s('manager_id'),
  ],
};

/** One row: the tenant's display name and the timezone its budgets reset in. */
export const tenantInfo: TableSchema = {
  name: 'tenant_info',
  fields: [{ name: 'id', type: 'STRING', mode: 'REQUIRED' }, s('name'), s('timezone')],
};

/** Tables whose bytes the warehouse accounts for, by name. */
export const TABLES: Readonly<Record<string, TableSchema>> = {
  [ssoEvents.name]: ssoEvents,
  [productivityDaily.name]: productivityDaily,
  [appUsageDaily.name]: appUsageDaily,
  [users.name]: users,
  [tenantInfo.name]: tenantInfo,
};

export interface LeafColumn {
  /** Dotted path from the table root, e.g. `actor.id`, `target.id`. */
  readonly path: string;
  readonly type: ScalarType;
  /** Path segments of REPEATED ancestors (including itself when repeated). */
  readonly repeatedAt: readonly number[];
}

/** Every scalar leaf of a table, in declaration order: the unit of BigQuery's per-column billing. */
export function leafColumns(table: TableSchema): LeafColumn[] {
  const leaves: LeafColumn[] = [];
  const walk = (fields: readonly FieldSchema[], prefix: string[], repeatedAt: number[]) => {
    for (const field of fields) {
      const path = [...prefix, field.name];
      const repeated = field.mode === 'REPEATED' ? [...repeatedAt, path.length - 1] : repeatedAt;
      if (field.type === 'STRUCT') walk(field.fields, path, repeated);
      else leaves.push({ path: path.join('.'), type: field.type, repeatedAt: repeated });
    }
  };
  walk(table.fields, [], []);
  return leaves;
}
