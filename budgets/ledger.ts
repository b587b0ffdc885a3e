/**
 * The BudgetLedger port: daily byte counters per user and per tenant, charged by reserve → settle.
 * Adapters: Redis (production, shared by every gateway replica) and in-memory (embedded default
 * when REDIS_URL is unset). Both pass test/budgets/ledgerContract.ts.
 *
 * Semantics every adapter keeps:
 * - A budget day is a calendar day in the tenant's IANA timezone; usage resets at its midnight
 *   (`resetsAt`). Counters are per (tenant, day) and per (tenant, user, day).
 * - `reserve` is atomic over both counters: it admits `bytes` only if the user's AND the tenant's
 *   used + reserved + bytes stay within their limits (a null limit is unlimited), and then holds
 *   `bytes` against both — or it changes nothing. Concurrent reserves never overspend.
 * - `settle` replaces the reservation by the bytes actually billed (0 for cache hits), charged to the
 *   day the reservation was made on. Settling twice, or after expiry, charges the billed bytes once
 *   and never releases more than was held.
 * - A reservation never settled (a crashed gateway) stops counting after `reservationTtlMs`.
 * - Errors reaching the store (Redis down) reject with LedgerUnavailableError; nothing is half-applied.
 * - Settled bytes are also kept per day for the spend history (topSpenders, dailySpend) and, with the
 *   reservation's bytes as the estimate, per operation name (operationAccuracy), for
 *   SPEND_HISTORY_DAYS; a usage reset changes neither (the bytes were billed). `reserve` remembers the
 *   roles each user was last seen with (recentUsers), so limits can be resolved for users other than
 *   the caller.
 */
import type { Role } from '../common/principal';

export interface LedgerLimits {
  /** The user's daily limit in bytes; null: unlimited. */
  readonly userDailyBytes: number | null;
  /** The tenant's daily limit in bytes (all its users together); null: unlimited. */
  readonly tenantDailyBytes: number | null;
  /** IANA timezone of the tenant's budget day, e.g. `UTC`, `America/New_York`. */
  readonly timezone: string;
}

export interface LedgerAccount {
  readonly tenant: string;
  readonly userId: string;
}

/** Who reserves, and what for: kept with the reservation and the user. */
export interface LedgerCaller extends LedgerAccount {
  /** The operation's name; null or absent: ANONYMOUS_OPERATION. Truncated to MAX_OPERATION_NAME_LENGTH. */
  readonly operation?: string | null;
  /** The caller's roles, remembered as the user's last seen; absent: nothing is remembered. */
  readonly roles?: readonly Role[];
}

/** One counter as callers see it. */
export interface UsageSnapshot {
  readonly limitBytes: number | null;
  /** Settled bytes today. */
  readonly usedBytes: number;
  /** Held by reservations not yet settled (and not expired). */
  readonly reservedBytes: number;
  /** limit − used − reserved, at least 0; null when unlimited. */
  readonly remainingBytes: number | null;
  /** The next midnight in the tenant's timezone, ISO-8601 UTC. */
  readonly resetsAt: string;
}

export interface Reservation {
  readonly id: string;
  readonly tenant: string;
  readonly userId: string;
  readonly bytes: number;
  /** The budget day (YYYY-MM-DD in the tenant's timezone) it was made on. */
  readonly day: string;
  /** The operation name its estimate (`bytes`) and billed bytes are summed under at settle. */
  readonly operation: string;
}

export type ReserveResult =
  | { readonly admitted: true; readonly reservation: Reservation; readonly user: UsageSnapshot; readonly tenant: UsageSnapshot }
  | { readonly admitted: false; readonly exceeded: 'user' | 'tenant'; readonly user: UsageSnapshot; readonly tenant: UsageSnapshot };

export interface Spender {
  readonly userId: string;
  readonly usedBytes: number;
}

export interface Rejection {
  /** ISO-8601 UTC. */
  readonly at: string;
  readonly userId: string;
  readonly requestedBytes: number;
  readonly exceeded: 'user' | 'tenant';
}

