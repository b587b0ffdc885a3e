/**
 * Quota administration. The tenant is always the caller's (from the verified token); changing budgets
 * and reading the tenant's usage need `quota-admin`; a user may read their own budget, an executive
 * the tenant's. Every change is audited in the budget store (who, when, old → new, reason). A user's
 * budget is set or reset only for a user the tenant's directory holds (KnownUsers).
 */
import { type ArgumentLimits, pageSize, range } from '../../common/graphql/arguments';
import type { ResolverMap } from '../../common/graphql/subgraphSchema';
import { dateRange } from '../../common/dates';
import { ErrorCode, badUserInput, bytegateError } from '../../common/errors';
import { type Principal, ROLES } from '../../common/principal';
import { LedgerUnavailableError, SPEND_HISTORY_DAYS, type UsageSnapshot } from '../../budgets/ledger';
import { type EffectiveBudget, type LimitDefaults, effectiveLimits, needsDirectoryUser, resolveLimits, validateBudgetChange } from '../../budgets/policy';
import type { AuditEntry, UserBudgetSettings } from '../../budgets/store';
import type { Budgets } from '../admission/budgetGuard';

interface Context {
  readonly principal: Principal;
}

interface BudgetArgs {
  dailyLimitBytes?: number | null;
  maxQueryBytes?: number | null;
  reason?: string | null;
}

/** Longest user id and reason accepted (ids are Okta ids; reasons are a sentence). */
const MAX_ID_LENGTH = 256;
const MAX_REASON_LENGTH = 1000;
/** budgetUsers' rows at most: a tenant may have thousands of users; one answer stays around a megabyte. */
export const MAX_BUDGET_USERS = 5000;

export interface AdminOptions extends ArgumentLimits {
  readonly limitDefaults: LimitDefaults;
}

/**
 * Which of `ids` the tenant's user directory holds (the users subgraph's, asked by the gateway); a
 * coded error when it cannot say — WAREHOUSE_UNAVAILABLE, retryable — never a guess.
 */
export type KnownUsers = (tenant: string, ids: readonly string[]) => Promise<ReadonlySet<string>>;

