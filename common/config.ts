/**
 * Configuration, parsed and validated once from the environment (only `main` files call loadConfig
 * with process.env). Every option, its variable and its default are listed in README.md.
 */
import net from 'node:net';
import path from 'node:path';
import { GiB, MiB, parseBytes } from './units';
import { ROLES, type Role, isRole } from './principal';

export interface Config {
  /** HOST, default 127.0.0.1: the address every server process binds (0.0.0.0 in a container). */
  readonly host: string;
  /**
   * NODE_ENV=production, or a HOST that is not loopback: the public development secrets are refused
   * (loadConfig throws) and a real JWT_SECRET or AUTH_JWKS_URL, and SUBGRAPH_SECRET, are required.
   */
  readonly production: boolean;
  /** Gateway port (PORT, default 4000). */
  readonly port: number;
  /** Subgraph ports (USERS_PORT, TENANTS_PORT, METRICS_PORT; default PORT+1, +2, +3). */
  readonly subgraphPorts: Readonly<Record<SubgraphName, number>>;
  /** Where the gateway finds each subgraph (USERS_URL, …; default http://127.0.0.1:<port>/graphql). */
  readonly subgraphUrls: Readonly<Record<SubgraphName, string>>;
  /** Embedded warehouse files (DATA_DIR, default ./.data). */
  readonly dataDir: string;
  /** WAREHOUSE: `duckdb` (default, embedded) or `bigquery`. */
  readonly warehouse: 'duckdb' | 'bigquery';
  /** Set when WAREHOUSE=bigquery. */
  readonly bigquery: BigQueryConfig | undefined;
  /** REDIS_URL; unset means in-memory stores. */
  readonly redisUrl: string | undefined;
  readonly auth: AuthConfig;
  /** HMAC secret shared by gateway and subgraphs for signed identity (SUBGRAPH_SECRET): signs, and verifies. */
  readonly subgraphSecret: string;
  /** SUBGRAPH_SECRET_PREVIOUS, during a rotation: subgraphs still accept identities signed with it; nothing signs with it. */
  readonly subgraphPreviousSecret: string | undefined;
  readonly limits: OperationLimits;
  /** PRICE_PER_TIB_USD, default 6.25. */
  readonly pricePerTibUsd: number;
  /** MAX_QUERY_BYTES, default 1 GiB. */
  readonly maxQueryBytes: number;
  /** MAX_QUERY_POINTS, default 10000: per-query cap on demand-control points (@cost / @listSize). */
  readonly maxQueryPoints: number;
  /** COST_MODE: `enforce` (default) or `measure`. */
  readonly costMode: 'enforce' | 'measure';
  /** COST_STATS_TTL_MS, default 5000: how stale the gateway's cached partition statistics may get before a background refresh. */
  readonly costStatisticsTtlMs: number;
  readonly budgets: BudgetConfig;
  /** DRY_RUN_ABOVE_BYTES, default 1 GiB: subgraphs dry-run the jobs of operations estimated above it and cap each job at the lower of the two. */
  readonly dryRunAboveBytes: number;
  /** CACHE_TTL_MS, default 86400000 (24 h): how long resolved aggregates and whole answers are cached; 0 turns both caches off. */
  readonly cacheTtlMs: number;
  /** RESPONSE_CACHE_MAX_BYTES, default 64 MiB: memory each gateway gives the answers it keeps (its local level in front of Redis, or the whole store without). */
  readonly responseCacheMaxBytes: number;
  /** WAREHOUSE_TIMEOUT_MS, default 30000: a subgraph's deadline on one warehouse query (WAREHOUSE_TIMEOUT after it; BigQuery's jobTimeoutMs too). */
  readonly warehouseTimeoutMs: number;
  /** SUBGRAPH_TIMEOUT_MS, default 60000: the gateway's deadline on one subgraph fetch. */
  readonly subgraphTimeoutMs: number;
  /**
   * SUBGRAPH_RETRY_MS, default 3000: how long the gateway retries, with backoff, a read-only subgraph
   * fetch that reached no subgraph (connection refused or reset before any answer: a restart); 0: never.
   */
  readonly subgraphRetryMs: number;
  /**
   * After SIGTERM a server answers /readyz 503 at once, keeps serving SHUTDOWN_DELAY_MS (default 0;
   * in a load balancer's rotation: longer than it takes to notice), then stops accepting and gives
   * requests in flight SHUTDOWN_TIMEOUT_MS (default 10000) before it cuts their connections and exits.
   */
  readonly shutdown: Readonly<{ delayMs: number; timeoutMs: number }>;
  /**
   * DUCKDB_MEMORY_LIMIT (a byte amount, e.g. 512MiB) and DUCKDB_THREADS: DuckDB's memory_limit and
   * threads for each tenant file a subgraph process has open; unset, DuckDB's defaults (80% of RAM,
   * one thread per core), each per open tenant.
   */
  readonly duckDb: Readonly<{ memoryLimitBytes: number | undefined; threads: number | undefined }>;
  /** LOG_LEVEL: pino level of the JSON logs on stdout (fatal, error, warn, info, debug, trace, silent); default info. */
  readonly logLevel: LogLevel;
  /**
   * Dev defaults in use, to be printed as warnings at start-up; none in the processes npm start
   * supervises (SUPERVISED_ENV), since it prints them once for all of them.
   */
  readonly warnings: readonly string[];
}

