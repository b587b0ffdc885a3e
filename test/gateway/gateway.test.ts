/** The gateway over HTTP: operation limits, body size, probes, introspection. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createFileStore } from '../../budgets/fileStore';
import { createMemoryLedger } from '../../budgets/memoryLedger';
import { getIntrospectionQuery } from 'graphql';
import { ErrorCode } from '../../common/errors';
import { loadConfig } from '../../common/config';
import { close, listen } from '../../common/http/graphqlHttpServer';
import { buildGateway, startGateway } from '../../gateway';
import { signDevToken } from '../../gateway/auth/devToken';
import { composeDefaultSupergraph } from '../../gateway/supergraph';
import { type Harness, startHarness } from './harness';
import { accounts } from './fixtures/accounts';
import { usage } from './fixtures/usage';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness([accounts, usage], { MAX_DEPTH: '4', MAX_ALIASES: '3', MAX_TOKENS: '200', MAX_BODY_BYTES: '4096' });
});
afterAll(() => harness.close());
beforeEach(() => harness.subgraphRequests.splice(0));

/** `{ me { manager { … { id } } } }` with `depth` fields on its path. */
const nested = (depth: number) => `{ me { ${'manager { '.repeat(depth - 2)}id${' }'.repeat(depth - 2)} } }`;

describe('operation limits: coded 400s, and no subgraph is called', () => {
  test.each<[string, string, number, string, RegExp]>([
    ['depth at the limit', nested(4), 200, '', /./],
    ['depth over the limit', nested(5), 400, ErrorCode.MAX_DEPTH_EXCEEDED, /^The operation has depth 5, over the maximum of 4\.$/],
    ['aliases at the limit', '{ a: me { id } b: me { id } c: me { id } }', 200, '', /./],
    ['aliases over the limit', '{ a: me { id } b: me { id } c: me { id } d: me { id } }', 400, ErrorCode.MAX_ALIASES_EXCEEDED, /^The operation uses 4 aliases, over the maximum of 3\.$/],
    ['tokens over the limit', `{ me { ${'id '.repeat(200)}} }`, 400, ErrorCode.MAX_TOKENS_EXCEEDED, /more tha[nt] 200 tokens/],
    ['a plain syntax error keeps its code', '{ me { id }', 400, ErrorCode.GRAPHQL_PARSE_FAILED, /^Syntax Error/],
    ['a plain validation error keeps its code', '{ me { nope } }', 400, ErrorCode.GRAPHQL_VALIDATION_FAILED, /Cannot query field "nope"/],
  ])('%s', async (_, query, status, code, message) => {
    const result = await harness.query(query);
    expect(result.status).toBe(status);
    if (status === 200) {
      expect(result.body.errors).toBeUndefined();
      expect(harness.subgraphRequests.length).toBeGreaterThan(0);
      return;
    }
    expect(result.body.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(message), extensions: expect.objectContaining({ code }) })]);
    expect(result.body.errors[0].extensions.stacktrace).toBeUndefined();
    expect(harness.subgraphRequests).toEqual([]);
  });

  test('authentication comes first: an unauthenticated over-limit operation is a 401', async () => {
    const result = await harness.post({ query: nested(9) });
    expect([result.status, result.body.errors[0].extensions.code]).toEqual([401, ErrorCode.UNAUTHENTICATED]);
  });

  test('a body over MAX_BODY_BYTES is a 413 PAYLOAD_TOO_LARGE', async () => {
    const result = await harness.post({ query: '{ me { id } }', variables: { pad: 'x'.repeat(5000) } }, { authorization: `Bearer ${await harness.token()}` });
    expect(result.status).toBe(413);
    expect(result.body.errors[0].extensions.code).toBe(ErrorCode.PAYLOAD_TOO_LARGE);
    expect(harness.subgraphRequests).toEqual([]);
  });

  test('HTTP Node cannot parse, and an unknown path, get coded JSON errors', async () => {
    const raw = await rawExchange(harness.gatewayUrl, 'BREW /graphql HTCPCP/1.0\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).errors[0].extensions.code).toBe(ErrorCode.BAD_REQUEST);
    const missing = await fetch(new URL('/nowhere', harness.gatewayUrl));
    expect([missing.status, ((await missing.json()) as any).errors[0].extensions.code]).toEqual([404, ErrorCode.NOT_FOUND]);
  });

  test('variables are signed with the fetch: a client variable reaches the subgraph verified', async () => {
    const result = await harness.query('query Echo($text: String!) { echo(text: $text) }', { text: 'héllo "quoted" ✓' });
    expect(result.body).toMatchObject({ data: { echo: 'héllo "quoted" ✓' } });
    expect(harness.subgraphRequests.map((r) => r.refusal ?? 'verified')).toEqual(['verified']);
  });
});

