/**
 * Polls Okta's System Log API (`GET /api/v1/logs`) the way Okta documents it for polling: one first
 * request with `since`, then only the `Link: <…>; rel="next"` URL of each response — never cursors
 * built by hand. In polling mode Okta always returns a next link, an empty page meaning "caught up
 * for now": the same link is polled again later.
 * https://developer.okta.com/docs/reference/api/system-log/#polling-requests
 *
 * - Delivery: pages are handed to `load` in groups (up to `batchEvents`), and the next link is
 *   checkpointed only after `load` succeeded. A crash between the two replays the group on restart;
 *   the warehouse dedupes on uuid, so every event lands exactly once.
 * - Rate limits: a 429 waits until `X-Rate-Limit-Reset` (epoch seconds; a second when absent or
 *   past) and retries; 5xx and network errors are retried with backoff, a bounded number of times.
 * - The token is only ever sent to the org's own origin: a next link elsewhere is refused.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface OktaPollOptions {
  /** https://ORG.okta.com */
  readonly orgUrl: string;
  /** An API token (sent as `SSWS <token>`). */
  readonly token: string;
  /** Where the next link is kept between runs. */
  readonly checkpoint: Checkpoint;
  /** First run only: the oldest events wanted (ISO-8601); default 7 days ago (Okta keeps 90). */
  readonly since?: string;
  /** Loads a group of events (JSON text each); must be idempotent on uuid. */
  load(events: string[]): Promise<void>;
  /** Keep polling after catching up, every `pollIntervalMs` (default: stop once caught up). */
  readonly follow?: boolean;
  readonly pollIntervalMs?: number;
  /** Events handed to `load` at once; default 20,000. */
  readonly batchEvents?: number;
  /** Events per request (Okta's limit parameter, at most 1000). */
  readonly pageSize?: number;
  /** Attempts for a 5xx or network error before giving up; default 5. */
  readonly maxRetries?: number;
  readonly onProgress?: (progress: PollProgress) => void;
  /** Stops a follow loop (after the current page). */
  readonly signal?: AbortSignal;
  // Injected in tests:
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PollProgress {
  readonly events: number;
  readonly pages: number;
  readonly waitingMs?: number;
  readonly reason?: 'rate limit' | 'retry' | 'caught up';
}

export interface Checkpoint {
  read(): Promise<string | undefined>;
  write(nextUrl: string): Promise<void>;
}

export class OktaApiError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

