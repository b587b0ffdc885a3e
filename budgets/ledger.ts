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
 */

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

export interface BudgetLedger {
  reserve(account: LedgerAccount, bytes: number, limits: LedgerLimits): Promise<ReserveResult>;
  settle(reservation: Reservation, billedBytes: number): Promise<void>;
  /** Today's counters for the user and the tenant. */
  usage(account: LedgerAccount, limits: LedgerLimits): Promise<{ user: UsageSnapshot; tenant: UsageSnapshot }>;
  /** Today's tenant counter only (Tenant.budget). */
  tenantUsage(tenant: string, limits: Omit<LedgerLimits, 'userDailyBytes'>): Promise<UsageSnapshot>;
  /** Sets today's settled usage to 0: for one user (and takes it off the tenant's), or for the whole tenant when userId is null. */
  resetUsage(tenant: string, userId: string | null, timezone: string): Promise<void>;
  /** The tenant's users by settled bytes over the budget days from..to (inclusive, YYYY-MM-DD), most first. */
  topSpenders(tenant: string, from: string, to: string, limit: number): Promise<Spender[]>;
  /** Records a refused operation (kept for a bounded time and count). */
  recordRejection(tenant: string, rejection: Rejection): Promise<void>;
  /** The tenant's most recent rejections, newest first. */
  recentRejections(tenant: string, limit: number): Promise<Rejection[]>;
  close(): Promise<void>;
}

export class LedgerUnavailableError extends Error {}

/** How long an unsettled reservation holds its bytes (a crashed gateway's operation), default 5 minutes. */
export const DEFAULT_RESERVATION_TTL_MS = 5 * 60_000;
/** How many budget days of per-user spend are kept for topSpenders. */
export const SPEND_HISTORY_DAYS = 35;
/** Rejections kept per tenant. */
export const MAX_REJECTIONS = 200;
