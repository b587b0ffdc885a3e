/** Authentication at the gateway, over real HTTP: a refused token reaches no subgraph. */
import { UnsecuredJWT } from 'jose';
import { ErrorCode } from '../../common/errors';
import { DEFAULT_PRINCIPAL, type Harness, type JwksServer, claimsOf, signJwt, startHarness, startJwksServer } from './harness';
import { accounts } from './fixtures/accounts';
import { usage } from './fixtures/usage';

const ME = '{ me { id tenant roles } }';
const now = () => Math.floor(Date.now() / 1000);

function expectUnauthenticated(result: Awaited<ReturnType<Harness['post']>>, harness: Harness, message: RegExp) {
  expect(result.status).toBe(401);
  expect(result.headers.get('www-authenticate')).toMatch(/^Bearer realm="bytegate"/);
  expect(result.body).toEqual({ errors: [{ message: expect.stringMatching(message), extensions: { code: ErrorCode.UNAUTHENTICATED } }] });
  expect(harness.subgraphRequests).toEqual([]);
}

describe('HS256 (JWT_SECRET)', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness([accounts, usage], { JWT_SECRET: 'j'.repeat(32), SUBGRAPH_SECRET: 's'.repeat(32) });
  });
  afterAll(() => harness.close());
  beforeEach(() => harness.subgraphRequests.splice(0));

  const withToken = (token: string) => harness.post({ query: ME }, { authorization: `Bearer ${token}` });

  test('no Authorization header', async () => {
    const result = await harness.post({ query: ME });
    expectUnauthenticated(result, harness, /^Authentication required/);
    expect(result.headers.get('www-authenticate')).toBe('Bearer realm="bytegate"');
  });

  test.each([
    ['a non-Bearer scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty Bearer', 'Bearer '],
  ])('%s', async (_, authorization) => {
    expectUnauthenticated(await harness.post({ query: ME }, { authorization }), harness, /^Authentication required/);
  });

  test.each<[string, () => Promise<string>, RegExp]>([
    ['garbage', async () => 'not.a.jwt', /^Invalid token: /],
    ['a forged signature (another secret)', () => signJwt(claimsOf(DEFAULT_PRINCIPAL), new TextEncoder().encode('x'.repeat(32)), 'HS256'), /signature verification failed/],
    ['alg: none', async () => new UnsecuredJWT(claimsOf(DEFAULT_PRINCIPAL)).encode(), /"alg" \(Algorithm\) Header Parameter value not allowed/],
    ['an expired token', () => harness.token({ exp: now() - 10 }), /"exp" claim timestamp check failed/],
    ['a token not valid yet', () => harness.token({ nbf: now() + 600 }), /"nbf" claim timestamp check failed/],
    ['no exp', () => harness.token({ exp: undefined }), /missing required "exp" claim/],
    ['no sub', () => harness.token({ sub: undefined }), /missing "sub" claim/],
    ['no tenant', () => harness.token({ tenant: undefined }), /"tenant" claim/],
    ['a tenant that is not a dataset name', () => harness.token({ tenant: '../globex' }), /"tenant" claim/],
    ['no roles', () => harness.token({ roles: undefined }), /no known role/],
    ['only unknown roles', () => harness.token({ roles: ['admin', 'root'] }), /no known role/],
  ])('%s', async (_, token, message) => {
    const result = await withToken(await token());
    expectUnauthenticated(result, harness, message);
    expect(result.headers.get('www-authenticate')).toBe('Bearer realm="bytegate", error="invalid_token"');
  });

  test('a valid token: each subgraph fetch carries the principal, signed over that fetch', async () => {
    const principal = { tenant: 'globex', userId: '00u9mgr', roles: ['manager', 'viewer'] } as const;
    const result = await harness.query('query Q($day: String!) { me { id tenant roles events(day: $day) } }', { day: '2025-01-31' }, principal);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ data: { me: { id: '00u9mgr', tenant: 'globex', roles: ['manager', 'viewer'], events: 10 } } });
    // Two fetches (accounts, then an entity fetch to usage whose representations are variables); the
    // fixtures verified each with verifyIdentity against the query and variables they received.
    expect(harness.subgraphRequests.map((r) => [r.subgraph, r.principal, r.refusal])).toEqual([
      ['accounts', principal, undefined],
      ['usage', principal, undefined],
    ]);
    expect(harness.subgraphRequests[1].body?.variables).toMatchObject({ representations: [{ __typename: 'Account', id: '00u9mgr' }], day: '2025-01-31' });
    // The client's token is not forwarded: subgraphs trust only the gateway's signature.
    expect(harness.subgraphRequests[0].headers.authorization).toBeUndefined();
  });

  test('roles as a comma-separated string, unknown roles dropped', async () => {
    const result = await withToken(await harness.token({ roles: 'viewer, wizard,quota-admin' }));
    expect(result.body.data.me.roles).toEqual(['viewer', 'quota-admin']);
    expect(harness.subgraphRequests[0].principal?.roles).toEqual(['viewer', 'quota-admin']);
  });

  test('the Bearer scheme is case-insensitive (RFC 7235)', async () => {
    const result = await harness.post({ query: ME }, { authorization: `bearer ${await harness.token()}` });
    expect(result.body.data.me.id).toBe(DEFAULT_PRINCIPAL.userId);
  });

  test('GET requests are authenticated too', async () => {
    const url = `${harness.gatewayUrl}?query=${encodeURIComponent(ME)}`;
    expect((await fetch(url)).status).toBe(401);
    const response = await fetch(url, { headers: { authorization: `Bearer ${await harness.token()}` } });
    expect(((await response.json()) as { data: { me: { tenant: string } } }).data.me.tenant).toBe('acme');
  });
});

