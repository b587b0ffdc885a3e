/**
 * The data source of every warehouse subgraph: each fetch made for a client operation carries the
 * caller's identity signed over that very fetch (common/signedIdentity.ts) and the request id; a
 * failed fetch becomes a coded, retryable SUBGRAPH_UNAVAILABLE that names no internal address.
 */
import http from 'node:http';
import https from 'node:https';
import { type GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { ErrorCode, bytegateError } from '../../common/errors';
import { REQUEST_ID_HEADER } from '../../common/log';
import { signIdentity } from '../../common/signedIdentity';
import type { GatewayContext } from '../context';
import type { GatewayObservability, WarehouseReport } from '../observability';

/**
 * How long a connection may sit idle in a subgraph's pool: below Node's default server keepAliveTimeout
 * (5 s), the shortest a subgraph or a proxy in front of it is likely to keep one, so the gateway
 * usually closes an idle connection before the far end does (undici's default, for the same reason).
 * A subgraph announcing less (`Keep-Alive: timeout=N`) is closed 1 s before N.
 */
export const POOL_IDLE_TIMEOUT_MS = 4000;

export interface SubgraphDataSourceOptions {
  /** SUBGRAPH_SECRET: what identities are signed with. */
  readonly secret: string;
  /** SUBGRAPH_TIMEOUT_MS: the deadline of one fetch, signed too (past it the subgraph starts no warehouse job). */
  readonly timeoutMs: number;
  /**
   * SUBGRAPH_RETRY_MS: how long a read-only fetch whose connection was refused or reset before any
   * answer — a subgraph restarting — is retried, with backoff, before it fails SUBGRAPH_UNAVAILABLE.
   */
  readonly retryMs: number;
  readonly now: () => number;
  readonly observability: GatewayObservability;
  /** Each response of a client fetch: its extensions (`warehouse`: what it processed and billed) and error codes. */
  readonly onResponse: (context: GatewayContext, extensions: Record<string, unknown> | undefined, errorCodes: readonly unknown[]) => void;
}

/**
 * Adds the signed identity (and the operation's warehouse caps) to every fetch made for a client
 * operation, and hands each response's warehouse usage to admission.
 */
export class SignedIdentityDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  /** This subgraph's own keep-alive pool, so that a stale connection found in it can be acted on. */
  private readonly pool: http.Agent;

  constructor(
    private readonly subgraph: string,
    url: string,
    private readonly options: SubgraphDataSourceOptions,
  ) {
    super({ url });
    this.pool = connectionPool(url);
    // The fetcher's own timeout (minipass-fetch): a hung subgraph fails the fetch instead of the request hanging.
    const fetcher = this.fetcher;
    this.fetcher = ((input, init) => fetcher(input, { ...init, timeout: options.timeoutMs, agent: this.pool } as typeof init)) as typeof fetcher;
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    // Health checks and schema loading carry no caller (and are unused with a static supergraph).
    if (!isClientFetch(options)) return;
    const { request, context } = options;
    // The deadline is this fetch's timeout: past it the subgraph starts no warehouse job, as nobody would wait for it.
    const headers = signIdentity(context.principal, { query: request.query, variables: request.variables }, this.options.secret, this.options.now(), {
      caps: context.cost.caps, timeoutMs: this.options.timeoutMs, batch: context.batch,
    });
    for (const [name, value] of Object.entries(headers)) request.http?.headers.set(name, value);
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (!isClientFetch(options)) return super.process(options);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let response;
    try {
      try {
        response = await super.process(options);
      } catch (error) {
        // A pooled connection the far end had closed while it sat idle (a proxy's idle timeout, a
        // restart): the fetch never reached the subgraph. The pool's other idle connections are as
        // old, so they are dropped before the fetch is sent once more (on a new connection, or one
        // that has just served another fetch).
        if (!(error as { [STALE_CONNECTION]?: boolean })[STALE_CONNECTION]) throw error;
        this.dropIdleConnections();
        response = await super.process(options);
      }
    } catch (error) {
      response = await this.retryWhileRestarting(options, error, started);
    }
    const codes = (response.errors ?? []).map((error) => String(error.extensions?.code ?? 'UNCODED'));
    this.options.observability.subgraphFetch(this.subgraph, seconds(), codes, response.extensions?.warehouse as WarehouseReport | undefined);
    return response;
  }

  /**
   * Retries a read-only fetch that reached no subgraph (connection refused, or reset before any
   * answer: a subgraph restarting) with backoff for SUBGRAPH_RETRY_MS at most, within the fetch's own
   * timeout; any other failure, or one that outlasts that, becomes SUBGRAPH_UNAVAILABLE. A query
   * fetch that never reached the subgraph ran nothing there, so sending it again bills nothing twice.
   */
  private async retryWhileRestarting(options: ClientFetchOptions, failure: unknown, started: number) {
    const readOnly = !/^\s*mutation\b/.test(options.request.query ?? '');
    const until = started + Math.min(this.options.retryMs, this.options.timeoutMs);
    let error = failure;
    for (let backoffMs = RETRY_FIRST_BACKOFF_MS; readOnly && reachedNoSubgraph(error) && performance.now() + backoffMs < until; backoffMs *= 2) {
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      try {
        return await super.process(options);
      } catch (next) {
        error = next;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    this.options.observability.subgraphFetch(this.subgraph, seconds, ['FETCH_FAILED'], undefined, error as Error);
    if (error instanceof GraphQLError) throw error; // the subgraph answered, with an error of its own
    // Down, refusing or past SUBGRAPH_TIMEOUT_MS: said in our words (the fetch error names internal URLs).
    const timedOut = /timeout/i.test(String((error as Error).message));
    throw bytegateError(ErrorCode.SUBGRAPH_UNAVAILABLE, timedOut
      ? `The ${this.subgraph} service did not answer within ${this.options.timeoutMs} ms; the rest of the response stands. Retry.`
      : `The ${this.subgraph} service is unreachable; the rest of the response stands. Retry.`, { subgraph: this.subgraph, retryable: true });
  }

  /**
   * A subgraph's non-2xx answer: its own coded error when it sent one (message and code only), else
   * SUBGRAPH_UNAVAILABLE — never Apollo's default, which carries the subgraph's URL and raw body.
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]) {
    const body = (await response.json().catch(() => undefined)) as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] } | undefined;
    const first = body?.errors?.[0];
    if (first && typeof first.extensions?.code === 'string') return new GraphQLError(String(first.message ?? ''), { extensions: { code: first.extensions.code } });
    return bytegateError(ErrorCode.SUBGRAPH_UNAVAILABLE, `The ${this.subgraph} service answered HTTP ${response.status}; the rest of the response stands. Retry.`, {
      subgraph: this.subgraph, retryable: true,
    });
  }

  override didReceiveResponse({ response, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    this.options.onResponse(context, response.extensions, (response.errors ?? []).map((error) => error.extensions?.code));
    return response;
  }

  private dropIdleConnections(): void {
    for (const sockets of Object.values(this.pool.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }
}

// Private:

type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;
type ClientFetchOptions = Extract<ProcessOptions, { incomingRequestContext: unknown }>;

/** The first wait before a fetch that reached no subgraph is sent again; each next one doubles. */
const RETRY_FIRST_BACKOFF_MS = 50;

/** A fetch failure that says no subgraph received the request: nothing listening, or the connection closed before any answer. */
function reachedNoSubgraph(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || /socket hang up/i.test(String((error as Error).message));
}

/**
 * A fetch made for a client operation (not a health check or schema load). Apollo's
 * GraphQLDataSourceRequestKind enum is not exported from @apollo/gateway's root, so the fetch is told
 * by the field only that variant of the public GraphQLDataSourceProcessOptions union has.
 */
function isClientFetch(options: ProcessOptions): options is ClientFetchOptions {
  return 'incomingRequestContext' in options;
}

/** Marks a fetch error as a reset of a reused connection before any response (minipass-fetch copies it onto its FetchError). */
const STALE_CONNECTION = Symbol('stale pooled connection');

/**
 * The keep-alive pool of one subgraph's connections. A request reset (ECONNRESET, "socket hang up")
 * on a connection taken from the pool, before any response, is marked STALE_CONNECTION: Node's own
 * test for a request that may be retried (https://nodejs.org/api/http.html#requestreusedsocket).
 */
function connectionPool(url: string): http.Agent {
  const pool = new (new URL(url).protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, timeout: POOL_IDLE_TIMEOUT_MS });
  const reuseSocket = pool.reuseSocket.bind(pool);
  pool.reuseSocket = (socket, request) => {
    reuseSocket(socket, request);
    let answered = false;
    request.once('response', () => (answered = true));
    // Before minipass-fetch's own listener, which wraps the error.
    request.prependOnceListener('error', (error: NodeJS.ErrnoException) => {
      if (!answered && error.code === 'ECONNRESET') Object.assign(error, { [STALE_CONNECTION]: true });
    });
  };
  return pool;
}
