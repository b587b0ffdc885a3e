/**
 * The warm path: a request identical to one the gateway has answered before (same POST body or GET
 * query string, same roles), whose answer is stored, is answered here — before Apollo Server parses,
 * validates or plans anything — from the stored bytes. What it still does: verify the caller's token
 * (verified tokens are cached until their expiry, auth/authenticate.ts), build the answer's key from
 * the data versions of today, and read the caller's budget for `extensions.cost`. Everything else
 * (a first sight, a miss, `x-cost-mode`, `Cache-Control: no-cache`, a bad token, a batch) goes on to
 * Apollo Server, whose admission stage looks up and stores answers the same way.
 *
 * A request that passed the operation limits once passes them again: they are properties of the
 * document, which is the same, and the body limit was checked while reading it.
 */
import type { IncomingMessage } from 'node:http';
import Negotiator from 'negotiator';
import type { InterceptedAnswer } from '../common/http/graphqlHttpServer';
import { REQUEST_ID_HEADER, requestIdFrom } from '../common/log';
import type { Principal } from '../common/principal';
import type { BudgetGuard } from './admission/budgetGuard';
import { type ReportOptions, costReport } from './admission/costReport';
import { COST_MODE_HEADER, newCost } from './admission/operationCost';
import type { Authenticator } from './auth/authenticate';
import type { GatewayObservability } from './observability';
import { type ResponseCache, etagMatches, requestKeyOf, wantsFreshAnswer } from './responseCache/responseCache';

export interface WarmPathDeps {
  readonly authenticate: Authenticator;
  readonly responseCache: ResponseCache;
  readonly guard?: BudgetGuard;
  readonly report: ReportOptions & { readonly costMode: 'enforce' | 'measure' };
  readonly observability: GatewayObservability;
}

/** The stored answer to `request`, or undefined to let Apollo Server answer it. */
export function warmPath({ authenticate, responseCache, guard, report, observability }: WarmPathDeps) {
  return async (request: IncomingMessage, url: URL, raw: string): Promise<InterceptedAnswer | undefined> => {
    const startedAt = performance.now();
    // Only a request seen before is answered here, so its body needs no parsing: its text is its key.
    // A batch (a JSON array) is left to Apollo's path, where each of its operations is admitted on its own.
    if ((request.method !== 'POST' && request.method !== 'GET') || raw.trimStart().startsWith('[')) return undefined;
    if (request.headers[COST_MODE_HEADER] !== undefined || wantsFreshAnswer(header(request, 'cache-control'), header(request, 'if-none-match'))) return undefined;
    let principal: Principal;
    try {
      principal = await authenticate(request.headers.authorization);
    } catch {
      return undefined; // Apollo's path answers it with the coded refusal
    }
    const requestKey = requestKeyOf(request.method, url.search, raw);
    const known = responseCache.known(requestKey, principal.roles);
    if (!known) return undefined;
    let key: string | undefined;
    let cached;
    try {
      key = await responseCache.keyOf(known.plan, known.operationKey, principal);
      cached = key === undefined ? undefined : await responseCache.get(key);
    } catch {
      return undefined; // versions unreadable: Apollo's path runs the operation
    }
    if (!cached) return undefined;

    const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
    const headers = { etag: cached.etag, [REQUEST_ID_HEADER]: requestId };
    const cost = newCost(report.costMode, requestKey);
    cost.responseCache = 'hit';
    if (guard) cost.budget = await guard.peek(principal, await guard.limits(principal));
    const answered = costReport(cost, report);
    const notModified = etagMatches(header(request, 'if-none-match'), cached.etag);
    observability.operation({
      requestId, tenant: principal.tenant, user: principal.userId, operationName: known.operationName, mode: answered.mode,
      durationMs: performance.now() - startedAt, hasData: true, errorCodes: [], rejected: false, estimatedBilledBytes: 0, estimatedUsd: 0,
      billedBytes: 0, billedUsd: 0, overheadBilledBytes: 0, tenantRemainingBytes: answered.budget?.tenant.remainingBytes ?? undefined, cache: 'hit', notModified,
    });
    if (notModified) return { status: 304, headers };
    return {
      status: 200,
      headers: { ...headers, 'content-type': contentType(request) },
      body: `{"data":${cached.data},"extensions":{"cost":${JSON.stringify(answered)}}}`,
    };
  };
}

// Private:

/** Apollo Server's choice between its JSON media types (chooseContentTypeForSingleResultResponse): application/json unless the client prefers the other. */
const MEDIA_TYPES = ['application/json; charset=utf-8', 'application/graphql-response+json; charset=utf-8'];

function contentType(request: IncomingMessage): string {
  return request.headers.accept ? (new Negotiator(request).mediaType(MEDIA_TYPES) ?? MEDIA_TYPES[0]) : MEDIA_TYPES[0];
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
