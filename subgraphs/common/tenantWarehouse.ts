/**
 * The warehouse as one request sees it: bound to the caller's tenant (taken from the verified
 * principal, so no resolver can pass another), refusing an unknown tenant with BAD_USER_INPUT,
 * running every job under the caps the gateway signed (each job at most the largest job it
 * estimated, all of them together at most its whole estimate) and a deadline, and adding up what
 * the request's queries processed, billed and took for `extensions.warehouse`.
 *
 * Every billed byte is reported, so the gateway charges it: a job stopped at the deadline (or because
 * the client went) counts what the warehouse says it billed, or its cap when it cannot say in time.
 * And no job starts for a request the gateway gave up on (its client gone, or past the signed
 * deadline): a job not started bills nothing.
 */
import { withDeadline } from '../../common/deadline';
import { ErrorCode, badUserInput, bytegateError } from '../../common/errors';
import type { WarehouseCaps } from '../../common/signedIdentity';
import { type JobAttribution, type JobBill, NOTHING_BILLED, STOP_GRACE_MS, StoppedJobError, type Warehouse, type WarehouseQuery, type WarehouseResult } from '../../warehouse/warehouse';
import { type PartitionStat } from '../../pricing/scanBytes';
import { attributeOverhead } from '../../warehouse/overhead';

/** Summed over every warehouse query a request ran; the gateway settles budgets with it. */
export interface WarehouseUsage {
  /** Every job's, stopped ones included. */
  processedBytes: number;
  /** Every job's, stopped ones included: what the gateway charges. */
  billedBytes: number;
  /** Jobs that answered. */
  queries: number;
  /** Aggregates served by the aggregate cache instead (no job, 0 bytes). */
  cacheHits: number;
  /** Aggregates the cache did not hold, computed by a query. */
  cacheMisses: number;
  /** How long each query took (ms), in completion order: the gateway's latency histogram. */
  queryDurationsMs: number[];
  /** Jobs dry-run first: the cap the gateway signed for each, and what the dry run said it would bill. */
  dryRuns: DryRunReport[];
  /**
   * Jobs the warehouse ran for bytegate itself while serving this request (reading changed metadata,
   * dry runs) and what they billed: not the caller's bill, never charged to a budget (warehouse/overhead.ts).
   */
  overheadJobs: number;
  overheadBilledBytes: number;
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
  /** Warehouse.tableVersions of the tenant, read once per request. */
  tableVersions(): Promise<ReadonlyMap<string, string>>;
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
  /** A query still running after this long is stopped and fails with WAREHOUSE_TIMEOUT (default: no deadline). */
  readonly timeoutMs?: number;
  /** Aborts when the request's client has gone: no job starts after it, and running ones are stopped. */
  readonly signal?: AbortSignal;
  /** Epoch ms after which no job starts: the gateway has given up on the request by then (signed). */
  readonly deadline?: number;
  /** Clock for `deadline`; default Date.now. */
  readonly now?: () => number;
}

