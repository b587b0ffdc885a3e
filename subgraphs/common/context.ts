/**
 * The per-request context every subgraph resolver receives. Built before any resolver runs: a
 * request without a valid gateway signature is refused here with INVALID_SIGNATURE (HTTP 401),
 * so it never reaches execution and never touches the warehouse. Once the gateway stops waiting for
 * the answer — its connection closed, or the deadline it signed passed — no warehouse job starts.
 */
import type { IncomingMessage } from 'node:http';
import type { BaseContext } from '@apollo/server';
import type { Config } from '../../common/config';
import { type Logger, REQUEST_ID_HEADER, requestIdFrom, silentLog } from '../../common/log';
import type { Principal } from '../../common/principal';
import { IDENTITY_HEADER, SIGNATURE_HEADER, type SignedRequest, type WarehouseCaps, verifyIdentity } from '../../common/signedIdentity';
import type { Warehouse } from '../../warehouse/warehouse';
import type { AggregateCache } from './aggregateCache';
import { type BatchLoad, type BatchedLoads, batchedLoads } from './batchedLoads';
import { type RequestAggregates, requestAggregates } from './cachedAggregates';
import { type Scope, loadScope } from './scope';
import { type TenantWarehouse, tenantWarehouse } from './tenantWarehouse';

/** What a subgraph is built from. */
export interface SubgraphDeps {
  warehouse: Warehouse;
  config: Config;
  /** The aggregate cache (subgraphs/common/aggregateCache.ts); undefined: every aggregate is computed. */
  aggregates?: AggregateCache;
  /** Clock for signature expiry and the signed deadline, epoch ms; default Date.now. */
  now?: () => number;
  /** Request logs (one line per request); default silent. */
  log?: Logger;
}

export interface SubgraphContext extends BaseContext {
  /** Verified from the signed identity headers; the only source of the tenant. */
  readonly principal: Principal;
  /** The warehouse bound to the principal's tenant, metering this request's usage. */
  readonly warehouse: TenantWarehouse;
  /** Cached aggregates and directory reads of the caller's tenant (cachedAggregates.ts). */
  readonly aggregates: RequestAggregates;
  /** The gateway's request id (x-request-id), or a new one for a direct call. */
  readonly requestId: string;
  /** Logs with the request id, tenant and user attached. */
  readonly log: Logger;
  /** The caller's scope, computed on first use and then shared by the request's resolvers. */
  scope(): Promise<Scope>;
  /**
   * Per-request state (a subgraph's DataLoaders), created on first use under `key` and dropped
   * with the request: nothing cached here can leak to another caller or tenant.
   */
  perRequest<T>(key: string, create: () => T): T;
  /**
   * Runs the DataLoader batch function `load` of the loader named `loader` for `keys`: at once under
   * this context, or — for a request serving an operation of a client's HTTP batch — together with
   * the same loader's keys from the batch's other requests (batchedLoads.ts), under the first one's
   * context. Only the same caller's same batch ever shares.
   */
  batchLoad<V>(loader: string, keys: readonly string[], load: BatchLoad<SubgraphContext, V>): Promise<readonly (V | Error)[]>;
}

/**
 * The context function for createGraphqlHttpServer: verifies the identity against the request it signs.
 * `clientGone` aborts when the connection closes before the answer was sent.
 */
export function subgraphContext(deps: SubgraphDeps): (request: IncomingMessage, body: unknown, clientGone: AbortSignal) => Promise<SubgraphContext> {
  const now = deps.now ?? Date.now;
  const batches = batchedLoads<SubgraphContext>();
  const { subgraphSecret, subgraphPreviousSecret } = deps.config;
  const verificationKeys = subgraphPreviousSecret ? [subgraphSecret, subgraphPreviousSecret] : [subgraphSecret];
  return async (request, body, clientGone) => {
    const { principal, caps, deadline, batch } = verifyIdentity(
      { identity: header(request, IDENTITY_HEADER), signature: header(request, SIGNATURE_HEADER) },
      signedRequest(request, body),
      verificationKeys,
      now(),
    );
    return createContext(principal, deps.warehouse, {
      caps, aggregates: deps.aggregates, dryRunAboveBytes: deps.config.dryRunAboveBytes, operationName: clientOperationName(body),
      requestId: requestIdFrom(request.headers[REQUEST_ID_HEADER]), log: deps.log, warehouseTimeoutMs: deps.config.warehouseTimeoutMs,
      clientGone, deadline, now, batch: batch === undefined ? undefined : { id: batch, loads: batches },
    });
  };
}

