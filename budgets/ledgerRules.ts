/**
 * What both BudgetLedger adapters (memoryLedger.ts, redisLedger.ts) decide the same way, so that one
 * contract suite holds for both: argument checks, the snapshot arithmetic, and how long a budget
 * day's counters, a settlement and the rejection log are remembered.
 *
 * Arguments a caller got wrong (a malformed tenant id, negative or fractional bytes, an unknown
 * timezone, a date that is not YYYY-MM-DD) are RangeErrors, never LedgerUnavailableError: retrying
 * cannot fix them.
 */
import { DAY_MS, addDays, daysBetween, parseDate } from '../common/dates';
import { isRole, isTenantId } from '../common/principal';
import { budgetDay } from './budgetDay';
import {
  ANONYMOUS_OPERATION, type LedgerCaller, type LedgerLimits, MAX_OPERATION_NAME_LENGTH, type OperationAccuracy, SPEND_HISTORY_DAYS,
  type UsageSnapshot,
} from './ledger';

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
export function checkReserve({ tenant, userId, operation, roles }: LedgerCaller, bytes: number, limits: LedgerLimits): void {
  checkTenant(tenant);
  checkUserId(userId);
  if (operation !== undefined && operation !== null && typeof operation !== 'string') throw new RangeError('An operation name must be a string.');
  if (roles !== undefined && !(Array.isArray(roles) && roles.every(isRole))) throw new RangeError(`${String(roles).slice(0, 70)} are not roles.`);
  checkBytes('bytes', bytes);
  checkLimits(limits);
}

/** The name a reservation's operation is counted under: its own (cut to MAX_OPERATION_NAME_LENGTH), or ANONYMOUS_OPERATION. */
export function operationOf(name: string | null | undefined): string {
  return name ? name.slice(0, MAX_OPERATION_NAME_LENGTH) : ANONYMOUS_OPERATION;
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

/** Every day from..to (inclusive), oldest first; none when from > to; a RangeError over SPEND_HISTORY_DAYS days. */
export function historyDays(from: string, to: string): string[] {
  checkDay(from);
  checkDay(to);
  if (from > to) return [];
  const count = daysBetween(from, to);
  if (count > SPEND_HISTORY_DAYS) throw new RangeError(`${from}..${to} spans ${count} days; the spend history keeps ${SPEND_HISTORY_DAYS}.`);
  return Array.from({ length: count }, (_, i) => addDays(from, i));
}

/**
 * Checks what `recentUsers` is given; the last SPEND_HISTORY_DAYS budget days in `timezone` up to
 * today whose counters may still exist, oldest first.
 */
export function recentDays(tenant: string, userIds: readonly string[], nowMs: number, timezone: string): string[] {
  checkTenant(tenant);
  userIds.forEach(checkUserId);
  const today = budgetDay(nowMs, timezone);
  return keptDays(addDays(today, 1 - SPEND_HISTORY_DAYS), today, nowMs);
}

/** operationAccuracy's order: the largest estimated bytes first, then by name. */
export function byEstimatedBytes(a: OperationAccuracy, b: OperationAccuracy): number {
  return b.estimatedBytes - a.estimatedBytes || (a.operation < b.operation ? -1 : a.operation > b.operation ? 1 : 0);
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
