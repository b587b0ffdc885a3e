/**
 * Shared wiring for gateway tests, all real HTTP on loopback: fixture subgraphs that verify and record
 * the signed identity of every request, a gateway composed over them, tokens, and a JWKS server.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { ResolverMap } from '../../common/graphql/subgraphSchema';
import type { DocumentNode } from 'graphql';
import { type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { type Config, loadConfig } from '../../common/config';
import { close, createGraphqlHttpServer, listen } from '../../common/http/graphqlHttpServer';
import type { Principal } from '../../common/principal';
import { IDENTITY_HEADER, SIGNATURE_HEADER, type WarehouseCaps, verifyIdentity } from '../../common/signedIdentity';
import { type RunningGateway, startGateway } from '../../gateway';
import type { ApolloLogger } from '../../common/log';
import { composeSupergraph } from '../../gateway/supergraph';

export interface FixtureContext {
  principal: Principal;
}

/** A test subgraph module (like gateway-js's fixtures): name, typeDefs, resolvers. */
export interface FixtureSubgraph {
  name: string;
  typeDefs: DocumentNode;
  resolvers: ResolverMap<FixtureContext>;
}

/** One HTTP request a fixture subgraph received, and what verifying its identity headers gave. */
export interface ReceivedRequest {
  readonly subgraph: string;
  readonly headers: IncomingHttpHeaders;
  /** Set when the request reached GraphQL (after the body was read). */
  body?: { query?: string; variables?: Record<string, unknown> };
  principal?: Principal;
  /** The warehouse caps the gateway signed into the request, if it enforces any. */
  caps?: WarehouseCaps;
  refusal?: string;
}

export interface Harness {
  readonly config: Config;
  readonly gatewayUrl: string;
  /** The served fixtures by name (closing one simulates a subgraph outage). */
  readonly subgraphs: Readonly<Record<string, ServedFixture>>;
  /** Every request any fixture subgraph received, in arrival order (counted at its HTTP server). */
  readonly subgraphRequests: ReceivedRequest[];
  /** POSTs `body` as JSON to the gateway (a string is sent as is). */
  post(body: unknown, headers?: Record<string, string>): Promise<HttpResult>;
  /** POSTs `{query, variables}` with a valid token for `principal` (default DEFAULT_PRINCIPAL). */
  query(query: string, variables?: Record<string, unknown>, principal?: Principal): Promise<HttpResult>;
  /** An HS256 token signed with the gateway's JWT_SECRET; `claims` replace the defaults. */
  token(claims?: JWTPayload, principal?: Principal): Promise<string>;
  close(): Promise<void>;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  /** The parsed JSON response; `any` so tests can assert into it directly. */
  body: any;
}

export interface ServedFixture {
  readonly url: string;
  close(): Promise<void>;
}

export const DEFAULT_PRINCIPAL: Principal = { tenant: 'acme', userId: '00u1ceo', roles: ['executive', 'quota-admin'] };

/** Starts the fixture subgraphs and a gateway over them, configured from `env` (PORT is always 0). */
export async function startHarness(fixtures: FixtureSubgraph[], env: NodeJS.ProcessEnv = {}): Promise<Harness> {
  const config = loadConfig({ ...env, PORT: '0' });
  const subgraphRequests: ReceivedRequest[] = [];
  const subgraphs = await Promise.all(fixtures.map((fixture) => serveFixture(fixture, config, subgraphRequests)));
  let gateway: RunningGateway;
  try {
    const supergraphSdl = composeSupergraph(subgraphs.map((s, i) => ({ name: fixtures[i].name, url: s.url, typeDefs: fixtures[i].typeDefs })));
    gateway = await startGateway(config, { supergraphSdl, logger: quietLogger });
  } catch (error) {
    await Promise.all(subgraphs.map((s) => s.close()));
    throw error;
  }

  const token = (claims: JWTPayload = {}, principal = DEFAULT_PRINCIPAL) => {
    if (config.auth.kind !== 'hs256') throw new Error('token() needs HS256 auth; sign with the JWKS key instead.');
    return signJwt({ ...claimsOf(principal), ...claims }, new TextEncoder().encode(config.auth.secret), 'HS256');
  };
  const post = async (body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    config,
    gatewayUrl: gateway.url,
    subgraphs: Object.fromEntries(fixtures.map((fixture, i) => [fixture.name, subgraphs[i]])),
    subgraphRequests,
    post,
    token,
    async query(query, variables, principal = DEFAULT_PRINCIPAL) {
      return post({ query, variables }, { authorization: `Bearer ${await token({}, principal)}` });
    },
    async close() {
      await gateway.close();
      await Promise.all(subgraphs.map((s) => s.close()));
    },
  };
}