/** Set to `1` by npm start in the environment of the processes it supervises. */
export const SUPERVISED_ENV = 'BYTEGATE_SUPERVISED';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_METADATA_CHECK_MS = 60_000;
export const DEFAULT_METADATA_FULL_READ_MS = 3_600_000;

export interface BigQueryConfig {
  /** BIGQUERY_PROJECT: the project that runs (and is billed for) the jobs. Required with WAREHOUSE=bigquery. */
  readonly projectId: string;
  /** BIGQUERY_LOCATION, default US. */
  readonly location: string;
  /** BIGQUERY_API_ENDPOINT: an emulator or contract fake; when set, no Google credentials are needed. */
  readonly apiEndpoint: string | undefined;
  /** BIGQUERY_DATASET_PREFIX, default `bytegate`: tenant T's dataset is `<prefix>_T`. */
  readonly datasetPrefix: string;
  /**
   * BIGQUERY_KMS_KEYS, `tenant=projects/P/locations/L/keyRings/R/cryptoKeys/K,…`: the customer-managed
   * key a tenant's dataset and tables are created with (by the loader on first use, and bq:provision).
   */
  readonly kmsKeys: Readonly<Record<string, string>>;
  /** METADATA_CHECK_MS, default 60000: how often a watched tenant's tables are checked for change (tables.get, free); how soon a write made outside bytegate shows. */
  readonly metadataCheckMs: number;
  /** METADATA_FULL_READ_MS, default 3600000: how often a watched tenant's metadata is re-read whatever the checks say (the safety net). */
  readonly metadataFullReadMs: number;
}

export interface BudgetConfig {
  /** DATABASE_URL: PostgreSQL for budget settings and their audit log; unset: DATA_DIR/budgets/ files. */
  readonly databaseUrl: string | undefined;
  /** BUDGET_DEFAULTS: daily bytes per role and for a whole tenant, used where nothing was set. */
  readonly defaults: Readonly<{ roles: Readonly<Record<Role, number>>; tenant: number }>;
  /** LEDGER_FAILURE_POLICY: when the ledger (Redis) cannot be reached, `reject` every operation
   * that reads the warehouse, or `allow-up-to-cap` admit those estimated at most failOpenMaxBytes. */
  readonly onLedgerError: 'reject' | 'allow-up-to-cap';
  /** LEDGER_FAILOPEN_MAX_BYTES, default 100 MiB. */
  readonly failOpenMaxBytes: number;
  /** RESERVATION_TTL_MS, default 300000: how long an unsettled reservation holds its bytes. */
  readonly reservationTtlMs: number;
}

export type SubgraphName = 'users' | 'tenants' | 'metrics';
export const SUBGRAPH_NAMES: readonly SubgraphName[] = ['users', 'tenants', 'metrics'];

export type AuthConfig =
  /** HS256 tokens signed with JWT_SECRET (dev, and `npm run token`). */
  | { readonly kind: 'hs256'; readonly secret: string }
  /**
   * Tokens of a production IdP (e.g. an Okta authorization server) verified against its JWKS;
   * `consoleClientId` (AUTH_CLIENT_ID): the console's public client there, for its sign-in.
   */
  | { readonly kind: 'jwks'; readonly jwksUrl: string; readonly issuer: string; readonly audience: string; readonly consoleClientId?: string };