/** A context for an already verified principal (also for in-process `executeOperation`). */
export function createContext(
  principal: Principal,
  warehouse: Warehouse,
  options: {
    caps?: WarehouseCaps; aggregates?: AggregateCache; dryRunAboveBytes?: number; operationName?: string;
    requestId?: string; log?: Logger; warehouseTimeoutMs?: number;
    /** No warehouse job starts once this aborts or `deadline` (epoch ms, by `now`) has passed; see tenantWarehouse. */
    clientGone?: AbortSignal; deadline?: number; now?: () => number;
    /** The client HTTP batch the request serves (signed by the gateway), and where its loads meet. */
    batch?: { id: string; loads: BatchedLoads<SubgraphContext> };
  } = {},
): SubgraphContext {
  const { caps, aggregates } = options;
  const requestId = options.requestId ?? requestIdFrom(undefined);
  const state = new Map<string, unknown>();
  const perRequest = <T>(key: string, create: () => T): T => {
    if (!state.has(key)) state.set(key, create());
    return state.get(key) as T;
  };
  const bound = tenantWarehouse(warehouse, principal.tenant, {
    caps, dryRunAboveBytes: options.dryRunAboveBytes, timeoutMs: options.warehouseTimeoutMs,
    signal: options.clientGone, deadline: options.deadline, now: options.now,
    attribution: { user: principal.userId, operation: options.operationName, requestId },
  });
  const cached = requestAggregates(aggregates, bound);
  const { batch } = options;
  const sharedBy = batch && [principal.tenant, principal.userId, [...principal.roles].sort().join(','), batch.id].join('\n');
  const context: SubgraphContext = {
    principal,
    requestId,
    log: (options.log ?? silentLog).child({ reqId: requestId, tenant: principal.tenant, user: principal.userId }),
    warehouse: bound,
    aggregates: cached,
    scope: () => perRequest('scope', () => loadScope(principal, bound, cached)),
    perRequest,
    batchLoad: (loader, keys, load) => (sharedBy && batch ? batch.loads.load(`${sharedBy}\n${loader}`, context, keys, load) : load(context, keys)),
  };
  return context;
}

// Private:

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The operation the signature must cover: the POST body's, or a GET's query string. */
function signedRequest(request: IncomingMessage, body: unknown): SignedRequest {
  if (body !== null && typeof body === 'object') {
    const { query, variables } = body as { query?: unknown; variables?: unknown };
    return { query: typeof query === 'string' ? query : undefined, variables: isObject(variables) ? variables : undefined };
  }
  const search = new URL(request.url ?? '/', 'http://localhost').searchParams;
  return { query: search.get('query') ?? undefined, variables: jsonObject(search.get('variables')) };
}

/**
 * The client's operation name, from the one the gateway gave this subgraph's fetch
 * (`<ClientName>__<subgraph>__<n>`); undefined for an anonymous operation. Not signed: it only labels jobs.
 */
function clientOperationName(body: unknown): string | undefined {
  const name = body !== null && typeof body === 'object' ? (body as { operationName?: unknown }).operationName : undefined;
  if (typeof name !== 'string' || name === '') return undefined;
  return /^(.+)__[A-Za-z0-9_]+__\d+$/.exec(name)?.[1] ?? name;
}

function jsonObject(text: string | null): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined; // unreadable variables sign as none; the operation itself fails on them later
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
