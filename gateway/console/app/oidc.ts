/**
 * Sign-in with OpenID Connect: the authorization code flow with PKCE (RFC 7636) for a public client,
 * the code returned in the URL's fragment (`response_mode=fragment`) so it never reaches a server
 * log, exchanged by the page for an access token that becomes the bearer for GraphQL.
 */
export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  /** The API's audience (AUTH_AUDIENCE), asked for as the token's resource (RFC 8707). */
  readonly audience: string;
}

/** Sends the browser to the issuer's sign-in page. */
export async function beginSignIn(settings: OidcSettings): Promise<void> {
  const provider = await discover(settings.issuer);
  const verifier = randomToken();
  const state = randomToken();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(provider.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    response_mode: 'fragment',
    client_id: settings.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid',
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
    resource: settings.audience,
  }).toString();
  location.assign(url.toString());
}

/**
 * The access token, when the page was opened by the issuer's redirect (`#code=…&state=…`); removes
 * the code from the address bar. Undefined when there is no sign-in to complete; throws on an
 * error the issuer reported, a state that does not match, or a failed exchange.
 */
export async function completeSignIn(settings: OidcSettings): Promise<string | undefined> {
  const answer = new URLSearchParams(location.hash.slice(1));
  if (!answer.has('code') && !answer.has('error')) return undefined;
  history.replaceState(null, '', location.pathname);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string } | null;
  sessionStorage.removeItem(PENDING_KEY);
  if (answer.has('error')) throw new Error(`Sign-in failed: ${answer.get('error_description') ?? answer.get('error')}`);
  if (!pending || answer.get('state') !== pending.state) throw new Error('Sign-in failed: this answer does not belong to a sign-in started here. Try again.');
  const provider = await discover(settings.issuer);
  const response = await fetch(provider.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: answer.get('code')!,
      redirect_uri: redirectUri(),
      client_id: settings.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!response.ok || !tokens.access_token) throw new Error(`Sign-in failed: ${tokens.error_description ?? tokens.error ?? response.statusText}`);
  return tokens.access_token;
}

// Private:

const PENDING_KEY = 'bytegate.oidc';

interface ProviderMetadata {
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
}

async function discover(issuer: string): Promise<ProviderMetadata> {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`The identity provider ${issuer} did not answer (${response.status}).`);
  return (await response.json()) as ProviderMetadata;
}

function redirectUri(): string {
  return `${location.origin}/console/`;
}

function randomToken(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challengeOf(verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