export interface OperationLimits {
  /** MAX_DEPTH, default 12: deepest selection nesting. */
  readonly maxDepth: number;
  /** MAX_ALIASES, default 30: aliases per operation. */
  readonly maxAliases: number;
  /** MAX_TOKENS, default 3000: lexical tokens per document. */
  readonly maxTokens: number;
  /** MAX_BODY_BYTES, default 65536: HTTP request body (a whole batch's). */
  readonly maxBodyBytes: number;
  /** MAX_BATCH_OPERATIONS, default 10: operations in one HTTP batch (a JSON array body); 0 refuses batches. */
  readonly maxBatchOperations: number;
  /** MAX_RANGE_DAYS, default 366: longest from..to range, inclusive. */
  readonly maxRangeDays: number;
  /** MAX_PAGE_SIZE, default 500: largest `first`. */
  readonly maxPageSize: number;
}

export const DEV_JWT_SECRET = 'bytegate-dev-secret-change-me-0123456789';
export const DEV_SUBGRAPH_SECRET = 'bytegate-dev-subgraph-secret-0123456789';

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const warnings: string[] = [];
  const host = hostVar(env);
  const production = env.NODE_ENV === 'production' || !isLoopback(host);
  const port = intVar(env, 'PORT', 4000, 0, 65535);
  const subgraphPorts = {
    users: intVar(env, 'USERS_PORT', port === 0 ? 0 : port + 1, 0, 65535),
    tenants: intVar(env, 'TENANTS_PORT', port === 0 ? 0 : port + 2, 0, 65535),
    metrics: intVar(env, 'METRICS_PORT', port === 0 ? 0 : port + 3, 0, 65535),
  };
  const subgraphUrls = {
    users: env.USERS_URL ?? `http://127.0.0.1:${subgraphPorts.users}/graphql`,
    tenants: env.TENANTS_URL ?? `http://127.0.0.1:${subgraphPorts.tenants}/graphql`,
    metrics: env.METRICS_URL ?? `http://127.0.0.1:${subgraphPorts.metrics}/graphql`,
  };
  const warehouse = env.WAREHOUSE || 'duckdb';
  if (warehouse !== 'duckdb' && warehouse !== 'bigquery') throw new ConfigError(`WAREHOUSE=${warehouse} is not supported; use duckdb or bigquery.`);

  let auth: AuthConfig;
  if (env.AUTH_JWKS_URL) {
    if (!env.AUTH_ISSUER || !env.AUTH_AUDIENCE) throw new ConfigError('AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE.');
    auth = { kind: 'jwks', jwksUrl: urlVar(env, 'AUTH_JWKS_URL'), issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE, consoleClientId: env.AUTH_CLIENT_ID || undefined };
  } else {
    if (!env.JWT_SECRET) warnings.push('JWT_SECRET is not set: using the public dev secret. Never do this in production.');
    auth = { kind: 'hs256', secret: secretVar(env, 'JWT_SECRET', DEV_JWT_SECRET) };
  }
  if (!env.SUBGRAPH_SECRET) warnings.push('SUBGRAPH_SECRET is not set: subgraphs trust the public dev secret.');
  const subgraphSecret = secretVar(env, 'SUBGRAPH_SECRET', DEV_SUBGRAPH_SECRET);
  const subgraphPreviousSecret = env.SUBGRAPH_SECRET_PREVIOUS ? secretVar(env, 'SUBGRAPH_SECRET_PREVIOUS', '') : undefined;
  if (production) requireRealSecrets(auth, subgraphSecret, subgraphPreviousSecret, env.NODE_ENV === 'production' ? 'NODE_ENV=production' : `HOST=${host} (not loopback)`);

  const costMode = env.COST_MODE ?? 'enforce';
  if (costMode !== 'enforce' && costMode !== 'measure') throw new ConfigError(`COST_MODE must be enforce or measure, not ${costMode}.`);

  return Object.freeze({
    host,
    production,
    port,
    subgraphPorts: Object.freeze(subgraphPorts),
    subgraphUrls: Object.freeze(subgraphUrls),
    dataDir: path.resolve(cwd, env.DATA_DIR ?? './.data'),
    warehouse,
    bigquery: warehouse === 'bigquery' ? Object.freeze(bigQueryConfig(env)) : undefined,
    redisUrl: env.REDIS_URL || undefined,
    auth: Object.freeze(auth),
    subgraphSecret,
    subgraphPreviousSecret,
    limits: Object.freeze({
      maxDepth: intVar(env, 'MAX_DEPTH', 12, 1, 100),
      maxAliases: intVar(env, 'MAX_ALIASES', 30, 0, 10_000),
      maxTokens: intVar(env, 'MAX_TOKENS', 3000, 10, 1_000_000),
      maxBodyBytes: intVar(env, 'MAX_BODY_BYTES', 65536, 256, 64 * 1024 * 1024),
      maxBatchOperations: intVar(env, 'MAX_BATCH_OPERATIONS', 10, 0, 1000),
      maxRangeDays: intVar(env, 'MAX_RANGE_DAYS', 366, 1, 3660),
      maxPageSize: intVar(env, 'MAX_PAGE_SIZE', 500, 1, 10_000),
    }),
    pricePerTibUsd: numberVar(env, 'PRICE_PER_TIB_USD', 6.25),
    maxQueryBytes: intVar(env, 'MAX_QUERY_BYTES', GiB, 0, Number.MAX_SAFE_INTEGER),
    maxQueryPoints: intVar(env, 'MAX_QUERY_POINTS', 10_000, 0, Number.MAX_SAFE_INTEGER),
    costMode,
    costStatisticsTtlMs: intVar(env, 'COST_STATS_TTL_MS', 5000, 0, 86_400_000),
    budgets: Object.freeze(budgetConfig(env)),
    dryRunAboveBytes: intVar(env, 'DRY_RUN_ABOVE_BYTES', GiB, 0, Number.MAX_SAFE_INTEGER),
    cacheTtlMs: intVar(env, 'CACHE_TTL_MS', 86_400_000, 0, 30 * 86_400_000),
    responseCacheMaxBytes: env.RESPONSE_CACHE_MAX_BYTES ? bytesVar(env, 'RESPONSE_CACHE_MAX_BYTES', MiB) : 64 * MiB,
    warehouseTimeoutMs: intVar(env, 'WAREHOUSE_TIMEOUT_MS', 30_000, 100, 6 * 3600_000),
    subgraphTimeoutMs: intVar(env, 'SUBGRAPH_TIMEOUT_MS', 60_000, 100, 6 * 3600_000),
    subgraphRetryMs: intVar(env, 'SUBGRAPH_RETRY_MS', 3000, 0, 600_000),
    shutdown: Object.freeze({
      delayMs: intVar(env, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000),
      timeoutMs: intVar(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    }),
    duckDb: Object.freeze({
      // At 4 MiB DuckDB already fails a small GROUP BY (Out of Memory); 16 MiB runs it.
      memoryLimitBytes: env.DUCKDB_MEMORY_LIMIT ? bytesVar(env, 'DUCKDB_MEMORY_LIMIT', 16 * 2 ** 20) : undefined,
      threads: env.DUCKDB_THREADS ? intVar(env, 'DUCKDB_THREADS', 0, 1, 1024) : undefined,
    }),
    logLevel: logLevel(env.LOG_LEVEL),
    warnings: Object.freeze(env[SUPERVISED_ENV] === '1' ? [] : warnings),
  });
}

