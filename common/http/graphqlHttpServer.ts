/**
 * A small Node HTTP integration for Apollo Server (https://www.apollographql.com/docs/apollo-server/integrations/building-integrations),
 * shared by the gateway and the subgraphs: `/graphql` (GET and POST), `/healthz`, `/readyz`, the extra
 * `routes`, 404 NOT_FOUND for any other path (`/` included), a request-size limit enforced while reading,
 * JSON errors with codes for what never reaches GraphQL, and HTTP batches (a JSON array of operations)
 * where `maxBatchOperations` allows them.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ApolloServer, type BaseContext, HeaderMap } from '@apollo/server';
import Negotiator from 'negotiator';
import { ErrorCode } from '../errors';
import { REQUEST_ID_HEADER } from '../log';
import { MiB } from '../units';

export interface Readiness {
  ready: boolean;
  /** Per-dependency detail shown on /readyz. */
  checks: Record<string, unknown>;
}

export interface GraphqlHttpServerOptions<Context extends BaseContext> {
  apollo: ApolloServer<Context>;
  /**
   * Builds the per-request context; throw a coded GraphQLError to refuse the request. `clientGone`
   * aborts when the connection closes before the answer was sent: work for it is wasted. `raw` is the
   * body as received (a POST's text; empty for a GET). For each operation of a batch: its own `body`
   * and `raw` (its JSON text), and `inBatch` true.
   */
  context: (request: IncomingMessage, body: unknown, clientGone: AbortSignal, raw: string, inBatch: boolean) => Promise<Context>;
  /** Largest accepted request body; larger ones get HTTP 413 PAYLOAD_TOO_LARGE. */
  maxBodyBytes: number;
  readiness?: () => Promise<Readiness>;
  /** Extra routes (e.g. `/metrics`), by exact path, or by prefix as `/console/*`. */
  routes?: Record<string, Route>;
  /** Answers a browser's GET of the GraphQL path (its Accept prefers HTML to JSON), e.g. with an explorer. */
  browserPage?: Route;
  /**
   * Runs before Apollo Server for every GraphQL request whose body was read (`raw`, not parsed yet) and
   * whose Accept allows JSON: an answer it returns is sent as it is (the gateway's warm path);
   * undefined lets Apollo Server answer.
   */
  intercept?: (request: IncomingMessage, url: URL, raw: string) => Promise<InterceptedAnswer | undefined>;
  /**
   * Most operations in one HTTP batch (a POST whose JSON body is an array, as Apollo Client's
   * BatchHttpLink sends). Each operation is its own GraphQL request — `intercept`, then Apollo Server
   * with its own `context` call, so it is limited, priced and admitted on its own — and the answer is
   * the array of their answers, in order. Undefined or 0: Apollo Server refuses batches (BAD_REQUEST).
   */
  maxBatchOperations?: number;
}

