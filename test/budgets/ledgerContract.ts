/**
 * The BudgetLedger port's contract (budgets/ledger.ts): the in-memory and the Redis ledger run this
 * same suite. Every test opens its own ledger on its own injected clock and uses tenants no other
 * test uses, so tests neither share state nor depend on the order they run in.
 */
import { type BudgetLedger, type LedgerLimits, LedgerUnavailableError, MAX_REJECTIONS, type Rejection, type Reservation } from '../../budgets/ledger';

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
    const admitted = async (ledger: BudgetLedger, account: { tenant: string; userId: string }, bytes: number, limits = UTC): Promise<Reservation> => {
      const result = await ledger.reserve(account, bytes, limits);
      if (!result.admitted) throw new Error(`expected ${bytes} bytes to be admitted, refused for the ${result.exceeded}`);
      return result.reservation;
    };
    const spend = async (ledger: BudgetLedger, account: { tenant: string; userId: string }, bytes: number) => {
      await ledger.settle(await admitted(ledger, account, bytes, UNLIMITED_UTC), bytes);
    };

    test('admits within both limits, holds the bytes against both and says so', async () => {
      const { ledger, tenant } = await open();
      const result = await ledger.reserve({ tenant, userId: 'ana' }, 100, UTC);
      const resetsAt = '2025-03-05T00:00:00.000Z';
      expect(result).toEqual({
        admitted: true,
        reservation: { id: expect.any(String), tenant, userId: 'ana', bytes: 100, day: '2025-03-04' },
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

    test('topSpenders sums settled bytes over the days from..to, most first, at most `limit`', async () => {
      const { ledger, clock, tenant } = await open('2025-03-03T12:00:00Z');
      const on = (userId: string) => ({ tenant, userId });
      await spend(ledger, on('ana'), 100);
      await spend(ledger, on('ben'), 300);
      clock.set('2025-03-04T12:00:00Z');
      await spend(ledger, on('ana'), 400);
      await spend(ledger, on('cy'), 50);
      await ledger.settle(await admitted(ledger, on('dee'), 10), 0); // a cache hit spends nothing
      await admitted(ledger, on('eve'), 999); // held, not settled
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
      await spend(ledger, { tenant: acme, userId: 'ana' }, 700);
      await admitted(ledger, { tenant: acme, userId: 'ana' }, 100);
      await ledger.recordRejection(acme, { at: '2025-03-04T12:00:00.000Z', userId: 'ana', requestedBytes: 5000, exceeded: 'user' });
      expect(await ledger.usage({ tenant: globex, userId: 'ana' }, UTC)).toMatchObject({
        user: { usedBytes: 0, reservedBytes: 0, remainingBytes: 1000 }, tenant: { usedBytes: 0, reservedBytes: 0 },
      });
      expect(await ledger.reserve({ tenant: globex, userId: 'ana' }, 1000, UTC)).toMatchObject({ admitted: true });
      expect(await ledger.topSpenders(globex, '2025-03-04', '2025-03-04', 10)).toEqual([]);
      expect(await ledger.recentRejections(globex, 10)).toEqual([]);
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