describe('introspection', () => {
  test('the standard introspection query passes, answered by the gateway alone', async () => {
    const result = await harness.query(getIntrospectionQuery());
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.__schema.types.map((t: { name: string }) => t.name)).toContain('Account');
    expect(harness.subgraphRequests).toEqual([]);
  });

  test("the real supergraph introspects under the default limits (BI tools' first request)", async () => {
    const config = loadConfig({ PORT: '0' });
    const budgetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-introspect-'));
    const budgets = { store: await createFileStore({ dir: budgetsDir }), ledger: createMemoryLedger() };
    const gateway = await startGateway(config, { supergraphSdl: composeDefaultSupergraph(), budgets, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    try {
      if (config.auth.kind !== 'hs256') throw new Error('expected dev auth');
      const token = await signDevToken({ tenant: 'acme', user: 'u1', roles: ['viewer'], secret: config.auth.secret, ttlSeconds: 60 });
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true }) }),
      });
      const body = (await response.json()) as { errors?: unknown; data: { __schema: { queryType: { name: string } } } };
      expect([response.status, body.errors, body.data.__schema.queryType.name]).toEqual([200, undefined, 'Query']);
    } finally {
      await gateway.close();
      await budgets.store.close();
      fs.rmSync(budgetsDir, { recursive: true, force: true });
    }
  });
});

describe('probes', () => {
  const probe = async (path: string) => {
    const response = await fetch(new URL(path, harness.gatewayUrl));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test('/healthz needs no token', async () => {
    expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('/readyz: ready once the schema is loaded, each subgraph reachability reported', async () => {
    expect(await probe('/readyz')).toEqual({
      status: 200,
      body: {
        status: 'ready',
        checks: {
          schema: 'loaded',
          subgraphs: {
            accounts: { url: new URL('/healthz', harness.subgraphs.accounts.url).href, reachable: true },
            usage: { url: new URL('/healthz', harness.subgraphs.usage.url).href, reachable: true },
          },
        },
      },
    });
  });

  test('/readyz before the gateway has loaded its schema: 503', async () => {
    const { httpServer } = buildGateway(loadConfig({}), { supergraphSdl: composeDefaultSupergraph() }); // never started
    const port = await listen(httpServer, 0);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect([response.status, await response.json()]).toEqual([503, expect.objectContaining({ status: 'not ready', checks: expect.objectContaining({ schema: 'loading' }) })]);
    } finally {
      await close(httpServer);
    }
  });

  // Last in the file: it stops a subgraph.
  test('/readyz with a subgraph down: still ready (the others still serve), the outage reported', async () => {
    await harness.subgraphs.usage.close();
    const { status, body } = await probe('/readyz');
    expect(status).toBe(200);
    expect(body.checks).toMatchObject({ subgraphs: { accounts: { reachable: true }, usage: { reachable: false, detail: 'ECONNREFUSED' } } });
    expect((await harness.query('{ me { id } }')).body).toMatchObject({ data: { me: { id: '00u1ceo' } } });
  });
});

/** Writes `text` to the server of `url` as is and reads everything it answers until it closes. */
function rawExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    socket.on('data', (chunk) => chunks.push(chunk)).on('error', reject).on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
