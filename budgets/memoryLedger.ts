/**
 * The in-memory BudgetLedger: the embedded default when REDIS_URL is unset, for a single gateway
 * process (replicas would each count on their own). Same semantics as the Redis ledger, checked by
 * the same contract suite (test/budgets/ledgerContract.ts); counters are lost on restart.
 *
 * Atomicity comes from the event loop: each call reads and writes its counters synchronously, with
 * no await in between, so concurrent reserves never overspend. Expired reservations and budget days
 * past the spend history are dropped as calls touch them, like the Redis ledger's in-script purges
 * and key TTLs (ledgerRules.ts holds the shared rules).
 */
import { randomUUID } from 'node:crypto';
import type { Role } from '../common/principal';
import { budgetDay, resetsAt } from './budgetDay';
import {
  type BudgetLedger, DEFAULT_RESERVATION_TTL_MS, type LedgerLimits, MAX_OPERATION_NAMES, MAX_REJECTIONS, OTHER_OPERATIONS, type OperationAccuracy,
  type Rejection, type Reservation, type ReserveResult, type Spender,
} from './ledger';
import {
  REJECTIONS_TTL_MS, byEstimatedBytes, checkBytes, checkDay, checkLimits, checkReservationTtl, checkReserve, checkTenant, checkUserId, dayExpiresAtMs,
  historyDays, keptDays, operationOf, recentDays, settledMemoryMs, usageSnapshot,
} from './ledgerRules';

export interface MemoryLedgerOptions {
  /** The clock, ms since the epoch; default Date.now. Tests inject one to cross midnight or expire reservations. */
  readonly now?: () => number;
  /** How long an unsettled reservation holds its bytes; default DEFAULT_RESERVATION_TTL_MS (5 minutes). */
  readonly reservationTtlMs?: number;
}