export type Route = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** An answer sent as it is: no body with a 304. */
export interface InterceptedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export function createGraphqlHttpServer<Context extends BaseContext>(options: GraphqlHttpServerOptions<Context>): http.Server {
  const server = http.createServer((request, response) => {
    handle(options, draining.has(server), request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, errorBody(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error.'));
      else response.destroy(error as Error);
    });
  });
  // Idle kept-alive connections stay open longer than a client keeps them (Node's default is 5 s), so
  // the server is not the side that closes one just as the gateway reuses it.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  server.on('clientError', answerClientError);
  return server;
}

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Listens on `port` (0 for any) on 127.0.0.1 unless `host` says otherwise; resolves the bound port. */
export async function listen(server: http.Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** How a server stops (Config.shutdown): how long it keeps serving once not ready, and how long requests in flight then get. */
export interface Shutdown {
  readonly delayMs: number;
  readonly timeoutMs: number;
}

/** Servers draining (drain()): /readyz answers 503 and every answer closes its connection. */
const draining = new WeakSet<http.Server>();

/**
 * Takes `server` out of rotation while it still serves: /readyz answers 503 `draining` (a load
 * balancer stops sending it requests) and every answer carries `connection: close`, so clients open
 * their next connection elsewhere instead of reusing one this server is about to close.
 */
export function drain(server: http.Server): void {
  draining.add(server);
}

/**
 * Stops accepting connections, lets requests in flight finish, and closes every connection as soon as
 * it is idle — kept-alive ones included, which would otherwise hold the process KEEP_ALIVE_TIMEOUT_MS
 * after their last answer — and all of them after `timeoutMs`.
 */
export function close(server: http.Server, timeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const drained = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(drained);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** How long close() waits by default for requests in flight before cutting their connections. */
const DRAIN_TIMEOUT_MS = 3000;

/** A served GraphQL endpoint: its URL and how to stop it. */
export interface ServedEndpoint {
  /** e.g. http://127.0.0.1:4000/graphql */
  readonly url: string;
  /**
   * Stops: with `shutdown`, first drains (drain()) for `delayMs`; then stops accepting requests, gives
   * those in flight `timeoutMs` (default 3 s), and stops Apollo Server.
   */
  close(shutdown?: Shutdown): Promise<void>;
}

/** Serves `server` on `port` (0: any free port) of `host` (default 127.0.0.1); `apollo` must be started. */
export async function serve(server: http.Server, apollo: { stop(): Promise<void> }, port: number, host = '127.0.0.1'): Promise<ServedEndpoint> {
  const bound = await listen(server, port, host);
  return {
    url: `http://${urlHostOf(host)}:${bound}/graphql`,
    async close(shutdown) {
      if (shutdown) {
        drain(server);
        await new Promise((resolve) => setTimeout(resolve, shutdown.delayMs));
      }
      await close(server, shutdown?.timeoutMs);
      await apollo.stop();
    },
  };
}

/** How this machine reaches a server bound to `host`, as a URL's host: the loopback address for a wildcard. */
export function urlHostOf(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

// Private:

async function handle<Context extends BaseContext>(
  options: GraphqlHttpServerOptions<Context>,
  isDraining: boolean,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (isDraining) response.setHeader('connection', 'close');
  if (url.pathname === '/healthz') return sendJson(response, 200, { status: 'ok' });
  if (url.pathname === '/readyz') {
    if (isDraining) return sendJson(response, 503, { status: 'draining', checks: {} });
    const readiness = options.readiness ? await options.readiness() : { ready: true, checks: {} };
    return sendJson(response, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'not ready', checks: readiness.checks });
  }
  const route = routeOf(options.routes, url.pathname);
  if (route) return route(request, response);
  if (url.pathname !== '/graphql') return sendJson(response, 404, errorBody(ErrorCode.NOT_FOUND, `No route ${url.pathname}.`));
  if (options.browserPage && request.method === 'GET' && new Negotiator(request).mediaType(['application/json', 'text/html']) === 'text/html') {
    return options.browserPage(request, response);
  }

  const raw = await readBody(request, options.maxBodyBytes);
  if (raw === undefined) return refuseTooLarge(request, response, options.maxBodyBytes);
  // Apollo Server checks Accept only after executing (a refused client would still be charged): first, here.
  if (request.headers.accept !== undefined && !new Negotiator(request).mediaType(JSON_MEDIA_TYPES)) {
    return sendJson(response, 406, errorBody(ErrorCode.BAD_REQUEST, `The Accept header must allow ${JSON_MEDIA_TYPES.join(' or ')}.`));
  }
  const intercepted = await options.intercept?.(request, url, raw);
  if (intercepted) return sendAnswer(response, intercepted);
  let body: unknown = raw;
  if (request.method === 'POST' && (request.headers['content-type'] ?? '').includes('application/json')) {
    try {
      body = raw.length ? JSON.parse(raw) : {};
    } catch {
      return sendJson(response, 400, errorBody(ErrorCode.BAD_USER_INPUT, 'Request body is not valid JSON.'));
    }
  }
  const clientGone = new AbortController();
  if (request.socket.destroyed) clientGone.abort();
  else {
    response.once('close', () => {
      if (!response.writableFinished) clientGone.abort();
    });
  }
  if (Array.isArray(body) && options.maxBatchOperations) {
    return sendAnswer(response, await answerBatch(options, options.maxBatchOperations, request, url, body, clientGone.signal));
  }
  const result = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: (request.method ?? 'GET').toUpperCase(), headers: headerMapOf(request), search: url.search, body },
    context: () => options.context(request, body, clientGone.signal, raw, false),
  });
  response.statusCode = result.status ?? 200;
  for (const [name, value] of result.headers) response.setHeader(name, value);
  if (response.statusCode === 304) {
    response.end(); // Not Modified: the client holds the answer (RFC 9110 §15.4.5: no content)
    return;
  }
  if (result.body.kind === 'complete') {
    response.setHeader('content-length', Buffer.byteLength(result.body.string));
    response.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}

