/**
 * What both BudgetLedger adapters (memoryLedger.ts, redisLedger.ts) decide the same way, so that one
 * contract suite holds for both: argument checks, the snapshot arithmetic, and how long a budget
 * day's counters, a settlement and the rejection log are remembered.
 *
 * Arguments a caller got wrong (a malformed tenant id, negative or fractional bytes, an unknown
 * timezone, a date that is not YYYY-MM-DD) are RangeErrors, never LedgerUnavailableError: retrying
 * cannot fix them.
 */
import { DAY_MS, addDays, parseDate } from '../common/dates';
import { isTenantId } from '../common/principal';
import { type LedgerAccount, type LedgerLimits, SPEND_HISTORY_DAYS, type UsageSnapshot } from './ledger';

/** A counter as callers see it: remaining is what neither settled nor held bytes use, never negative. */
export function usageSnapshot(limitBytes: number | null, usedBytes: number, reservedBytes: number, resetsAt: string): UsageSnapshot {
  const remainingBytes = limitBytes === null ? null : Math.max(0, limitBytes - usedBytes - reservedBytes);
  return { limitBytes, usedBytes, reservedBytes, remainingBytes, resetsAt };
}

/** Tenant ids are the Redis hash tag and key segment, so only well-formed ones are accepted. */
export function checkTenant(tenant: string): void {
  if (typeof tenant !== 'string' || !isTenantId(tenant)) throw new RangeError(`"${String(tenant).slice(0, 70)}" is not a tenant id.`);
}

export function checkUserId(userId: string): void {
  if (typeof userId !== 'string') throw new RangeError('A user id must be a string.');
}

/** Byte counts and limits are whole, non-negative and exact in a double (Lua's numbers too). */
export function checkBytes(name: string, bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`${name} must be a whole number of bytes ≥ 0, not ${bytes}.`);
}

export function checkLimits(limits: Partial<Pick<LedgerLimits, 'userDailyBytes'>> & Omit<LedgerLimits, 'userDailyBytes'>): void {
  if (limits.userDailyBytes !== undefined && limits.userDailyBytes !== null) checkBytes('userDailyBytes', limits.userDailyBytes);
  if (limits.tenantDailyBytes !== null) checkBytes('tenantDailyBytes', limits.tenantDailyBytes);
}

/** Everything `reserve` is given, checked the same way by both adapters. */
export function checkReserve({ tenant, userId }: LedgerAccount, bytes: number, limits: LedgerLimits): void {
  checkTenant(tenant);
  checkUserId(userId);
  checkBytes('bytes', bytes);
  checkLimits(limits);
}

export function checkReservationTtl(reservationTtlMs: number): void {
  if (!Number.isSafeInteger(reservationTtlMs) || reservationTtlMs <= 0) throw new RangeError(`reservationTtlMs must be a whole number of ms > 0, not ${reservationTtlMs}.`);
}

/**
 * When a budget day's counters are forgotten: SPEND_HISTORY_DAYS after the day ended in any timezone.
 * Counted from the day's UTC start plus 2 days, since a local day ends at the latest 36 h after its
 * UTC date begins (UTC−12), so a settlement needs no timezone to refresh the expiry.
 */
export function dayExpiresAtMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) + (SPEND_HISTORY_DAYS + 2) * DAY_MS;
}

export function checkDay(day: string): void {
  if (typeof day !== 'string' || !parseDate(day)) throw new RangeError(`"${String(day).slice(0, 40)}" is not a date as YYYY-MM-DD.`);
}

/** The budget days from..to (inclusive) whose counters may still exist at `nowMs`, oldest first. */
export function keptDays(from: string, to: string, nowMs: number): string[] {
  checkDay(from);
  checkDay(to);
  const today = new Date(nowMs).toISOString().slice(0, 10);
  let oldestKept = addDays(today, -(SPEND_HISTORY_DAYS + 2));
  while (dayExpiresAtMs(oldestKept) <= nowMs) oldestKept = addDays(oldestKept, 1);
  // A local day is at most one day ahead of the UTC date (UTC+14).
  const newestPossible = addDays(today, 1);
  const days: string[] = [];
  for (let day = from > oldestKept ? from : oldestKept; day <= to && day <= newestPossible; day = addDays(day, 1)) days.push(day);
  return days;
}

/**
 * How long a settled reservation id is remembered, so that settling it again charges nothing: an hour,
 * or the reservation TTL when longer. A repeated settle comes from a retry, within seconds.
 */
export function settledMemoryMs(reservationTtlMs: number): number {
  return Math.max(reservationTtlMs, 3_600_000);
}

/** Rejections are kept for the spend history after the newest one, and at most MAX_REJECTIONS of them. */
export const REJECTIONS_TTL_MS = SPEND_HISTORY_DAYS * DAY_MS;
