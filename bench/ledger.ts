/**
 * Budget ledger latency: one reserve + settle (two Lua scripts, EVALSHA) against the local Redis,
 * sequential after a warm-up, beside a baseline of PING + INCRBY (two plain round trips) measured in
 * the same run. The baseline goes through a second node-redis client to the same Redis; samples
 * alternate between the two so both see the same machine load. The ratio is what the scripts, the
 * budget-day arithmetic and the ledger's checks cost on top of two round trips.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { createRedisLedger } from '../budgets/redisLedger';

export interface LedgerBenchResult {
  readonly operations: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly baselineP50Micros: number;
  readonly baselineP99Micros: number;
}

export async function benchLedger(options: { operations: number; url?: string }): Promise<LedgerBenchResult> {
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const keyPrefix = `bytegate-bench:${randomUUID()}:`;
  const ledger = await createRedisLedger({ url, keyPrefix });
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const counterKey = `${keyPrefix}baseline`;
  const limits = { userDailyBytes: null, tenantDailyBytes: 2 ** 50, timezone: 'America/New_York' };
  const account = { tenant: 'bench', userId: 'bench-user' };

  const reserveAndSettle = async () => {
    const result = await ledger.reserve(account, 1000, limits);
    if (!result.admitted) throw new Error(`bench reserve refused (${result.exceeded})`);
    await ledger.settle(result.reservation, 900);
  };
  const pingAndIncrement = async () => {
    await client.ping();
    await client.incrBy(counterKey, 900);
  };

  try {
    for (let i = 0; i < Math.min(1000, Math.max(100, options.operations / 10)); i++) {
      await reserveAndSettle();
      await pingAndIncrement();
    }
    const samples: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < options.operations; i++) {
      samples.push(await micros(reserveAndSettle));
      baseline.push(await micros(pingAndIncrement));
    }
    return {
      operations: options.operations,
      p50Micros: percentile(samples, 0.5),
      p99Micros: percentile(samples, 0.99),
      baselineP50Micros: percentile(baseline, 0.5),
      baselineP99Micros: percentile(baseline, 0.99),
    };
  } finally {
    await ledger.close();
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) keys.push(...batch);
    if (keys.length > 0) await client.del(keys);
    client.destroy();
  }
}

// Private:

async function micros(run: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1000;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