// Private:

const DEFAULT_BUDGETS = 'viewer=1GiB,manager=5GiB,executive=20GiB,quota-admin=1GiB,tenant=1TiB';

function budgetConfig(env: NodeJS.ProcessEnv): BudgetConfig {
  const defaults = { roles: {} as Record<Role, number>, tenant: 0 };
  const spec = env.BUDGET_DEFAULTS || DEFAULT_BUDGETS;
  // The built-in defaults first: BUDGET_DEFAULTS need only name what it changes.
  for (const entry of `${DEFAULT_BUDGETS},${spec}`.split(',')) {
    const [name, amount] = entry.split('=').map((part) => part?.trim());
    if (!name || amount === undefined) throw new ConfigError(`BUDGET_DEFAULTS must look like "${DEFAULT_BUDGETS}", not "${spec}".`);
    let bytes: number;
    try {
      bytes = parseBytes(amount);
    } catch (error) {
      throw new ConfigError(`BUDGET_DEFAULTS: ${name}: ${(error as Error).message}`);
    }
    if (name === 'tenant') defaults.tenant = bytes;
    else if (isRole(name)) defaults.roles[name] = bytes;
    else throw new ConfigError(`BUDGET_DEFAULTS: "${name}" is neither a role (${ROLES.join(', ')}) nor "tenant".`);
  }
  const onLedgerError = env.LEDGER_FAILURE_POLICY || 'allow-up-to-cap';
  if (onLedgerError !== 'reject' && onLedgerError !== 'allow-up-to-cap') {
    throw new ConfigError(`LEDGER_FAILURE_POLICY must be reject or allow-up-to-cap, not ${onLedgerError}.`);
  }
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    defaults: Object.freeze({ roles: Object.freeze(defaults.roles), tenant: defaults.tenant }),
    onLedgerError,
    failOpenMaxBytes: intVar(env, 'LEDGER_FAILOPEN_MAX_BYTES', 100 * 2 ** 20, 0, Number.MAX_SAFE_INTEGER),
    reservationTtlMs: intVar(env, 'RESERVATION_TTL_MS', 300_000, 1000, 86_400_000),
  };
}

