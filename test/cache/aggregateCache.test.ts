/**
 * The aggregate cache on both stores — in memory and the real Redis on 127.0.0.1:6379 — with the
 * same tests: hits and misses, cached nulls, TTL, single flight, a failed computation. Then fail-open
 * against a redis-server of its own that is killed and restarted.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { type AggregateCache, CACHE_KEY_PREFIX, openAggregateCache } from '../../subgraphs/common/aggregateCache';
import { type RedisServer, freePorts, startRedisServer } from '../e2e/processes';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

describe.each([
  ['memory', undefined],
  ['redis', REDIS_URL],
])('aggregate cache in %s', (_store, redisUrl) => {
  let cache: AggregateCache;
  /** Keys of this run only: the shared Redis may hold other runs' entries. */
  const run = randomUUID();
  const key = (name: string) => `t_${run}:${name}`;

  beforeAll(async () => {
    cache = await openAggregateCache({ redisUrl, ttlMs: 60_000, log: () => {} });
  });
  afterAll(() => cache.close());

  test('a miss computes and stores; the next call hits, including a stored null', async () => {
    const computed: number[][] = [];
    const compute = async (missing: readonly number[]) => {
      computed.push([...missing]);
      return missing.map((i) => (i === 0 ? null : { n: i }));
    };
    expect(await cache.loadMany([key('a'), key('b')], compute)).toEqual({ values: [null, { n: 1 }], hits: 0 });
    // Only the new key is computed, at its index in this call.
    expect(await cache.loadMany([key('a'), key('b'), key('c')], compute)).toEqual({ values: [null, { n: 1 }, { n: 2 }], hits: 2 });
    expect(computed).toEqual([[0, 1], [2]]);
  });

  test('a stored value is served after its computation and write settled, not only while in flight', async () => {
    expect(await cache.loadMany([key('settled')], async () => ['first'])).toEqual({ values: ['first'], hits: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await cache.loadMany([key('settled')], async () => ['second'])).toEqual({ values: ['first'], hits: 1 });
  });

  test('50 concurrent misses of one key run one computation; every caller gets its value', async () => {
    let runs = 0;
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.loadMany([key('flight')], async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return [{ answer: 42 }];
    })));
    expect(runs).toBe(1);
    expect(results.every((r) => r.values[0]?.answer === 42)).toBe(true);
    expect(results.filter((r) => r.hits === 0)).toHaveLength(1);
  });

  test('a failed computation fails its caller, is not stored, and callers sharing it compute on their own', async () => {
    let attempts = 0;
    const failing = cache.loadMany([key('fails')], async () => {
      attempts++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('warehouse down');
    });
    const sharing = cache.loadMany([key('fails')], async () => {
      attempts++;
      return ['own'];
    });
    await expect(failing).rejects.toThrow('warehouse down');
    expect(await sharing).toEqual({ values: ['own'], hits: 0 });
    expect(attempts).toBe(2);
  });

  test('entries expire after the TTL', async () => {
    const shortLived = await openAggregateCache({ redisUrl, ttlMs: 50, log: () => {} });
    try {
      await shortLived.loadMany([key('ttl')], async () => [1]);
      expect((await shortLived.loadMany([key('ttl')], async () => [2])).values).toEqual([1]);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect((await shortLived.loadMany([key('ttl')], async () => [3])).values).toEqual([3]);
    } finally {
      await shortLived.close();
    }
  });
});

test('Redis keys are prefixed and expire on their own (24 h TTL set on the key)', async () => {
  const cache = await openAggregateCache({ redisUrl: REDIS_URL, ttlMs: 86_400_000 });
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const name = `t_${randomUUID()}:prefixed`;
  try {
    await cache.loadMany([name], async () => ['v']);
    await cache.close(); // waits for the write
    const ttl = await client.pTTL(`${CACHE_KEY_PREFIX}::${name}`);
    expect(ttl).toBeGreaterThan(86_400_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000);
  } finally {
    await client.del(`${CACHE_KEY_PREFIX}::${name}`);
    client.destroy();
  }
});