describe('JWKS (a production IdP)', () => {
  let harness: Harness;
  let idp: JwksServer;
  const issuer = 'https://acme.okta.example/oauth2/default';
  const audience = 'api://bytegate';
  const claims = () => ({ ...claimsOf(DEFAULT_PRINCIPAL), iss: issuer, aud: audience });

  beforeAll(async () => {
    idp = await startJwksServer();
    harness = await startHarness([accounts], { AUTH_JWKS_URL: idp.url, AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, SUBGRAPH_SECRET: 's'.repeat(32) });
  });
  afterAll(async () => {
    await harness.close();
    await idp.close();
  });
  beforeEach(() => harness.subgraphRequests.splice(0));

  const withToken = (token: string) => harness.post({ query: ME }, { authorization: `Bearer ${token}` });

  test('a token signed by the IdP key is accepted; the key set is fetched once and cached', async () => {
    for (let i = 0; i < 3; i++) expect((await withToken(await idp.sign(claims()))).body.data.me.tenant).toBe('acme');
    expect(idp.hits()).toBe(1);
    expect(harness.subgraphRequests.map((r) => r.principal)).toEqual([DEFAULT_PRINCIPAL, DEFAULT_PRINCIPAL, DEFAULT_PRINCIPAL]);
  });

  test.each<[string, () => Promise<string>, RegExp]>([
    ['a wrong issuer', () => idp.sign({ ...claims(), iss: 'https://evil.example' }), /unexpected "iss" claim value/],
    ['a wrong audience', () => idp.sign({ ...claims(), aud: 'api://other' }), /unexpected "aud" claim value/],
    ['expired', () => idp.sign({ ...claims(), exp: now() - 10 }), /"exp" claim timestamp check failed/],
    ['an HS256 token (no shared secret is accepted in JWKS mode)', () => signJwt(claims(), new TextEncoder().encode('j'.repeat(32)), 'HS256'), /"alg" \(Algorithm\) Header Parameter value not allowed/],
    ['alg: none', async () => new UnsecuredJWT(claims()).encode(), /"alg" \(Algorithm\) Header Parameter value not allowed/],
  ])('%s is refused', async (_, token, message) => {
    expectUnauthenticated(await withToken(await token()), harness, message);
  });
});

test('when the IdP keys cannot be fetched the answer is a 500, not a 401 that would log users out', async () => {
  const idp = await startJwksServer();
  const url = idp.url;
  const token = await idp.sign({ ...claimsOf(DEFAULT_PRINCIPAL), iss: 'i', aud: 'a' });
  await idp.close();
  const harness = await startHarness([accounts], { AUTH_JWKS_URL: url, AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' });
  try {
    const result = await harness.post({ query: ME }, { authorization: `Bearer ${token}` });
    expect(result.status).toBe(500);
    expect(result.body.errors[0].extensions.code).toBe(ErrorCode.INTERNAL_SERVER_ERROR);
    expect(harness.subgraphRequests).toEqual([]);
  } finally {
    await harness.close();
  }
});
