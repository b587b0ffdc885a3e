/** `extensions.cost` (public contract; README.md documents every field): an operation's cost as the client sees it. */
import { bytesToUsd } from '../../pricing/billing';
import type { OperationCost } from './operationCost';

export interface ReportOptions {
  /** PRICE_PER_TIB_USD. */
  readonly pricePerTibUsd: number;
  /** MAX_QUERY_BYTES: the cap reported when no lower one applied. */
  readonly maxQueryBytes: number;
  /** MAX_QUERY_POINTS. */
  readonly maxQueryPoints: number;
}

export type CostReport = ReturnType<typeof costReport>;

export function costReport(cost: OperationCost, options: ReportOptions) {
  const estimate = cost.estimate;
  return {
    mode: cost.mode,
    estimatedBytes: estimate?.processedBytes ?? 0,
    estimatedBilledBytes: estimate?.billedBytes ?? 0,
    estimatedUsd: bytesToUsd(estimate?.billedBytes ?? 0, options.pricePerTibUsd),
    estimatedWarehouseQueries: estimate?.jobs.reduce((sum, job) => sum + job.times, 0) ?? 0,
    limitBytes: cost.limitBytes ?? options.maxQueryBytes,
    points: cost.points ?? 0,
    limitPoints: options.maxQueryPoints,
    actualBytes: cost.actual.processedBytes,
    billedBytes: cost.actual.billedBytes,
    billedUsd: bytesToUsd(cost.actual.billedBytes, options.pricePerTibUsd),
    warehouseQueries: cost.actual.queries,
    cacheHits: cost.actual.cacheHits,
    responseCache: cost.responseCache ?? 'bypass',
    // Jobs dry-run first (operations estimated above DRY_RUN_ABOVE_BYTES): the signed cap and the dry run's bill.
    ...(cost.actual.dryRuns.length > 0 ? { dryRuns: cost.actual.dryRuns } : {}),
    ...(cost.budget ? { budget: cost.budget } : {}),
    ...(cost.mode === 'estimate' && estimate
      ? {
        jobs: estimate.jobs.map(({ subgraph, query, path, tables, columnBytes, times, processedBytes, billedBytes }) => ({
          subgraph, query, path, tables: tables.map((table, i) => (columnBytes ? { ...table, columnBytes: columnBytes[i] } : table)), times, processedBytes, billedBytes,
        })),
      }
      : {}),
  };
}
