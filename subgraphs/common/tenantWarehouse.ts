/**
 * The warehouse as one request sees it: bound to the caller's tenant (taken from the verified
 * principal, so no resolver can pass another), refusing an unknown tenant with BAD_USER_INPUT,
 * running every job under the caps the gateway signed (each job at most the largest job it
 * estimated, all of them together at most its whole estimate), and adding up what the request's
 * queries processed and billed for `extensions.warehouse`.
 */
import { badUserInput } from '../../common/errors';
import type { WarehouseCaps } from '../../common/signedIdentity';
import type { PartitionStat, Warehouse, WarehouseQuery } from '../../warehouse/warehouse';

/** Summed over every warehouse query a request ran; the gateway settles budgets with it. */
export interface WarehouseUsage {
  processedBytes: number;
  billedBytes: number;
  queries: number;
  /** Aggregates served by the aggregate cache instead (no job, 0 bytes). */
  cacheHits: number;
}

export interface TenantWarehouse {
  readonly tenant: string;
  /** Usage so far; updated as each query completes. */
  readonly usage: Readonly<WarehouseUsage>;
  query<Row extends object>(query: WarehouseQuery): Promise<Row[]>;
  partitionStats(): Promise<PartitionStat[]>;
  /** Counts aggregates the cache served in place of a query. */
  recordCacheHits(count: number): void;
  /** Warehouse.dataVersions of the tenant, read once per request. */
  dataVersions(): Promise<ReadonlyMap<string, string>>;
  /** Resolves when the tenant's dataset exists; BAD_USER_INPUT otherwise. Checked once per request. */
  checkTenant(): Promise<void>;
}

export function tenantWarehouse(warehouse: Warehouse, tenant: string, caps?: WarehouseCaps): TenantWarehouse {
  const usage: WarehouseUsage = { processedBytes: 0, billedBytes: 0, queries: 0, cacheHits: 0 };
  let exists: Promise<void> | undefined;
  let versions: Promise<ReadonlyMap<string, string>> | undefined;
  const checkTenant = () =>
    (exists ??= warehouse.hasTenant(tenant).then((known) => {
      if (!known) throw badUserInput(`Unknown tenant "${tenant}": it has no dataset.`);
    }));
  return {
    tenant,
    usage,
    checkTenant,
    async query<Row extends object>(query: WarehouseQuery): Promise<Row[]> {
      await checkTenant();
      const maxBytesBilled = caps && Math.max(0, Math.min(caps.maxJobBilledBytes, caps.maxTotalBilledBytes - usage.billedBytes));
      const result = await warehouse.query<Row>(tenant, maxBytesBilled === undefined ? query : { ...query, maxBytesBilled });
      usage.processedBytes += result.processedBytes;
      usage.billedBytes += result.billedBytes;
      usage.queries += 1;
      return result.rows;
    },
    async partitionStats(): Promise<PartitionStat[]> {
      await checkTenant();
      return warehouse.partitionStats(tenant);
    },
    recordCacheHits(count) {
      usage.cacheHits += count;
    },
    dataVersions() {
      versions ??= checkTenant().then(() => warehouse.dataVersions(tenant));
      return versions;
    },
  };
}