/** Polls until caught up (or, with `follow`, until the signal aborts); resolves with what was loaded. */
export async function pollOktaLogs(options: OktaPollOptions): Promise<{ events: number; pages: number }> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const origin = new URL(options.orgUrl).origin;
  const pageSize = Math.min(options.pageSize ?? 1000, 1000);
  const batchEvents = options.batchEvents ?? 20_000;
  const maxRetries = options.maxRetries ?? 5;
  const since = options.since ?? new Date(now() - 7 * 86_400_000).toISOString();

  let url = (await options.checkpoint.read()) ?? `${origin}/api/v1/logs?${new URLSearchParams({ since, sortOrder: 'ASCENDING', limit: String(pageSize) })}`;
  let pending: string[] = [];
  let pendingNext = url;
  let events = 0;
  let pages = 0;

  const flush = async () => {
    if (pending.length > 0) await options.load(pending);
    events += pending.length;
    pending = [];
    await options.checkpoint.write(pendingNext);
  };

  for (;;) {
    const page = await fetchPage(url);
    pages++;
    pending.push(...page.events);
    pendingNext = page.next;
    url = page.next;
    if (pending.length >= batchEvents) await flush();
    options.onProgress?.({ events: events + pending.length, pages });
    if (page.events.length > 0) continue;
    // Caught up: what was gathered is loaded and the place remembered before waiting or stopping.
    await flush();
    if (!options.follow || options.signal?.aborted) return { events, pages };
    const waitMs = options.pollIntervalMs ?? 60_000;
    options.onProgress?.({ events, pages, waitingMs: waitMs, reason: 'caught up' });
    await sleep(waitMs);
    if (options.signal?.aborted) return { events, pages };
  }

  async function fetchPage(pageUrl: string): Promise<{ events: string[]; next: string }> {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await doFetch(pageUrl, { headers: { authorization: `SSWS ${options.token}`, accept: 'application/json' } });
      } catch (error) {
        if (attempt > maxRetries) throw new OktaApiError(`Okta unreachable after ${maxRetries} retries: ${(error as Error).message}`);
        await backoff(attempt);
        continue;
      }
      if (response.status === 429) {
        await response.body?.cancel();
        const resetSeconds = Number(response.headers.get('x-rate-limit-reset'));
        const waitMs = Number.isFinite(resetSeconds) && resetSeconds * 1000 > now() ? resetSeconds * 1000 - now() : 1000;
        options.onProgress?.({ events: events + pending.length, pages, waitingMs: waitMs, reason: 'rate limit' });
        await sleep(Math.min(waitMs, 120_000));
        attempt = 0; // a rate limit is not a failure
        continue;
      }
      if (response.status >= 500) {
        await response.body?.cancel();
        if (attempt > maxRetries) throw new OktaApiError(`Okta answered HTTP ${response.status} ${maxRetries + 1} times for ${pageUrl}`, response.status);
        await backoff(attempt);
        continue;
      }
      if (!response.ok) {
        const detail = (await response.text()).slice(0, 300);
        throw new OktaApiError(response.status === 401 || response.status === 403
          ? `Okta refused the token (HTTP ${response.status}): check the token and its permission to read the System Log. ${detail}`
          : `Okta answered HTTP ${response.status} for ${pageUrl}: ${detail}`, response.status);
      }
      const body: unknown = await response.json();
      if (!Array.isArray(body)) throw new OktaApiError(`Okta's /api/v1/logs answered something other than a JSON array: ${JSON.stringify(body).slice(0, 200)}`);
      const next = nextLink(response.headers.get('link'));
      if (!next) throw new OktaApiError('Okta sent no Link rel="next" header: not a polling response (was `until` set?).');
      if (new URL(next, pageUrl).origin !== origin) throw new OktaApiError(`Okta's next link points to another origin (${new URL(next, pageUrl).origin}); refusing to send the token there.`);
      return { events: body.map((event) => JSON.stringify(event)), next: new URL(next, pageUrl).href };
    }
  }

  function backoff(attempt: number): Promise<void> {
    options.onProgress?.({ events: events + pending.length, pages, waitingMs: 500 * 2 ** (attempt - 1), reason: 'retry' });
    return sleep(Math.min(500 * 2 ** (attempt - 1), 30_000));
  }
}

/** The rel="next" target of an RFC 8288 Link header. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(match[2])) return match[1];
  }
  return undefined;
}

/** A checkpoint in a file (DATA_DIR/okta/<tenant>.json), replaced atomically. */
export function fileCheckpoint(file: string): Checkpoint {
  return {
    async read() {
      let text: string;
      try {
        text = await fs.promises.readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      // A damaged checkpoint stops the poller: starting over from `since` could skip what came after it.
      let nextUrl: unknown;
      try {
        ({ nextUrl } = JSON.parse(text) as { nextUrl?: unknown });
      } catch (error) {
        throw new Error(`The Okta checkpoint ${file} is not valid JSON (${(error as Error).message}); fix or delete it (deleting restarts from --since).`);
      }
      if (typeof nextUrl !== 'string') throw new Error(`The Okta checkpoint ${file} has no "nextUrl"; fix or delete it (deleting restarts from --since).`);
      return nextUrl;
    },
    async write(nextUrl) {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      await fs.promises.writeFile(temporary, `${JSON.stringify({ nextUrl, savedAt: new Date().toISOString() })}\n`);
      await fs.promises.rename(temporary, file);
    },
  };
}
