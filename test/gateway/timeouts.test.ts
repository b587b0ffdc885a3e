/**
 * Deadlines: a subgraph that does not answer within SUBGRAPH_TIMEOUT_MS fails only its part of the
 * operation (coded, the rest answers, the gateway keeps serving); a warehouse query past
 * WAREHOUSE_TIMEOUT_MS fails its field with WAREHOUSE_TIMEOUT, retryable, and bills nothing.
 */
import { parse } from 'graphql';
import { ErrorCode } from '../../common/errors';
import { schemaHeader } from '../../common/graphql/costSpec';
import { tenantWarehouse } from '../../subgraphs/common/tenantWarehouse';
import type { Warehouse } from '../../warehouse/warehouse';
import { accounts } from './fixtures/accounts';
import { type FixtureSubgraph, type Harness, startHarness } from './harness';

const FREE = '@noScan(reason: "fixture: computed, no warehouse")';
let release: () => void = () => {};

const slow: FixtureSubgraph = {
  name: 'slow',
  typeDefs: parse(/* GraphQL */ `
    ${schemaHeader(['@key'])}
    type Query { slow: String ${FREE} }
  `),
  resolvers: { Query: { slow: () => new Promise<string>((resolve) => { release = () => resolve('late'); }) } },
};

describe('SUBGRAPH_TIMEOUT_MS', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness([accounts, slow], { SUBGRAPH_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    release();
    await harness.close();
  });

  test('a hung subgraph fails its fields within the deadline, coded; the other subgraph answers', async () => {
    const started = Date.now();
    const { status, body } = await harness.query('{ me { id } slow }');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    expect(status).toBe(200);
    expect(body.data).toEqual({ me: { id: expect.any(String) }, slow: null });
    expect(body.errors).toEqual([{
      message: 'The slow service did not answer within 300 ms; the rest of the response stands. Retry.',
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'slow', retryable: true },
    }]);
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|http:/); // no internal address leaks
    release();
    // The gateway keeps serving, the fast subgraph alone answers at once.
    const again = await harness.query('{ me { id } }');
    expect(again.body).toMatchObject({ data: { me: { id: expect.any(String) } } });
  });
});

describe('WAREHOUSE_TIMEOUT_MS', () => {
  test('a warehouse query past the deadline fails with WAREHOUSE_TIMEOUT, retryable, and bills nothing', async () => {
    let finish: () => void = () => {};
    const hanging: Warehouse = {
      query: () => new Promise((resolve) => { finish = () => resolve({ rows: [], processedBytes: 1, billedBytes: 10 * 2 ** 20, cacheHit: false }); }),
      dryRun: async () => ({ processedBytes: 0, billedBytes: 0 }),
      partitionStats: async () => [],
      dataVersions: async () => new Map(),
      tableVersions: async () => new Map(),
      hasTenant: async () => true,
      close: async () => {},
    };
    const bound = tenantWarehouse(hanging, 'acme', { timeoutMs: 100 });
    const started = Date.now();
    await expect(bound.query({ name: 'productivityByUser', params: {}, sql: () => 'SELECT 1' })).rejects.toMatchObject({
      extensions: { code: ErrorCode.WAREHOUSE_TIMEOUT, retryable: true, http: { status: 504 } },
    });
    expect(Date.now() - started).toBeLessThan(1000);
    finish(); // the late answer is not counted
    await new Promise((resolve) => setImmediate(resolve));
    expect(bound.usage).toMatchObject({ queries: 0, billedBytes: 0, queryDurationsMs: [] });
  });
});
