/**
 * Budget policy: the limits that apply to a caller, from what quota admins stored (budgets/store.ts)
 * and the configured defaults; the bounds every stored change must respect; how a change applies to
 * what was stored (every BudgetStore adapter validates and applies changes through these).
 *
 * - User daily: the user's override, else the configured default of the caller's most generous role
 *   (BUDGET_DEFAULTS; a caller without a role gets the least generous one).
 * - Tenant daily: the tenant's setting, else the configured tenant default.
 * - Per-query cap: the smallest of MAX_QUERY_BYTES, the tenant's and the user's caps — a stored cap
 *   only ever lowers MAX_QUERY_BYTES.
 * - Timezone of the budget day: the tenant's, else UTC.
 * - A user's limits are set (and usage reset) only for a user of the tenant's directory (needsDirectoryUser).
 */
import type { BudgetConfig, Config } from '../common/config';
import type { Principal } from '../common/principal';
import type { BudgetStore, StoredTenantBudget, StoredUserBudget, TenantBudgetSettings, UserBudgetSettings } from './store';

export interface EffectiveBudget {
  /** null: unlimited. */
  readonly userDailyBytes: number | null;
  /** null: unlimited. */
  readonly tenantDailyBytes: number | null;
  readonly maxQueryBytes: number;
  /** IANA timezone of the tenant's budget day. */
  readonly timezone: string;
}

/** What a caller's limits fall back to where nothing was stored. */
export interface LimitDefaults {
  /** BUDGET_DEFAULTS: daily bytes per role and for a whole tenant. */
  readonly dailyBytes: BudgetConfig['defaults'];
  /** MAX_QUERY_BYTES: the per-query cap a stored one can only lower. */
  readonly maxQueryBytes: number;
}

/** The configured LimitDefaults. */
export function limitDefaults(config: Pick<Config, 'budgets' | 'maxQueryBytes'>): LimitDefaults {
  return { dailyBytes: config.budgets.defaults, maxQueryBytes: config.maxQueryBytes };
}

/** The largest daily limit or per-query cap a change may set: 1 PiB; anything above is a typo. */
export const MAX_BUDGET_BYTES = 2 ** 50;

export async function resolveLimits(defaults: LimitDefaults, store: BudgetStore, principal: Principal): Promise<EffectiveBudget> {
  const [tenant, user] = await Promise.all([store.tenantBudget(principal.tenant), store.userBudget(principal.tenant, principal.userId)]);
  return effectiveLimits(defaults, tenant, user, principal.roles);
}

/** resolveLimits over settings already read (the budget CLI prints them too). */
export function effectiveLimits(defaults: LimitDefaults, tenant: StoredTenantBudget | null, user: StoredUserBudget | null, roles: Principal['roles']): EffectiveBudget {
  const { dailyBytes } = defaults;
  const ofRoles = roles.map((role) => dailyBytes.roles[role]);
  const roleDefault = ofRoles.length > 0 ? Math.max(...ofRoles) : Math.min(...Object.values(dailyBytes.roles));
  const caps = [defaults.maxQueryBytes, tenant?.maxQueryBytes ?? null, user?.maxQueryBytes ?? null].filter((cap): cap is number => cap !== null);
  return {
    userDailyBytes: user?.dailyLimitBytes ?? roleDefault,
    tenantDailyBytes: tenant?.dailyLimitBytes ?? dailyBytes.tenant,
    maxQueryBytes: Math.min(...caps),
    timezone: tenant?.timezone ?? 'UTC',
  };
}

/**
 * Throws an Error saying what is wrong with `change`: nothing to change, a byte amount that is not a
 * whole number of bytes in 0..1 PiB, or a timezone Intl does not know. A user's change has the same
 * fields less `timezone`. Absent and null fields are always valid (leave, clear).
 */
export function validateBudgetChange(change: TenantBudgetSettings): void {
  const given = FIELDS.filter((field) => change[field] !== undefined);
  if (given.length === 0) throw new Error('Nothing to change: give dailyLimitBytes, maxQueryBytes or timezone (null clears one).');
  for (const field of ['dailyLimitBytes', 'maxQueryBytes'] as const) {
    const bytes = change[field];
    if (bytes === undefined || bytes === null) continue;
    if (typeof bytes !== 'number' || !Number.isInteger(bytes)) throw new Error(`${field} must be a whole number of bytes, not ${String(bytes).slice(0, 40)}.`);
    if (bytes < 0) throw new Error(`${field} must not be negative (got ${bytes}).`);
    if (bytes > MAX_BUDGET_BYTES) throw new Error(`${field} of ${bytes} bytes is over 1 PiB (${MAX_BUDGET_BYTES}): surely a typo.`);
  }
  const { timezone } = change;
  if (timezone !== undefined && timezone !== null && !isTimezone(timezone)) {
    throw new Error(`timezone "${String(timezone).slice(0, 60)}" is not an IANA timezone (e.g. UTC, Europe/Berlin, America/New_York).`);
  }
}

/**
 * Whether a user's change must name a user of the tenant's directory: one that sets a value does (a
 * mistyped id would store a setting nobody has); one that only clears (explicit nulls) does not, so the
 * setting of an id the directory lacks — an old typo, someone who left — can still be removed.
 */
export function needsDirectoryUser(change: UserBudgetSettings): boolean {
  return Object.values(change).some((value) => value !== null && value !== undefined);
}

/** A change applied to what was stored: absent fields keep their value, null clears. */
export function applyTenantChange(old: StoredTenantBudget | null, change: TenantBudgetSettings): StoredTenantBudget {
  return {
    dailyLimitBytes: change.dailyLimitBytes === undefined ? old?.dailyLimitBytes ?? null : change.dailyLimitBytes,
    maxQueryBytes: change.maxQueryBytes === undefined ? old?.maxQueryBytes ?? null : change.maxQueryBytes,
    timezone: change.timezone === undefined ? old?.timezone ?? null : change.timezone,
  };
}

export function applyUserChange(old: StoredUserBudget | null, change: UserBudgetSettings): StoredUserBudget {
  return {
    dailyLimitBytes: change.dailyLimitBytes === undefined ? old?.dailyLimitBytes ?? null : change.dailyLimitBytes,
    maxQueryBytes: change.maxQueryBytes === undefined ? old?.maxQueryBytes ?? null : change.maxQueryBytes,
  };
}

// Private:

const FIELDS = ['dailyLimitBytes', 'maxQueryBytes', 'timezone'] as const;

function isTimezone(value: unknown): boolean {
  if (typeof value !== 'string' || value === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