function bigQueryConfig(env: NodeJS.ProcessEnv): BigQueryConfig {
  const projectId = env.BIGQUERY_PROJECT;
  if (!projectId) throw new ConfigError('WAREHOUSE=bigquery needs BIGQUERY_PROJECT.');
  const datasetPrefix = env.BIGQUERY_DATASET_PREFIX || 'bytegate';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,500}$/.test(datasetPrefix)) throw new ConfigError(`BIGQUERY_DATASET_PREFIX must be letters, digits and underscores, not "${datasetPrefix}".`);
  return {
    projectId,
    location: env.BIGQUERY_LOCATION || 'US',
    apiEndpoint: env.BIGQUERY_API_ENDPOINT ? urlVar(env, 'BIGQUERY_API_ENDPOINT') : undefined,
    datasetPrefix,
    kmsKeys: kmsKeys(env.BIGQUERY_KMS_KEYS ?? ''),
    metadataCheckMs: intVar(env, 'METADATA_CHECK_MS', DEFAULT_METADATA_CHECK_MS, 0, 86_400_000),
    metadataFullReadMs: intVar(env, 'METADATA_FULL_READ_MS', DEFAULT_METADATA_FULL_READ_MS, 1000, 7 * 86_400_000),
  };
}

function logLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${raw}".`);
  return raw as LogLevel;
}

function kmsKeys(spec: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const entry of spec.split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = /^([a-z][a-z0-9_]{0,62})=(projects\/[^/\s"]+\/locations\/[^/\s"]+\/keyRings\/[^/\s"]+\/cryptoKeys\/[^/\s"]+)$/.exec(entry);
    if (!match) throw new ConfigError(`BIGQUERY_KMS_KEYS entries look like tenant=projects/P/locations/L/keyRings/R/cryptoKeys/K, not "${entry}".`);
    if (match[1] in keys) throw new ConfigError(`BIGQUERY_KMS_KEYS names tenant ${match[1]} twice.`);
    keys[match[1]] = match[2];
  }
  return keys;
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, not "${raw}".`);
  }
  return value;
}

/** A byte amount (parseBytes) of at least `min`. */
function bytesVar(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const raw = env[name] ?? '';
  let bytes: number;
  try {
    bytes = parseBytes(raw);
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
  if (bytes < min) throw new ConfigError(`${name} must be at least ${min} bytes, not "${raw}".`);
  return bytes;
}

function numberVar(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a non-negative number, not "${raw}".`);
  return value;
}

function urlVar(env: NodeJS.ProcessEnv, name: string): string {
  const raw = env[name] ?? '';
  try {
    return new URL(raw).toString();
  } catch {
    throw new ConfigError(`${name} must be a URL, not "${raw}".`);
  }
}

/** HOST: an IPv4 or IPv6 address, or a host name. */
function hostVar(env: NodeJS.ProcessEnv): string {
  const host = env.HOST || '127.0.0.1';
  if (!net.isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
    throw new ConfigError(`HOST must be an IP address or a host name, not ${JSON.stringify(host)}.`);
  }
  return host;
}

/** Only this machine can reach an address of 127.0.0.0/8, ::1 or localhost. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

/** Outside development the public development secrets would let anyone sign tokens or identities for any tenant. */
function requireRealSecrets(auth: AuthConfig, subgraphSecret: string, previous: string | undefined, because: string): void {
  const refuse = (what: string) => new ConfigError(`${what} With ${because} bytegate refuses the public development secrets.`);
  if (auth.kind === 'hs256' && auth.secret === DEV_JWT_SECRET) throw refuse('JWT_SECRET is not set (or is the development secret): set it to a secret of at least 32 characters, or set AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE.');
  if (subgraphSecret === DEV_SUBGRAPH_SECRET) throw refuse('SUBGRAPH_SECRET is not set (or is the development secret): set it to a secret of at least 32 characters, the same on the gateway and every subgraph.');
  if (previous === DEV_SUBGRAPH_SECRET) throw refuse('SUBGRAPH_SECRET_PREVIOUS is the development secret.');
}

function secretVar(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (!raw) return fallback;
  if (raw.length < 32) throw new ConfigError(`${name} must be at least 32 characters.`);
  return raw;
}
