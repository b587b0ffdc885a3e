import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { createTenantDataset, ingestEvents, upsertUsers } from '../../warehouse/duckdb/tenantDataset';
import { ndjson, tempDataDir } from './fixture';
import { describeWarehouseContract } from './warehouseContract';

describeWarehouseContract('DuckDB', async (fixture) => {
  const { dataDir, remove } = tempDataDir();
  await createTenantDataset(dataDir, fixture.tenant);
  await upsertUsers(dataDir, fixture.tenant.id, fixture.users);
  const report = await ingestEvents(dataDir, fixture.tenant.id, ndjson(fixture.events));
  expect(report.rejected).toEqual([]);
  const warehouse = createDuckDbWarehouse({ dataDir });
  return { warehouse, cleanup: async () => { await warehouse.close(); remove(); } };
});
