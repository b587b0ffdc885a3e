/**
 * Authentication: `Authorization: Bearer <JWT>` → Principal. The token is the only source of the
 * tenant. Dev tokens are HS256 with JWT_SECRET (`npm run token`); production tokens come from an IdP
 * (e.g. an Okta authorization server) and are verified against its JWKS, issuer and audience.
 * Everything wrong with the token is UNAUTHENTICATED, HTTP 401 with `WWW-Authenticate`
 * (https://datatracker.ietf.org/doc/html/rfc6750#section-3).
 *
 * A verified token's principal is kept (by the token's exact text) for VERIFIED_TOKEN_TTL_MS and never
 * past the token's `exp`, so a dashboard's repeated requests skip the signature check; a token that
 * fails verification is never kept.
 */
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import type { AuthConfig } from '../../common/config';
import { ErrorCode, bytegateError } from '../../common/errors';
import { type Principal, isRole, isTenantId } from '../../common/principal';

/** Resolves the caller of a request from its Authorization header, or throws UNAUTHENTICATED. */
export type Authenticator = (authorizationHeader: string | undefined) => Promise<Principal>;

export interface AuthenticatorOptions {
  /** Clock for `exp`/`nbf`, epoch ms; default Date.now. */
  now?: () => number;
}

export function createAuthenticator(auth: AuthConfig, options: AuthenticatorOptions = {}): Authenticator {
  const now = options.now ?? Date.now;
  const verify = tokenVerifier(auth);
  const verified = new LRUCache<string, { principal: Principal; until: number }>({ max: VERIFIED_TOKENS });
  return async (authorizationHeader) => {
    const token = /^Bearer +(\S+) *$/i.exec(authorizationHeader ?? '')?.[1];
    if (!token) throw unauthenticated('Authentication required: send "Authorization: Bearer <token>".', false);
    const known = verified.get(token);
    if (known && now() < known.until) return known.principal;
    let payload: JWTPayload;
    try {
      payload = await verify(token, new Date(now()));
    } catch (error) {
      if (error instanceof errors.JOSEError && TOKEN_FAULTS.has(error.code)) throw unauthenticated(`Invalid token: ${error.message}.`);
      // The IdP's keys could not be fetched: not the client's fault, so no 401 (it would log users out).
      throw bytegateError(ErrorCode.INTERNAL_SERVER_ERROR, 'Cannot verify tokens right now: the signing keys are unavailable.');
    }
    const principal = principalOf(payload);
    // `exp` is required (verified above), in seconds.
    verified.set(token, { principal, until: Math.min(now() + VERIFIED_TOKEN_TTL_MS, Number(payload.exp) * 1000) });
    return principal;
  };
}

// Private:

/** How long a verified token is trusted without checking its signature again (never past its `exp`). */
const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Verified tokens kept: enough for every active user of a busy gateway, bounded against token spraying. */
const VERIFIED_TOKENS = 10_000;

type TokenVerifier = (token: string, currentDate: Date) => Promise<JWTPayload>;

/** Only these algorithms are accepted, so `alg: none` and HS/RS confusion fail before any key is used. */
function tokenVerifier(auth: AuthConfig): TokenVerifier {
  switch (auth.kind) {
    case 'hs256': {
      const key = new TextEncoder().encode(auth.secret);
      return async (token, currentDate) => (await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp'], currentDate })).payload;
    }
    case 'jwks': {
      // Fetches the key set lazily, caches it, and refetches on an unknown `kid` (key rotation).
      const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(auth.jwksUrl));
      const { issuer, audience } = auth;
      return async (token, currentDate) =>
        (await jwtVerify(token, keys, { algorithms: ['RS256', 'ES256'], issuer, audience, requiredClaims: ['exp'], currentDate })).payload;
    }
  }
}

/** jose error codes that mean the token itself is bad (anything else is a key-source failure). */
const TOKEN_FAULTS = new Set([
  errors.JWSInvalid.code,
  errors.JWTInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
]);

/** Claims: `sub` (Okta user id), `tenant` (a dataset name), `roles` (array or comma string; unknown roles dropped). */
function principalOf(payload: JWTPayload): Principal {
  const { sub, tenant, roles } = payload;
  if (typeof sub !== 'string' || sub === '') throw unauthenticated('Invalid token: missing "sub" claim.');
  if (typeof tenant !== 'string' || !isTenantId(tenant)) throw unauthenticated('Invalid token: missing or malformed "tenant" claim.');
  const claimed = Array.isArray(roles) ? roles : typeof roles === 'string' ? roles.split(',') : [];
  const valid = [...new Set(claimed.filter((r): r is string => typeof r === 'string').map((r) => r.trim()))].filter(isRole);
  if (valid.length === 0) throw unauthenticated('Invalid token: "roles" claim has no known role.');
  return { tenant, userId: sub, roles: valid };
}

function unauthenticated(message: string, tokenPresent = true): GraphQLError {
  const challenge = tokenPresent ? 'Bearer realm="bytegate", error="invalid_token"' : 'Bearer realm="bytegate"';
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401, headers: new HeaderMap([['www-authenticate', challenge]]) } },
  });
}