function sendAnswer(response: ServerResponse, answer: InterceptedAnswer): void {
  const content = answer.status === 304 ? undefined : answer.body;
  // A known length: one write, no chunked framing.
  response.writeHead(answer.status, content === undefined ? answer.headers : { ...answer.headers, 'content-length': Buffer.byteLength(content) });
  response.end(content);
}

function headerMapOf(request: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/**
 * An HTTP batch: every operation answered as if it had come alone, concurrently (as Apollo Server's own
 * batching runs them), in one JSON array in request order. The batch's HTTP status is its operations'
 * when they all share one (all 401: the token; all 429: the budget, with the longest Retry-After), else
 * 200 with each operation's coded errors in its own slot — a client failing on a non-2xx status would
 * otherwise drop the answers that did succeed. A conditional request makes no sense for a batch: its
 * If-None-Match is ignored, so no operation answers 304.
 */
async function answerBatch<Context extends BaseContext>(
  options: GraphqlHttpServerOptions<Context>,
  maxOperations: number,
  request: IncomingMessage,
  url: URL,
  operations: unknown[],
  clientGone: AbortSignal,
): Promise<InterceptedAnswer> {
  const refuse = (message: string): InterceptedAnswer => ({ status: 400, headers: JSON_HEADERS, body: JSON.stringify(errorBody(ErrorCode.BAD_REQUEST, message)) });
  if (operations.length === 0) return refuse('The batch holds no operation.');
  if (operations.length > maxOperations) {
    return refuse(`A batch holds at most ${maxOperations} operations (MAX_BATCH_OPERATIONS); this one has ${operations.length}. Send the rest in another request.`);
  }
  delete request.headers['if-none-match'];
  const headers = headerMapOf(request);
  const answers = await Promise.all(operations.map(async (operation): Promise<InterceptedAnswer> => {
    if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) return refuse('Each operation of a batch is a JSON object: { query, variables, operationName, extensions }.');
    let raw: string;
    try {
      raw = JSON.stringify(operation);
    } catch {
      return refuse('The operation is nested too deeply to read.'); // JSON.stringify's recursion ran out of stack
    }
    const intercepted = await options.intercept?.(request, url, raw);
    if (intercepted) return intercepted;
    const result = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: url.search, body: operation },
      context: () => options.context(request, operation, clientGone, raw, true),
    });
    let body = '';
    if (result.body.kind === 'complete') body = result.body.string;
    else for await (const chunk of result.body.asyncIterator) body += chunk;
    return { status: result.status ?? 200, headers: Object.fromEntries(result.headers), body };
  }));
  const statuses = new Set(answers.map((answer) => answer.status));
  const status = statuses.size === 1 ? answers[0].status : 200;
  // The request id is the HTTP request's, the same in every answer.
  const requestId = answers.find((answer) => answer.headers[REQUEST_ID_HEADER])?.headers[REQUEST_ID_HEADER];
  const batchHeaders: Record<string, string> = { ...JSON_HEADERS, ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}) };
  if (status === 429) batchHeaders['retry-after'] = String(Math.max(...answers.map((answer) => Number(answer.headers['retry-after'] ?? 0))));
  return { status, headers: batchHeaders, body: `[${answers.map((answer) => (answer.body ?? 'null').trimEnd()).join(',')}]` };
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

