/**
 * The BudgetStore in PostgreSQL (DATABASE_URL): shared by every gateway replica and the budget CLI.
 *
 * Tables, in one Postgres schema (`bytegate` unless told; tests use their own), created at start if
 * missing — the migration runs under an advisory lock, so replicas starting together do not race:
 * - `tenant_budgets (tenant PK, daily_limit_bytes, max_query_bytes, timezone, updated_at)`
 * - `user_budgets ((tenant, user_id) PK, daily_limit_bytes, max_query_bytes, updated_at)`
 * - `budget_audit (id bigserial PK, at, tenant, actor, user_id — null for the tenant —, action, old, new, reason)`
 *   with `old`/`new` as jsonb: the whole stored budget before and after (null: none yet); `at` is the
 *   insert's clock time, so it follows the chain even when a transaction waited for the lock.
 *
 * A change is one transaction: a transaction-scoped advisory lock on the budget's key, the old row
 * read FOR UPDATE, the upsert, the audit row. The row lock alone would not do for a budget's first
 * change — there is no row to lock yet, so two first changes would both record `old: null`; the
 * advisory lock serializes them too, so every audit entry's old is the previous entry's new.
 * Values travel as parameters only; the schema name, which cannot, is checked against a strict pattern.
 */
import { Pool, type PoolClient } from 'pg';
import { applyTenantChange, applyUserChange, validateBudgetChange } from './policy';
import type { AuditEntry, BudgetStore, StoredTenantBudget, StoredUserBudget } from './store';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  readonly url: string;
  /** Postgres schema holding the tables; default `bytegate`. Lowercase letters, digits, underscores. */
  readonly schema?: string;
}

export const DEFAULT_BUDGET_SCHEMA = 'bytegate';