export function tenantWarehouse(warehouse: Warehouse, tenant: string, options: TenantWarehouseOptions = {}): TenantWarehouse {
  const { caps, dryRunAboveBytes, attribution, timeoutMs, signal, deadline } = options;
  const now = options.now ?? Date.now;
  const usage: WarehouseUsage = {
    processedBytes: 0, billedBytes: 0, queries: 0, cacheHits: 0, cacheMisses: 0, queryDurationsMs: [], dryRuns: [], overheadJobs: 0, overheadBilledBytes: 0,
  };
  /** Runs `work` with the overhead jobs it causes counted in this request's usage. */
  const attributed = <T>(work: () => Promise<T>) => attributeOverhead(usage, work);
  const timedOut = (name: string) =>
    bytegateError(ErrorCode.WAREHOUSE_TIMEOUT, `Warehouse query ${name} did not finish within ${timeoutMs} ms; try again, or narrow the range.`, { retryable: true });
  /** A dry run (free) under the deadline. */
  const timed = <T>(name: string, work: () => Promise<T>): Promise<T> => (timeoutMs === undefined ? work() : withDeadline(work, timeoutMs, () => timedOut(name)));
  const abandoned = (name: string) =>
    bytegateError(ErrorCode.SUBGRAPH_UNAVAILABLE, `The gateway gave up on this request, so warehouse query ${name} does not run; retry.`, { retryable: true });
  /** Refuses to start a job nobody waits for. */
  const ensureAwaited = (name: string) => {
    if (signal?.aborted || (deadline !== undefined && now() > deadline)) throw abandoned(name);
  };
  /** The stop switch of each running job, with its name: the client going stops them all. */
  const running = new Map<AbortController, string>();
  signal?.addEventListener('abort', () => {
    for (const [stop, name] of running) stop.abort(abandoned(name));
  }, { once: true });

  /**
   * Runs `job` until it answers, `timeoutMs` passes or the client goes. A stopped job is charged what
   * the warehouse says it billed — its cap (an upper bound) when it cannot say within STOP_GRACE_MS —
   * and fails with why it was stopped.
   */
  async function runJob<Row extends object>(job: WarehouseQuery): Promise<WarehouseResult<Row>> {
    ensureAwaited(job.name);
    const stop = new AbortController();
    const stopped = stop.signal;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => stop.abort(timedOut(job.name)), timeoutMs);
    running.set(stop, job.name);
    const result = warehouse.query<Row>(tenant, job, stopped);
    try {
      return await Promise.race([result, new Promise<never>((_, reject) => stopped.addEventListener('abort', () => reject(stopped.reason), { once: true }))]);
    } catch (error) {
      if (!stopped.aborted) throw error;
      // A job that finished anyway billed; one that failed did not.
      const bill = await withDeadline(() => result.then((r): JobBill | undefined => r, (e) => (e instanceof StoppedJobError ? e.bill : NOTHING_BILLED)), STOP_GRACE_MS)
        .catch(() => undefined);
      const charged = bill ?? { processedBytes: job.maxBytesBilled ?? 0, billedBytes: job.maxBytesBilled ?? 0 };
      usage.processedBytes += charged.processedBytes;
      usage.billedBytes += charged.billedBytes;
      throw stopped.reason;
    } finally {
      clearTimeout(timer);
      running.delete(stop);
    }
  }

  let exists: Promise<void> | undefined;
  let versions: Promise<ReadonlyMap<string, string>> | undefined;
  let tables: Promise<ReadonlyMap<string, string>> | undefined;
  const checkTenant = () =>
    (exists ??= attributed(() => warehouse.hasTenant(tenant)).then((known) => {
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
        const { billedBytes } = await timed(query.name, () => attributed(() => warehouse.dryRun(tenant, query)));
        usage.dryRuns.push({ query: query.name, capBytes: maxBytesBilled, dryRunBilledBytes: billedBytes });
        maxBytesBilled = Math.min(maxBytesBilled, billedBytes);
      }
      const started = performance.now();
      const result = await runJob<Row>({ ...query, ...(maxBytesBilled === undefined ? {} : { maxBytesBilled }), ...(attribution ? { attribution } : {}) });
      usage.queryDurationsMs.push(Math.round((performance.now() - started) * 10) / 10);
      usage.processedBytes += result.processedBytes;
      usage.billedBytes += result.billedBytes;
      usage.queries += 1;
      return result.rows;
    },
    async partitionStats(): Promise<PartitionStat[]> {
      await checkTenant();
      ensureAwaited('partitionStats');
      return attributed(() => warehouse.partitionStats(tenant));
    },
    recordCacheLookups(hits, misses) {
      usage.cacheHits += hits;
      usage.cacheMisses += misses;
    },
    dataVersions() {
      versions ??= checkTenant().then(() => {
        ensureAwaited('dataVersions');
        return attributed(() => warehouse.dataVersions(tenant));
      });
      return versions;
    },
    tableVersions() {
      tables ??= checkTenant().then(() => {
        ensureAwaited('tableVersions');
        return attributed(() => warehouse.tableVersions(tenant));
      });
      return tables;
    },
  };
}
