/**
 * The configured Warehouse (WAREHOUSE): the embedded DuckDB files, or BigQuery with Application
 * Default Credentials — or, with BIGQUERY_API_ENDPOINT (an emulator or contract fake), a static test
 * token, so no Google credentials are needed.
 */
import { OAuth2Client } from 'google-auth-library';
import type { Config } from '../common/config';
import { createBigQueryWarehouse } from './bigquery/bigQueryWarehouse';
import { createDuckDbWarehouse } from './duckdb/duckDbWarehouse';
import type { Warehouse } from './warehouse';

export function openWarehouse(config: Config, version: string): Warehouse {
  if (config.warehouse === 'duckdb' || !config.bigquery) return createDuckDbWarehouse({ dataDir: config.dataDir });
  const { projectId, location, apiEndpoint, datasetPrefix } = config.bigquery;
  let authClient: OAuth2Client | undefined;
  if (apiEndpoint) {
    authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'emulator' });
  }
  return createBigQueryWarehouse({ projectId, location, datasetPrefix, apiEndpoint, authClient, version });
}
