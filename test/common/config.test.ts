import { ConfigError, DEV_JWT_SECRET, DEV_SUBGRAPH_SECRET, loadConfig } from '../../common/config';
import { GiB } from '../../common/units';

describe('loadConfig', () => {
  test('defaults: gateway on 4000, subgraphs on the next three ports, dev secrets with warnings', () => {
    const config = loadConfig({}, '/srv');
    expect(config).toMatchObject({
      port: 4000,
      subgraphPorts: { users: 4001, tenants: 4002, metrics: 4003 },
      subgraphUrls: { users: 'http://127.0.0.1:4001/graphql', tenants: 'http://127.0.0.1:4002/graphql', metrics: 'http://127.0.0.1:4003/graphql' },
      dataDir: '/srv/.data',
      warehouse: 'duckdb',
      redisUrl: undefined,
      auth: { kind: 'hs256', secret: DEV_JWT_SECRET },
      maxQueryBytes: GiB,
      pricePerTibUsd: 6.25,
      costMode: 'enforce',
      limits: { maxRangeDays: 366, maxPageSize: 500 },
    });
    expect(config.warnings).toHaveLength(2);
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('explicit settings win, ports follow PORT', () => {
    const config = loadConfig({ PORT: '5000', DATA_DIR: '/data', JWT_SECRET: 'x'.repeat(32), SUBGRAPH_SECRET: 'y'.repeat(32), COST_MODE: 'measure', METRICS_PORT: '6000' });
    expect(config.subgraphPorts).toEqual({ users: 5001, tenants: 5002, metrics: 6000 });
    expect(config).toMatchObject({ dataDir: '/data', costMode: 'measure', warnings: [] });
  });

  test('WAREHOUSE=bigquery: project required, location and dataset prefix defaulted', () => {
    expect(loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'acme-analytics' }).bigquery)
      .toEqual({ projectId: 'acme-analytics', location: 'US', apiEndpoint: undefined, datasetPrefix: 'bytegate', kmsKeys: {}, metadataCheckMs: 60_000, metadataFullReadMs: 3_600_000 });
    expect(loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'p', METADATA_CHECK_MS: '0', METADATA_FULL_READ_MS: '5000' }).bigquery)
      .toMatchObject({ metadataCheckMs: 0, metadataFullReadMs: 5000 });
    expect(() => loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'p', METADATA_FULL_READ_MS: '10' })).toThrow(/METADATA_FULL_READ_MS must be an integer in 1000\.\./);
    const key = 'projects/acme-kms/locations/us/keyRings/bytegate/cryptoKeys/acme';
    expect(loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'p', BIGQUERY_KMS_KEYS: ` acme=${key}, globex=${key}2 ` }).bigquery?.kmsKeys)
      .toEqual({ acme: key, globex: `${key}2` });
    expect(loadConfig({}).bigquery).toBeUndefined();
  });

  test('DuckDB bounds: unset by default (DuckDB decides), byte amounts and a thread count when set', () => {
    expect(loadConfig({}).duckDb).toEqual({ memoryLimitBytes: undefined, threads: undefined });
    expect(loadConfig({ DUCKDB_MEMORY_LIMIT: '512MiB', DUCKDB_THREADS: '2' }).duckDb).toEqual({ memoryLimitBytes: 512 * 2 ** 20, threads: 2 });
  });

  test('production IdP: JWKS needs issuer and audience', () => {
    expect(loadConfig({ AUTH_JWKS_URL: 'https://acme.okta.com/oauth2/default/v1/keys', AUTH_ISSUER: 'https://acme.okta.com/oauth2/default', AUTH_AUDIENCE: 'api://bytegate' }).auth)
      .toEqual({ kind: 'jwks', jwksUrl: 'https://acme.okta.com/oauth2/default/v1/keys', issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://bytegate' });
    expect(() => loadConfig({ AUTH_JWKS_URL: 'https://acme.okta.com/keys' })).toThrow(/AUTH_ISSUER/);
  });

  test.each([
    [{ PORT: 'eighty' }, /PORT must be an integer/],
    [{ PORT: '70000' }, /PORT must be an integer/],
    [{ MAX_RANGE_DAYS: '0' }, /MAX_RANGE_DAYS/],
    [{ COST_MODE: 'yolo' }, /COST_MODE/],
    [{ WAREHOUSE: 'oracle' }, /WAREHOUSE=oracle/],
    [{ WAREHOUSE: 'bigquery' }, /needs BIGQUERY_PROJECT/],
    [{ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'p', BIGQUERY_DATASET_PREFIX: 'a-b' }, /BIGQUERY_DATASET_PREFIX/],
    [{ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'p', BIGQUERY_API_ENDPOINT: 'nope' }, /BIGQUERY_API_ENDPOINT must be a URL/],
    [{ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'p', BIGQUERY_KMS_KEYS: 'acme=my-key' }, /BIGQUERY_KMS_KEYS entries look like/],
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of/],
    [{ WAREHOUSE_TIMEOUT_MS: '10' }, /WAREHOUSE_TIMEOUT_MS must be an integer/],
    [{ SUBGRAPH_TIMEOUT_MS: 'soon' }, /SUBGRAPH_TIMEOUT_MS must be an integer/],
    [{ DUCKDB_MEMORY_LIMIT: '1GB' }, /DUCKDB_MEMORY_LIMIT: "GB" is not a unit/],
    [{ DUCKDB_MEMORY_LIMIT: '1KiB' }, /DUCKDB_MEMORY_LIMIT must be at least/],
    [{ DUCKDB_THREADS: '0' }, /DUCKDB_THREADS must be an integer/],
    [{ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'p', BIGQUERY_KMS_KEYS: 'acme=projects/p/locations/l/keyRings/r/cryptoKeys/k,acme=projects/p/locations/l/keyRings/r/cryptoKeys/j' }, /twice/],
    [{ JWT_SECRET: 'short' }, /at least 32/],
    [{ PRICE_PER_TIB_USD: '-1' }, /PRICE_PER_TIB_USD/],
    [{ AUTH_JWKS_URL: 'not a url', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }, /AUTH_JWKS_URL must be a URL/],
  ])('rejects %p', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  describe('outside development (NODE_ENV=production, or a HOST that is not loopback)', () => {
    const real = { JWT_SECRET: 'j'.repeat(32), SUBGRAPH_SECRET: 's'.repeat(32) };

    test.each([
      [{ NODE_ENV: 'production' }, /JWT_SECRET is not set.*NODE_ENV=production/s],
      [{ HOST: '0.0.0.0' }, /JWT_SECRET is not set.*HOST=0\.0\.0\.0 \(not loopback\)/s],
      [{ HOST: '10.1.2.3', JWT_SECRET: DEV_JWT_SECRET, SUBGRAPH_SECRET: 's'.repeat(32) }, /JWT_SECRET .*development secret/],
      [{ NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(32) }, /SUBGRAPH_SECRET is not set/],
      [{ NODE_ENV: 'production', ...real, SUBGRAPH_SECRET_PREVIOUS: DEV_SUBGRAPH_SECRET }, /SUBGRAPH_SECRET_PREVIOUS is the development secret/],
    ])('refuses the development secrets: %p', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });

    test('starts with real secrets, or with an identity provider and SUBGRAPH_SECRET', () => {
      expect(loadConfig({ NODE_ENV: 'production', ...real })).toMatchObject({ production: true, host: '127.0.0.1', warnings: [] });
      expect(loadConfig({ HOST: '0.0.0.0', ...real })).toMatchObject({ production: true, host: '0.0.0.0' });
      const jwks = { AUTH_JWKS_URL: 'https://idp.example.com/keys', AUTH_ISSUER: 'https://idp.example.com', AUTH_AUDIENCE: 'bytegate' };
      expect(loadConfig({ NODE_ENV: 'production', ...jwks, SUBGRAPH_SECRET: real.SUBGRAPH_SECRET }).auth.kind).toBe('jwks');
    });

    test('loopback addresses are development: the dev secrets start, with warnings', () => {
      for (const HOST of ['127.0.0.1', '127.0.0.5', '::1', 'localhost']) expect(loadConfig({ HOST })).toMatchObject({ production: false, host: HOST });
      expect(() => loadConfig({ HOST: 'not a host!' })).toThrow(/HOST must be an IP address or a host name/);
    });

    test('SUBGRAPH_SECRET_PREVIOUS is read for rotation, and held to the same length', () => {
      expect(loadConfig({ ...real, SUBGRAPH_SECRET_PREVIOUS: 'p'.repeat(32) }).subgraphPreviousSecret).toBe('p'.repeat(32));
      expect(loadConfig(real).subgraphPreviousSecret).toBeUndefined();
      expect(() => loadConfig({ ...real, SUBGRAPH_SECRET_PREVIOUS: 'short' })).toThrow(/SUBGRAPH_SECRET_PREVIOUS must be at least 32 characters/);
    });

    test('shutdown: not ready for SHUTDOWN_DELAY_MS (default 0), then SHUTDOWN_TIMEOUT_MS (default 10 s) for requests in flight', () => {
      expect(loadConfig({}).shutdown).toEqual({ delayMs: 0, timeoutMs: 10_000 });
      expect(loadConfig({ SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '25000' }).shutdown).toEqual({ delayMs: 5000, timeoutMs: 25_000 });
    });
  });
});
