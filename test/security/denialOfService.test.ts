/**
 * Denial of service by one small request, against the system as `npm start` runs it (four real
 * processes, the default in-memory aggregate cache), so a process that stops answering does not take
 * the test runner with it. Proves that the system answers a viewer's operations and stays healthy,
 * also after two requests that each used to stop a whole process for every tenant:
 * - a date range ending 9999-12-31 sends the metrics subgraph's aggregate-cache day walk into an
 *   endless loop (found by the fuzzer's calendar-edge dates; in fuzz.test.ts the system runs without
 *   the cache, so the same request is harmless there);
 * - a list literal nested ~30 deep in a Date argument passes the gateway's validation (its API schema's
 *   custom scalars accept any literal) and makes Apollo's query planner work 2^depth
 *   (@apollo/federation-internals `collectVariablesInValue` visits every list twice per level).
 */
import fs from 'node:fs';
import { addDays } from '../../common/dates';
import { signDevToken } from '../../gateway/auth/devToken';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { type RunningCli, freePorts, startCli } from '../e2e/processes';
import { seedDataDir } from '../support/system';
import { send } from './support';

const ACME: GeneratorOptions = { tenant: 'acme', users: 10, days: 3, eventsPerUser: 10, start: '2025-07-07', seed: 5 };
const FROM = ACME.start;
const TO = addDays(ACME.start, ACME.days - 1);
const viewer = generateDirectory(ACME).find((u) => u.managerId !== null)!;
const JWT_SECRET = 'security-dos-jwt-secret-0123456789abcdef';
const COUNTS = `{ tenant { eventCounts(from: "${FROM}", to: "${TO}") { date count } } }`;

let system: RunningCli;
let dataDir: string;
let gatewayUrl: string;
let metricsUrl: string;
let token: string;

beforeAll(async () => {
  dataDir = (await seedDataDir([ACME])).dataDir;
  const [port, users, tenants, metrics] = await freePorts(4);
  system = startCli('start', [], {
    DATA_DIR: dataDir, PORT: String(port), USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics),
    JWT_SECRET, SUBGRAPH_SECRET: 'security-dos-subgraph-secret-0123456789ab',
  });
  await system.waitFor('bytegate is up', 90_000);
  gatewayUrl = `http://127.0.0.1:${port}/graphql`;
  metricsUrl = `http://127.0.0.1:${metrics}/graphql`;
  token = await signDevToken({ tenant: 'acme', user: viewer.id, roles: ['viewer'], secret: JWT_SECRET, ttlSeconds: 600 });
}, 120_000);

afterAll(async () => {
  await system?.stop(); // a process stuck in a loop ignores SIGTERM; npm start SIGKILLs it after 5 s
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** POSTs `query` as the viewer; undefined when no answer comes within `timeoutMs`. */
async function ask(query: string, timeoutMs: number) {
  const request = { headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) };
  return send(gatewayUrl, request, timeoutMs).catch(() => undefined);
}

/** Whether `url`'s /healthz answers 200 within a second. */
async function healthy(url: string): Promise<boolean> {
  return fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
}

test('the system serves: a viewer gets their event counts, every process is healthy', async () => {
  const response = await ask(COUNTS, 10_000);
  expect(response?.status).toBe(200);
  expect(response?.body.data.tenant.eventCounts.length).toBe(ACME.days);
  expect(await healthy(gatewayUrl)).toBe(true);
  expect(await healthy(metricsUrl)).toBe(true);
});

// Was a bug: a range ending 9999-12-31 made cachedAggregates' day walk spin forever (addDays past year
// 9999 no longer sorts); ranges now end before 9999-12-31 and the walk is counted.
test('a range ending 9999-12-31 is answered (BAD_USER_INPUT), and the metrics subgraph stays up', async () => {
  const response = await ask('{ tenant { eventCounts(from: "9999-12-31", to: "9999-12-31") { date count } } }', 3000);
  const [metricsUp, others] = [await healthy(metricsUrl), await ask(COUNTS, 3000)];
  expect({ answered: response?.status, metricsUp, othersServed: others?.status }).toEqual({ answered: 200, metricsUp: true, othersServed: 200 });
}, 20_000);

// Was a bug: the gateway's Date scalar accepted any literal, and 30 nested lists made Apollo's planner
// (collectVariablesInValue) do 2^30 work; the gateway now coerces its scalars as the subgraphs do.
test('a Date argument of 30 nested lists is refused at once, and the gateway stays up', async () => {
  const nested = `${'['.repeat(30)}null${']'.repeat(30)}`;
  const started = Date.now();
  const response = await ask(`{ tenant { eventCounts(from: ${nested}, to: "${TO}") { count } } }`, 3000);
  const elapsedMs = Date.now() - started;
  const gatewayUp = await healthy(gatewayUrl);
  expect({ status: response?.status, code: response?.body?.errors?.[0]?.extensions?.code, fast: elapsedMs < 3000, gatewayUp })
    .toEqual({ status: 400, code: 'BAD_USER_INPUT', fast: true, gatewayUp: true });
}, 20_000);
