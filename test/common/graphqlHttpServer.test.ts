/**
 * The request-size limit of the HTTP integration on a real server: an oversized body gets its coded
 * 413 whatever the client — Node's fetch still sending, a declared content-length, chunked framing — and
 * the connection closes once the client stopped sending, or when a linger bound is hit.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { ErrorCode } from '../../common/errors';
import { LINGER_MAX_BYTES, LINGER_MS, close, createGraphqlHttpServer, listen, serve } from '../../common/http/graphqlHttpServer';
import { KiB, MiB } from '../../common/units';

const MAX_BODY_BYTES = 64 * KiB;
const execFileAsync = promisify(execFile);

let apollo: ApolloServer;
let server: ReturnType<typeof createGraphqlHttpServer>;
let port: number;
let url: string;

beforeAll(async () => {
  apollo = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }', resolvers: { Query: { ok: () => true } } });
  await apollo.start();
  server = createGraphqlHttpServer({ apollo, context: async () => ({}), maxBodyBytes: MAX_BODY_BYTES });
  port = await listen(server, 0);
  url = `http://127.0.0.1:${port}/graphql`;
});
afterAll(async () => {
  await close(server);
  await apollo.stop();
});

const tooLarge = { errors: [{ message: `Request body is larger than ${MAX_BODY_BYTES} bytes.`, extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE } }] };

/** A JSON body of `bytes` bytes. */
const bodyOf = (bytes: number) => JSON.stringify({ query: '{ ok }', variables: { pad: 'x'.repeat(bytes - 41) } });

describe('Node\'s fetch gets the 413, not a reset, while it is still sending', () => {
  test('a body at the limit is read', async () => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodyOf(MAX_BODY_BYTES) });
    expect(await response.json()).toEqual({ data: { ok: true } });
  });

  // Closing at once with the rest unread made the kernel reset the connection, and fetch failed with
  // EPIPE or ECONNRESET (UND_ERR_SOCKET) before it read the answer: where this was written, 30 MB a third
  // of the time, streamed bodies every time (3 MB with a content-length fit in the sockets' buffers).
  test.each([
    ['3 MB with a content-length', 3_000_000, 'sized'],
    ['30 MB with a content-length', 30_000_000, 'sized'],
    ['3 MB streamed (chunked, no content-length)', 3_000_000, 'streamed'],
    ['30 MB streamed (chunked, no content-length)', 30_000_000, 'streamed'],
  ] as const)('%s, 20 times in a row', async (_, bytes, framing) => {
    expect(await fetchInChild(bytes, framing, 20)).toEqual(Array(20).fill('413 close PAYLOAD_TOO_LARGE'));
  });
});

