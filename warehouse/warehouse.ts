/**
 * The Warehouse port: the only way subgraphs read a tenant's dataset.
 * Adapters: DuckDB (embedded default, warehouse/duckdb) and BigQuery (production).
 * Every adapter passes test/warehouse/warehouseContract.ts.
 */
import type { PartitionStat } from '../pricing/scanBytes';

/** A typed named parameter: SQL is never built from input, values travel as parameters. */
export type QueryParam =
  | { readonly type: 'STRING'; readonly value: string | null }
  | { readonly type: 'INT64'; readonly value: number }
  | { readonly type: 'DATE'; readonly value: string }
  | { readonly type: 'TIMESTAMP'; readonly value: string }
  | { readonly type: 'STRING_ARRAY'; readonly value: readonly string[] };

/** How a query names tables and parameters in the adapter's SQL dialect. */
export interface SqlDialect {
  readonly name: 'duckdb' | 'bigquery';
  /** A table of the tenant's dataset. */
  table(name: string): string;
  /** A named parameter as an expression of its declared type. */
  param(name: string, type: QueryParam['type']): string;
  /** `expression` is one of the STRING_ARRAY parameter `name` (the seed's `IN UNNEST(@user_ids)`). */
  inArray(expression: string, name: string): string;
  /**
   * Flattens an ARRAY column in a subquery, one row per element bound to `alias`: `select` goes in
   * the subquery's select list, `from` right after its FROM table. Reference the element as
   * `alias.field` outside the subquery. (DuckDB unnests in the select list, some 30× faster than
   * its lateral UNNEST join; BigQuery flattens with a join.)
   */
  flatten(arrayExpression: string, alias: string): { select: string; from: string };
  /** A quoted identifier (a column named like a keyword, e.g. `rows`). */
  ident(name: string): string;
  /** Length in bytes of a STRING (UTF-8) or BYTES value; NULL for NULL. */
  byteLength(expression: string, type: 'STRING' | 'BYTES'): string;
  /** SUM of `expression` over the elements of an ARRAY, each bound to `element`; NULL for an empty or NULL array. */
  sumOver(arrayExpression: string, element: string, expression: string): string;
}

export interface WarehouseQuery {
  /** For logs and job labels, e.g. `productivityByUser`. */
  readonly name: string;
  /** SQL text in the adapter's dialect. */
  readonly sql: (dialect: SqlDialect) => string;
  readonly params: Readonly<Record<string, QueryParam>>;
  /** Refuse, without charge, a job that would bill more (BigQuery `maximumBytesBilled`). */
  readonly maxBytesBilled?: number;
  /** Whom the job serves, for cost attribution (BigQuery job labels `user`, `operation`, `request_id`). */
  readonly attribution?: JobAttribution;
}

export interface JobAttribution {
  readonly user: string;
  /** The client's GraphQL operation name, when it named one. */
  readonly operation?: string;
  /** The request's id (common/log.ts): the same in the gateway's and subgraphs' logs. */
  readonly requestId?: string;
}

export interface WarehouseResult<Row> {
  readonly rows: Row[];
  /** Bytes the query processed by BigQuery's rules: referenced columns × selected partitions. */
  readonly processedBytes: number;
  /** Bytes it bills: MiB rounding, 10 MiB minimum per table and per query; 0 for a cached result. */
  readonly billedBytes: number;
  readonly cacheHit: boolean;
}

/** What a job processed and billed (BigQuery's job statistics). */
export interface JobBill {
  readonly processedBytes: number;
  readonly billedBytes: number;
}

/** A job that never ran, or failed: it billed nothing. */
export const NOTHING_BILLED: JobBill = Object.freeze({ processedBytes: 0, billedBytes: 0 });

/**
 * After a query's signal aborts, the query settles within this long: a caller waits no longer for
 * what the stopped job billed, and charges its cap instead.
 */
export const STOP_GRACE_MS = 500;

/**
 * How `Warehouse.query` fails when its signal stopped the job. A stopped job may have billed all the
 * same (one that had finished keeps its bill; BigQuery may bill a cancelled one up to its full cost):
 * `bill` says what, or is undefined when the warehouse could not tell within STOP_GRACE_MS.
 */
export class StoppedJobError extends Error {
  constructor(readonly bill: JobBill | undefined) {
    super('The warehouse job was stopped.');
  }
}

/** The tables without day partitions, each versioned as a whole (Warehouse.tableVersions); pricing/tables.ts declares them. */
export const UNPARTITIONED_TABLES = ['users', 'tenant_info'] as const;
export type UnpartitionedTable = (typeof UNPARTITIONED_TABLES)[number];

/** The version of an unpartitioned table that was never written (a dataset written before versions were recorded, too). */
export const UNWRITTEN_TABLE_VERSION = '0';

export interface Warehouse {
  /**
   * Runs `query` as one job. Aborting `signal` stops the job (BigQuery: jobs.cancel); the call then
   * rejects within STOP_GRACE_MS with a StoppedJobError — billing nothing if the job had not started.
   */
  query<Row extends object>(tenant: string, query: WarehouseQuery, signal?: AbortSignal): Promise<WarehouseResult<Row>>;
  /**
   * What `query` would process and bill, without running it (BigQuery's free dry run); its cap is
   * not applied. `billedBytes` is an upper bound where the warehouse reports processed bytes only.
   */
  dryRun(tenant: string, query: WarehouseQuery): Promise<{ processedBytes: number; billedBytes: number }>;
  /** Every recorded (table, day, column) statistic of the tenant's dataset. */
  partitionStats(tenant: string): Promise<PartitionStat[]>;
  /**
   * The data version of every day partition the tenant's dataset holds (YYYY-MM-DD → an opaque
   * string): it changes whenever an ingest writes that day, and only then. The aggregate cache keys
   * a range by its days' versions, so new data shows at once while untouched ranges stay cached.
   */
  dataVersions(tenant: string): Promise<ReadonlyMap<string, string>>;
  /**
   * The version of every unpartitioned table of the tenant's dataset (`users`, `tenant_info` → an
   * opaque string): it changes whenever a write touches that table, and only then. Every such table
   * is listed, one never written with a fixed version. The aggregate cache keys directory and tenant
   * reads by it, so an upsert shows at once.
   */
  tableVersions(tenant: string): Promise<ReadonlyMap<string, string>>;
  /** Tenants whose dataset exists now (a tenant ingested while running appears without restart). */
  hasTenant(tenant: string): Promise<boolean>;
  close(): Promise<void>;
}
