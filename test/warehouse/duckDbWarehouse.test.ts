import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../../common/config';
import { MiB } from '../../common/units';
import { withDatasetWriter } from '../../warehouse/duckdb/datasetFiles';
import { TABLE_VERSIONS_TABLE } from '../../warehouse/duckdb/duckDbSql';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import type { DatasetWriter } from '../../warehouse/datasetWriter';
import { createTenantDataset, duckDbDatasetWriter, ingestEvents, upsertUsers } from '../../warehouse/duckdb/tenantDataset';
import { openWarehouse } from '../../warehouse/openWarehouse';
import { STOP_GRACE_MS, StoppedJobError, UNWRITTEN_TABLE_VERSION, type Warehouse, type WarehouseQuery } from '../../warehouse/warehouse';
import { type WarehouseFixture, fixture, ndjson, tempDataDir } from './fixture';
import { describeWarehouseContract } from './warehouseContract';

async function load(data: WarehouseFixture): Promise<{ warehouse: Warehouse; writer: DatasetWriter; cleanup(): Promise<void> }> {
  const { dataDir, remove } = tempDataDir();
  await createTenantDataset(dataDir, data.tenant);
  await upsertUsers(dataDir, data.tenant.id, data.users);
  const report = await ingestEvents(dataDir, data.tenant.id, ndjson(data.events));
  expect(report.rejected).toEqual([]);
  const warehouse = createDuckDbWarehouse({ dataDir });
  return { warehouse, writer: duckDbDatasetWriter(dataDir), cleanup: async () => { await warehouse.close(); remove(); } };
}

describeWarehouseContract('DuckDB', load);

test('a query stopped while it runs is interrupted at once, and reported billed in full', async () => {
  const { warehouse, cleanup } = await load(fixture());
  try {
    // 15 events joined 8 times over: billions of rows, minutes of work unless interrupted.
    const aliases = 'abcdefgh'.split('');
    const endless = {
      name: 'endless',
      params: {},
      sql: (d: { table(name: string): string }) => `SELECT count(*) AS n FROM ${aliases.map((a) => `${d.table('sso_events')} AS ${a}`).join(', ')}
        WHERE ${aliases.map((a) => `${a}.uuid`).join(' || ')} = 'none'`,
    };
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const started = Date.now();
    const error = await warehouse.query('acme', endless, stop.signal).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(200 + STOP_GRACE_MS);
    expect(error).toBeInstanceOf(StoppedJobError);
    // uuid of 8 references to one table: 10 MiB minimum (BigQuery may bill a cancelled job that much).
    expect((error as StoppedJobError).bill).toEqual({ processedBytes: expect.any(Number), billedBytes: 10 * MiB });
    expect((error as StoppedJobError).bill!.processedBytes).toBeGreaterThan(0);
  } finally {
    await cleanup();
  }
}, 30_000);

describe('DuckDB handles', () => {
  const tenant = fixture().tenant;
  const count: WarehouseQuery = { name: 'count', sql: (d) => `SELECT count(e.eventType) AS n FROM ${d.table('sso_events')} AS e`, params: {} };
  let dataDir: string;
  let remove: () => void;

  beforeAll(async () => {
    ({ dataDir, remove } = tempDataDir());
    await createTenantDataset(dataDir, tenant);
    await upsertUsers(dataDir, tenant.id, fixture().users);
    await ingestEvents(dataDir, tenant.id, ndjson(fixture().events));
  });
  afterAll(() => remove());
  afterEach(() => jest.restoreAllMocks());

  test('every connection a query opens is closed: answered, refused over its cap, or failed in DuckDB', async () => {
    const connect = jest.spyOn(DuckDBInstance.prototype, 'connect');
    const close = jest.spyOn(DuckDBConnection.prototype, 'closeSync');
    const warehouse = createDuckDbWarehouse({ dataDir });
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 20 }, () => warehouse.query(tenant.id, count)),
      warehouse.query(tenant.id, { ...count, maxBytesBilled: 0 }),
      warehouse.query(tenant.id, { name: 'broken', sql: () => 'SELECT no_such_column FROM users', params: {} }),
      warehouse.dryRun(tenant.id, count),
      warehouse.partitionStats(tenant.id),
    ]);
    await warehouse.close();
    expect(outcomes.map((outcome) => outcome.status)).toEqual([...Array(20).fill('fulfilled'), 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect(connect).toHaveBeenCalledTimes(25); // one per query, and the handle's check of its file's schema
    expect(close).toHaveBeenCalledTimes(25);
  });

  test('every instance opened is closed: the old file\'s once an ingest replaced it, the current one at close()', async () => {
    const open = jest.spyOn(DuckDBInstance, 'create');
    const close = jest.spyOn(DuckDBInstance.prototype, 'closeSync');
    const warehouse = createDuckDbWarehouse({ dataDir });
    await warehouse.query(tenant.id, count);
    await upsertUsers(dataDir, tenant.id, fixture().users); // a writer: the reader lets go, the file changes
    await warehouse.query(tenant.id, count);
    await warehouse.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(open).toHaveBeenCalledTimes(3); // reader, writer, reader of the new file
    expect(close).toHaveBeenCalledTimes(3);
  });

  test('limits: each handle opens with the configured memory_limit and threads (DUCKDB_MEMORY_LIMIT, DUCKDB_THREADS)', async () => {
    const warehouse = await openWarehouse(loadConfig({ DATA_DIR: dataDir, DUCKDB_MEMORY_LIMIT: '64MiB', DUCKDB_THREADS: '1' }), 'test');
    const { rows } = await warehouse.query(tenant.id, {
      name: 'settings', sql: () => `SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads') AS threads`, params: {},
    });
    await warehouse.close();
    expect(rows).toEqual([{ memory_limit: '64.0 MiB', threads: 1 }]);
  });
});

test('a dataset written before table versions were recorded: every table reads as never written, and the next write records its own', async () => {
  const { dataDir, remove } = tempDataDir();
  const data = fixture();
  const warehouse = createDuckDbWarehouse({ dataDir });
  try {
    await createTenantDataset(dataDir, data.tenant);
    await upsertUsers(dataDir, data.tenant.id, data.users);
    // As an earlier version left it: no _table_versions.
    await withDatasetWriter(dataDir, data.tenant.id, async (instance) => {
      const connection = await instance.connect();
      try {
        await connection.run(`DROP TABLE ${TABLE_VERSIONS_TABLE}`);
      } finally {
        connection.closeSync();
      }
    });
    const old = await warehouse.tableVersions!(data.tenant.id);
    expect(old).toEqual(new Map([['users', UNWRITTEN_TABLE_VERSION], ['tenant_info', UNWRITTEN_TABLE_VERSION]]));

    await upsertUsers(dataDir, data.tenant.id, [{ ...data.users[0], department: 'Board' }]);
    const after = await warehouse.tableVersions!(data.tenant.id);
    expect(after.get('users')).not.toBe(UNWRITTEN_TABLE_VERSION);
    expect(after.get('tenant_info')).toBe(UNWRITTEN_TABLE_VERSION);
    const { rows } = await warehouse.query<{ department: string }>(data.tenant.id, {
      name: 'department', params: {}, sql: (d) => `SELECT u.department FROM ${d.table('users')} AS u WHERE u.id = '${data.users[0].id}'`,
    });
    expect(rows).toEqual([{ department: 'Board' }]);
  } finally {
    await warehouse.close();
    remove();
  }
});
