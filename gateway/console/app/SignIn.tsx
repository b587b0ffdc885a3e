/** Signing in: with the identity provider (production), a demo user's link printed by `npm start` (development), or a pasted token. */
import { type FormEvent, useContext, useState } from 'react';
import { ConfigContext } from './common';
import { beginSignIn } from './oidc';
import { type Session, signIn } from './session';

export function SignIn({ onSignedIn, problem }: { onSignedIn: (session: Session) => void; problem?: string }) {
  const config = useContext(ConfigContext);
  const [token, setToken] = useState('');
  const [error, setError] = useState(problem);
  const usePasted = (event: FormEvent) => {
    event.preventDefault();
    try {
      onSignedIn(signIn(token));
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <main className="sign-in">
      <h1>bytegate console</h1>
      {error && <p role="alert" className="error">{error}</p>}
      {config.signIn.oidc && (
        <section>
          <h2>Sign in with your organisation</h2>
          <button type="button" onClick={() => void beginSignIn(config.signIn.oidc!).catch((failure: Error) => setError(failure.message))}>Sign in</button>
        </section>
      )}
      {config.signIn.dev && (
        <section>
          <h2>Development</h2>
          <p>Open one of the console links <code>npm start</code> printed: each signs in a demo user of one role.</p>
        </section>
      )}
      <section>
        <h2>Use a token</h2>
        <form onSubmit={usePasted}>
          <label htmlFor="token">Bearer token (kept in this tab only)</label>
          <textarea id="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} spellCheck={false} autoComplete="off" />
          <button type="submit" disabled={token.trim() === ''}>Use this token</button>
        </form>
      </section>
    </main>
  );
}

/** Completes a development sign-in link (`?sign-in=ROLE&tenant=T&user=U`): undefined when the page was not opened by one. */
export async function devSignIn(): Promise<Session | undefined> {
  const params = new URLSearchParams(location.search);
  const role = params.get('sign-in');
  if (!role) return undefined;
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  const response = await fetch('/console/dev-sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role, tenant: params.get('tenant'), user: params.get('user') }),
  });
  const body = (await response.json()) as { token?: string; errors?: { message: string }[] };
  if (!body.token) throw new Error(body.errors?.[0]?.message ?? 'Development sign-in failed.');
  return signIn(body.token);
}
