/**
 * The Redis ledger through an outage, against a redis-server of its own (a free port, nothing on
 * disk): killed, calls reject with LedgerUnavailableError at once instead of hanging; restarted on
 * the same port, the same ledger instance works again. Frozen (SIGSTOP), calls give up after the
 * timeout; thawed, they are answered again.
 */
import { type BudgetLedger, LedgerUnavailableError } from '../../budgets/ledger';
import { createRedisLedger } from '../../budgets/redisLedger';
import { type RedisServer, freePorts, startRedisServer } from '../e2e/processes';
import { newTenant, testClock } from './ledgerContract';

const LIMITS = { userDailyBytes: 1000, tenantDailyBytes: 5000, timezone: 'UTC' };
const TIMEOUT_MS = 1000;
let port: number;
let server: RedisServer | undefined;
let ledger: BudgetLedger;
const clock = testClock('2025-03-04T12:00:00Z');

beforeAll(async () => {
  [port] = await freePorts(1);
  server = await startRedisServer(port);
  ledger = await createRedisLedger({ url: server.url, now: clock.now, reservationTtlMs: 60_000, timeoutMs: TIMEOUT_MS });
});
afterAll(async () => {
  await ledger?.close();
  await server?.stop();
});

test('killed: calls reject with LedgerUnavailableError within a second; restarted: the same ledger works again', async () => {
  const ana = { tenant: newTenant(), userId: 'ana' };
  expect(await ledger.reserve(ana, 100, LIMITS)).toMatchObject({ admitted: true });

  // Calls in flight when Redis dies, and calls after: every one answered or refused, none hanging.
  const started = Date.now();
  const inFlight = Array.from({ length: 20 }, () => ledger.reserve(ana, 1, LIMITS));
  await server!.stop();
  for (const outcome of await Promise.allSettled(inFlight)) {
    if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(LedgerUnavailableError);
  }
  for (const call of [() => ledger.reserve(ana, 1, LIMITS), () => ledger.usage(ana, LIMITS), () => ledger.topSpenders(ana.tenant, '2025-03-04', '2025-03-04', 5)]) {
    const callStarted = Date.now();
    await expect(call()).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(Date.now() - callStarted).toBeLessThan(TIMEOUT_MS);
  }
  expect(Date.now() - started).toBeLessThan(2 * TIMEOUT_MS);

  server = await startRedisServer(port);
  const restarted = Date.now();
  const result = await eventually(() => ledger.reserve(ana, 100, LIMITS), 5000);
  // Redis kept nothing on disk: the budget starts over.
  expect(result).toMatchObject({ admitted: true, user: { usedBytes: 0, reservedBytes: 100 } });
  expect(Date.now() - restarted).toBeLessThan(2000);
});

test('frozen: a call rejects after the timeout, the next at once; thawed: answered again, and a timed-out reserve expires on its own', async () => {
  const ana = { tenant: newTenant(), userId: 'ana' };
  await eventually(() => ledger.usage(ana, LIMITS), 5000);
  server!.child.kill('SIGSTOP');
  try {
    const started = Date.now();
    await expect(ledger.reserve(ana, 300, LIMITS)).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 500);
    // Redis answers in order: with that reserve unanswered, the next call cannot be answered sooner, and fails at once.
    const next = Date.now();
    await expect(ledger.usage(ana, LIMITS)).rejects.toThrow(/an earlier command has had no reply/);
    expect(Date.now() - next).toBeLessThan(100);
  } finally {
    server!.child.kill('SIGCONT');
  }
  // The reserve that timed out reached Redis after all: its hold counts until the reservation TTL.
  // (Calls are let through again once its late reply has arrived.)
  expect((await eventually(() => ledger.usage(ana, LIMITS), 2000)).user.reservedBytes).toBe(300);
  clock.advance(60_000);
  expect((await ledger.usage(ana, LIMITS)).user.reservedBytes).toBe(0);
});

// Private:

/** Retries `call` while it rejects with LedgerUnavailableError, for at most `withinMs`. */
async function eventually<T>(call: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof LedgerUnavailableError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
