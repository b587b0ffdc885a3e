/**
 * Daily budgets at the gateway: the limits that apply to a caller (budgets/policy.ts, cached briefly
 * so a request does not wait on the store), the reservation of an operation's estimated billed bytes
 * against the user's and the tenant's remaining budget before it runs, and its settlement to the
 * bytes actually billed afterwards.
 *
 * When the ledger cannot be reached the configured policy decides (LEDGER_FAILURE_POLICY):
 * `allow-up-to-cap` admits operations estimated at most LEDGER_FAILOPEN_MAX_BYTES, unrecorded, and
 * refuses the rest; `reject` refuses every operation that reads the warehouse. Either way the refusal
 * is LEDGER_UNAVAILABLE (503), the outage is logged once and shown on /readyz, and the next request
 * tries the ledger again — the gateway recovers by itself when Redis returns.
 */
import type { BudgetConfig } from '../../common/config';
import { trackOutage } from '../../common/outage';
import { ErrorCode, bytegateError } from '../../common/errors';
import type { Principal } from '../../common/principal';
import { bytesForPeople } from '../../common/units';
import { type BudgetLedger, LedgerUnavailableError, type Reservation, type UsageSnapshot } from '../../budgets/ledger';
import { type EffectiveBudget, type LimitDefaults, resolveLimits } from '../../budgets/policy';
import type { BudgetChangeFeed } from '../../budgets/changeFeed';
import type { BudgetStore } from '../../budgets/store';
import type { ApolloLogger } from '../../common/log';

export interface Budgets {
  readonly store: BudgetStore;
  readonly ledger: BudgetLedger;
  /** Tells the other gateway replicas of an admin's change (Redis pub/sub); without it they notice within the limits cache's 5 s. */
  readonly changes?: BudgetChangeFeed;
}

/** What the caller had left, as `extensions.cost.budget` reports it. */
export interface BudgetReport {
  readonly user: BudgetLine;
  readonly tenant: BudgetLine;
}

export interface BudgetLine {
  readonly limitBytes: number | null;
  readonly usedBytes: number;
  readonly remainingBytes: number | null;
  readonly resetsAt: string;
}

/** What the ledger decided of an operation's estimated bytes. */
export type BudgetDecision =
  /** Held against the user's and the tenant's remaining budget until settled. */
  | { readonly kind: 'reserved'; readonly reservation: Reservation; readonly report: BudgetReport }
  /** Admitted without a record: the ledger is unreachable and LEDGER_FAILURE_POLICY allows it (or measure mode). */
  | { readonly kind: 'unrecorded' }
  /** The operation would exceed the user's or the tenant's remaining budget. */
  | {
    readonly kind: 'refused';
    readonly message: string;
    readonly report: BudgetReport;
    /** Until the exhausted budget resets. */
    readonly retryAfterSeconds: number;
  };

/** A decision that lets the operation run. */
export type Admission = Exclude<BudgetDecision, { kind: 'refused' }>;

export interface LedgerStatus {
  readonly ledger: 'ok' | 'unreachable';
  readonly since?: string;
  readonly onLedgerError: BudgetConfig['onLedgerError'];
}

export interface BudgetGuard {
  limits(principal: Principal): Promise<EffectiveBudget>;
  /**
   * Reserves `bytes` (enforce) or only records them (measure: unlimited); throws LEDGER_UNAVAILABLE per
   * the failure policy. The ledger keeps the operation's name (null: anonymous) for estimator accuracy
   * and the caller's roles for the limits shown to quota admins.
   */
  admit(principal: Principal, limits: EffectiveBudget, bytes: number, enforce: boolean, operationName: string | null): Promise<BudgetDecision>;
  /** The caller's budget now, without reserving (undefined when the ledger cannot say). */
  peek(principal: Principal, limits: EffectiveBudget): Promise<BudgetReport | undefined>;
  /** Replaces the reservation by what was billed; the caller's budget afterwards. Never throws. */
  settle(admission: Admission, billedBytes: number): Promise<BudgetReport | undefined>;
  /** Drops the tenant's cached limits: an admin's change applies to the next request. */
  forget(tenant: string): void;
  status(): LedgerStatus;
}

/** How long resolved limits are reused: a quota admin's change applies within this time. */
const LIMITS_TTL_MS = 5000;

export interface GuardOptions {
  readonly limitDefaults: LimitDefaults;
  /** LEDGER_FAILURE_POLICY: what happens to operations while the ledger cannot be reached. */
  readonly onLedgerError: BudgetConfig['onLedgerError'];
  /** LEDGER_FAILOPEN_MAX_BYTES: the largest estimate admitted unrecorded under `allow-up-to-cap`. */
  readonly failOpenMaxBytes: number;
}

