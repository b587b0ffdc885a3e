/**
 * A local HTTP server that behaves like Okta's System Log API for polling: `GET /api/v1/logs` with
 * `since`, `limit` and an opaque `after` cursor it only ever hands out in `Link: <…>; rel="next"`
 * (always present in polling mode, also on an empty page), `SSWS` token checks, and scripted
 * faults (429 with X-Rate-Limit-Reset, 5xx) for chosen requests.
 */
import http from 'node:http';
import { close, listen } from '../../common/http/graphqlHttpServer';
import type { LogEvent } from '../../okta/logEvent';

export interface OktaFake {
  readonly url: string;
  /** Every request's URL (path and query) and Authorization header, in order. */
  readonly requests: { url: string; authorization: string | undefined }[];
  /** The next links handed out, in order. */
  readonly nextLinks: string[];
  /** Events that "happen" from now on (published after the existing ones). */
  append(events: LogEvent[]): void;
  /** Answers request number `n` (1-based) with `status` instead; 429s carry X-Rate-Limit-Reset = now + resetInSeconds. */
  fail(n: number, status: number, resetInSeconds?: number): void;
  close(): Promise<void>;
}

export async function startOktaFake(options: { events: LogEvent[]; token: string; nextOrigin?: string }): Promise<OktaFake> {
  const events = [...options.events].sort((a, b) => a.published.localeCompare(b.published));
  const requests: OktaFake['requests'] = [];
  const nextLinks: string[] = [];
  const failures = new Map<number, { status: number; resetInSeconds: number }>();
  let origin = '';

  const server = http.createServer((request, response) => {
    requests.push({ url: request.url ?? '', authorization: request.headers.authorization });
    const failure = failures.get(requests.length);
    if (failure) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (failure.status === 429) {
        headers['x-rate-limit-limit'] = '60';
        headers['x-rate-limit-remaining'] = '0';
        headers['x-rate-limit-reset'] = String(Math.floor(Date.now() / 1000) + failure.resetInSeconds);
      }
      response.writeHead(failure.status, headers).end(JSON.stringify({ errorCode: failure.status === 429 ? 'E0000047' : 'E0000009', errorSummary: 'scripted failure' }));
      return;
    }
    const url = new URL(request.url ?? '/', origin);
    if (url.pathname !== '/api/v1/logs') return void response.writeHead(404).end();
    if (request.headers.authorization !== `SSWS ${options.token}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errorCode: 'E0000011', errorSummary: 'Invalid token provided' }));
      return;
    }
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100), 1000);
    const after = url.searchParams.get('after');
    let start: number;
    if (after !== null) {
      start = Number(Buffer.from(after, 'base64url').toString('utf8'));
    } else {
      const since = url.searchParams.get('since') ?? '1970-01-01T00:00:00Z';
      start = events.findIndex((e) => e.published >= since);
      if (start === -1) start = events.length;
    }
    const page = events.slice(start, start + limit);
    const next = new URL('/api/v1/logs', options.nextOrigin ?? origin);
    next.search = new URLSearchParams({ limit: String(limit), sortOrder: 'ASCENDING', after: Buffer.from(String(start + page.length)).toString('base64url') }).toString();
    nextLinks.push(next.href);
    response.writeHead(200, {
      'content-type': 'application/json',
      link: `<${url.href}>; rel="self", <${next.href}>; rel="next"`,
    }).end(JSON.stringify(page));
  });
  const port = await listen(server, 0);
  origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    requests,
    nextLinks,
    append: (more) => events.push(...[...more].sort((a, b) => a.published.localeCompare(b.published))),
    fail: (n, status, resetInSeconds = 2) => void failures.set(n, { status, resetInSeconds }),
    close: () => close(server),
  };
}
