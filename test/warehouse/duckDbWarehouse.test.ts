import { MiB } from '../../warehouse/billing';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { createTenantDataset, ingestEvents, upsertUsers } from '../../warehouse/duckdb/tenantDataset';
import { STOP_GRACE_MS, StoppedJobError, type Warehouse } from '../../warehouse/warehouse';
import { type WarehouseFixture, fixture, ndjson, tempDataDir } from './fixture';
import { describeWarehouseContract } from './warehouseContract';

async function load(data: WarehouseFixture): Promise<{ warehouse: Warehouse; cleanup(): Promise<void> }> {
  const { dataDir, remove } = tempDataDir();
  await createTenantDataset(dataDir, data.tenant);
  await upsertUsers(dataDir, data.tenant.id, data.users);
  const report = await ingestEvents(dataDir, data.tenant.id, ndjson(data.events));
  expect(report.rejected).toEqual([]);
  const warehouse = createDuckDbWarehouse({ dataDir });
  return { warehouse, cleanup: async () => { await warehouse.close(); remove(); } };
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