export function createMemoryLedger(options: MemoryLedgerOptions = {}): BudgetLedger {
  const now = options.now ?? Date.now;
  const reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  checkReservationTtl(reservationTtlMs);
  const settledForMs = settledMemoryMs(reservationTtlMs);
  const tenants = new Map<string, Map<string, DayCounters>>();
  const rejectionLogs = new Map<string, { entries: Rejection[]; expiresAtMs: number }>();
  /** Per tenant: the roles each user last reserved with, forgotten like the Redis hash, REJECTIONS_TTL_MS after the tenant's last reserve. */
  const seenRoles = new Map<string, { byUser: Map<string, readonly Role[]>; expiresAtMs: number }>();

  /** The tenant's counters for `day`, dropping days past the spend history; created when `create`. */
  const countersOf = (tenant: string, day: string, atMs: number, create: boolean): DayCounters | undefined => {
    let days = tenants.get(tenant);
    let counters = days?.get(day);
    if (counters && dayExpiresAtMs(day) <= atMs) {
      days!.delete(day);
      counters = undefined;
    }
    if (counters || !create) return counters;
    if (!days) tenants.set(tenant, (days = new Map()));
    for (const old of days.keys()) if (dayExpiresAtMs(old) <= atMs) days.delete(old);
    counters = { tenantUsedBytes: 0, userUsedBytes: new Map(), holds: new Map(), spentBytes: new Map(), operations: new Map(), settledAt: new Map() };
    days.set(day, counters);
    return counters;
  };

  const snapshotsOf = (counters: DayCounters | undefined, userId: string, limits: LedgerLimits, atMs: number) => {
    const held = counters ? heldBytes(counters, userId, atMs) : { userBytes: 0, tenantBytes: 0 };
    const resets = resetsAt(atMs, limits.timezone);
    return {
      user: usageSnapshot(limits.userDailyBytes, counters?.userUsedBytes.get(userId) ?? 0, held.userBytes, resets),
      tenant: usageSnapshot(limits.tenantDailyBytes, counters?.tenantUsedBytes ?? 0, held.tenantBytes, resets),
    };
  };

  const rolesOf = (tenant: string, atMs: number) => {
    const seen = seenRoles.get(tenant);
    return seen && seen.expiresAtMs > atMs ? seen.byUser : undefined;
  };

  return {
    async reserve(caller, bytes, limits): Promise<ReserveResult> {
      checkReserve(caller, bytes, limits);
      const { tenant, userId } = caller;
      const atMs = now();
      const day = budgetDay(atMs, limits.timezone);
      if (caller.roles) {
        const byUser = rolesOf(tenant, atMs) ?? new Map();
        byUser.set(userId, [...caller.roles]);
        seenRoles.set(tenant, { byUser, expiresAtMs: atMs + REJECTIONS_TTL_MS });
      }
      const { user, tenant: tenantSnapshot } = snapshotsOf(countersOf(tenant, day, atMs, false), userId, limits, atMs);
      const exceeded = exceededBy(user, bytes) ? 'user' : exceededBy(tenantSnapshot, bytes) ? 'tenant' : undefined;
      if (exceeded) return { admitted: false, exceeded, user, tenant: tenantSnapshot };
      const id = randomUUID();
      countersOf(tenant, day, atMs, true)!.holds.set(id, { userId, bytes, expiresAtMs: atMs + reservationTtlMs });
      return {
        admitted: true,
        reservation: { id, tenant, userId, bytes, day, operation: operationOf(caller.operation) },
        user: usageSnapshot(user.limitBytes, user.usedBytes, user.reservedBytes + bytes, user.resetsAt),
        tenant: usageSnapshot(tenantSnapshot.limitBytes, tenantSnapshot.usedBytes, tenantSnapshot.reservedBytes + bytes, tenantSnapshot.resetsAt),
      };
    },

    async settle(reservation: Reservation, billedBytes) {
      checkTenant(reservation.tenant);
      checkDay(reservation.day);
      checkBytes('billedBytes', billedBytes);
      const atMs = now();
      if (dayExpiresAtMs(reservation.day) <= atMs) return; // that day is forgotten already
      const counters = countersOf(reservation.tenant, reservation.day, atMs, true)!;
      for (const [id, settledAtMs] of counters.settledAt) {
        if (settledAtMs > atMs - settledForMs) break;
        counters.settledAt.delete(id);
      }
      if (counters.settledAt.has(reservation.id)) return;
      const hold = counters.holds.get(reservation.id);
      if (hold && hold.userId === reservation.userId && hold.bytes === reservation.bytes) counters.holds.delete(reservation.id);
      if (billedBytes > 0) {
        counters.tenantUsedBytes += billedBytes;
        counters.userUsedBytes.set(reservation.userId, (counters.userUsedBytes.get(reservation.userId) ?? 0) + billedBytes);
        counters.spentBytes.set(reservation.userId, (counters.spentBytes.get(reservation.userId) ?? 0) + billedBytes);
      }
      const { operations } = counters;
      const operation = operations.has(reservation.operation) || operations.size < MAX_OPERATION_NAMES ? reservation.operation : OTHER_OPERATIONS;
      operations.set(operation, added(operations.get(operation), { operations: 1, estimatedBytes: reservation.bytes, billedBytes }));
      counters.settledAt.set(reservation.id, atMs);
    },

    async usage({ tenant, userId }, limits) {
      checkTenant(tenant);
      checkUserId(userId);
      checkLimits(limits);
      const atMs = now();
      return snapshotsOf(countersOf(tenant, budgetDay(atMs, limits.timezone), atMs, false), userId, limits, atMs);
    },

    async tenantUsage(tenant, limits) {
      checkTenant(tenant);
      checkLimits(limits);
      const atMs = now();
      const counters = countersOf(tenant, budgetDay(atMs, limits.timezone), atMs, false);
      const held = counters ? heldBytes(counters, null, atMs) : { tenantBytes: 0 };
      return usageSnapshot(limits.tenantDailyBytes, counters?.tenantUsedBytes ?? 0, held.tenantBytes, resetsAt(atMs, limits.timezone));
    },

    async resetUsage(tenant, userId, timezone) {
      checkTenant(tenant);
      if (userId !== null) checkUserId(userId);
      const atMs = now();
      const counters = countersOf(tenant, budgetDay(atMs, timezone), atMs, false);
      if (!counters) return;
      if (userId === null) {
        counters.tenantUsedBytes = 0;
        counters.userUsedBytes.clear();
        return;
      }
      counters.tenantUsedBytes -= counters.userUsedBytes.get(userId) ?? 0;
      counters.userUsedBytes.delete(userId);
    },

    async topSpenders(tenant, from, to, limit): Promise<Spender[]> {
      checkTenant(tenant);
      const atMs = now();
      const totals = new Map<string, number>();
      for (const day of keptDays(from, to, atMs)) {
        for (const [userId, bytes] of countersOf(tenant, day, atMs, false)?.spentBytes ?? []) totals.set(userId, (totals.get(userId) ?? 0) + bytes);
      }
      return [...totals]
        .map(([userId, usedBytes]) => ({ userId, usedBytes }))
        .sort((a, b) => b.usedBytes - a.usedBytes)
        .slice(0, Math.max(0, limit));
    },

    async dailySpend(tenant, from, to, userId) {
      checkTenant(tenant);
      if (userId !== undefined) checkUserId(userId);
      const atMs = now();
      return historyDays(from, to).map((day) => {
        const spent = countersOf(tenant, day, atMs, false)?.spentBytes;
        const billedBytes = !spent ? 0 : userId === undefined ? [...spent.values()].reduce((sum, bytes) => sum + bytes, 0) : spent.get(userId) ?? 0;
        return { day, billedBytes };
      });
    },

    async operationAccuracy(tenant, from, to) {
      checkTenant(tenant);
      const atMs = now();
      const totals = new Map<string, OperationAccuracy>();
      for (const day of keptDays(from, to, atMs)) {
        for (const [operation, counted] of countersOf(tenant, day, atMs, false)?.operations ?? []) {
          totals.set(operation, { operation, ...added(totals.get(operation), counted) });
        }
      }
      return [...totals.values()].sort(byEstimatedBytes);
    },

    async recentUsers(tenant, userIds, timezone, limit) {
      const atMs = now();
      const days = recentDays(tenant, userIds, atMs, timezone);
      const spent = new Map<string, number>();
      for (const day of days) {
        for (const [userId, bytes] of countersOf(tenant, day, atMs, false)?.spentBytes ?? []) spent.set(userId, (spent.get(userId) ?? 0) + bytes);
      }
      const spenders = [...spent].sort((a, b) => b[1] - a[1]).map(([userId]) => userId);
      const chosen = [...new Set([...userIds, ...spenders])].slice(0, Math.max(0, limit));
      const today = countersOf(tenant, budgetDay(atMs, timezone), atMs, false);
      const roles = rolesOf(tenant, atMs);
      return chosen.map((userId) => ({
        userId,
        usedBytes: today?.userUsedBytes.get(userId) ?? 0,
        reservedBytes: today ? heldBytes(today, userId, atMs).userBytes : 0,
        roles: roles?.get(userId) ?? null,
      }));
    },

    async recordRejection(tenant, rejection) {
      checkTenant(tenant);
      const atMs = now();
      const log = rejectionLogs.get(tenant);
      const entries = log && log.expiresAtMs > atMs ? log.entries : [];
      entries.unshift({ at: rejection.at, userId: rejection.userId, requestedBytes: rejection.requestedBytes, exceeded: rejection.exceeded });
      entries.length = Math.min(entries.length, MAX_REJECTIONS);
      rejectionLogs.set(tenant, { entries, expiresAtMs: atMs + REJECTIONS_TTL_MS });
    },

    async recentRejections(tenant, limit) {
      checkTenant(tenant);
      const log = rejectionLogs.get(tenant);
      if (!log || log.expiresAtMs <= now()) return [];
      return log.entries.slice(0, Math.max(0, limit));
    },

    async close() {},
  };
}

