/**
 * The configured Warehouse and DatasetWriter (WAREHOUSE): the embedded DuckDB files, or BigQuery
 * with Application Default Credentials — or, with BIGQUERY_API_ENDPOINT (an emulator or contract
 * fake), a static test token, so no Google credentials are needed. With REDIS_URL, BigQuery metadata
 * is shared by the replicas (bigquery/metadataStore.ts) and every write is announced on the
 * data-change feed (common/changeFeed.ts), so the replicas and gateways pick it up at once.
 */
import type { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { type DataChangeFeed, openDataChangeFeed } from '../common/changeFeed';
import type { BigQueryConfig, Config } from '../common/config';
import { createBigQueryLoader } from './bigquery/bigQueryLoader';
import { createBigQueryWarehouse } from './bigquery/bigQueryWarehouse';
import { type BigQueryConnection, bigQueryClient } from './bigquery/jobs';
import { type MetadataStore, openRedisMetadataStore } from './bigquery/metadataStore';
import { type DatasetWriter, announceWrites } from './datasetWriter';
import { createDuckDbWarehouse } from './duckdb/duckDbWarehouse';
import { duckDbDatasetWriter } from './duckdb/tenantDataset';
import type { OverheadMeter } from './overhead';
import type { Warehouse } from './warehouse';

export interface WarehouseDeps {
  /** Meters the jobs bytegate runs for itself (BigQuery). */
  readonly overhead?: OverheadMeter;
  readonly log?: (message: string) => void;
}

/** The warehouse the subgraphs read; its close() also closes the Redis connections it opened. */
export async function openWarehouse(config: Config, version: string, deps: WarehouseDeps = {}): Promise<Warehouse> {
  if (config.warehouse === 'duckdb' || !config.bigquery) return createDuckDbWarehouse({ dataDir: config.dataDir, limits: config.duckDb });
  const shared = await openShared(config, deps);
  const warehouse = createBigQueryWarehouse({
    ...connection(config.bigquery), datasetPrefix: config.bigquery.datasetPrefix, version, jobTimeoutMs: config.warehouseTimeoutMs, overhead: deps.overhead,
    metadata: { ...shared, checkIntervalMs: config.bigquery.metadataCheckMs, fullReadIntervalMs: config.bigquery.metadataFullReadMs },
  });
  return {
    ...warehouse,
    async close() {
      await warehouse.close();
      await Promise.all([shared.store?.close(), shared.changes?.close()]);
    },
  };
}

/** Where seed and ingest write — the embedded files, or BigQuery load jobs — announcing every write (REDIS_URL). */
export async function openDatasetWriter(config: Config, version: string, deps: WarehouseDeps = {}): Promise<DatasetWriter & { close(): Promise<void> }> {
  const shared = await openShared(config, deps);
  let writer: DatasetWriter;
  if (config.warehouse === 'duckdb' || !config.bigquery) {
    writer = duckDbDatasetWriter(config.dataDir, config.duckDb);
  } else {
    const { projectId, location, datasetPrefix, kmsKeys } = config.bigquery;
    writer = createBigQueryLoader({
      client: openBigQueryClient(config.bigquery), projectId, location, datasetPrefix, kmsKeys, version, overhead: deps.overhead,
      metadata: shared.store && { store: shared.store },
    });
  }
  return {
    ...(shared.changes ? announceWrites(writer, shared.changes) : writer),
    async close() {
      await Promise.all([shared.store?.close(), shared.changes?.close()]);
    },
  };
}

/** A plain client for what is not a query of the Warehouse port (provisioning DDL). */
export function openBigQueryClient(config: BigQueryConfig): BigQuery {
  return bigQueryClient(connection(config));
}

// Private:

/** With REDIS_URL: the store replicas share BigQuery metadata in (BigQuery only), and the data-change feed. */
async function openShared(config: Config, deps: WarehouseDeps): Promise<{ store?: MetadataStore; changes?: DataChangeFeed }> {
  if (!config.redisUrl) return {};
  const [store, changes] = await Promise.all([
    config.warehouse === 'bigquery' ? openRedisMetadataStore({ url: config.redisUrl, log: deps.log }) : undefined,
    openDataChangeFeed(config.redisUrl),
  ]);
  return { store, changes };
}

function connection({ projectId, location, apiEndpoint }: BigQueryConfig): BigQueryConnection {
  let authClient: OAuth2Client | undefined;
  if (apiEndpoint) {
    authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'emulator' });
  }
  return { projectId, location, apiEndpoint, authClient };
}
