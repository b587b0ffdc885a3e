/**
 * The BudgetLedger port's contract (budgets/ledger.ts): the in-memory and the Redis ledger run this
 * same suite. Every test opens its own ledger on its own injected clock and uses tenants no other
 * test uses, so tests neither share state nor depend on the order they run in.
 */
import {
  ANONYMOUS_OPERATION, type BudgetLedger, type LedgerCaller, type LedgerLimits, LedgerUnavailableError, MAX_OPERATION_NAMES, MAX_OPERATION_NAME_LENGTH,
  MAX_REJECTIONS, OTHER_OPERATIONS, type Rejection, type Reservation, SPEND_HISTORY_DAYS,
} from '../../budgets/ledger';
import type { Role } from '../../common/principal';

export interface ContractLedgerOptions {
  readonly now: () => number;
  readonly reservationTtlMs: number;
}

export type MakeLedger = (options: ContractLedgerOptions) => Promise<BudgetLedger>;

const RESERVATION_TTL_MS = 60_000;
const UTC: LedgerLimits = { userDailyBytes: 1000, tenantDailyBytes: 5000, timezone: 'UTC' };

export function ledgerContract(name: string, makeLedger: MakeLedger): void {
  describe(`BudgetLedger contract: ${name}`, () => {
    const opened: BudgetLedger[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
    });

    /** A ledger whose clock reads `iso` until moved, and a tenant of its own. */
    const open = async (iso = '2025-03-04T12:00:00Z') => {
      const clock = testClock(iso);
      const ledger = await makeLedger({ now: clock.now, reservationTtlMs: RESERVATION_TTL_MS });
      opened.push(ledger);
      return { ledger, clock, tenant: newTenant() };
    };
    const admitted = async (ledger: BudgetLedger, caller: LedgerCaller, bytes: number, limits = UTC): Promise<Reservation> => {
      const result = await ledger.reserve(caller, bytes, limits);
      if (!result.admitted) throw new Error(`expected ${bytes} bytes to be admitted, refused for the ${result.exceeded}`);
      return result.reservation;
    };
    const spend = async (ledger: BudgetLedger, caller: LedgerCaller, bytes: number) => {
      await ledger.settle(await admitted(ledger, caller, bytes, UNLIMITED_UTC), bytes);
    };
    /** An operation named `operation` reserved at `estimated` bytes and settled at `billed`. */
    const run = async (ledger: BudgetLedger, caller: LedgerCaller, estimated: number, billed: number) => {
      await ledger.settle(await admitted(ledger, caller, estimated, UNLIMITED_UTC), billed);
    };

    test('admits within both limits, holds the bytes against both and says so', async () => {
      const { ledger, tenant } = await open();
      const result = await ledger.reserve({ tenant, userId: 'ana' }, 100, UTC);
      const resetsAt = '2025-03-05T00:00:00.000Z';
      expect(result).toEqual({
        admitted: true,
        reservation: { id: expect.any(String), tenant, userId: 'ana', bytes: 100, day: '2025-03-04', operation: ANONYMOUS_OPERATION },
        // user: 1000 − 0 used − 100 held = 900; tenant: 5000 − 100 = 4900
        user: { limitBytes: 1000, usedBytes: 0, reservedBytes: 100, remainingBytes: 900, resetsAt },
        tenant: { limitBytes: 5000, usedBytes: 0, reservedBytes: 100, remainingBytes: 4900, resetsAt },
      });
      expect(await ledger.usage({ tenant, userId: 'ana' }, UTC)).toEqual({ user: result.user, tenant: result.tenant });
      expect(await ledger.tenantUsage(tenant, UTC)).toEqual(result.tenant);
      const other = await admitted(ledger, { tenant, userId: 'ben' }, 100);
      expect(other.id).not.toBe((result as { reservation: Reservation }).reservation.id);
    });

    test("refuses when the user's budget would be exceeded, and changes nothing", async () => {
      const { ledger, tenant } = await open();
      const ana = { tenant, userId: 'ana' };
      await admitted(ledger, ana, 600);
      const before = await ledger.usage(ana, UTC);
      const refused = await ledger.reserve(ana, 401, UTC); // 600 + 401 > 1000
      expect(refused).toEqual({ admitted: false, exceeded: 'user', ...before });
      expect(await ledger.usage(ana, UTC)).toEqual(before);
      await admitted(ledger, ana, 400); // 600 + 400 = 1000: exactly the limit
      expect((await ledger.usage(ana, UTC)).user.remainingBytes).toBe(0);
    });

    test("refuses when the tenant's budget would be exceeded, and changes nothing", async () => {
      const { ledger, tenant } = await open();
      const limits = { userDailyBytes: 1000, tenantDailyBytes: 1000, timezone: 'UTC' };
      await admitted(ledger, { tenant, userId: 'ana' }, 600, limits);
      const refused = await ledger.reserve({ tenant, userId: 'ben' }, 500, limits); // ben 500 ≤ 1000, tenant 600 + 500 > 1000
      expect(refused).toMatchObject({ admitted: false, exceeded: 'tenant', user: { usedBytes: 0, reservedBytes: 0, remainingBytes: 1000 }, tenant: { reservedBytes: 600, remainingBytes: 400 } });
      expect((await ledger.usage({ tenant, userId: 'ben' }, limits)).user.reservedBytes).toBe(0);
      expect((await ledger.tenantUsage(tenant, limits)).reservedBytes).toBe(600);
    });

    test('null limits are unlimited', async () => {
      const { ledger, tenant } = await open();
      const pib = 2 ** 50;
      const result = await ledger.reserve({ tenant, userId: 'ana' }, pib, UNLIMITED_UTC);
      expect(result).toMatchObject({
        admitted: true,
        user: { limitBytes: null, reservedBytes: pib, remainingBytes: null },
        tenant: { limitBytes: null, reservedBytes: pib, remainingBytes: null },
      });
      // Only the user's limit set: the tenant's stays unlimited.
      expect(await ledger.reserve({ tenant, userId: 'ben' }, 1000, { userDailyBytes: 1000, tenantDailyBytes: null, timezone: 'UTC' })).toMatchObject({ admitted: true });
    });

    test('settle replaces the reservation by the billed bytes: less, more, or 0 for a cache hit', async () => {
      const { ledger, tenant } = await open();
      const ana = { tenant, userId: 'ana' };
      await ledger.settle(await admitted(ledger, ana, 500), 300);
      // 1000 − 300 used = 700
      expect((await ledger.usage(ana, UTC)).user).toMatchObject({ usedBytes: 300, reservedBytes: 0, remainingBytes: 700 });
      await ledger.settle(await admitted(ledger, ana, 200), 400);
      // 300 + 400 = 700 used; 300 left
      expect((await ledger.usage(ana, UTC)).user).toMatchObject({ usedBytes: 700, reservedBytes: 0, remainingBytes: 300 });
      await ledger.settle(await admitted(ledger, ana, 300), 0);
      expect(await ledger.usage(ana, UTC)).toMatchObject({
        user: { usedBytes: 700, reservedBytes: 0, remainingBytes: 300 },
        tenant: { usedBytes: 700, reservedBytes: 0, remainingBytes: 4300 },
      });
      // Billed beyond the limit: remaining stays at 0, and even 1 more byte is refused.
      await ledger.settle(await admitted(ledger, ana, 300), 900);
      expect((await ledger.usage(ana, UTC)).user).toMatchObject({ usedBytes: 1600, remainingBytes: 0 });
      expect(await ledger.reserve(ana, 1, UTC)).toMatchObject({ admitted: false, exceeded: 'user' });
    });

    test('settling twice charges once and releases once', async () => {
      const { ledger, tenant } = await open();
      const ana = { tenant, userId: 'ana' };
      const first = await admitted(ledger, ana, 400);
      await admitted(ledger, ana, 100);
      await ledger.settle(first, 250);
      await ledger.settle(first, 250);
      await Promise.all([ledger.settle(first, 250), ledger.settle(first, 250)]);
      // 250 used once; the other reservation's 100 still held
      expect((await ledger.usage(ana, UTC)).user).toMatchObject({ usedBytes: 250, reservedBytes: 100, remainingBytes: 650 });
      expect(await ledger.dailySpend(tenant, '2025-03-04', '2025-03-04')).toEqual([{ day: '2025-03-04', billedBytes: 250 }]);
      expect(await ledger.operationAccuracy(tenant, '2025-03-04', '2025-03-04')).toEqual([{ operation: ANONYMOUS_OPERATION, operations: 1, estimatedBytes: 400, billedBytes: 250 }]);
    });

    test('an unsettled reservation stops counting after the reservation TTL; settling it late charges once, releases nothing', async () => {
      const { ledger, clock, tenant } = await open();
      const ana = { tenant, userId: 'ana' };
      const stale = await admitted(ledger, ana, 800);
      clock.advance(RESERVATION_TTL_MS - 1);
      expect((await ledger.usage(ana, UTC)).user.reservedBytes).toBe(800);
      expect(await ledger.reserve(ana, 300, UTC)).toMatchObject({ admitted: false, exceeded: 'user' });
      clock.advance(1);
      expect(await ledger.usage(ana, UTC)).toMatchObject({ user: { reservedBytes: 0, remainingBytes: 1000 }, tenant: { reservedBytes: 0 } });
      const fresh = await admitted(ledger, ana, 300);
      await ledger.settle(stale, 100);
      await ledger.settle(stale, 100);
      // 100 charged once; the fresh 300 still held (the stale 800 is not released twice)
      expect(await ledger.usage(ana, UTC)).toMatchObject({ user: { usedBytes: 100, reservedBytes: 300 }, tenant: { usedBytes: 100, reservedBytes: 300 } });
      await ledger.settle(fresh, 300);
      expect((await ledger.usage(ana, UTC)).user).toMatchObject({ usedBytes: 400, reservedBytes: 0 });
    });

    test('usage resets at midnight UTC, and resetsAt names it', async () => {
      const { ledger, clock, tenant } = await open('2025-03-04T23:59:00Z');
      const ana = { tenant, userId: 'ana' };
      await ledger.settle(await admitted(ledger, ana, 900), 900);
      expect((await ledger.usage(ana, UTC)).user).toMatchObject({ usedBytes: 900, remainingBytes: 100, resetsAt: '2025-03-05T00:00:00.000Z' });
      clock.set('2025-03-04T23:59:59.999Z');
      expect(await ledger.reserve(ana, 101, UTC)).toMatchObject({ admitted: false });
      clock.set('2025-03-05T00:00:00Z');
      expect(await ledger.usage(ana, UTC)).toMatchObject({
        user: { usedBytes: 0, remainingBytes: 1000, resetsAt: '2025-03-06T00:00:00.000Z' },
        tenant: { usedBytes: 0, resetsAt: '2025-03-06T00:00:00.000Z' },
      });
      expect(await ledger.reserve(ana, 1000, UTC)).toMatchObject({ admitted: true, reservation: { day: '2025-03-05' } });
    });

    test("usage resets at the tenant's midnight: America/New_York across the spring-forward day", async () => {
      const ny = { userDailyBytes: 1000, tenantDailyBytes: 5000, timezone: 'America/New_York' };
      // 2025-03-08 23:00 EST (UTC−5)
      const { ledger, clock, tenant } = await open('2025-03-09T04:00:00Z');
      const ana = { tenant, userId: 'ana' };
      await ledger.settle(await admitted(ledger, ana, 900, ny), 900);
      clock.set('2025-03-09T04:59:59Z');
      const lateReservation = await admitted(ledger, ana, 100, ny); // 900 + 100: the last 100 of 2025-03-08
      expect(lateReservation.day).toBe('2025-03-08');
      expect((await ledger.usage(ana, ny)).user).toMatchObject({ usedBytes: 900, reservedBytes: 100, remainingBytes: 0, resetsAt: '2025-03-09T05:00:00.000Z' });
      clock.set('2025-03-09T05:00:00Z'); // midnight EST: 2025-03-09 begins, and lasts 23 h (clocks spring forward at 02:00)
      expect((await ledger.usage(ana, ny)).user).toMatchObject({ usedBytes: 0, reservedBytes: 0, remainingBytes: 1000, resetsAt: '2025-03-10T04:00:00.000Z' });
      // Settled after midnight, charged to the day it was reserved on.
      await ledger.settle(lateReservation, 100);
      expect((await ledger.usage(ana, ny)).user.usedBytes).toBe(0);
      expect(await ledger.topSpenders(tenant, '2025-03-08', '2025-03-08', 10)).toEqual([{ userId: 'ana', usedBytes: 1000 }]);
      await ledger.settle(await admitted(ledger, ana, 700, ny), 700);
      clock.set('2025-03-10T03:59:59Z'); // 23:59:59 EDT
      expect((await ledger.usage(ana, ny)).user).toMatchObject({ usedBytes: 700, resetsAt: '2025-03-10T04:00:00.000Z' });
      clock.set('2025-03-10T04:00:00Z');
      expect((await ledger.usage(ana, ny)).user).toMatchObject({ usedBytes: 0, resetsAt: '2025-03-11T04:00:00.000Z' });
    });

    test('the fall-back day lasts 25 hours in America/New_York', async () => {
      const ny = { userDailyBytes: 1000, tenantDailyBytes: null, timezone: 'America/New_York' };
      const { ledger, clock, tenant } = await open('2025-11-02T04:00:00Z'); // 00:00 EDT
      const ana = { tenant, userId: 'ana' };
      await ledger.settle(await admitted(ledger, ana, 500, ny), 500);
      expect((await ledger.usage(ana, ny)).user.resetsAt).toBe('2025-11-03T05:00:00.000Z');
      clock.set('2025-11-03T04:30:00Z'); // 23:30 EST, 24.5 h later: still 2025-11-02
      expect((await ledger.usage(ana, ny)).user.usedBytes).toBe(500);
      clock.set('2025-11-03T05:00:00Z');
      expect((await ledger.usage(ana, ny)).user).toMatchObject({ usedBytes: 0, resetsAt: '2025-11-04T05:00:00.000Z' });
    });

    test("resetUsage for a user zeroes the user's settled bytes and takes them off the tenant's; holds stay", async () => {
      const { ledger, tenant } = await open();
      const ana = { tenant, userId: 'ana' };
      const ben = { tenant, userId: 'ben' };
      await spend(ledger, ana, 300);
      await spend(ledger, ben, 200);
      await admitted(ledger, ana, 50);
      await ledger.resetUsage(tenant, 'ana', 'UTC');
      expect(await ledger.usage(ana, UTC)).toMatchObject({ user: { usedBytes: 0, reservedBytes: 50 }, tenant: { usedBytes: 200, reservedBytes: 50 } });
      expect((await ledger.usage(ben, UTC)).user.usedBytes).toBe(200);
      await ledger.resetUsage(tenant, 'nobody', 'UTC');
      expect((await ledger.tenantUsage(tenant, UTC)).usedBytes).toBe(200);
      // What was billed is still reported.
      expect(await ledger.topSpenders(tenant, '2025-03-04', '2025-03-04', 10)).toEqual([{ userId: 'ana', usedBytes: 300 }, { userId: 'ben', usedBytes: 200 }]);
    });

    test("resetUsage for the tenant zeroes today's settled bytes of the tenant and all its users", async () => {
      const { ledger, clock, tenant } = await open('2025-03-03T12:00:00Z');
      const ana = { tenant, userId: 'ana' };
      await spend(ledger, ana, 400);
      clock.set('2025-03-04T12:00:00Z');
      await spend(ledger, ana, 300);
      await spend(ledger, { tenant, userId: 'ben' }, 200);
      await admitted(ledger, ana, 50);
      await ledger.resetUsage(tenant, null, 'UTC');
      expect(await ledger.usage(ana, UTC)).toMatchObject({ user: { usedBytes: 0, reservedBytes: 50 }, tenant: { usedBytes: 0, reservedBytes: 50 } });
      expect((await ledger.usage({ tenant, userId: 'ben' }, UTC)).user.usedBytes).toBe(0);
      await spend(ledger, ana, 10);
      expect((await ledger.usage(ana, UTC)).tenant.usedBytes).toBe(10);
      // Yesterday is untouched.
      expect(await ledger.topSpenders(tenant, '2025-03-03', '2025-03-03', 10)).toEqual([{ userId: 'ana', usedBytes: 400 }]);
    });

    /** 2025-03-03: ana 100, ben 300; 2025-03-04 (the clock's day after): ana 400, cy 50, and dee's cache hit and eve's hold, which spend nothing. */
    const twoDaysOfSpend = async () => {
      const { ledger, clock, tenant } = await open('2025-03-03T12:00:00Z');
      const on = (userId: string) => ({ tenant, userId });
      await spend(ledger, on('ana'), 100);
      await spend(ledger, on('ben'), 300);
      clock.set('2025-03-04T12:00:00Z');
      await spend(ledger, on('ana'), 400);
      await spend(ledger, on('cy'), 50);
      await ledger.settle(await admitted(ledger, on('dee'), 10), 0); // a cache hit spends nothing
      await admitted(ledger, on('eve'), 999); // held, not settled
      return { ledger, tenant };
    };

    test('topSpenders sums settled bytes over the days from..to, most first, at most `limit`', async () => {
      const { ledger, tenant } = await twoDaysOfSpend();
      // ana 100 + 400 = 500, ben 300, cy 50
      expect(await ledger.topSpenders(tenant, '2025-03-03', '2025-03-04', 10)).toEqual([
        { userId: 'ana', usedBytes: 500 }, { userId: 'ben', usedBytes: 300 }, { userId: 'cy', usedBytes: 50 },
      ]);
      expect(await ledger.topSpenders(tenant, '2025-03-01', '2025-03-31', 2)).toEqual([{ userId: 'ana', usedBytes: 500 }, { userId: 'ben', usedBytes: 300 }]);
      expect(await ledger.topSpenders(tenant, '2025-03-04', '2025-03-04', 10)).toEqual([{ userId: 'ana', usedBytes: 400 }, { userId: 'cy', usedBytes: 50 }]);
      expect(await ledger.topSpenders(tenant, '2025-03-05', '2025-03-06', 10)).toEqual([]);
      expect(await ledger.topSpenders(tenant, '2025-03-04', '2025-03-03', 10)).toEqual([]);
      expect(await ledger.topSpenders(tenant, '2025-03-03', '2025-03-04', 0)).toEqual([]);
      expect(await ledger.topSpenders(tenant, '2000-01-01', '2099-12-31', 1)).toEqual([{ userId: 'ana', usedBytes: 500 }]);
    });

    test('spend older than the spend history is forgotten', async () => {
      const { ledger, clock, tenant } = await open('2025-01-01T12:00:00Z');
      await spend(ledger, { tenant, userId: 'ana' }, 100);
      clock.set('2025-02-01T12:00:00Z'); // 31 days later: kept
      expect(await ledger.topSpenders(tenant, '2025-01-01', '2025-02-01', 10)).toEqual([{ userId: 'ana', usedBytes: 100 }]);
      clock.set('2025-03-01T12:00:00Z'); // 59 days later: gone
      expect(await ledger.topSpenders(tenant, '2025-01-01', '2025-03-01', 10)).toEqual([]);
    });

    test("dailySpend: each day's settled bytes over from..to, the tenant's or one user's, 0 for a day without spend", async () => {
      const { ledger, tenant } = await twoDaysOfSpend();
      expect(await ledger.dailySpend(tenant, '2025-03-02', '2025-03-05')).toEqual([
        { day: '2025-03-02', billedBytes: 0 },
        { day: '2025-03-03', billedBytes: 400 }, // ana 100 + ben 300
        { day: '2025-03-04', billedBytes: 450 }, // ana 400 + cy 50
        { day: '2025-03-05', billedBytes: 0 },
      ]);
      expect(await ledger.dailySpend(tenant, '2025-03-02', '2025-03-04', 'ana')).toEqual([
        { day: '2025-03-02', billedBytes: 0 }, { day: '2025-03-03', billedBytes: 100 }, { day: '2025-03-04', billedBytes: 400 },
      ]);
      expect(await ledger.dailySpend(tenant, '2025-03-04', '2025-03-04', 'dee')).toEqual([{ day: '2025-03-04', billedBytes: 0 }]);
      expect(await ledger.dailySpend(tenant, '2025-03-04', '2025-03-03')).toEqual([]);
    });

    test('dailySpend: a usage reset keeps the history (the bytes were billed)', async () => {
      const { ledger, tenant } = await open();
      await spend(ledger, { tenant, userId: 'ana' }, 300);
      await spend(ledger, { tenant, userId: 'ben' }, 200);
      await ledger.resetUsage(tenant, 'ana', 'UTC');
      await ledger.resetUsage(tenant, null, 'UTC');
      expect((await ledger.tenantUsage(tenant, UTC)).usedBytes).toBe(0);
      expect(await ledger.dailySpend(tenant, '2025-03-04', '2025-03-04')).toEqual([{ day: '2025-03-04', billedBytes: 500 }]);
      expect(await ledger.dailySpend(tenant, '2025-03-04', '2025-03-04', 'ana')).toEqual([{ day: '2025-03-04', billedBytes: 300 }]);
    });

    test('dailySpend: at most SPEND_HISTORY_DAYS days; days past the history are 0', async () => {
      const { ledger, clock, tenant } = await open('2025-01-01T12:00:00Z');
      await spend(ledger, { tenant, userId: 'ana' }, 100);
      const history = await ledger.dailySpend(tenant, '2025-01-01', '2025-02-04'); // 35 days
      expect(history).toHaveLength(SPEND_HISTORY_DAYS);
      expect(history[0]).toEqual({ day: '2025-01-01', billedBytes: 100 });
      await expect(ledger.dailySpend(tenant, '2024-12-31', '2025-02-04')).rejects.toThrow(RangeError);
      clock.set('2025-03-01T12:00:00Z'); // 59 days later: forgotten
      expect((await ledger.dailySpend(tenant, '2025-01-01', '2025-01-01'))).toEqual([{ day: '2025-01-01', billedBytes: 0 }]);
    });

    test("operationAccuracy: each operation name's count, estimated (reserved) and billed bytes over from..to, largest estimates first", async () => {
      const { ledger, clock, tenant } = await open('2025-03-03T12:00:00Z');
      const ana = { tenant, userId: 'ana' };
      await run(ledger, { ...ana, operation: 'Dashboard' }, 300, 100);
      clock.set('2025-03-04T12:00:00Z');
      await run(ledger, { tenant, userId: 'ben', operation: 'Dashboard' }, 300, 250);
      await run(ledger, { ...ana, operation: 'Report' }, 1000, 0); // a cache hit: estimated, billed nothing
      await run(ledger, { ...ana, operation: null }, 50, 60);
      await run(ledger, ana, 50, 40);
      const held = await admitted(ledger, { ...ana, operation: 'Report' }, 500); // not settled: not counted
      expect(held.operation).toBe('Report');
      // Report 1000 > Dashboard 300 + 300 > anonymous 50 + 50
      expect(await ledger.operationAccuracy(tenant, '2025-03-03', '2025-03-04')).toEqual([
        { operation: 'Report', operations: 1, estimatedBytes: 1000, billedBytes: 0 },
        { operation: 'Dashboard', operations: 2, estimatedBytes: 600, billedBytes: 350 },
        { operation: ANONYMOUS_OPERATION, operations: 2, estimatedBytes: 100, billedBytes: 100 },
      ]);
      expect(await ledger.operationAccuracy(tenant, '2025-03-03', '2025-03-03')).toEqual([{ operation: 'Dashboard', operations: 1, estimatedBytes: 300, billedBytes: 100 }]);
      expect(await ledger.operationAccuracy(tenant, '2025-03-05', '2025-03-06')).toEqual([]);
      // A usage reset keeps them too.
      await ledger.resetUsage(tenant, null, 'UTC');
      expect(await ledger.operationAccuracy(tenant, '2025-03-04', '2025-03-04')).toHaveLength(3);
    });

    test(`operationAccuracy: ${MAX_OPERATION_NAMES} names a day are kept apart, any further one counts as ${OTHER_OPERATIONS}; long names are cut`, async () => {
      const { ledger, clock, tenant } = await open();
      const ana = { tenant, userId: 'ana' };
      for (let i = 0; i < MAX_OPERATION_NAMES; i++) await run(ledger, { ...ana, operation: `Op${i}` }, 10, 5);
      await run(ledger, { ...ana, operation: 'OneTooMany' }, 7, 3);
      await run(ledger, { ...ana, operation: 'AnotherOne' }, 7, 4);
      await run(ledger, { ...ana, operation: 'Op0' }, 10, 5); // a name kept already still counts apart
      const accuracy = await ledger.operationAccuracy(tenant, '2025-03-04', '2025-03-04');
      expect(accuracy).toHaveLength(MAX_OPERATION_NAMES + 1);
      // Op0 10 + 10, then the others 7 + 7, then Op1..Op199 10 each
      expect(accuracy.slice(0, 3)).toEqual([
        { operation: 'Op0', operations: 2, estimatedBytes: 20, billedBytes: 10 },
        { operation: OTHER_OPERATIONS, operations: 2, estimatedBytes: 14, billedBytes: 7 },
        { operation: 'Op1', operations: 1, estimatedBytes: 10, billedBytes: 5 },
      ]);
      clock.set('2025-03-05T12:00:00Z'); // a new day, room again
      const long = `Q${'x'.repeat(MAX_OPERATION_NAME_LENGTH)}`;
      expect((await admitted(ledger, { ...ana, operation: long }, 1)).operation).toBe(long.slice(0, MAX_OPERATION_NAME_LENGTH));
      await run(ledger, { ...ana, operation: 'OneTooMany' }, 7, 3);
      expect(await ledger.operationAccuracy(tenant, '2025-03-05', '2025-03-05')).toEqual([{ operation: 'OneTooMany', operations: 1, estimatedBytes: 7, billedBytes: 3 }]);
    });

    test('recentUsers: those asked for, then the spenders of the last SPEND_HISTORY_DAYS budget days, with today\'s counters and last seen roles', async () => {
      const { ledger, clock, tenant } = await open('2025-01-28T12:00:00Z');
      await spend(ledger, { tenant, userId: 'gone' }, 1); // 35 days before 2025-03-04: out of the window
      clock.set('2025-01-29T12:00:00Z');
      await spend(ledger, { tenant, userId: 'edge' }, 1); // 34 days before: in it
      clock.set('2025-03-03T12:00:00Z');
      await spend(ledger, { tenant, userId: 'ana', roles: ['executive'] }, 300);
      await spend(ledger, { tenant, userId: 'ben', roles: ['viewer', 'manager'] }, 500);
      clock.set('2025-03-04T12:00:00Z');
      await spend(ledger, { tenant, userId: 'ana', roles: ['manager'] }, 100); // the roles last seen win
      await admitted(ledger, { tenant, userId: 'ana' }, 50); // no roles given: the last seen stay
      await ledger.settle(await admitted(ledger, { tenant, userId: 'cy', roles: ['quota-admin'] }, 10), 0); // seen, never billed
      expect(await ledger.reserve({ tenant, userId: 'dee', roles: [] }, 2000, UTC)).toMatchObject({ admitted: false }); // seen when refused too
      const zed = { userId: 'zed', usedBytes: 0, reservedBytes: 0, roles: null };
      const cy = { userId: 'cy', usedBytes: 0, reservedBytes: 0, roles: ['quota-admin'] };
      const dee = { userId: 'dee', usedBytes: 0, reservedBytes: 0, roles: [] };
      const ben = { userId: 'ben', usedBytes: 0, reservedBytes: 0, roles: ['viewer', 'manager'] };
      const ana = { userId: 'ana', usedBytes: 100, reservedBytes: 50, roles: ['manager'] };
      const edge = { userId: 'edge', usedBytes: 0, reservedBytes: 0, roles: null };
      // Spent over the window: ben 500, ana 300 + 100 = 400, edge 1.
      expect(await ledger.recentUsers(tenant, ['zed', 'cy', 'dee', 'zed'], 'UTC', 10)).toEqual([zed, cy, dee, ben, ana, edge]);
      expect(await ledger.recentUsers(tenant, ['ana'], 'UTC', 10)).toEqual([ana, ben, edge]);
      expect(await ledger.recentUsers(tenant, ['zed'], 'UTC', 2)).toEqual([zed, ben]);
      expect(await ledger.recentUsers(tenant, [], 'UTC', 0)).toEqual([]);
      // Held bytes stop counting at their expiry; a reset zeroes today's use, the user stays a recent spender.
      clock.advance(RESERVATION_TTL_MS);
      await ledger.resetUsage(tenant, 'ana', 'UTC');
      expect(await ledger.recentUsers(tenant, [], 'UTC', 1)).toEqual([ben]);
      expect(await ledger.recentUsers(tenant, ['ana'], 'UTC', 1)).toEqual([{ ...ana, usedBytes: 0, reservedBytes: 0 }]);
    });

    test('rejections come back newest first, capped at MAX_REJECTIONS', async () => {
      const { ledger, tenant } = await open();
      const rejection = (i: number): Rejection => ({ at: new Date(Date.UTC(2025, 2, 4, 12, 0, i)).toISOString(), userId: `user${i}`, requestedBytes: 1000 + i, exceeded: i % 2 ? 'tenant' : 'user' });
      expect(await ledger.recentRejections(tenant, 10)).toEqual([]);
      for (let i = 0; i < 3; i++) await ledger.recordRejection(tenant, rejection(i));
      expect(await ledger.recentRejections(tenant, 2)).toEqual([rejection(2), rejection(1)]);
      for (let i = 3; i < MAX_REJECTIONS + 10; i++) await ledger.recordRejection(tenant, rejection(i));
      const recent = await ledger.recentRejections(tenant, MAX_REJECTIONS + 100);
      expect(recent).toHaveLength(MAX_REJECTIONS);
      expect(recent[0]).toEqual(rejection(MAX_REJECTIONS + 9));
      expect(recent[MAX_REJECTIONS - 1]).toEqual(rejection(10));
      expect(await ledger.recentRejections(tenant, 0)).toEqual([]);
    });

    test('tenants are isolated: the same user id in two tenants counts apart', async () => {
      const { ledger, tenant: acme } = await open();
      const globex = newTenant();
      await spend(ledger, { tenant: acme, userId: 'ana', roles: ['executive'], operation: 'AcmeOnly' }, 700);
      await admitted(ledger, { tenant: acme, userId: 'ana' }, 100);
      await ledger.recordRejection(acme, { at: '2025-03-04T12:00:00.000Z', userId: 'ana', requestedBytes: 5000, exceeded: 'user' });
      expect(await ledger.usage({ tenant: globex, userId: 'ana' }, UTC)).toMatchObject({
        user: { usedBytes: 0, reservedBytes: 0, remainingBytes: 1000 }, tenant: { usedBytes: 0, reservedBytes: 0 },
      });
      expect(await ledger.reserve({ tenant: globex, userId: 'ana' }, 1000, UTC)).toMatchObject({ admitted: true });
      expect(await ledger.topSpenders(globex, '2025-03-04', '2025-03-04', 10)).toEqual([]);
      expect(await ledger.recentRejections(globex, 10)).toEqual([]);
      expect(await ledger.dailySpend(globex, '2025-03-04', '2025-03-04')).toEqual([{ day: '2025-03-04', billedBytes: 0 }]);
      expect(await ledger.dailySpend(globex, '2025-03-04', '2025-03-04', 'ana')).toEqual([{ day: '2025-03-04', billedBytes: 0 }]);
      expect(await ledger.operationAccuracy(globex, '2025-03-04', '2025-03-04')).toEqual([]);
      expect(await ledger.recentUsers(globex, [], 'UTC', 10)).toEqual([]);
      expect(await ledger.recentUsers(globex, ['ana'], 'UTC', 10)).toEqual([{ userId: 'ana', usedBytes: 0, reservedBytes: 1000, roles: null }]);
      await ledger.resetUsage(globex, null, 'UTC');
      expect((await ledger.usage({ tenant: acme, userId: 'ana' }, UTC)).user).toMatchObject({ usedBytes: 700, reservedBytes: 100 });
    });

    test('any string is a user id: colons, braces, percent signs, unicode, lone surrogates, 1 KB', async () => {
      const { ledger, tenant } = await open();
      const ids = ['a:b', 'a', 'u:a', '{acme}', '}:{', '%0061', '%', 'ü🙂 Zoë', '\ud800', '\ufffd', '', '*', 'x'.repeat(1024), 't'];
      for (const [i, userId] of ids.entries()) await spend(ledger, { tenant, userId }, 10 * (i + 1));
      for (const [i, userId] of ids.entries()) {
        expect((await ledger.usage({ tenant, userId }, UTC)).user.usedBytes).toBe(10 * (i + 1));
      }
      const total = ids.reduce((sum, _, i) => sum + 10 * (i + 1), 0);
      expect((await ledger.tenantUsage(tenant, UTC)).usedBytes).toBe(total);
      const top = await ledger.topSpenders(tenant, '2025-03-04', '2025-03-04', 100);
      expect(top).toEqual(ids.map((userId, i) => ({ userId, usedBytes: 10 * (i + 1) })).reverse());
      await ledger.resetUsage(tenant, 'a:b', 'UTC');
      expect((await ledger.usage({ tenant, userId: 'a' }, UTC)).user.usedBytes).toBe(20);
      expect((await ledger.tenantUsage(tenant, UTC)).usedBytes).toBe(total - 10);
      await ledger.recordRejection(tenant, { at: '2025-03-04T12:00:00.000Z', userId: '\ud800}:{', requestedBytes: 1, exceeded: 'user' });
      expect((await ledger.recentRejections(tenant, 1))[0].userId).toBe('\ud800}:{');
      // Operation names too: none reaches into another's count, not even the escaped spelling of (anonymous).
      const names = ['a:b', 'a', '%0028anonymous%0029', '\ud800', 'n:a'];
      for (const [i, operation] of names.entries()) await run(ledger, { tenant, userId: 'ana', operation }, 10_000 - i, 0);
      const accuracy = await ledger.operationAccuracy(tenant, '2025-03-04', '2025-03-04');
      expect(accuracy.slice(0, names.length).map((op) => [op.operation, op.operations])).toEqual(names.map((name) => [name, 1]));
      expect(accuracy.at(-1)).toMatchObject({ operation: ANONYMOUS_OPERATION, operations: ids.length });
    });

    test('arguments a caller got wrong are RangeErrors, not LedgerUnavailableError', async () => {
      const { ledger, tenant } = await open();
      const ana = { tenant, userId: 'ana' };
      const refusal = async (call: Promise<unknown>) => {
        const error = await call.then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(RangeError);
        expect(error).not.toBeInstanceOf(LedgerUnavailableError);
        return (error as Error).message;
      };
      expect(await refusal(ledger.reserve(ana, 1, { ...UTC, timezone: 'Mars/Olympus_Mons' }))).toMatch(/Mars\/Olympus_Mons.*not an IANA timezone/);
      await refusal(ledger.usage(ana, { ...UTC, timezone: '' }));
      await refusal(ledger.reserve({ tenant: 'Acme}', userId: 'ana' }, 1, UTC));
      await refusal(ledger.reserve(ana, -1, UTC));
      await refusal(ledger.reserve(ana, 1.5, UTC));
      await refusal(ledger.reserve(ana, 1, { ...UTC, userDailyBytes: -5 }));
      await refusal(ledger.topSpenders(tenant, '2025-3-4', '2025-03-04', 10));
      await refusal(ledger.reserve({ ...ana, roles: ['root' as Role] }, 1, UTC));
      await refusal(ledger.dailySpend(tenant, '2025-03-04', '2025-3-5'));
      await refusal(ledger.operationAccuracy('Acme', '2025-03-04', '2025-03-04'));
      await refusal(ledger.recentUsers(tenant, [], 'Mars/Olympus_Mons', 10));
    });

    test('500 concurrent reserves from one user admit exactly as many as the budget holds', async () => {
      const { ledger, tenant } = await open();
      await concurrentReserves([ledger], tenant);
    });
  });
}

