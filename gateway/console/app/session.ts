/**
 * Who is signed in: the bearer token, kept in this tab's sessionStorage only (never in a URL, a
 * cookie or a log), and the claims the gateway will read from it — shown, not trusted: the gateway
 * verifies the token on every request.
 */
export interface Session {
  readonly token: string;
  readonly tenant: string;
  readonly user: string;
  readonly roles: readonly string[];
  /** Epoch ms. */
  readonly expiresAt: number;
}

export function currentSession(): Session | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  try {
    const session = sessionOf(token);
    if (session.expiresAt > Date.now()) return session;
  } catch {
    // unreadable: signed out below
  }
  signOut();
  return null;
}

/** Keeps `token` for this tab; throws, keeping nothing, unless it reads as a bytegate token. */
export function signIn(token: string): Session {
  const session = sessionOf(token.trim());
  if (session.expiresAt <= Date.now()) throw new Error('This token has expired.');
  sessionStorage.setItem(TOKEN_KEY, session.token);
  return session;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function isQuotaAdmin(session: Session): boolean {
  return session.roles.includes('quota-admin');
}

// Private:

const TOKEN_KEY = 'bytegate.token';

function sessionOf(token: string): Session {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('A token is a JWT: three dot-separated parts.');
  const claims = JSON.parse(atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  const roles = Array.isArray(claims.roles) ? claims.roles.map(String) : typeof claims.roles === 'string' ? claims.roles.split(',') : [];
  if (typeof claims.sub !== 'string' || typeof claims.tenant !== 'string' || typeof claims.exp !== 'number') {
    throw new Error('The token lacks the claims bytegate needs: sub, tenant, roles, exp.');
  }
  return { token, tenant: claims.tenant, user: claims.sub, roles, expiresAt: claims.exp * 1000 };
}