const JSON_MEDIA_TYPES = ['application/graphql-response+json', 'application/json'];

/**
 * Bounds of reading the rest of an oversized body before its connection closes (refuseTooLarge): the
 * client has had its answer from the start; this lets it finish sending and read it. 5 s is nginx's
 * lingering_timeout. A client sending more than 64 MiB past the limit may see a reset instead (Node's
 * fetch streaming 18 MB did, 3% of the time, with 16 MiB); reading and discarding is cheap, and 64 MiB
 * is under a second at 1 Gbit/s, so a client that never ends is cut off well before 5 s on a fast link.
 */
export const LINGER_MS = 5000;
export const LINGER_MAX_BYTES = 64 * MiB;

/** The body as text, or undefined when it exceeds `maxBytes` (reading stops there). */
function readBody(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      request.off('data', onData).off('end', onEnd).off('error', reject);
      resolve(undefined);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    request.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

/**
 * HTTP 413 PAYLOAD_TOO_LARGE, sent at once, with the connection closed only once the rest of the body
 * was read and discarded (discardBody), as nginx's lingering close does
 * (https://nginx.org/en/docs/http/ngx_http_core_module.html#lingering_close): a connection closed with
 * bytes still unread is reset by the kernel, and a client still sending (Node's fetch posting megabytes)
 * then fails on EPIPE or ECONNRESET before it reads the answer.
 */
async function refuseTooLarge(request: IncomingMessage, response: ServerResponse, maxBodyBytes: number): Promise<void> {
  const text = JSON.stringify(errorBody(ErrorCode.PAYLOAD_TOO_LARGE, `Request body is larger than ${maxBodyBytes} bytes.`));
  // Whole, its length known, so the client has its answer while it is still sending.
  response.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
  response.write(text);
  await discardBody(request);
  response.end(); // ending an answer with `connection: close` makes Node close the connection
}

/** Reads and discards what is left of `request`'s body until it ends, LINGER_MAX_BYTES more were read, or LINGER_MS passed. */
function discardBody(request: IncomingMessage): Promise<void> {
  if (request.readableEnded || request.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let discarded = 0;
    const done = () => {
      clearTimeout(timer);
      request.off('data', onData).off('end', done).off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > LINGER_MAX_BYTES) done();
    };
    const timer = setTimeout(done, LINGER_MS);
    request.on('data', onData).once('end', done).once('close', done);
  });
}

/**
 * Node refuses HTTP it cannot parse before any handler runs, and by default answers with an empty
 * body; here the answer is coded like every other error. Headers (a GET's query string included) over
 * Node's limit (--max-http-header-size, 16 KiB by default) are PAYLOAD_TOO_LARGE with HTTP 431.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, body] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, errorBody(ErrorCode.PAYLOAD_TOO_LARGE, 'The request line and headers are too large; send a long query in a POST body.')]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, errorBody(ErrorCode.BAD_REQUEST, 'The request was not received in time.')]
      : [400, errorBody(ErrorCode.BAD_REQUEST, 'Malformed HTTP request.')];
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

function routeOf(routes: Record<string, Route> | undefined, pathname: string): Route | undefined {
  if (!routes) return undefined;
  return routes[pathname] ?? Object.entries(routes).find(([key]) => key.endsWith('/*') && pathname.startsWith(key.slice(0, -1)))?.[1];
}

function errorBody(code: string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}
