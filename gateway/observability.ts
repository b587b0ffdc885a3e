/**
 * What the gateway tells operators: Prometheus metrics on `/metrics` (prom-client) and one JSON log
 * line per operation (pino), both tied to the request id that the subgraphs log and BigQuery job
 * labels carry. Metrics, all prefixed `bytegate_` (README.md, Observability, says how to read them):
 *
 *   operations_total{tenant,outcome}          ok | partial (data and errors) | error | rejected (refused
 *                                             before execution, charged nothing) | estimate (x-cost-mode)
 *   rejections_total{tenant,code}             the codes of refused operations (auth failures: tenant "")
 *   estimated_bytes_total, billed_bytes_total, estimated_usd_total, billed_usd_total{tenant}
 *   operation_estimated_bytes, operation_billed_bytes{tenant}        histograms per operation
 *   estimate_accuracy_ratio{operation}        billed / estimated, per executed operation estimated above 0
 *                                             (the client's operation name; at most 200 names, then "other")
 *   budget_remaining_bytes{tenant}            the tenant's remaining daily budget, as last settled
 *   aggregate_cache_lookups_total{result}     hit | miss, as the subgraphs counted them
 *   response_cache_lookups_total{result}      hit | miss | bypass: the gateway's response cache, per operation
 *   response_cache_not_modified_total         answers sent as 304 Not Modified (If-None-Match named their ETag)
 *   warehouse_query_duration_seconds{subgraph}   each warehouse query, as the subgraph timed it
 *   subgraph_fetch_duration_seconds{subgraph}, subgraph_errors_total{subgraph,code}
 * plus prom-client's default metrics (`bytegate_process_resident_memory_bytes`, `bytegate_nodejs_eventloop_lag_seconds`, heap, GC).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type Logger, REQUEST_ID_HEADER } from '../common/log';
import type { ResponseSummary } from './admission/admissionPlugin';
import type { GatewayContext } from './context';

/** What the gateway knows of an operation once its response is settled. */
export interface OperationRecord {
  readonly requestId: string;
  readonly tenant: string;
  readonly user: string;
  readonly operationName: string | undefined;
  readonly mode: 'enforce' | 'measure' | 'estimate';
  readonly durationMs: number;
  readonly hasData: boolean;
  /** The codes of the response's errors (UNCODED for one without a code). */
  readonly errorCodes: readonly string[];
  /** Refused before execution (nothing ran, nothing charged). */
  readonly rejected: boolean;
  readonly estimatedBilledBytes: number;
  readonly estimatedUsd: number;
  readonly billedBytes: number;
  readonly billedUsd: number;
  /** Billed for bytegate itself while serving it (the subgraphs' metadata reads, dry runs): not the caller's bill. */
  readonly overheadBilledBytes: number;
  readonly tenantRemainingBytes: number | undefined;
  /** The response cache: hit (served stored), miss (looked up, stored when complete) or bypass (not looked up). */
  readonly cache: 'hit' | 'miss' | 'bypass';
  /** Answered 304 Not Modified. */
  readonly notModified?: boolean;
}

/** What a subgraph reported in `extensions.warehouse`. */
export interface WarehouseReport {
  readonly cacheHits?: number;
  readonly cacheMisses?: number;
  readonly queryDurationsMs?: readonly number[];
}

export interface GatewayObservability {
  readonly registry: Registry;
  /** GET /metrics: the Prometheus text format. */
  metricsRoute(request: IncomingMessage, response: ServerResponse): Promise<void>;
  operation(record: OperationRecord): void;
  /** An operation refused before GraphQL ran (no principal: authentication failed). */
  refused(code: string, requestId: string): void;
  /** One subgraph fetch; `failure` when it got no answer at all (logged, with the underlying error). */
  subgraphFetch(subgraph: string, seconds: number, errorCodes: readonly string[], warehouse: WarehouseReport | undefined, failure?: Error): void;
}