export function createBudgetGuard(options: GuardOptions, budgets: Budgets, logger: ApolloLogger, now: () => number = Date.now): BudgetGuard {
  const cache = new Map<string, { limits: Promise<EffectiveBudget>; at: number }>();
  const outage = trackOutage({
    down: (error) => logger.error(`budget ledger unreachable (${error.message}); policy ${options.onLedgerError}`),
    up: (seconds) => logger.info(`budget ledger reachable again after ${seconds} s`),
  }, now);

  const ledgerCall = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      const result = await call();
      outage.ok();
      return result;
    } catch (error) {
      if (error instanceof LedgerUnavailableError) outage.failed(error);
      throw error;
    }
  };

  return {
    limits(principal) {
      const key = `${principal.tenant}\u0000${principal.userId}\u0000${principal.roles.join(',')}`;
      const cached = cache.get(key);
      if (cached && now() - cached.at < LIMITS_TTL_MS) return cached.limits;
      if (cache.size > 10_000) cache.clear();
      const limits = resolveLimits(options.limitDefaults, budgets.store, principal);
      cache.set(key, { limits, at: now() });
      limits.catch(() => cache.delete(key));
      return limits;
    },

    async admit(principal, limits, bytes, enforce, operationName) {
      const caller = { tenant: principal.tenant, userId: principal.userId, roles: principal.roles, operation: operationName };
      const ledgerLimits = enforce
        ? { userDailyBytes: limits.userDailyBytes, tenantDailyBytes: limits.tenantDailyBytes, timezone: limits.timezone }
        : { userDailyBytes: null, tenantDailyBytes: null, timezone: limits.timezone };
      let result;
      try {
        result = await ledgerCall(() => budgets.ledger.reserve(caller, bytes, ledgerLimits));
      } catch (error) {
        if (!(error instanceof LedgerUnavailableError)) throw error;
        const allowed = !enforce || (options.onLedgerError === 'allow-up-to-cap' && bytes <= options.failOpenMaxBytes);
        if (allowed) return { kind: 'unrecorded' };
        throw bytegateError(ErrorCode.LEDGER_UNAVAILABLE, `Budgets cannot be checked right now, so operations estimated over ${bytesForPeople(options.failOpenMaxBytes)} are refused. Retry shortly.`);
      }
      const report = reportOf(result.user, result.tenant);
      if (!result.admitted) {
        const exhausted = result.exceeded === 'user' ? report.user : report.tenant;
        void budgets.ledger.recordRejection(principal.tenant, { at: new Date(now()).toISOString(), userId: principal.userId, requestedBytes: bytes, exceeded: result.exceeded }).catch(() => undefined);
        return {
          kind: 'refused',
          message: `This operation would bill an estimated ${bytesForPeople(bytes)}, ${bytesForPeople(bytes - (exhausted.remainingBytes ?? 0))} over ${result.exceeded === 'user' ? 'your' : "your tenant's"} remaining daily budget of ${bytesForPeople(exhausted.remainingBytes ?? 0)}; it resets at 00:00 ${limits.timezone} (${exhausted.resetsAt}).`,
          report,
          retryAfterSeconds: secondsUntil(exhausted.resetsAt, now()),
        };
      }
      return { kind: 'reserved', reservation: result.reservation, report };
    },

    async peek(principal, limits) {
      try {
        const usage = await ledgerCall(() => budgets.ledger.usage(principal, limits));
        return reportOf(usage.user, usage.tenant);
      } catch {
        return undefined;
      }
    },

    async settle(admission, billedBytes) {
      if (admission.kind === 'unrecorded') return undefined;
      const { reservation, report } = admission;
      try {
        await ledgerCall(() => budgets.ledger.settle(reservation, billedBytes));
        // The report taken at reservation, moved from held to billed: no second round trip.
        return { user: settled(report.user, reservation.bytes, billedBytes), tenant: settled(report.tenant, reservation.bytes, billedBytes) };
      } catch (error) {
        // The reservation expires on its own; the charge is lost, never doubled.
        logger.warn(`budget settlement failed (${(error as Error).message}); reservation ${reservation.id} will expire`);
        return report;
      }
    },

    forget(tenant) {
      for (const key of cache.keys()) if (key.startsWith(`${tenant}\u0000`)) cache.delete(key);
    },

    status() {
      const since = outage.since();
      return {
        ledger: since === undefined ? 'ok' : 'unreachable',
        ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
        onLedgerError: options.onLedgerError,
      };
    },
  };
}

export function reportOf(user: UsageSnapshot, tenant: UsageSnapshot): BudgetReport {
  return { user: lineOf(user), tenant: lineOf(tenant) };
}

function secondsUntil(iso: string, nowMs: number): number {
  return Math.max(1, Math.ceil((Date.parse(iso) - nowMs) / 1000));
}

// Private:

/** A budget line after a reservation of `held` bytes settled at `billed`. */
function settled(line: BudgetLine, held: number, billed: number): BudgetLine {
  const usedBytes = line.usedBytes + billed;
  return { ...line, usedBytes, remainingBytes: line.remainingBytes === null ? null : Math.max(0, line.remainingBytes + held - billed) };
}

function lineOf(snapshot: UsageSnapshot): BudgetLine {
  return { limitBytes: snapshot.limitBytes, usedBytes: snapshot.usedBytes, remainingBytes: snapshot.remainingBytes, resetsAt: snapshot.resetsAt };
}
