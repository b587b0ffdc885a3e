/**
 * A real OpenID Connect provider for the console's sign-in tests: `oidc-provider` (panva) on
 * 127.0.0.1, with one public client — the console — and its built-in development login and consent
 * pages, so a browser signs in by filling a form. Access tokens asked for the API's resource
 * (RFC 8707) are RS256 JWTs carrying the claims the gateway reads: `sub`, `tenant`, `roles`.
 * https://github.com/panva/node-oidc-provider/tree/main/docs
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { close, listen } from '../../common/http/graphqlHttpServer';

export interface DemoAccount {
  /** The login typed into the provider's form, and the tokens' `sub`. */
  readonly id: string;
  readonly tenant: string;
  readonly roles: readonly string[];
}

export interface OidcProviderOptions {
  /** The console's redirect URI (`<gateway origin>/console/`); its origin may call the token endpoint (CORS). */
  readonly redirectUri: string;
  /** The client id the console signs in as (AUTH_CLIENT_ID). */
  readonly clientId: string;
  /** The API's resource indicator and its access tokens' `aud` (AUTH_AUDIENCE): an absolute URI. */
  readonly audience: string;
  /** Who can sign in; the development login page takes any password. */
  readonly accounts: readonly DemoAccount[];
}

export interface OidcProvider {
  /** e.g. http://127.0.0.1:PORT (AUTH_ISSUER) */
  readonly issuer: string;
  /** The provider's signing keys (AUTH_JWKS_URL). */
  readonly jwksUrl: string;
  close(): Promise<void>;
}

export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcProvider> {
  const { Provider, errors } = await importOidcProvider();
  const server = http.createServer();
  const issuer = `http://127.0.0.1:${await listen(server, 0)}`;
  const accounts = new Map(options.accounts.map((account) => [account.id, account]));
  const provider = new Provider(issuer, {
    clients: [{
      client_id: options.clientId,
      token_endpoint_auth_method: 'none', // public: PKCE is required of it (pkce.required's default)
      redirect_uris: [options.redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    }],
    jwks: { keys: [signingKey()] },
    findAccount: (_ctx: unknown, id: string) => accounts.has(id) ? { accountId: id, claims: () => ({ sub: id }) } : undefined,
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // The console names the resource in its authorization request only: without this, a token
        // request that omits it, for a grant with `openid`, gets an opaque token for userinfo.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== options.audience) throw new errors.InvalidTarget();
          return { audience: options.audience, scope: '', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { accountId?: string; aud?: string }) => {
      const account = token.accountId === undefined ? undefined : accounts.get(token.accountId);
      return account && token.aud === options.audience ? { tenant: account.tenant, roles: [...account.roles] } : undefined;
    },
    // Only the console's own origin may call the token endpoint from a page.
    clientBasedCORS: (_ctx: unknown, origin: string) => origin === new URL(options.redirectUri).origin,
    ttl: { AccessToken: TOKEN_TTL_SECONDS, IdToken: TOKEN_TTL_SECONDS, Session: TOKEN_TTL_SECONDS, Interaction: TOKEN_TTL_SECONDS, Grant: TOKEN_TTL_SECONDS },
  });
  server.on('request', provider.callback());
  return { issuer, jwksUrl: `${issuer}/jwks` /* oidc-provider's default jwks route */, close: () => close(server) };
}

// Private:

/** Every token, session and sign-in lasts as long as a test could. */
const TOKEN_TTL_SECONDS = 600;

/** The parts of oidc-provider used here (it ships no types). */
interface OidcProviderModule {
  Provider: new (issuer: string, configuration: object) => { callback(): http.RequestListener };
  errors: { InvalidTarget: new () => Error };
}

/**
 * oidc-provider is an ES module only. @swc/jest compiles `import()` to `require()`, which cannot load
 * one; an import() it does not see is run by jest's ES module loader (--experimental-vm-modules).
 */
function importOidcProvider(): Promise<OidcProviderModule> {
  const load = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<OidcProviderModule>;
  return load('oidc-provider');
}

function signingKey(): crypto.JsonWebKey {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}