/** Distinct operation names given their own label; the rest are counted as "other". */
const MAX_OPERATION_LABELS = 200;
const BYTE_BUCKETS = [0, 10 * 2 ** 20, 100 * 2 ** 20, 2 ** 30, 10 * 2 ** 30, 100 * 2 ** 30, 2 ** 40];
const RATIO_BUCKETS = [0, 0.25, 0.5, 0.8, 0.9, 0.95, 1, 1.05, 1.1, 1.25, 2, 4];
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createGatewayObservability(log: Logger, options: { processMetrics?: boolean } = {}): GatewayObservability {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'bytegate_' });
  const counter = (name: string, help: string, labelNames: string[]) => new Counter({ name: `bytegate_${name}`, help, labelNames, registers: [registry] });
  const histogram = (name: string, help: string, labelNames: string[], buckets: number[]) =>
    new Histogram({ name: `bytegate_${name}`, help, labelNames, buckets, registers: [registry] });

  const operations = counter('operations_total', 'Operations by outcome: ok, partial, error, rejected, estimate.', ['tenant', 'outcome']);
  const rejections = counter('rejections_total', 'Operations refused before execution, by error code.', ['tenant', 'code']);
  const estimatedBytes = counter('estimated_bytes_total', 'Estimated billed bytes of executed operations.', ['tenant']);
  const billedBytes = counter('billed_bytes_total', 'Bytes the warehouse billed.', ['tenant']);
  const estimatedUsd = counter('estimated_usd_total', 'Estimated cost of executed operations, USD.', ['tenant']);
  const billedUsd = counter('billed_usd_total', 'Billed cost, USD.', ['tenant']);
  const operationEstimated = histogram('operation_estimated_bytes', 'Estimated billed bytes per operation.', ['tenant'], BYTE_BUCKETS);
  const operationBilled = histogram('operation_billed_bytes', 'Billed bytes per operation.', ['tenant'], BYTE_BUCKETS);
  const accuracy = histogram('estimate_accuracy_ratio', 'Billed / estimated bytes per executed operation.', ['operation'], RATIO_BUCKETS);
  const budgetRemaining = new Gauge({ name: 'bytegate_budget_remaining_bytes', help: "The tenant's remaining daily budget, as last settled.", labelNames: ['tenant'], registers: [registry] });
  const cacheLookups = counter('aggregate_cache_lookups_total', 'Aggregate cache lookups in the subgraphs: hit or miss.', ['result']);
  const responseCache = counter('response_cache_lookups_total', "The gateway's response cache, per operation: hit, miss or bypass.", ['result']);
  const notModified = counter('response_cache_not_modified_total', 'Answers sent as 304 Not Modified.', []);
  const warehouseDuration = histogram('warehouse_query_duration_seconds', 'Warehouse query latency, as the subgraph timed it.', ['subgraph'], SECONDS_BUCKETS);
  const fetchDuration = histogram('subgraph_fetch_duration_seconds', 'Subgraph fetch latency.', ['subgraph'], SECONDS_BUCKETS);
  const subgraphErrors = counter('subgraph_errors_total', 'Errors in subgraph responses, and failed fetches (FETCH_FAILED), by code.', ['subgraph', 'code']);

  const operationLabels = new Set<string>();
  const operationLabel = (name: string | undefined) => {
    const label = name ?? 'anonymous';
    if (operationLabels.has(label)) return label;
    if (operationLabels.size >= MAX_OPERATION_LABELS) return 'other';
    operationLabels.add(label);
    return label;
  };

  return {
    registry,

    async metricsRoute(_request, response) {
      const text = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(text);
    },

    operation(r) {
      const outcome = r.mode === 'estimate' && r.errorCodes.length === 0 ? 'estimate'
        : r.rejected ? 'rejected'
          : r.errorCodes.length === 0 ? 'ok'
            : r.hasData ? 'partial' : 'error';
      operations.inc({ tenant: r.tenant, outcome });
      if (r.rejected) for (const code of new Set(r.errorCodes)) rejections.inc({ tenant: r.tenant, code });
      const executed = !r.rejected && r.mode !== 'estimate';
      if (executed) {
        estimatedBytes.inc({ tenant: r.tenant }, r.estimatedBilledBytes);
        billedBytes.inc({ tenant: r.tenant }, r.billedBytes);
        estimatedUsd.inc({ tenant: r.tenant }, r.estimatedUsd);
        billedUsd.inc({ tenant: r.tenant }, r.billedUsd);
        operationEstimated.observe({ tenant: r.tenant }, r.estimatedBilledBytes);
        operationBilled.observe({ tenant: r.tenant }, r.billedBytes);
        // Estimated at 0, there is no ratio (an unestimated bill still shows in billed_bytes_total).
        if (r.estimatedBilledBytes > 0) accuracy.observe({ operation: operationLabel(r.operationName) }, r.billedBytes / r.estimatedBilledBytes);
      }
      if (r.tenantRemainingBytes !== undefined) budgetRemaining.set({ tenant: r.tenant }, r.tenantRemainingBytes);
      responseCache.inc({ result: r.cache });
      if (r.notModified) notModified.inc();
      log.info({
        reqId: r.requestId, tenant: r.tenant, user: r.user, operation: r.operationName ?? null, mode: r.mode, outcome,
        durationMs: Math.round(r.durationMs), errors: r.errorCodes, estimatedBilledBytes: r.estimatedBilledBytes, billedBytes: r.billedBytes,
        overheadBilledBytes: r.overheadBilledBytes, cache: r.cache, ...(r.notModified ? { notModified: true } : {}),
      }, 'operation');
    },

    refused(code, requestId) {
      operations.inc({ tenant: '', outcome: 'rejected' });
      rejections.inc({ tenant: '', code });
      log.info({ reqId: requestId, outcome: 'rejected', errors: [code] }, 'operation');
    },

    subgraphFetch(subgraph, seconds, errorCodes, warehouse, failure) {
      fetchDuration.observe({ subgraph }, seconds);
      if (failure) log.warn({ subgraph, durationMs: Math.round(seconds * 1000), error: failure.message }, 'subgraph fetch failed');
      for (const code of errorCodes) subgraphErrors.inc({ subgraph, code });
      if (!warehouse) return;
      if (warehouse.cacheHits) cacheLookups.inc({ result: 'hit' }, warehouse.cacheHits);
      if (warehouse.cacheMisses) cacheLookups.inc({ result: 'miss' }, warehouse.cacheMisses);
      for (const ms of warehouse.queryDurationsMs ?? []) warehouseDuration.observe({ subgraph }, ms / 1000);
    },
  };
}

/** The record of an operation admission has answered (admission/admissionPlugin.ts `onResponse`). */
export function operationRecord(context: GatewayContext, response: ResponseSummary): OperationRecord {
  const { report } = response;
  return {
    requestId: context.requestId, tenant: context.principal.tenant, user: context.principal.userId, operationName: response.operationName,
    mode: report.mode, durationMs: performance.now() - context.startedAt, hasData: response.hasData, errorCodes: response.errorCodes,
    rejected: !response.executed, estimatedBilledBytes: report.estimatedBilledBytes, estimatedUsd: report.estimatedUsd,
    billedBytes: report.billedBytes, billedUsd: report.billedUsd, overheadBilledBytes: context.cost.actual.overheadBilledBytes, tenantRemainingBytes: report.budget?.tenant.remainingBytes ?? undefined,
    cache: report.responseCache, notModified: response.notModified,
  };
}

/** Answers every operation's request id in the `x-request-id` response header. */
export function requestIdHeader(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async willSendResponse({ response }) {
          response.http.headers.set(REQUEST_ID_HEADER, contextValue.requestId);
        },
      };
    },
  };
}
