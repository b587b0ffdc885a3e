/**
 * The console's HTTP side on a real gateway (gateway/console/routes.ts): the page and its bundle come
 * from the gateway alone, under a Content-Security-Policy; development sign-in exists only on the public
 * development secret; a browser's GET of /graphql is sent to the explorer while API clients are not.
 */
import { type System, seedDataDir, startSystem } from '../support/system';

let system: System;
let origin: string;
let remove: () => void;

beforeAll(async () => {
  const seeded = await seedDataDir([{ tenant: 'acme', users: 6, days: 2, eventsPerUser: 5, start: '2025-03-03', seed: 1 }]);
  remove = seeded.remove;
  system = await startSystem(seeded.dataDir);
  origin = new URL(system.gatewayUrl).origin;
});
afterAll(async () => {
  await system.close();
  remove();
});

test('the page, its script and its stylesheet come from the gateway, gzipped when asked, under a policy that allows nothing else', async () => {
  const redirect = await fetch(`${origin}/console`, { redirect: 'manual' });
  expect(redirect.status).toBe(308);
  expect(redirect.headers.get('location')).toBe('/console/');

  const page = await fetch(`${origin}/console/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("connect-src 'self';"); // no identity provider configured: only the gateway
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((url) => !url.startsWith('data:'));
  expect(assets.sort()).toEqual(['/console/assets/console.css', '/console/assets/console.js']);

  for (const asset of assets) {
    const plain = await fetch(`${origin}${asset}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    const body = Buffer.from(await plain.arrayBuffer());
    expect(body.length).toBeGreaterThan(10_000);
    expect(body.toString('utf8')).not.toMatch(/https?:\/\/(?:cdn|unpkg|fonts\.googleapis|cdnjs)/); // nothing loads from a CDN
    const etag = plain.headers.get('etag')!;
    expect((await fetch(`${origin}${asset}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const gzipped = await fetch(`${origin}${asset}`, { headers: { 'accept-encoding': 'gzip' } }); // fetch inflates it again
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(Buffer.from(await gzipped.arrayBuffer()).equals(body)).toBe(true);
  }
  const missing = await fetch(`${origin}/console/assets/nothing.js`);
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as any).errors[0].extensions.code).toBe('NOT_FOUND');
});

test('development sign-in signs a demo user in on the public development secret, refuses bad input with a code, and the token works', async () => {
  expect(await (await fetch(`${origin}/console/config.json`)).json()).toMatchObject({ signIn: { dev: true, oidc: null }, pricePerTibUsd: 6.25 });
  const signIn = (body: unknown) => fetch(`${origin}/console/dev-sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  for (const bad of [{ tenant: 'acme', user: 'u1', role: 'root' }, { tenant: '../etc', user: 'u1', role: 'viewer' }, { tenant: 'acme', user: '<script>', role: 'viewer' }]) {
    const refused = await signIn(bad);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  }
  expect((await fetch(`${origin}/console/dev-sign-in`)).status).toBe(405);
  const { token } = (await (await signIn({ tenant: 'acme', user: 'u1', role: 'viewer' })).json()) as { token: string };
  const answer = await fetch(system.gatewayUrl, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ myBudget { usedBytes } }' }),
  });
  expect(((await answer.json()) as any).data.myBudget.usedBytes).toBe(0);
});

test('a gateway with its own JWT_SECRET has no development sign-in', async () => {
  const seeded = await seedDataDir([{ tenant: 'acme', users: 4, days: 1, eventsPerUser: 2, start: '2025-03-03', seed: 1 }]);
  const own = await startSystem(seeded.dataDir, { env: { JWT_SECRET: 'a-private-secret-of-at-least-32-characters!' } });
  try {
    const ownOrigin = new URL(own.gatewayUrl).origin;
    expect(((await (await fetch(`${ownOrigin}/console/config.json`)).json()) as any).signIn.dev).toBe(false);
    const refused = await fetch(`${ownOrigin}/console/dev-sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tenant":"acme","user":"u1","role":"quota-admin"}' });
    expect(refused.status).toBe(404);
  } finally {
    await own.close();
    seeded.remove();
  }
});

test("a browser's GET of /graphql is sent to the explorer; a client asking for JSON still gets GraphQL", async () => {
  const browser = await fetch(system.gatewayUrl, { redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
  expect(browser.status).toBe(303);
  expect(browser.headers.get('location')).toBe('/console/#/explorer');
  const client = await fetch(`${system.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } });
  expect(client.status).toBe(401); // a GraphQL answer: no token
  expect(((await client.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
});
