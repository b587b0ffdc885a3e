/**
 * Signing in to the console with OpenID Connect, end to end in headless Chromium: a real provider
 * (oidcProvider.ts), the real system verifying its RS256 access tokens against its JWKS, and the
 * console's code + PKCE flow (gateway/console/app/oidc.ts). The browser reaches the gateway through a
 * front door that records every request, so the test knows each URL the gateway received.
 */
import http from 'node:http';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Browser, Page } from 'puppeteer-core';
import { addDays } from '../../common/dates';
import { close, listen } from '../../common/http/graphqlHttpServer';
import { type System, seedDataDir, startSystem } from '../support/system';
import { launchBrowser, newPage, screenshot } from './browser';
import { type DemoAccount, type OidcProvider, startOidcProvider } from './oidcProvider';

const TODAY = new Date().toISOString().slice(0, 10);
const CLIENT_ID = 'bytegate-console';
const AUDIENCE = 'https://bytegate.test/graphql';
const ADA: DemoAccount = { id: 'ada', tenant: 'acme', roles: ['viewer'] };
/** A viewer's daily budget (common/config.ts DEFAULT_BUDGETS: viewer=1GiB). */
const VIEWER_DAILY_BYTES = 2 ** 30;

let frontDoor: FrontDoor;
let provider: OidcProvider;
let seeded: Awaited<ReturnType<typeof seedDataDir>>;
let system: System;
let tokenEndpoint: string;
let browser: Browser;

beforeAll(async () => {
  // The provider must know the console's address, and the gateway the provider's: the front door listens first.
  frontDoor = await startFrontDoor();
  provider = await startOidcProvider({ redirectUri: `${frontDoor.origin}/console/`, clientId: CLIENT_ID, audience: AUDIENCE, accounts: [ADA] });
  seeded = await seedDataDir([{ tenant: ADA.tenant, users: 12, days: 3, eventsPerUser: 10, start: addDays(TODAY, -3), seed: 1 }]);
  system = await startSystem(seeded.dataDir, {
    env: { AUTH_JWKS_URL: provider.jwksUrl, AUTH_ISSUER: provider.issuer, AUTH_AUDIENCE: AUDIENCE, AUTH_CLIENT_ID: CLIENT_ID },
  });
  frontDoor.forwardTo(system.gatewayUrl);
  tokenEndpoint = ((await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string }).token_endpoint;
});

afterAll(async () => {
  await system?.close();
  seeded?.remove();
  await provider?.close();
  await frontDoor?.close();
});

beforeEach(async () => {
  browser = await launchBrowser(); // a browser each: no provider session carried from one test to the next
  frontDoor.received.splice(0);
});

afterEach(() => browser?.close());

test('signs in at the provider and lands on the console as that user; the code never reaches the gateway', async () => {
  const { page, problems } = await newPage(browser);
  const addresses = addressesOf(page);
  await page.goto(`${frontDoor.origin}/console/`);
  await signInAtProvider(page, ADA);

  // Back on the console, signed in: the header names the token's user, tenant and role.
  const who = await page.waitForSelector('.who');
  expect(await who!.evaluate((element) => element.textContent)).toBe(`${ADA.id} · ${ADA.tenant} · ${ADA.roles.join(', ')}Sign out`);
  // A viewer's first view is My budget: the page's GraphQL operation, answered for that user.
  await page.waitForSelector('.budget dd [data-bytes]');
  expect(await budgetShown(page)).toEqual({ used: 0, 'daily limit': VIEWER_DAILY_BYTES, remaining: VIEWER_DAILY_BYTES, 'per-query cap': system.config.maxQueryBytes });
  await screenshot(page, 'oidc-signed-in');

  // The code came back in the fragment, which the browser never sends to a server.
  const code = addresses.map((address) => new URLSearchParams(new URL(address).hash.slice(1)).get('code')).find(Boolean);
  expect(code).toEqual(expect.any(String));
  expect(frontDoor.received.filter((r) => r.url.includes('code=') || r.url.includes(code!))).toEqual([]);

  // The token the page keeps is the provider's RS256 JWT for the API, and the bearer the gateway got.
  const token = (await page.evaluate('sessionStorage.getItem("bytegate.token")')) as string;
  expect(decodeProtectedHeader(token).alg).toBe('RS256');
  expect(decodeJwt(token)).toMatchObject({ iss: provider.issuer, aud: AUDIENCE, client_id: CLIENT_ID, sub: ADA.id, tenant: ADA.tenant, roles: ADA.roles });
  const graphql = frontDoor.received.filter((r) => r.url === '/graphql');
  expect(graphql.length).toBeGreaterThan(0);
  expect(graphql.map((r) => r.authorization)).toEqual(graphql.map(() => `Bearer ${token}`));
  // Nothing of the answer stays in the address bar, and the token was never in a URL.
  expect(page.url()).toBe(`${frontDoor.origin}/console/`);
  expect([...addresses, ...frontDoor.received.map((r) => r.url)].filter((url) => url.includes(token))).toEqual([]);
  expect(consoleProblems(problems)).toEqual([]);
});