export function budgetsResolvers(options: AdminOptions, budgets: Budgets, onChange: (tenant: string) => void, knownUsers: KnownUsers): ResolverMap<Context> {
  const { store, ledger } = budgets;

  /** Setting (needsDirectoryUser) or resetting a user's budget: BAD_USER_INPUT for an id the tenant's directory lacks. */
  const requireInDirectory = async (tenant: string, userId: string) => {
    if (!(await knownUsers(tenant, [userId])).has(userId)) {
      throw badUserInput(`No user ${JSON.stringify(userId)} in tenant ${tenant}'s directory; check the id.`, { argument: 'userId' });
    }
  };

  /** A user's budget; roles of users other than the caller are unknown here, so their role default is the viewer's. */
  const userBudget = async (principal: Principal, userId: string) => {
    const roles = userId === principal.userId ? principal.roles : (['viewer'] as const);
    const limits = await resolveLimits(options.limitDefaults, store, { tenant: principal.tenant, userId, roles: [...roles] });
    const usage = await guarded(() => ledger.usage({ tenant: principal.tenant, userId }, limits));
    return budgetOf(limits.userDailyBytes, limits, usage.user);
  };
  const tenantBudget = async (principal: Principal) => {
    const limits = await resolveLimits(options.limitDefaults, store, principal);
    const usage = await guarded(() => ledger.tenantUsage(principal.tenant, limits));
    return budgetOf(limits.tenantDailyBytes, limits, usage);
  };

  return {
    Query: {
      myBudget: (_root, _args, { principal }: Context) => userBudget(principal, principal.userId),

      budgetUsage: async (_root, args: { from: string; to: string; first: number }, { principal }: Context) => {
        requireQuotaAdmin(principal);
        const days = range(args, options);
        const first = pageSize(args.first, options);
        const [spenders, rejections, changes] = await Promise.all([
          guarded(() => ledger.topSpenders(principal.tenant, days.from, days.to, first)),
          guarded(() => ledger.recentRejections(principal.tenant, first)),
          store.auditLog(principal.tenant, { limit: first }),
        ]);
        return {
          topSpenders: spenders.map((s) => ({ user: { id: s.userId }, usedBytes: s.usedBytes })),
          recentRejections: rejections.map((r) => ({ ...r, user: { id: r.userId } })),
          changes: changes.map(changeOf),
        };
      },

      budgetHistory: async (_root, args: { from: string; to: string; userId?: string | null }, { principal }: Context) => {
        requireQuotaAdmin(principal);
        const days = historyRange(args);
        const userId = args.userId == null ? undefined : userIdArgument(args.userId);
        const spend = await guarded(() => ledger.dailySpend(principal.tenant, days.from, days.to, userId));
        return spend.map(({ day, billedBytes }) => ({ date: day, billedBytes }));
      },

      estimatorAccuracy: async (_root, args: { from: string; to: string; first: number }, { principal }: Context) => {
        requireQuotaAdmin(principal);
        const days = historyRange(args);
        const first = pageSize(args.first, options);
        const accuracy = await guarded(() => ledger.operationAccuracy(principal.tenant, days.from, days.to));
        return accuracy.slice(0, first).map(({ operation, ...totals }) => ({ operationName: operation, ...totals }));
      },

      budgetUsers: async (_root, _args, { principal }: Context) => {
        requireQuotaAdmin(principal);
        const [tenant, overrides] = await Promise.all([store.tenantBudget(principal.tenant), store.userOverrides(principal.tenant, MAX_BUDGET_USERS)]);
        const stored = new Map(overrides.map(({ userId, ...budget }) => [userId, budget]));
        const { timezone } = effectiveLimits(options.limitDefaults, tenant, null, []);
        const users = await guarded(() => ledger.recentUsers(principal.tenant, [...stored.keys()], timezone, MAX_BUDGET_USERS));
        return users
          .map(({ userId, usedBytes, reservedBytes, roles }) => {
            const override = stored.get(userId) ?? null;
            // A user never seen has no roles: the least generous default, as for a caller without any.
            const limits = effectiveLimits(options.limitDefaults, tenant, override, roles ?? []);
            const dailyLimitBytes = limits.userDailyBytes;
            return {
              user: { id: userId },
              usedBytes,
              remainingBytes: dailyLimitBytes === null ? null : Math.max(0, dailyLimitBytes - usedBytes - reservedBytes),
              dailyLimitBytes,
              maxQueryBytes: limits.maxQueryBytes,
              limitSource: override?.dailyLimitBytes != null ? 'OVERRIDE' : 'ROLE_DEFAULT',
              roles: roles ?? [],
            };
          })
          .sort((a, b) => b.usedBytes - a.usedBytes || (a.user.id < b.user.id ? -1 : a.user.id > b.user.id ? 1 : 0));
      },

      budgetDefaults: (_root, _args, { principal }: Context) => {
        requireQuotaAdmin(principal);
        const { dailyBytes, maxQueryBytes } = options.limitDefaults;
        return { roles: ROLES.map((role) => ({ role, dailyBytes: dailyBytes.roles[role] })), tenantDailyBytes: dailyBytes.tenant, maxQueryBytes };
      },
    },

    Mutation: {
      setUserBudget: async (_root, args: BudgetArgs & { userId: string }, { principal }: Context) => {
        requireQuotaAdmin(principal);
        const [userId, settings, audit] = [userIdArgument(args.userId), change(args), auditBy(principal, args.reason)];
        if (needsDirectoryUser(settings)) await requireInDirectory(principal.tenant, userId);
        await store.setUserBudget(principal.tenant, userId, settings, audit);
        onChange(principal.tenant);
        return userBudget(principal, userId);
      },
      setTenantBudget: async (_root, args: BudgetArgs, { principal }: Context) => {
        requireQuotaAdmin(principal);
        await store.setTenantBudget(principal.tenant, change(args), auditBy(principal, args.reason));
        onChange(principal.tenant);
        return tenantBudget(principal);
      },
      resetBudgetUsage: async (_root, args: { userId?: string | null; reason?: string | null }, { principal }: Context) => {
        requireQuotaAdmin(principal);
        const userId = args.userId == null ? null : userIdArgument(args.userId);
        const audit = auditBy(principal, args.reason); // checked before anything is reset
        if (userId !== null) await requireInDirectory(principal.tenant, userId);
        const before = userId === null ? await tenantBudget(principal) : await userBudget(principal, userId);
        const { timezone } = await resolveLimits(options.limitDefaults, store, principal);
        await guarded(() => ledger.resetUsage(principal.tenant, userId, timezone));
        await store.recordAudit({
          tenant: principal.tenant, ...audit,
          target: userId === null ? { kind: 'tenant' } : { kind: 'user', userId },
          action: 'resetUsage', old: { usedBytes: before.usedBytes }, new: { usedBytes: 0 },
        });
        return userId === null ? tenantBudget(principal) : userBudget(principal, userId);
      },
    },

    User: {
      budget: async ({ id }: { id: string }, _args, { principal }: Context) => {
        if (id !== principal.userId && !principal.roles.includes('quota-admin')) throw forbidden('Only the user and quota admins may read a user\'s budget.');
        return userBudget(principal, id);
      },
    },

    Tenant: {
      budget: async ({ id }: { id: string }, _args, { principal }: Context) => {
        if (id !== principal.tenant) throw forbidden(`Tenant "${id}" is not yours.`);
        if (!principal.roles.some((r) => r === 'quota-admin' || r === 'executive')) throw forbidden('Only executives and quota admins may read the tenant\'s budget.');
        return tenantBudget(principal);
      },
    },
  };
}