export async function createPostgresStore(options: PostgresStoreOptions): Promise<BudgetStore> {
  const schema = options.schema ?? DEFAULT_BUDGET_SCHEMA;
  if (!SCHEMA_PATTERN.test(schema)) throw new Error(`Budget store schema "${schema.slice(0, 70)}" must be lowercase letters, digits and underscores.`);
  const where = redactedUrl(options.url);
  const pool = new Pool({ connectionString: options.url, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle connection that breaks (a database restart) is dropped by the pool; the next query opens another.
  pool.on('error', () => undefined);
  try {
    await transaction(pool, (client) => migrate(client, schema));
  } catch (error) {
    await pool.end();
    throw new Error(`Cannot open the budget store in PostgreSQL at ${where}: ${(error as Error).message}`);
  }
  const t = (table: string) => `"${schema}".${table}`;

  const readTenant = async (db: Pool | PoolClient, tenant: string, forUpdate: boolean): Promise<StoredTenantBudget | null> => {
    const { rows } = await db.query(`SELECT daily_limit_bytes, max_query_bytes, timezone FROM ${t('tenant_budgets')} WHERE tenant = $1${forUpdate ? ' FOR UPDATE' : ''}`, [tenant]);
    return rows.length === 0 ? null : { dailyLimitBytes: bytesOf(rows[0].daily_limit_bytes), maxQueryBytes: bytesOf(rows[0].max_query_bytes), timezone: rows[0].timezone };
  };
  const readUser = async (db: Pool | PoolClient, tenant: string, userId: string, forUpdate: boolean): Promise<StoredUserBudget | null> => {
    const { rows } = await db.query(`SELECT daily_limit_bytes, max_query_bytes FROM ${t('user_budgets')} WHERE tenant = $1 AND user_id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenant, userId]);
    return rows.length === 0 ? null : { dailyLimitBytes: bytesOf(rows[0].daily_limit_bytes), maxQueryBytes: bytesOf(rows[0].max_query_bytes) };
  };
  const insertAudit = async (db: Pool | PoolClient, entry: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry> => {
    const { rows } = await db.query(
      `INSERT INTO ${t('budget_audit')} (tenant, actor, user_id, action, old, new, reason) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, at`,
      [entry.tenant, entry.actor, entry.target.kind === 'user' ? entry.target.userId : null, entry.action, jsonOf(entry.old), jsonOf(entry.new), entry.reason ?? null],
    );
    return { ...entry, id: String(rows[0].id), at: (rows[0].at as Date).toISOString(), reason: entry.reason ?? null };
  };

  return {
    tenantBudget: (tenant) => readTenant(pool, tenant, false),
    userBudget: (tenant, userId) => readUser(pool, tenant, userId, false),

    async userOverrides(tenant, limit) {
      // COLLATE "C": byte order of the UTF-8 text, like the file store, whatever the database's collation.
      const { rows } = await pool.query(
        `SELECT user_id, daily_limit_bytes, max_query_bytes FROM ${t('user_budgets')}
         WHERE tenant = $1 AND (daily_limit_bytes IS NOT NULL OR max_query_bytes IS NOT NULL) ORDER BY user_id COLLATE "C" LIMIT $2`,
        [tenant, Math.max(0, Math.floor(limit))],
      );
      return rows.map((row) => ({ userId: row.user_id, dailyLimitBytes: bytesOf(row.daily_limit_bytes), maxQueryBytes: bytesOf(row.max_query_bytes) }));
    },

    async setTenantBudget(tenant, change, by) {
      validateBudgetChange(change);
      return transaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [JSON.stringify(['tenant', schema, tenant])]);
        const old = await readTenant(client, tenant, true);
        const next = applyTenantChange(old, change);
        await client.query(
          `INSERT INTO ${t('tenant_budgets')} (tenant, daily_limit_bytes, max_query_bytes, timezone, updated_at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (tenant) DO UPDATE SET daily_limit_bytes = EXCLUDED.daily_limit_bytes, max_query_bytes = EXCLUDED.max_query_bytes,
             timezone = EXCLUDED.timezone, updated_at = EXCLUDED.updated_at`,
          [tenant, next.dailyLimitBytes, next.maxQueryBytes, next.timezone],
        );
        await insertAudit(client, { tenant, actor: by.actor, target: { kind: 'tenant' }, action: 'setBudget', old: old && { ...old }, new: { ...next }, reason: by.reason ?? null });
        return { old, new: next };
      });
    },

    async setUserBudget(tenant, userId, change, by) {
      validateBudgetChange(change);
      return transaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [JSON.stringify(['user', schema, tenant, userId])]);
        const old = await readUser(client, tenant, userId, true);
        const next = applyUserChange(old, change);
        await client.query(
          `INSERT INTO ${t('user_budgets')} (tenant, user_id, daily_limit_bytes, max_query_bytes, updated_at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (tenant, user_id) DO UPDATE SET daily_limit_bytes = EXCLUDED.daily_limit_bytes, max_query_bytes = EXCLUDED.max_query_bytes,
             updated_at = EXCLUDED.updated_at`,
          [tenant, userId, next.dailyLimitBytes, next.maxQueryBytes],
        );
        await insertAudit(client, { tenant, actor: by.actor, target: { kind: 'user', userId }, action: 'setBudget', old: old && { ...old }, new: { ...next }, reason: by.reason ?? null });
        return { old, new: next };
      });
    },

    recordAudit: (entry) => insertAudit(pool, entry),

    async auditLog(tenant, { limit, userId }) {
      const params: unknown[] = [tenant, limit];
      if (userId !== undefined) params.push(userId);
      const { rows } = await pool.query(
        `SELECT id, at, tenant, actor, user_id, action, old, new, reason FROM ${t('budget_audit')}
         WHERE tenant = $1 ${userId === undefined ? '' : 'AND user_id = $3'} ORDER BY id DESC LIMIT $2`,
        params,
      );
      return rows.map((row) => ({
        id: String(row.id),
        at: (row.at as Date).toISOString(),
        tenant: row.tenant,
        actor: row.actor,
        target: row.user_id === null ? { kind: 'tenant' } : { kind: 'user', userId: row.user_id },
        action: row.action,
        old: row.old,
        new: row.new,
        reason: row.reason,
      }));
    },

    close: () => pool.end(),
  };
}

// Private:

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const CONNECT_TIMEOUT_MS = 10_000;

async function migrate(client: PoolClient, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`bytegate budget store migration ${schema}`]);
  await client.query(`
    CREATE SCHEMA IF NOT EXISTS "${schema}";
    CREATE TABLE IF NOT EXISTS "${schema}".tenant_budgets (
      tenant text PRIMARY KEY,
      daily_limit_bytes bigint,
      max_query_bytes bigint,
      timezone text,
      updated_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS "${schema}".user_budgets (
      tenant text NOT NULL,
      user_id text NOT NULL,
      daily_limit_bytes bigint,
      max_query_bytes bigint,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant, user_id)
    );
    CREATE TABLE IF NOT EXISTS "${schema}".budget_audit (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT clock_timestamp(),
      tenant text NOT NULL,
      actor text NOT NULL,
      user_id text,
      action text NOT NULL CHECK (action IN ('setBudget', 'resetUsage')),
      old jsonb,
      new jsonb,
      reason text
    );
    CREATE INDEX IF NOT EXISTS budget_audit_by_tenant ON "${schema}".budget_audit (tenant, id DESC);
    CREATE INDEX IF NOT EXISTS budget_audit_by_user ON "${schema}".budget_audit (tenant, user_id, id DESC) WHERE user_id IS NOT NULL;
  `);
}

async function transaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** bigint columns arrive as strings; every stored amount is at most 1 PiB, well within a double. */
function bytesOf(value: string | null): number | null {
  return value === null ? null : Number(value);
}

/** jsonb parameters go as JSON text (pg would send a JS array as a Postgres array). */
function jsonOf(value: Readonly<Record<string, unknown>> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** The URL for messages: without its password, which DATABASE_URL often carries. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(DATABASE_URL is not a URL)';
  }
}
