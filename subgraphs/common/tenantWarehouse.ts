/**
 * The warehouse as one request sees it: bound to the caller's tenant (taken from the verified
 * principal, so no resolver can pass another), refusing an unknown tenant with BAD_USER_INPUT,
 * running every job under the caps the gateway signed (each job at most the largest job it
 * estimated, all of them together at most its whole estimate) and a deadline, and adding up what
 * the request's queries processed, billed and took for `extensions.warehouse`.
 */
import { withDeadline } from '../../common/deadline';
import { ErrorCode, badUserInput, bytegateError } from '../../common/errors';
import type { WarehouseCaps } from '../../common/signedIdentity';
import type { JobAttribution, PartitionStat, Warehouse, WarehouseQuery } from '../../warehouse/warehouse';

/** Summed over every warehouse query a request ran; the gateway settles budgets with it. */
export interface WarehouseUsage {
  processedBytes: number;
  billedBytes: number;
  queries: number;
  /** Aggregates served by the aggregate cache instead (no job, 0 bytes). */
  cacheHits: number;
  /** Aggregates the cache did not hold, computed by a query. */
  cacheMisses: number;
  /** How long each query took (ms), in completion order: the gateway's latency histogram. */
  queryDurationsMs: number[];
  /** Jobs dry-run first: the cap the gateway signed for each, and what the dry run said it would bill. */
  dryRuns: DryRunReport[];
}

export interface DryRunReport {
  readonly query: string;
  readonly capBytes: number;
  readonly dryRunBilledBytes: number;
}

export interface TenantWarehouse {
  readonly tenant: string;
  /** Usage so far; updated as each query completes. */
  readonly usage: Readonly<WarehouseUsage>;
  query<Row extends object>(query: WarehouseQuery): Promise<Row[]>;
  partitionStats(): Promise<PartitionStat[]>;
  /** Counts aggregates the cache served in place of a query, and those it had to compute. */
  recordCacheLookups(hits: number, misses: number): void;
  /** Warehouse.dataVersions of the tenant, read once per request. */
  dataVersions(): Promise<ReadonlyMap<string, string>>;
  /** Resolves when the tenant's dataset exists; BAD_USER_INPUT otherwise. Checked once per request. */
  checkTenant(): Promise<void>;
}

export interface TenantWarehouseOptions {
  /** The caps the gateway signed; none: jobs run uncapped (in-process use). */
  readonly caps?: WarehouseCaps;
  /**
   * When the operation's whole estimate (caps.maxTotalBilledBytes) is at least this, each job is
   * dry-run first (free) and capped at the lower of the signed cap and the dry run's bill.
   */
  readonly dryRunAboveBytes?: number;
  /** Carried on every job (BigQuery labels). */
  readonly attribution?: JobAttribution;
  /** A query still running after this long fails with WAREHOUSE_TIMEOUT (default: no deadline). */
  readonly timeoutMs?: number;
}

export function tenantWarehouse(warehouse: Warehouse, tenant: string, options: TenantWarehouseOptions = {}): TenantWarehouse {
  const { caps, dryRunAboveBytes, attribution, timeoutMs } = options;
  const usage: WarehouseUsage = { processedBytes: 0, billedBytes: 0, queries: 0, cacheHits: 0, cacheMisses: 0, queryDurationsMs: [], dryRuns: [] };
  /** The query under the deadline; the adapter cancels it there too (BigQuery's jobTimeoutMs). */
  const timed = <T>(name: string, work: () => Promise<T>): Promise<T> => (timeoutMs === undefined ? work() : withDeadline(work, timeoutMs, () =>
    bytegateError(ErrorCode.WAREHOUSE_TIMEOUT, `Warehouse query ${name} did not finish within ${timeoutMs} ms; try again, or narrow the range.`, { retryable: true })));
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
      let maxBytesBilled = caps && Math.max(0, Math.min(caps.maxJobBilledBytes, caps.maxTotalBilledBytes - usage.billedBytes));
      if (caps && maxBytesBilled !== undefined && dryRunAboveBytes !== undefined && caps.maxTotalBilledBytes >= dryRunAboveBytes) {
        const { billedBytes } = await timed(query.name, () => warehouse.dryRun(tenant, query));
        usage.dryRuns.push({ query: query.name, capBytes: maxBytesBilled, dryRunBilledBytes: billedBytes });
        maxBytesBilled = Math.min(maxBytesBilled, billedBytes);
      }
      const started = performance.now();
      const result = await timed(query.name, () =>
        warehouse.query<Row>(tenant, { ...query, ...(maxBytesBilled === undefined ? {} : { maxBytesBilled }), ...(attribution ? { attribution } : {}) }));
      usage.queryDurationsMs.push(Math.round((performance.now() - started) * 10) / 10);
      usage.processedBytes += result.processedBytes;
      usage.billedBytes += result.billedBytes;
      usage.queries += 1;
      return result.rows;
    },
    async partitionStats(): Promise<PartitionStat[]> {
      await checkTenant();
      return warehouse.partitionStats(tenant);
    },
    recordCacheLookups(hits, misses) {
      usage.cacheHits += hits;
      usage.cacheMisses += misses;
    },
    dataVersions() {
      versions ??= checkTenant().then(() => warehouse.dataVersions(tenant));
      return versions;
    },
  };
}