// Private:

/** A from..to of the spend history: at most SPEND_HISTORY_DAYS days, all the ledger keeps. */
function historyRange(args: { from: string; to: string }) {
  return dateRange(args.from, args.to, SPEND_HISTORY_DAYS);
}

function budgetOf(dailyLimitBytes: number | null, limits: EffectiveBudget, usage: UsageSnapshot) {
  return { dailyLimitBytes, maxQueryBytes: limits.maxQueryBytes, usedBytes: usage.usedBytes, remainingBytes: usage.remainingBytes, resetsAt: usage.resetsAt };
}

/** Only the arguments given: an absent one leaves the setting, an explicit null clears it. */
function change(args: BudgetArgs): UserBudgetSettings {
  const given: { dailyLimitBytes?: number | null; maxQueryBytes?: number | null } = {};
  if (args.dailyLimitBytes !== undefined) given.dailyLimitBytes = args.dailyLimitBytes;
  if (args.maxQueryBytes !== undefined) given.maxQueryBytes = args.maxQueryBytes;
  if (Object.keys(given).length === 0) throw badUserInput('Give dailyLimitBytes or maxQueryBytes (null clears one).');
  try {
    validateBudgetChange(given);
  } catch (error) {
    throw badUserInput((error as Error).message);
  }
  return given;
}

/** Stored byte for byte, except NUL, which no text column takes (PostgreSQL refuses it). */
function userIdArgument(userId: string): string {
  if (userId.length === 0 || userId.length > MAX_ID_LENGTH) throw badUserInput(`userId must be 1..${MAX_ID_LENGTH} characters.`);
  if (userId.includes('\0')) throw badUserInput('userId must not contain a NUL character (U+0000).');
  return userId;
}

function auditBy(principal: Principal, reason: string | null | undefined) {
  if (reason && reason.length > MAX_REASON_LENGTH) throw badUserInput(`reason must be at most ${MAX_REASON_LENGTH} characters.`);
  if (reason?.includes('\0')) throw badUserInput('reason must not contain a NUL character (U+0000).');
  return { actor: principal.userId, reason: reason ?? null };
}

function changeOf(entry: AuditEntry) {
  return {
    at: entry.at,
    actor: entry.actor,
    user: entry.target.kind === 'user' ? { id: entry.target.userId } : null,
    action: entry.action,
    old: entry.old === null ? null : JSON.stringify(entry.old),
    new: entry.new === null ? null : JSON.stringify(entry.new),
    reason: entry.reason,
  };
}

function requireQuotaAdmin(principal: Principal): void {
  if (!principal.roles.includes('quota-admin')) throw forbidden('Only quota admins may do this.');
}

function forbidden(message: string) {
  return bytegateError(ErrorCode.FORBIDDEN, message);
}

async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof LedgerUnavailableError) throw bytegateError(ErrorCode.LEDGER_UNAVAILABLE, 'The budget ledger cannot be reached right now; retry shortly.');
    throw error;
  }
}