describe('fails open', () => {
  let server: RedisServer;
  let port: number;
  let cache: AggregateCache;
  const logged: string[] = [];

  beforeAll(async () => {
    [port] = await freePorts(1);
    server = await startRedisServer(port);
    // No local level: every call goes to Redis, so the outage shows on each.
    cache = await openAggregateCache({ redisUrl: server.url, ttlMs: 60_000, timeoutMs: 200, localTtlMs: 0, log: (m) => logged.push(m) });
  });
  afterAll(async () => {
    await cache.close();
    await server.stop();
  });

  test('Redis killed: every call is computed, quickly, errors counted and logged once; restarted: caching resumes', async () => {
    await cache.loadMany(['t:k'], async () => ['cached']);
    expect((await cache.loadMany(['t:k'], async () => ['computed'])).values).toEqual(['cached']);

    await server.stop();
    // What Redis held is gone with it: computed, not served stale from anywhere.
    expect(await cache.loadMany(['t:k'], async () => ['computed'])).toEqual({ values: ['computed'], hits: 0 });
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      expect(await cache.loadMany([`t:down${i}`], async () => [i])).toEqual({ values: [i], hits: 0 });
      expect(Date.now() - started).toBeLessThan(1000);
    }
    expect(cache.status()).toMatchObject({ store: 'redis', state: 'unreachable', errors: expect.any(Number) });
    expect(cache.status().errors).toBeGreaterThanOrEqual(5);
    expect(logged.filter((m) => m.includes('unavailable'))).toHaveLength(1);

    server = await startRedisServer(port);
    // The client reconnects by itself; the state shows it on the next call.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      await cache.loadMany(['t:probe'], async () => ['probe']);
      if (cache.status().state === 'ok') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await cache.loadMany(['t:after'], async () => ['stored']);
    const client = createClient({ url: server.url });
    await client.connect();
    try {
      for (let tries = 0; tries < 50 && (await client.exists(`${CACHE_KEY_PREFIX}::t:after`)) === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await client.exists(`${CACHE_KEY_PREFIX}::t:after`)).toBe(1);
    } finally {
      client.destroy();
    }
    expect(await cache.loadMany(['t:after'], async () => ['not used'])).toEqual({ values: ['stored'], hits: 1 });
    expect(cache.status().state).toBe('ok');
    expect(logged.some((m) => m.includes('reachable again'))).toBe(true);
  });

  test('another replica reads what one wrote; with its local level, a replica keeps serving hot entries while Redis is down', async () => {
    const writer = await openAggregateCache({ redisUrl: server.url, ttlMs: 60_000, timeoutMs: 200, log: () => {} });
    const reader = await openAggregateCache({ redisUrl: server.url, ttlMs: 60_000, timeoutMs: 200, log: () => {} });
    try {
      await writer.loadMany(['t:shared'], async () => ['from writer']);
      await writer.close(); // waits for the write
      expect(await reader.loadMany(['t:shared'], async () => ['recomputed'])).toEqual({ values: ['from writer'], hits: 1 });
      server.child.kill('SIGSTOP');
      try {
        const started = Date.now();
        expect(await reader.loadMany(['t:shared'], async () => ['recomputed'])).toEqual({ values: ['from writer'], hits: 1 });
        expect(Date.now() - started).toBeLessThan(50); // no round trip at all
      } finally {
        server.child.kill('SIGCONT');
      }
    } finally {
      await reader.close();
    }
  });

  test('a frozen Redis (SIGSTOP) costs at most the timeout per call', async () => {
    server.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      expect(await cache.loadMany(['t:frozen'], async () => ['computed'])).toEqual({ values: ['computed'], hits: 0 });
      // One timed-out read, then a timed-out write.
      expect(Date.now() - started).toBeLessThan(2 * 200 + 300);
    } finally {
      server.child.kill('SIGCONT');
    }
  });
});