/** The claims `npm run token` puts in a token for `principal`, expiring in an hour. */
export function claimsOf(principal: Principal): JWTPayload {
  return { sub: principal.userId, tenant: principal.tenant, roles: [...principal.roles], exp: Math.floor(Date.now() / 1000) + 3600 };
}

/** Signs `claims` as given (no defaults added, so tests can leave any claim out). */
export function signJwt(claims: JWTPayload, key: Parameters<SignJWT['sign']>[0], alg: string, kid?: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) }).sign(key);
}

export interface JwksServer {
  /** e.g. http://127.0.0.1:PORT/.well-known/jwks.json */
  readonly url: string;
  /** Signs `claims` with the served RSA key (RS256, with its kid). */
  sign(claims: JWTPayload): Promise<string>;
  readonly hits: () => number;
  close(): Promise<void>;
}

/** A local IdP key endpoint serving a freshly generated RSA public key. */
export async function startJwksServer(): Promise<JwksServer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const kid = 'test-key-1';
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let hits = 0;
  const server = http.createServer((request, response) => {
    hits += 1;
    if (request.url !== '/.well-known/jwks.json') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  const port = await listen(server, 0);
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    sign: (claims) => signJwt(claims, privateKey, 'RS256', kid),
    hits: () => hits,
    close: () => close(server),
  };
}

// Private:

const quietLogger: ApolloLogger = {
  debug: () => {},
  info: () => {},
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** Serves a fixture like a bytegate subgraph: every request must carry a valid signed identity. */
async function serveFixture(fixture: FixtureSubgraph, config: Config, log: ReceivedRequest[]): Promise<ServedFixture> {
  const apollo = new ApolloServer<FixtureContext>({
    schema: buildSubgraphSchema({ typeDefs: fixture.typeDefs, resolvers: fixture.resolvers as ResolverMap<unknown> }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();
  const received = new WeakMap<IncomingMessage, ReceivedRequest>();
  const server = createGraphqlHttpServer<FixtureContext>({
    apollo,
    maxBodyBytes: config.limits.maxBodyBytes,
    context: async (request, rawBody) => {
      const entry = received.get(request);
      const body = rawBody as ReceivedRequest['body'];
      if (entry) entry.body = body;
      try {
        const { principal, caps } = verifyIdentity(
          { identity: request.headers[IDENTITY_HEADER] as string | undefined, signature: request.headers[SIGNATURE_HEADER] as string | undefined },
          { query: body?.query, variables: body?.variables },
          config.subgraphSecret,
          Date.now(),
        );
        if (entry) Object.assign(entry, { principal, caps });
        return { principal };
      } catch (error) {
        if (entry) entry.refusal = (error as Error).message;
        throw error;
      }
    },
  });
  server.prependListener('request', (request: IncomingMessage) => {
    const entry: ReceivedRequest = { subgraph: fixture.name, headers: request.headers };
    log.push(entry);
    received.set(request, entry);
  });
  const port = await listen(server, 0);
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: () => (closed ??= close(server).then(() => apollo.stop())),
  };
}
