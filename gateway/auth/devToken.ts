/** Dev tokens: HS256 JWTs with the claims auth/authenticate.ts expects (`npm run token`, tests). */
import { SignJWT } from 'jose';
import type { Role } from '../../common/principal';

export interface DevTokenOptions {
  tenant: string;
  /** Okta user id, the token's `sub`. */
  user: string;
  roles: readonly Role[];
  /** JWT_SECRET. */
  secret: string;
  ttlSeconds: number;
  /** Issue time, epoch ms; default Date.now. */
  nowMs?: number;
}

export function signDevToken({ tenant, user, roles, secret, ttlSeconds, nowMs = Date.now() }: DevTokenOptions): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ tenant, roles: [...roles] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