/**
 * 500 reserves of 7 bytes at once from one user whose daily budget holds exactly 123 of them, spread
 * over `ledgers` (separate clients racing on the same counters): exactly 123 admitted, used +
 * reserved never over the limit; settling them all leaves 123 × 7 used.
 */
export async function concurrentReserves(ledgers: readonly BudgetLedger[], tenant: string): Promise<void> {
  const bytes = 7;
  const fits = 123;
  const limits = { userDailyBytes: fits * bytes, tenantDailyBytes: 10 * fits * bytes, timezone: 'UTC' };
  const account = { tenant, userId: 'racer' };
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => ledgers[i % ledgers.length].reserve(account, bytes, limits)));
  const admittedOnes = results.flatMap((r) => (r.admitted ? [r.reservation] : []));
  expect(admittedOnes).toHaveLength(fits);
  expect(new Set(admittedOnes.map((r) => r.id)).size).toBe(fits);
  expect(results.filter((r) => !r.admitted && r.exceeded === 'user')).toHaveLength(500 - fits);
  for (const r of results) expect(r.user.usedBytes + r.user.reservedBytes).toBeLessThanOrEqual(limits.userDailyBytes);
  expect((await ledgers[0].usage(account, limits)).user).toMatchObject({ usedBytes: 0, reservedBytes: fits * bytes, remainingBytes: 0 });
  await Promise.all(admittedOnes.map((reservation, i) => ledgers[i % ledgers.length].settle(reservation, bytes)));
  expect(await ledgers[0].usage(account, limits)).toMatchObject({
    user: { usedBytes: fits * bytes, reservedBytes: 0, remainingBytes: 0 },
    tenant: { usedBytes: fits * bytes, reservedBytes: 0, remainingBytes: 9 * fits * bytes },
  });
}

/** A clock that reads a fixed instant until set or advanced. */
export function testClock(iso: string): { now: () => number; set(iso: string): void; advance(ms: number): void } {
  let ms = Date.parse(iso);
  return { now: () => ms, set: (next) => { ms = Date.parse(next); }, advance: (by) => { ms += by; } };
}

/** A tenant id no other test in this process uses. */
export function newTenant(): string {
  return `tenant_${++tenants}`;
}

// Private:

const UNLIMITED_UTC: LedgerLimits = { userDailyBytes: null, tenantDailyBytes: null, timezone: 'UTC' };
let tenants = 0;
