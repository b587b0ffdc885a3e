/**
 * The Redis ledger against the local Redis (REDIS_URL, default 127.0.0.1:6379): the shared contract,
 * two clients racing on one budget, and the key layout (tenant hash tag, day, TTLs). Keys live under
 * a prefix unique to this run, deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { type BudgetLedger, LedgerUnavailableError, MAX_REJECTIONS, SPEND_HISTORY_DAYS } from '../../budgets/ledger';
import { createRedisLedger } from '../../budgets/redisLedger';
import { concurrentReserves, ledgerContract, newTenant, testClock } from './ledgerContract';

const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const keyPrefix = `bytegate-test:${randomUUID()}:`;
const redis = createClient({ url });
const DAY_MS = 86_400_000;

beforeAll(async () => {
  await redis.connect();
});
afterAll(async () => {
  const keys = await keysUnderPrefix();
  if (keys.length > 0) await redis.del(keys);
  redis.destroy();
});

ledgerContract('Redis', (options) => createRedisLedger({ url, keyPrefix, ...options }));

describe('Redis ledger', () => {
  const opened: BudgetLedger[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
  });
  const open = async (now: () => number) => {
    const ledger = await createRedisLedger({ url, keyPrefix, now, reservationTtlMs: 60_000 });
    opened.push(ledger);
    return ledger;
  };

  test('two clients racing 500 reserves on one budget still admit exactly as many as it holds', async () => {
    const clock = testClock('2025-03-04T12:00:00Z');
    await concurrentReserves([await open(clock.now), await open(clock.now)], newTenant());
  });

  test("keys carry the tenant as hash tag and the budget day, and expire after the spend history", async () => {
    const clock = testClock('2025-03-04T12:00:00Z');
    const ledger = await open(clock.now);
    const tenant = newTenant();
    const limits = { userDailyBytes: null, tenantDailyBytes: null, timezone: 'UTC' };
    const held = await ledger.reserve({ tenant, userId: 'a:b}{', roles: ['viewer', 'manager'] }, 10, limits);
    const settled = await ledger.reserve({ tenant, userId: 'a:b}{', operation: 'Q:{x}' }, 20, limits);
    if (!held.admitted || !settled.admitted) throw new Error('expected both admitted');
    await ledger.settle(settled.reservation, 20);
    for (let i = 0; i < MAX_REJECTIONS + 5; i++) {
      await ledger.recordRejection(tenant, { at: '2025-03-04T12:00:00.000Z', userId: 'a', requestedBytes: 1, exceeded: 'user' });
    }

    const keys = (await keysUnderPrefix()).filter((key) => key.includes(`{${tenant}}`)).sort();
    const at = `${keyPrefix}{${tenant}}:`;
    expect(keys).toEqual([
      `${at}2025-03-04:held`, `${at}2025-03-04:holds`, `${at}2025-03-04:operations`, `${at}2025-03-04:settled`, `${at}2025-03-04:spent`, `${at}2025-03-04:used`,
      `${at}rejections`, `${at}roles`,
    ]);
    // 2025-03-04T00:00Z + SPEND_HISTORY_DAYS + 2 days, counted from the clock (12:00)
    const dayTtlMs = (SPEND_HISTORY_DAYS + 2) * DAY_MS - 12 * 3_600_000;
    for (const key of keys.filter((k) => k.includes('2025-03-04'))) {
      const ttl = await redis.pTTL(key);
      expect(ttl).toBeLessThanOrEqual(dayTtlMs);
      expect(ttl).toBeGreaterThan(dayTtlMs - 60_000);
    }
    expect(await redis.pTTL(`${at}rejections`)).toBeGreaterThan(SPEND_HISTORY_DAYS * DAY_MS - 60_000);
    expect(await redis.pTTL(`${at}roles`)).toBeGreaterThan(SPEND_HISTORY_DAYS * DAY_MS - 60_000);
    expect(await redis.lLen(`${at}rejections`)).toBe(MAX_REJECTIONS);
    // The user id is escaped wherever it appears: no stray `:` `{` `}`.
    expect(await redis.hGetAll(`${at}2025-03-04:used`)).toEqual({ t: '20', 'u:a%003ab%007d%007b': '20' });
    expect(await redis.hGetAll(`${at}2025-03-04:held`)).toEqual({ t: '10', 'u:a%003ab%007d%007b': '10' });
    expect(await redis.hGetAll(`${at}2025-03-04:operations`)).toEqual({ 'n:Q%003a%007bx%007d': '1', 'e:Q%003a%007bx%007d': '20', 'b:Q%003a%007bx%007d': '20' });
    expect(await redis.hGetAll(`${at}roles`)).toEqual({ 'a%003ab%007d%007b': '["viewer","manager"]' });
  });

  test('a Redis that cannot be reached: the factory still resolves, calls reject at once with LedgerUnavailableError', async () => {
    const started = Date.now();
    const ledger = await createRedisLedger({ url: 'redis://127.0.0.1:9', keyPrefix });
    opened.push(ledger);
    const error = await ledger.reserve({ tenant: newTenant(), userId: 'ana' }, 1, { userDailyBytes: 10, tenantDailyBytes: 10, timezone: 'UTC' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LedgerUnavailableError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

async function keysUnderPrefix(): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) keys.push(...batch);
  return keys;
}