test('an answer whose state was tampered with is refused: the code is not exchanged, nobody is signed in', async () => {
  const { page, problems } = await newPage(browser);
  const tokenRequests: string[] = [];
  page.on('request', (request) => void (request.url().startsWith(tokenEndpoint) && tokenRequests.push(request.url())));
  // Before any of the console's scripts run, the answer's state is swapped: a real code, someone else's state.
  await page.evaluateOnNewDocument(`if (location.origin === ${JSON.stringify(frontDoor.origin)} && /[#&]state=/.test(location.hash)) {
    history.replaceState(null, '', location.href.replace(/([#&])state=[^&]*/, '$1state=tampered'));
  }`);
  await page.goto(`${frontDoor.origin}/console/`);
  await signInAtProvider(page, ADA);

  const alert = await page.waitForSelector('[role="alert"]');
  expect(await alert!.evaluate((element) => element.textContent)).toBe('Sign-in failed: this answer does not belong to a sign-in started here. Try again.');
  expect(await page.$('.who')).toBeNull();
  expect(await page.evaluate('sessionStorage.getItem("bytegate.token")')).toBeNull();
  expect(tokenRequests).toEqual([]);
  expect(frontDoor.received.filter((r) => r.url === '/graphql')).toEqual([]);
  expect(page.url()).toBe(`${frontDoor.origin}/console/`);
  expect(consoleProblems(problems)).toEqual([]);
});

// Private:

/** From the console's sign-in page through the provider's login and consent pages, back to the console. */
async function signInAtProvider(page: Page, account: DemoAccount): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.locator('::-p-aria(Sign in[role="button"])').click()]);
  expect(page.url().startsWith(`${provider.issuer}/`)).toBe(true);
  await page.type('input[name="login"]', account.id);
  await page.type('input[name="password"]', 'any password');
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  expect(await page.$eval('input[name="prompt"]', (input) => input.getAttribute('value'))).toBe('consent');
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
}

/** The provider's development pages import a Google Fonts stylesheet, which this machine cannot reach. */
function consoleProblems(problems: string[]): string[] {
  return problems.filter((problem) => !problem.startsWith('request failed: https://fonts.googleapis.com/'));
}

/** Every address the page's main frame had, fragments included. */
function addressesOf(page: Page): string[] {
  const addresses: string[] = [];
  page.on('framenavigated', (frame) => void (frame === page.mainFrame() && addresses.push(frame.url())));
  return addresses;
}

/** My budget's figures, by label, in bytes. */
function budgetShown(page: Page): Promise<Record<string, number>> {
  return page.$$eval('.budget dt', (terms) => Object.fromEntries(terms
    .filter((term) => term.nextElementSibling?.querySelector('[data-bytes]'))
    .map((term) => [term.textContent, Number(term.nextElementSibling!.querySelector('[data-bytes]')!.getAttribute('data-bytes'))])));
}

interface FrontDoor {
  /** e.g. http://127.0.0.1:PORT: the gateway's address as the browser knows it. */
  readonly origin: string;
  /** Every request the gateway received, in order. */
  readonly received: { url: string; authorization?: string }[];
  forwardTo(gatewayUrl: string): void;
  close(): Promise<void>;
}

/** Passes every request to the gateway unchanged, recording it; listens before the gateway exists. */
async function startFrontDoor(): Promise<FrontDoor> {
  let gateway: URL | undefined;
  const received: FrontDoor['received'] = [];
  const server = http.createServer((request, response) => {
    received.push({ url: request.url ?? '', authorization: request.headers.authorization });
    if (!gateway) return void response.writeHead(503).end();
    const upstream = http.request(new URL(request.url ?? '/', gateway), { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  const port = await listen(server, 0);
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    forwardTo: (gatewayUrl) => void (gateway = new URL(gatewayUrl)),
    close: () => close(server),
  };
}
