/**
 * The console's HTTP routes on the gateway: `/console/` (the page), `/console/assets/*` (its bundle,
 * bundle.ts), `/console/config.json` (what the page needs to know: how to sign in, the price of a
 * TiB), `/console/dev-sign-in` (development only), and a browser's GET of `/graphql`, sent to the
 * explorer. Every answer forbids anything from outside the gateway (Content-Security-Policy) but the
 * identity provider's endpoints the sign-in talks to.
 */
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { ErrorCode } from '../../common/errors';
import type { Route } from '../../common/http/graphqlHttpServer';
import { isRole, isTenantId } from '../../common/principal';
import { signDevToken } from '../auth/devToken';
import { type ConsoleBundle, bundleConsole } from './bundle';

export interface ConsoleSettings {
  readonly pricePerTibUsd: number;
  readonly maxQueryBytes: number;
  /** OpenID Connect sign-in (authorization code + PKCE): the issuer, the console's public client id, the API's audience. */
  readonly oidc?: { readonly issuer: string; readonly clientId: string; readonly audience: string };
  /**
   * Development sign-in: tokens for demo users, signed with this secret. Only ever the public
   * development secret, with which anyone can sign any token already (`npm run token`).
   */
  readonly devSecret?: string;
}

/** What the page reads from /console/config.json. */
export interface ConsoleConfig {
  readonly pricePerTibUsd: number;
  readonly maxQueryBytes: number;
  readonly signIn: { readonly dev: boolean; readonly oidc: ConsoleSettings['oidc'] | null };
}

export interface ConsoleRoutes {
  readonly routes: Record<string, Route>;
  /** A browser's GET of /graphql: to the explorer. */
  readonly browserPage: Route;
}

export function consoleRoutes(settings: ConsoleSettings): ConsoleRoutes {
  let bundle: Promise<ServedBundle> | undefined;
  const served = () => (bundle ??= bundleConsole().then(serve)).catch((error: unknown) => {
    bundle = undefined; // a failed bundle is tried again by the next request
    throw error;
  });
  const config: ConsoleConfig = {
    pricePerTibUsd: settings.pricePerTibUsd,
    maxQueryBytes: settings.maxQueryBytes,
    signIn: { dev: settings.devSecret !== undefined, oidc: settings.oidc ?? null },
  };
  const headers = securityHeaders(settings.oidc?.issuer);
  const page: Route = async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname.slice('/console/'.length);
    if (path === 'config.json') return send(response, 200, { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, JSON.stringify(config));
    if (path === 'dev-sign-in') return devSignIn(request, response, settings.devSecret, headers);
    if (request.method !== 'GET' && request.method !== 'HEAD') return sendError(response, 405, ErrorCode.BAD_REQUEST, `${request.method} is not allowed here.`, headers);
    const file = (await served()).get(path);
    if (!file) return sendError(response, 404, ErrorCode.NOT_FOUND, `No console file ${path}.`, headers);
    if (request.headers['if-none-match'] === file.etag) return send(response, 304, { ...headers, etag: file.etag });
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    send(response, 200, {
      ...headers, 'content-type': file.contentType, etag: file.etag, 'cache-control': 'no-cache', vary: 'accept-encoding', ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    }, request.method === 'HEAD' ? undefined : gzip ? file.gzipped : file.body);
  };
  return {
    routes: {
      '/console': (_request, response) => send(response, 308, { ...headers, location: '/console/' }),
      '/console/*': page,
    },
    browserPage: (_request, response) => send(response, 303, { ...headers, location: '/console/#/explorer' }),
  };
}

// Private:

type ServedBundle = ReadonlyMap<string, { contentType: string; body: Buffer; gzipped: Buffer; etag: string }>;

function serve(bundle: ConsoleBundle): ServedBundle {
  return new Map([...bundle].map(([path, file]) => [path, {
    ...file, gzipped: zlib.gzipSync(file.body), etag: `"${crypto.createHash('sha256').update(file.body).digest('base64url').slice(0, 22)}"`,
  }]));
}

/**
 * The page's scripts and styles come from the gateway only (GraphiQL and CodeMirror set inline styles,
 * fonts and icons are inlined data); it talks to the gateway, and to the identity provider to sign in.
 */
function securityHeaders(issuer: string | undefined): Record<string, string> {
  const connect = ["'self'", ...(issuer ? [new URL(issuer).origin] : [])].join(' ');
  return {
    'content-security-policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src ${connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

/** POST {tenant, user, role} → {token}: an hour's development token for that demo user. */
async function devSignIn(request: IncomingMessage, response: ServerResponse, secret: string | undefined, headers: Record<string, string>): Promise<void> {
  if (!secret) return sendError(response, 404, ErrorCode.NOT_FOUND, 'Development sign-in is off: the gateway does not run on the public development secret.', headers);
  if (request.method !== 'POST') return sendError(response, 405, ErrorCode.BAD_REQUEST, 'POST {"tenant", "user", "role"} to sign in.', headers);
  let body: { tenant?: unknown; user?: unknown; role?: unknown };
  try {
    body = JSON.parse(await readSmallBody(request)) as typeof body;
  } catch {
    return sendError(response, 400, ErrorCode.BAD_USER_INPUT, 'The body must be JSON {"tenant", "user", "role"} of at most 1 KiB.', headers);
  }
  const { tenant, user, role } = body ?? {};
  if (typeof tenant !== 'string' || !isTenantId(tenant)) return sendError(response, 400, ErrorCode.BAD_USER_INPUT, '"tenant" must be a tenant id.', headers);
  if (typeof user !== 'string' || !/^[\w.@-]{1,128}$/.test(user)) return sendError(response, 400, ErrorCode.BAD_USER_INPUT, '"user" must be a user id.', headers);
  if (typeof role !== 'string' || !isRole(role)) return sendError(response, 400, ErrorCode.BAD_USER_INPUT, '"role" must be a role.', headers);
  const token = await signDevToken({ tenant, user, roles: [role], secret, ttlSeconds: DEV_TOKEN_TTL_SECONDS });
  send(response, 200, { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, JSON.stringify({ token }));
}

const DEV_TOKEN_TTL_SECONDS = 3600;
const MAX_SIGN_IN_BODY_BYTES = 1024;

function readSmallBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_SIGN_IN_BODY_BYTES) reject(new Error('too large'));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body?: string | Buffer): void {
  response.writeHead(status, body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  response.end(body);
}

function sendError(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string>): void {
  send(response, status, { ...headers, 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}
