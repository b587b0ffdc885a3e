/**
 * The BudgetStore port: what quota admins set — per-tenant budgets and per-user overrides — and the
 * audit trail of every change. Durable: it survives gateway restarts. Adapters: PostgreSQL
 * (DATABASE_URL; production, shared by replicas) and an append-only JSON-lines file under DATA_DIR
 * (embedded default). Both pass test/budgets/storeContract.ts.
 *
 * A setting left null falls back: a user's daily limit to the configured default of the user's most
 * generous role, the tenant's to the configured tenant default (budgets/policy.ts resolves this; the
 * store only keeps what was set).
 */

/** What can be set on a tenant. Absent fields are left as they are; null clears a setting. */
export interface TenantBudgetSettings {
  /** All the tenant's users together, per budget day. */
  readonly dailyLimitBytes?: number | null;
  /** Per-query cap for the tenant's operations (over MAX_QUERY_BYTES only downwards). */
  readonly maxQueryBytes?: number | null;
  /** IANA timezone of the tenant's budget day; default UTC. */
  readonly timezone?: string | null;
}

/** What can be set on one user. Absent fields are left as they are; null clears a setting. */
export interface UserBudgetSettings {
  readonly dailyLimitBytes?: number | null;
  readonly maxQueryBytes?: number | null;
}

export interface StoredTenantBudget {
  readonly dailyLimitBytes: number | null;
  readonly maxQueryBytes: number | null;
  readonly timezone: string | null;
}

export interface StoredUserBudget {
  readonly dailyLimitBytes: number | null;
  readonly maxQueryBytes: number | null;
}

/** A user's stored settings, with the user. */
export interface StoredUserOverride extends StoredUserBudget {
  readonly userId: string;
}

export interface AuditActor {
  /** The quota admin's user id (`sub`), or e.g. `cli:<os user>` for the CLI. */
  readonly actor: string;
  readonly reason?: string | null;
}

export interface AuditEntry {
  readonly id: string;
  /** ISO-8601 UTC. */
  readonly at: string;
  readonly tenant: string;
  readonly actor: string;
  /** `tenant`, or the user id whose budget changed. */
  readonly target: { readonly kind: 'tenant' } | { readonly kind: 'user'; readonly userId: string };
  /** `setBudget` or `resetUsage`. */
  readonly action: 'setBudget' | 'resetUsage';
  readonly old: Readonly<Record<string, unknown>> | null;
  readonly new: Readonly<Record<string, unknown>> | null;
  readonly reason: string | null;
}

export interface BudgetStore {
  tenantBudget(tenant: string): Promise<StoredTenantBudget | null>;
  userBudget(tenant: string, userId: string): Promise<StoredUserBudget | null>;
  /** The tenant's users with at least one setting stored (not null), in user id order (by UTF-8 bytes), at most `limit`. */
  userOverrides(tenant: string, limit: number): Promise<StoredUserOverride[]>;
  /** Applies `change` and appends one audit entry with the old and new values, atomically. */
  setTenantBudget(tenant: string, change: TenantBudgetSettings, by: AuditActor): Promise<{ old: StoredTenantBudget | null; new: StoredTenantBudget }>;
  setUserBudget(tenant: string, userId: string, change: UserBudgetSettings, by: AuditActor): Promise<{ old: StoredUserBudget | null; new: StoredUserBudget }>;
  /** Appends an audit entry for an action taken elsewhere (a usage reset in the ledger). */
  recordAudit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry>;
  /** The tenant's audit entries, newest first (optionally only those about one user). */
  auditLog(tenant: string, options: { limit: number; userId?: string }): Promise<AuditEntry[]>;
  close(): Promise<void>;
}
