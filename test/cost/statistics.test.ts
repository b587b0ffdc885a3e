/** The gateway's statistics cache: fetched once per tenant, refreshed in the background, stale beats none. */
import { createStatisticsCache } from '../../gateway/cost/statistics';
import { subgraphStatistics } from '../../gateway/execute/internalFetch';
import type { PartitionStat } from '../../pricing/scanBytes';

const scan = { table: 'sso_events', columns: ['published'], days: null } as const;
const partitioned = { ...scan, days: [{}] };
const stat = (bytes: number): PartitionStat[] => [{ table: 'sso_events', day: '2025-01-01', column: 'published', rows: 1, logicalBytes: bytes }];

function source() {
  const calls: string[] = [];
  let bytes = 100;
  let failing = false;
  return {
    calls,
    setBytes: (b: number) => void (bytes = b),
    setFailing: (f: boolean) => void (failing = f),
    fetch: async (tenant: string) => {
      calls.push(tenant);
      if (failing) throw new Error('metrics subgraph down');
      return stat(bytes);
    },
  };
}

test('fetched once per tenant within the ttl, then refreshed in the background', async () => {
  let now = 0;
  const s = source();
  const cache = createStatisticsCache(s.fetch, { ttlMs: 1000, now: () => now });
  expect((await cache.get('acme')).bytes(partitioned)).toBe(100);
  await cache.get('acme');
  expect(s.calls).toEqual(['acme']);
  await cache.get('globex');
  expect(s.calls).toEqual(['acme', 'globex']);

  s.setBytes(250);
  now = 1500;
  expect((await cache.get('acme')).bytes(partitioned)).toBe(100); // stale while revalidating
  await new Promise((resolve) => setImmediate(resolve));
  expect((await cache.get('acme')).bytes(partitioned)).toBe(250);
  expect(s.calls).toEqual(['acme', 'globex', 'acme']);
});

test('a failed first fetch is retried by the next request; a failed refresh keeps the old statistics', async () => {
  let now = 0;
  const s = source();
  const cache = createStatisticsCache(s.fetch, { ttlMs: 1000, now: () => now });
  s.setFailing(true);
  await expect(cache.get('acme')).rejects.toThrow('metrics subgraph down');
  s.setFailing(false);
  expect((await cache.get('acme')).bytes(partitioned)).toBe(100);

  s.setFailing(true);
  now = 5000;
  await cache.get('acme');
  await new Promise((resolve) => setImmediate(resolve));
  expect((await cache.get('acme')).bytes(partitioned)).toBe(100);
});

test('invalidate forgets a tenant', async () => {
  const s = source();
  const cache = createStatisticsCache(s.fetch, { ttlMs: 60_000 });
  await cache.get('acme');
  s.setBytes(7);
  cache.invalidate('acme');
  expect((await cache.get('acme')).bytes(partitioned)).toBe(7);
});

test('an unreachable statistics subgraph is WAREHOUSE_UNAVAILABLE (503)', async () => {
  const fetchStatistics = subgraphStatistics('http://127.0.0.1:9/graphql', 'a-secret-that-is-long-enough-0123456789');
  await expect(fetchStatistics('acme')).rejects.toMatchObject({ extensions: { code: 'WAREHOUSE_UNAVAILABLE', http: { status: 503 } } });
});
