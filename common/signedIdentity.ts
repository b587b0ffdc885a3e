/**
 * Identity travels from the gateway to subgraphs in two headers signed with a shared secret
 * (HMAC-SHA256). The signature covers the principal, an expiry and a digest of the GraphQL request
 * itself, so a captured header pair cannot be replayed with another query, another tenant or later
 * than `ttlMs`. A subgraph refuses any request without a valid pair: calling it directly crosses nothing.
 * It may also carry a deadline — when the gateway stops waiting for the answer — after which the
 * subgraph starts no warehouse job for the request (a job nobody waits for would be billed, never charged),
 * and the HTTP batch its operation came in (the subgraph may then share lookups among the batch's requests).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, bytegateError } from './errors';
import { type Principal, isRole, isTenantId } from './principal';

export const IDENTITY_HEADER = 'x-bytegate-identity';
export const SIGNATURE_HEADER = 'x-bytegate-signature';
export const DEFAULT_IDENTITY_TTL_MS = 60_000;

/** What the signature binds the identity to: the operation text and its variables. */
export interface SignedRequest {
  readonly query?: string;
  readonly variables?: Record<string, unknown> | null;
}

/**
 * Byte caps the gateway derived from its estimate; every warehouse job the request runs stays under
 * them (BigQuery's maximumBytesBilled), so a wrong estimate cannot overspend.
 */
export interface WarehouseCaps {
  /** The largest billed bytes the gateway estimated for any one job of the operation. */
  readonly maxJobBilledBytes: number;
  /** The operation's estimated billed bytes: what this request's jobs may bill together. */
  readonly maxTotalBilledBytes: number;
}

/** A verified subgraph request: who asks, and under which caps (none: the gateway does not enforce). */
export interface VerifiedIdentity {
  readonly principal: Principal;
  readonly caps?: WarehouseCaps;
  /** Epoch ms after which the gateway no longer waits for the answer (none: no deadline). */
  readonly deadline?: number;
  /** The client's HTTP batch this request serves an operation of (none: the operation came alone). */
  readonly batch?: string;
}

interface IdentityPayload {
  tenant: string;
  sub: string;
  roles: string[];
  /** Expiry, epoch milliseconds. */
  exp: number;
  caps?: WarehouseCaps;
  /** VerifiedIdentity.deadline, epoch milliseconds. */
  deadline?: number;
  batch?: string;
}

/** `timeoutMs`: how long from `nowMs` the signer waits for the answer (the identity's deadline). */
export function signIdentity(
  principal: Principal,
  request: SignedRequest,
  secret: string,
  nowMs: number,
  options: { ttlMs?: number; caps?: WarehouseCaps; timeoutMs?: number; batch?: string } = {},
): Record<typeof IDENTITY_HEADER | typeof SIGNATURE_HEADER, string> {
  const payload: IdentityPayload = {
    tenant: principal.tenant, sub: principal.userId, roles: [...principal.roles], exp: nowMs + (options.ttlMs ?? DEFAULT_IDENTITY_TTL_MS),
    ...(options.caps ? { caps: options.caps } : {}),
    ...(options.timeoutMs !== undefined ? { deadline: nowMs + options.timeoutMs } : {}),
    ...(options.batch !== undefined ? { batch: options.batch } : {}),
  };
  const identity = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return { [IDENTITY_HEADER]: identity, [SIGNATURE_HEADER]: signature(identity, request, secret) };
}

/**
 * The principal (and caps) of a signed subgraph request; throws INVALID_SIGNATURE (HTTP 401) otherwise.
 * `secret`: the key, or the keys, a signature may be made with — the current one and, during a
 * rotation, the previous one, so replicas still signing with it keep working until they are rolled.
 */
export function verifyIdentity(
  headers: { identity?: string | null; signature?: string | null },
  request: SignedRequest,
  secret: string | readonly string[],
  nowMs: number,
): VerifiedIdentity {
  const { identity, signature: given } = headers;
  if (!identity || !given) throw invalid('missing gateway identity headers');
  const actual = Buffer.from(given);
  const signedWith = (key: string) => {
    const expected = Buffer.from(signature(identity, request, key));
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };
  if (!(typeof secret === 'string' ? [secret] : secret).some(signedWith)) throw invalid('bad gateway signature');
  let payload: IdentityPayload;
  try {
    payload = JSON.parse(Buffer.from(identity, 'base64url').toString('utf8')) as IdentityPayload;
  } catch {
    throw invalid('unreadable gateway identity');
  }
  if (typeof payload.exp !== 'number' || payload.exp < nowMs) throw invalid('expired gateway identity');
  if (typeof payload.tenant !== 'string' || !isTenantId(payload.tenant) || typeof payload.sub !== 'string' || !Array.isArray(payload.roles)
    || (payload.deadline !== undefined && typeof payload.deadline !== 'number') || (payload.batch !== undefined && typeof payload.batch !== 'string')) {
    throw invalid('malformed gateway identity');
  }
  const principal = { tenant: payload.tenant, userId: payload.sub, roles: payload.roles.filter(isRole) };
  return {
    principal,
    ...(payload.caps ? { caps: { maxJobBilledBytes: Number(payload.caps.maxJobBilledBytes), maxTotalBilledBytes: Number(payload.caps.maxTotalBilledBytes) } } : {}),
    ...(payload.deadline !== undefined ? { deadline: payload.deadline } : {}),
    ...(payload.batch !== undefined ? { batch: payload.batch } : {}),
  };
}

// Private:

function signature(identity: string, request: SignedRequest, secret: string): string {
  const digest = createHash('sha256')
    .update(request.query ?? '')
    .update('\n')
    .update(JSON.stringify(request.variables ?? {}))
    .digest('base64url');
  return createHmac('sha256', secret).update(`${identity}.${digest}`).digest('base64url');
}

function invalid(message: string) {
  return bytegateError(ErrorCode.INVALID_SIGNATURE, `Subgraph request refused: ${message}.`);
}