/** Settled bytes of one budget day. */
export interface DailySpend {
  /** YYYY-MM-DD in the tenant's timezone. */
  readonly day: string;
  readonly billedBytes: number;
}

/** The settled operations of one name: what they were estimated at (reserved) and what they billed. */
export interface OperationAccuracy {
  /** The operation's name, ANONYMOUS_OPERATION or OTHER_OPERATIONS. */
  readonly operation: string;
  readonly operations: number;
  readonly estimatedBytes: number;
  readonly billedBytes: number;
}

/** A user's counters today and the roles they last reserved with. */
export interface RecentUser {
  readonly userId: string;
  /** Settled bytes today. */
  readonly usedBytes: number;
  /** Held by reservations not yet settled (and not expired). */
  readonly reservedBytes: number;
  /** null: never seen reserving (or forgotten). */
  readonly roles: readonly Role[] | null;
}

export interface BudgetLedger {
  reserve(caller: LedgerCaller, bytes: number, limits: LedgerLimits): Promise<ReserveResult>;
  settle(reservation: Reservation, billedBytes: number): Promise<void>;
  /** Today's counters for the user and the tenant. */
  usage(account: LedgerAccount, limits: LedgerLimits): Promise<{ user: UsageSnapshot; tenant: UsageSnapshot }>;
  /** Today's tenant counter only (Tenant.budget). */
  tenantUsage(tenant: string, limits: Omit<LedgerLimits, 'userDailyBytes'>): Promise<UsageSnapshot>;
  /** Sets today's settled usage to 0: for one user (and takes it off the tenant's), or for the whole tenant when userId is null. */
  resetUsage(tenant: string, userId: string | null, timezone: string): Promise<void>;
  /** The tenant's users by settled bytes over the budget days from..to (inclusive, YYYY-MM-DD), most first. */
  topSpenders(tenant: string, from: string, to: string, limit: number): Promise<Spender[]>;
  /**
   * Settled bytes of each budget day from..to (inclusive; at most SPEND_HISTORY_DAYS days, else a
   * RangeError), oldest first, 0 for a day without any: the tenant's, or one user's.
   */
  dailySpend(tenant: string, from: string, to: string, userId?: string): Promise<DailySpend[]>;
  /** Settled operations per name over the budget days from..to (inclusive), the largest estimated bytes first, then by name. */
  operationAccuracy(tenant: string, from: string, to: string): Promise<OperationAccuracy[]>;
  /**
   * Today's counters (in `timezone`) and last seen roles of `userIds`, in that order, then of the
   * tenant's other users with settled bytes over the last SPEND_HISTORY_DAYS budget days, most first:
   * at most `limit` in all.
   */
  recentUsers(tenant: string, userIds: readonly string[], timezone: string, limit: number): Promise<RecentUser[]>;
  /** Records a refused operation (kept for a bounded time and count). */
  recordRejection(tenant: string, rejection: Rejection): Promise<void>;
  /** The tenant's most recent rejections, newest first. */
  recentRejections(tenant: string, limit: number): Promise<Rejection[]>;
  close(): Promise<void>;
}

export class LedgerUnavailableError extends Error {}

/** How long an unsettled reservation holds its bytes (a crashed gateway's operation), default 5 minutes. */
export const DEFAULT_RESERVATION_TTL_MS = 5 * 60_000;
/** How many budget days of spend (per user and per operation name) are kept for topSpenders, dailySpend and operationAccuracy. */
export const SPEND_HISTORY_DAYS = 35;
/** Rejections kept per tenant. */
export const MAX_REJECTIONS = 200;
/** Operation names kept apart per tenant and budget day; the operations of any further name count as OTHER_OPERATIONS. */
export const MAX_OPERATION_NAMES = 200;
/** Longer operation names are cut to this many characters. */
export const MAX_OPERATION_NAME_LENGTH = 200;
/** The name operations without one are counted under (a GraphQL name has no parentheses, so no operation is named so). */
export const ANONYMOUS_OPERATION = '(anonymous)';
/** The name the operations past MAX_OPERATION_NAMES of a day are counted under. */
export const OTHER_OPERATIONS = '(other)';