describe('raw clients: the answer at once, the connection closed when the client stops sending or a bound is hit', () => {
  test('a declared content-length over the limit, the body streamed slowly forever: the 413 at once, cut off after LINGER_MS', async () => {
    const client = await rawClient(`POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${10 * 2 ** 30}\r\n\r\n`);
    const dribble = setInterval(() => client.socket.writable && client.socket.write('x'.repeat(KiB)), 50);
    try {
      const answeredMs = await client.answered;
      const closedMs = await client.closed;
      expect(client.answer()).toEqual({ status: 413, connection: 'close', body: tooLarge });
      expect(answeredMs).toBeLessThan(1000);
      expect(closedMs).toBeGreaterThanOrEqual(LINGER_MS - 50);
      expect(closedMs).toBeLessThan(LINGER_MS + 1000);
    } finally {
      clearInterval(dribble);
    }
  });

  test('a chunked body over the limit that ends: the 413, then a clean close as soon as the body ended', async () => {
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    const client = await rawClient('POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
    for (let i = 0; i < 40; i++) client.socket.write(chunk('x'.repeat(8 * KiB))); // 320 KiB
    await client.answered;
    client.socket.write('0\r\n\r\n');
    const closedMs = await client.closed;
    expect(client.answer()).toEqual({ status: 413, connection: 'close', body: tooLarge });
    expect(client.error).toBeUndefined(); // a FIN, not a reset
    expect(closedMs).toBeLessThan(1000);
  });

  test('a client that sends as fast as it can, forever: cut off after LINGER_MAX_BYTES more, well before LINGER_MS', async () => {
    const client = await rawClient(`POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${10 * 2 ** 30}\r\n\r\n`);
    const block = Buffer.alloc(256 * KiB, 'x');
    const flood = () => {
      while (client.socket.writable && client.socket.write(block));
    };
    client.socket.on('drain', flood);
    flood();
    const closedMs = await client.closed;
    expect(client.answer()).toEqual({ status: 413, connection: 'close', body: tooLarge });
    expect(client.socket.bytesWritten).toBeGreaterThan(MAX_BODY_BYTES + LINGER_MAX_BYTES);
    expect(closedMs).toBeLessThan(LINGER_MS);
  });
});

// Private:

/**
 * Node's fetch in a process of its own (its event loop not the server's, as a real client's) POSTing a
 * body of about `bytes`, `times` over, one after the other: each outcome, `status connection code` or
 * the error it failed with.
 */
async function fetchInChild(bytes: number, framing: 'sized' | 'streamed', times: number): Promise<string[]> {
  const client = `
    const [url, bytes, framing, times] = process.argv.slice(1);
    const text = JSON.stringify({ query: '{ ok }', variables: { pad: 'x'.repeat(Number(bytes)) } });
    const streamed = () => new ReadableStream({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let at = 0; at < bytes.length; at += 65536) controller.enqueue(bytes.subarray(at, at + 65536));
        controller.close();
      },
    });
    const outcomes = [];
    for (let i = 0; i < Number(times); i++) {
      try {
        const init = framing === 'sized' ? { body: text } : { body: streamed(), duplex: 'half' };
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, ...init });
        const answer = await response.json();
        outcomes.push([response.status, response.headers.get('connection'), answer.errors?.[0]?.extensions?.code].join(' '));
      } catch (error) {
        outcomes.push(\`failed: \${error.cause?.code ?? error.message}\`);
      }
    }
    console.log(JSON.stringify(outcomes));
  `;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', client, url, String(bytes), framing, String(times)], { maxBuffer: MiB });
  return JSON.parse(stdout) as string[];
}

interface RawClient {
  readonly socket: net.Socket;
  /** Milliseconds from connecting until the answer's whole body arrived. */
  readonly answered: Promise<number>;
  /** Milliseconds from connecting until the server closed the connection (a FIN or a reset). */
  readonly closed: Promise<number>;
  /** The socket's error, if it closed with one (a reset: ECONNRESET, EPIPE). */
  readonly error: Error | undefined;
  answer(): { status: number; connection: string | undefined; body: unknown };
}

/** A socket that sent `head`; what comes back is collected. */
function rawClient(head: string): Promise<RawClient> {
  const startedAt = performance.now();
  const socket = net.connect(port, '127.0.0.1');
  let received = Buffer.alloc(0);
  let error: Error | undefined;
  const parse = () => {
    const text = received.toString('utf8');
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const lines = text.slice(0, end).split('\r\n');
    const header = (name: string) => lines.find((line) => line.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
    const body = text.slice(end + 4);
    if (Buffer.byteLength(body) < Number(header('content-length'))) return undefined;
    return { status: Number(lines[0].split(' ')[1]), connection: header('connection'), body: JSON.parse(body) };
  };
  const answered = new Promise<number>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parse()) resolve(performance.now() - startedAt);
    });
  });
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - startedAt)));
  socket.on('error', (e) => { error = e; });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.write(head);
      resolve({ socket, answered, closed, get error() { return error; }, answer: () => parse() ?? { status: 0, connection: undefined, body: received.toString('utf8') } });
    });
    socket.once('error', reject);
  });
}

describe('draining on shutdown (ServedEndpoint.close with a Shutdown)', () => {
  /** A served endpoint whose `wait(ms)` answers after `ms`. */
  async function slowEndpoint() {
    const slow = new ApolloServer({
      typeDefs: 'type Query { ok: Boolean, wait(ms: Int!): Boolean }',
      resolvers: { Query: { ok: () => true, wait: (_: unknown, { ms }: { ms: number }) => new Promise((resolve) => setTimeout(() => resolve(true), ms)) } },
    });
    await slow.start();
    const endpoint = await serve(createGraphqlHttpServer({ apollo: slow, context: async () => ({}), maxBodyBytes: MAX_BODY_BYTES }), slow, 0);
    const ask = (query: string) => fetch(endpoint.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    return { endpoint, ask, readyz: () => fetch(endpoint.url.replace(/\/graphql$/, '/readyz')) };
  }

  test('not ready at once but still serving for delayMs, each answer closing its connection; requests in flight finish; then no new connection', async () => {
    const { endpoint, ask, readyz } = await slowEndpoint();
    expect((await readyz()).status).toBe(200);
    const inFlight = ask('{ wait(ms: 600) }');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = endpoint.close({ delayMs: 300, timeoutMs: 2000 });

    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'draining' });
    const stillServed = await ask('{ ok }');
    expect(stillServed.headers.get('connection')).toBe('close');
    expect(await stillServed.json()).toEqual({ data: { ok: true } });

    expect(await (await inFlight).json()).toEqual({ data: { wait: true } });
    await closing;
    await expect(ask('{ ok }')).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });

  test('a request still running after timeoutMs is cut, and close resolves', async () => {
    const { endpoint, ask } = await slowEndpoint();
    const tooSlow = ask('{ wait(ms: 10000) }').then(() => 'answered', (error: { cause?: { code?: string } }) => error.cause?.code ?? 'failed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await endpoint.close({ delayMs: 0, timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(await tooSlow).not.toBe('answered');
  });
});
