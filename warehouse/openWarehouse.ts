/**
 * The configured Warehouse and DatasetWriter (WAREHOUSE): the embedded DuckDB files, or BigQuery
 * with Application Default Credentials — or, with BIGQUERY_API_ENDPOINT (an emulator or contract
 * fake), a static test token, so no Google credentials are needed.
 */
import type { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import type { BigQueryConfig, Config } from '../common/config';
import { createBigQueryLoader } from './bigquery/bigQueryLoader';
import { createBigQueryWarehouse } from './bigquery/bigQueryWarehouse';
import { type BigQueryConnection, bigQueryClient } from './bigquery/jobs';
import type { DatasetWriter } from './datasetWriter';
import { createDuckDbWarehouse } from './duckdb/duckDbWarehouse';
import { duckDbDatasetWriter } from './duckdb/tenantDataset';
import type { Warehouse } from './warehouse';

export function openWarehouse(config: Config, version: string): Warehouse {
  if (config.warehouse === 'duckdb' || !config.bigquery) return createDuckDbWarehouse({ dataDir: config.dataDir, limits: config.duckDb });
  return createBigQueryWarehouse({
    ...connection(config.bigquery), datasetPrefix: config.bigquery.datasetPrefix, version, jobTimeoutMs: config.warehouseTimeoutMs,
  });
}

/** Where seed and ingest write: the embedded files, or BigQuery load jobs. */
export function openDatasetWriter(config: Config, version: string): DatasetWriter {
  if (config.warehouse === 'duckdb' || !config.bigquery) return duckDbDatasetWriter(config.dataDir);
  const { projectId, location, datasetPrefix, kmsKeys } = config.bigquery;
  return createBigQueryLoader({ client: openBigQueryClient(config.bigquery), projectId, location, datasetPrefix, kmsKeys, version });
}

/** A plain client for what is not a query of the Warehouse port (provisioning DDL). */
export function openBigQueryClient(config: BigQueryConfig): BigQuery {
  return bigQueryClient(connection(config));
}

// Private:

function connection({ projectId, location, apiEndpoint }: BigQueryConfig): BigQueryConnection {
  let authClient: OAuth2Client | undefined;
  if (apiEndpoint) {
    authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'emulator' });
  }
  return { projectId, location, apiEndpoint, authClient };
}
