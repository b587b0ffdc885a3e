/**
 * The per-request warehouse (subgraphs/common/tenantWarehouse.ts) reports every billed byte and
 * starts no job nobody waits for: a job stopped at WAREHOUSE_TIMEOUT_MS, or because the client went,
 * is charged what the warehouse says it billed — its cap (an upper bound, never 0) when the warehouse
 * cannot say within STOP_GRACE_MS — and no job starts once the client has gone or the signed deadline
 * has passed. Each warehouse here is a stand-in at the port, scripted to end a stopped job one way.
 */
import { ErrorCode } from '../../common/errors';
import { tenantWarehouse } from '../../subgraphs/common/tenantWarehouse';
import { MiB } from '../../common/units';
import { STOP_GRACE_MS, StoppedJobError, type Warehouse, type WarehouseQuery, type WarehouseResult } from '../../warehouse/warehouse';

const query: WarehouseQuery = { name: 'productivityByUser', params: {}, sql: () => 'SELECT 1' };
/** The job's cap: the smaller of the two signed caps. */
const caps = { maxJobBilledBytes: 30 * MiB, maxTotalBilledBytes: 50 * MiB };
const CAP = 30 * MiB;

/** A warehouse whose jobs run until stopped, then end as `onStop` says; it records each job and its signal. */
function stoppable(onStop: (signal: AbortSignal) => Promise<WarehouseResult<object>>): Warehouse & { signals: AbortSignal[]; jobs: WarehouseQuery[] } {
  const signals: AbortSignal[] = [];
  const jobs: WarehouseQuery[] = [];
  return {
    signals,
    jobs,
    query: <Row extends object>(_tenant: string, job: WarehouseQuery, signal?: AbortSignal) => {
      jobs.push(job);
      signals.push(signal!);
      return new Promise<WarehouseResult<Row>>((resolve, reject) => {
        signal!.addEventListener('abort', () => onStop(signal!).then((r) => resolve(r as WarehouseResult<Row>), reject));
      });
    },
    dryRun: async () => ({ processedBytes: 0, billedBytes: 0 }),
    partitionStats: async () => { jobs.push({ ...query, name: 'partitionStats' }); return []; },
    dataVersions: async () => { jobs.push({ ...query, name: 'dataVersions' }); return new Map(); },
    tableVersions: async () => { jobs.push({ ...query, name: 'tableVersions' }); return new Map(); },
    hasTenant: async () => true,
    close: async () => {},
  };
}

const never = () => new Promise<never>(() => {});

describe('a job stopped at the deadline fails with WAREHOUSE_TIMEOUT and is charged what it billed', () => {
  test.each([
    ['the warehouse reads its bill back', async () => { throw new StoppedJobError({ processedBytes: 3 * MiB, billedBytes: 10 * MiB }); }, 10 * MiB],
    ['it had finished anyway', async () => ({ rows: [], processedBytes: 3 * MiB, billedBytes: 20 * MiB, cacheHit: false }), 20 * MiB],
    ['it failed (BigQuery bills no failed job)', async () => { throw new Error('backendError'); }, 0],
    ['the warehouse cannot tell: its cap', async () => { throw new StoppedJobError(undefined); }, CAP],
    ['the warehouse does not answer within STOP_GRACE_MS: its cap', never, CAP],
  ])('%s', async (_case, onStop, charged) => {
    const warehouse = stoppable(onStop);
    const bound = tenantWarehouse(warehouse, 'acme', { caps, timeoutMs: 100 });
    const started = Date.now();
    await expect(bound.query(query)).rejects.toMatchObject({ extensions: { code: ErrorCode.WAREHOUSE_TIMEOUT, retryable: true } });
    expect(Date.now() - started).toBeLessThan(100 + STOP_GRACE_MS + 500);
    expect(warehouse.signals[0].reason).toMatchObject({ extensions: { code: ErrorCode.WAREHOUSE_TIMEOUT } });
    // Charged, not counted as an answered query.
    expect(bound.usage).toMatchObject({ billedBytes: charged, queries: 0, queryDurationsMs: [] });
  });

  test('what a stopped job billed counts against the operation\'s total cap', async () => {
    const warehouse = stoppable(async () => { throw new StoppedJobError({ processedBytes: 0, billedBytes: 25 * MiB }); });
    const bound = tenantWarehouse(warehouse, 'acme', { caps, timeoutMs: 50 });
    await expect(bound.query(query)).rejects.toMatchObject({ extensions: { code: ErrorCode.WAREHOUSE_TIMEOUT } });
    await expect(bound.query(query)).rejects.toMatchObject({ extensions: { code: ErrorCode.WAREHOUSE_TIMEOUT } });
    // 50 MiB signed for the whole operation, 30 per job: the first job billed 25 before it was stopped,
    // so the second may bill only the 25 left.
    expect(warehouse.jobs.map((job) => job.maxBytesBilled)).toEqual([30 * MiB, 25 * MiB]);
  });
});

describe('no job for a request the gateway gave up on', () => {
  test('once the client has gone, no job starts (SUBGRAPH_UNAVAILABLE), and running ones are stopped and charged', async () => {
    const clientGone = new AbortController();
    const warehouse = stoppable(async () => { throw new StoppedJobError({ processedBytes: 0, billedBytes: 10 * MiB }); });
    const bound = tenantWarehouse(warehouse, 'acme', { caps, signal: clientGone.signal });
    const running = bound.query(query);
    await new Promise((resolve) => setImmediate(resolve));
    clientGone.abort();
    await expect(running).rejects.toMatchObject({ extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, retryable: true } });
    expect(bound.usage.billedBytes).toBe(10 * MiB);

    await expect(bound.query({ ...query, name: 'usersById' })).rejects.toMatchObject({ extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE } });
    await expect(bound.partitionStats()).rejects.toMatchObject({ extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE } });
    await expect(bound.dataVersions()).rejects.toMatchObject({ extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE } });
    await expect(bound.tableVersions()).rejects.toMatchObject({ extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE } });
    expect(warehouse.jobs.map((job) => job.name)).toEqual(['productivityByUser']);
  });

  test('past the signed deadline no job starts; before it, jobs run', async () => {
    let clock = 1_000;
    const warehouse: Warehouse = {
      ...stoppable(never),
      query: async <Row extends object>() => ({ rows: [{ n: 1 }] as Row[], processedBytes: 1, billedBytes: 10 * MiB, cacheHit: false }),
    };
    const bound = tenantWarehouse(warehouse, 'acme', { caps, deadline: 2_000, now: () => clock });
    await expect(bound.query(query)).resolves.toEqual([{ n: 1 }]);
    clock = 2_001;
    await expect(bound.query(query)).rejects.toMatchObject({
      message: expect.stringMatching(/gateway gave up/), extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, retryable: true },
    });
    await expect(bound.partitionStats()).rejects.toMatchObject({ extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE } });
    expect(bound.usage).toMatchObject({ billedBytes: 10 * MiB, queries: 1 });
  });
});