// Private:

/** One tenant's budget day. */
interface DayCounters {
  tenantUsedBytes: number;
  readonly userUsedBytes: Map<string, number>;
  /** Unsettled reservations by id. */
  readonly holds: Map<string, Hold>;
  /** Settled bytes per user for topSpenders and dailySpend; a usage reset does not change what was billed. */
  readonly spentBytes: Map<string, number>;
  /** Settled operations per name (at most MAX_OPERATION_NAMES, then OTHER_OPERATIONS), for operationAccuracy. */
  readonly operations: Map<string, OperationTotals>;
  /** Settled reservation ids → when, in settlement order (oldest first), for idempotent settles. */
  readonly settledAt: Map<string, number>;
}

interface Hold {
  readonly userId: string;
  readonly bytes: number;
  readonly expiresAtMs: number;
}

/** Bytes held for the user and the tenant, dropping expired holds first (a reservation stops counting at its expiry). */
function heldBytes(counters: DayCounters, userId: string | null, atMs: number): { userBytes: number; tenantBytes: number } {
  let userBytes = 0;
  let tenantBytes = 0;
  for (const [id, hold] of counters.holds) {
    if (hold.expiresAtMs <= atMs) {
      counters.holds.delete(id);
      continue;
    }
    tenantBytes += hold.bytes;
    if (hold.userId === userId) userBytes += hold.bytes;
  }
  return { userBytes, tenantBytes };
}

type OperationTotals = Omit<OperationAccuracy, 'operation'>;

function added(sum: OperationTotals = { operations: 0, estimatedBytes: 0, billedBytes: 0 }, more: OperationTotals): OperationTotals {
  return { operations: sum.operations + more.operations, estimatedBytes: sum.estimatedBytes + more.estimatedBytes, billedBytes: sum.billedBytes + more.billedBytes };
}

function exceededBy(counter: { limitBytes: number | null; usedBytes: number; reservedBytes: number }, bytes: number): boolean {
  return counter.limitBytes !== null && counter.usedBytes + counter.reservedBytes + bytes > counter.limitBytes;
}
