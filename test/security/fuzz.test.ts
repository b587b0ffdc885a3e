/**
 * Fuzzing the running gateway over HTTP: 10,000 seeded, generated hostile requests (fast-check, fixed
 * seeds; the `numRuns` of the properties below sum to 10,000) against one real system — the gateway
 * and the three subgraphs over real DuckDB datasets of two tenants. Proves, for every request: the
 * process keeps serving (a known-good operation answers the same before, at checkpoints and after);
 * the status is 200 or one the README's error table documents (a 5xx only with a code documented for
 * it); every error carries a documented code (the set is read from README.md, not from
 * common/errors.ts) and none is INTERNAL_SERVER_ERROR — hostile input is never "unexpected"; no
 * response leaks SQL, warehouse, database or stack-trace text or internal URLs; an unauthenticated
 * request gets no data. What the fuzzer found is fixed and kept below as regression tests. Two it found
 * used to stop a process outright, so they
 * are kept out of this in-process run and tested against real processes in denialOfService.test.ts:
 * list literals are nested at most MAX_LITERAL_NESTING deep, and this system has no aggregate cache.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import { type GraphQLArgument, type GraphQLObjectType, type GraphQLSchema, buildClientSchema, getIntrospectionQuery, getNamedType, isInterfaceType, isNonNullType, isObjectType } from 'graphql';
import { addDays } from '../../common/dates';
import { signDevToken } from '../../gateway/auth/devToken';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { type System, seedDataDir, startSystem } from '../support/system';
import {
  type DocumentedErrors,
  HOSTILE_STRINGS,
  type HttpResponse,
  type RawRequest,
  argumentSites,
  contractViolations,
  documentedErrors,
  hs256,
  requestTextOf,
  send,
  siteOperation,
  unsignedJwt,
} from './support';

type G = fc.GeneratorValue;

const ACME: GeneratorOptions = { tenant: 'acme', users: 40, days: 7, eventsPerUser: 15, start: '2025-03-03', seed: 101 };
const GLOBEX: GeneratorOptions = { tenant: 'globex', users: 15, days: 7, eventsPerUser: 15, start: '2025-03-03', seed: 202 };
const FROM = ACME.start;
const TO = addDays(ACME.start, ACME.days - 1);
const acme = generateDirectory(ACME);
const globex = generateDirectory(GLOBEX);
const ceo = acme.find((u) => u.managerId === null)!;
const manager = acme.find((u) => u.managerId === ceo.id && acme.some((r) => r.managerId === u.id))!;
const viewer = acme.find((u) => !acme.some((r) => r.managerId === u.id))!;
const globexCeo = globex.find((u) => u.managerId === null)!;

/** Budgets no fuzz run can exhaust, so the checkpoints always run (a refusal would still be checked). */
const ENV = { BUDGET_DEFAULTS: 'viewer=1PiB,manager=1PiB,executive=1PiB,quota-admin=1PiB,tenant=4PiB' };
/** A known-good operation (all three subgraphs) re-run at every checkpoint: the same answer each time. */
const CHECKPOINT_QUERY = `query Checkpoint($from: Date!, $to: Date!) {
  tenant { id name dataRange { from to } topTimeWasters(from: $from, to: $to, first: 3) { user { id displayName } totalWasteHours }
    appUsage(from: $from, to: $to, first: 3) { app { id } events users } eventCounts(from: $from, to: $to) { date count } }
  users(first: 5) { totalCount edges { node { id email } } }
  me { id manager { id } productivity(from: $from, to: $to) { totalEvents } daily(from: $from, to: $to) { date totalEvents } } }`;
const CHECKPOINT_EVERY = 500;

type Caller = 'executive' | 'manager' | 'viewer' | 'globexAdmin';

let system: System;
let remove: () => void;
let documented: DocumentedErrors;
let schema: GraphQLSchema;
let tokens: Record<Caller, string>;
/** Tokens that are well formed but must be refused (expired, forged, bad claims). */
let wronglySigned: string[] = [];
let baseline: unknown;
let sent = 0;
let checkpoints = 0;
const statuses = new Map<number, number>();
/** What mutations sent (audit reasons come back in budgetUsage): not a leak when a later response shows it. */
const stored: string[] = [];
const codes = new Map<string, number>();
const started = Date.now();

beforeAll(async () => {
  documented = documentedErrors();
  const seeded = await seedDataDir([ACME, GLOBEX]);
  remove = seeded.remove;
  system = await startSystem(seeded.dataDir, { env: ENV });
  if (system.config.auth.kind !== 'hs256') throw new Error('needs HS256 dev auth');
  const secret = system.config.auth.secret;
  const token = (tenant: string, user: string, roles: ('executive' | 'manager' | 'viewer' | 'quota-admin')[]) =>
    signDevToken({ tenant, user, roles, secret, ttlSeconds: 3600 });
  tokens = {
    executive: await token('acme', ceo.id, ['executive']),
    manager: await token('acme', manager.id, ['manager']),
    viewer: await token('acme', viewer.id, ['viewer']),
    globexAdmin: await token('globex', globexCeo.id, ['executive', 'quota-admin']),
  };
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: ceo.id, tenant: 'acme', roles: ['executive'] };
  wronglySigned = await Promise.all([
    hs256({ ...claims, exp: now - 10 }, secret), // expired
    hs256({ ...claims, exp: now + 600 }, 'another-secret-0123456789abcdef0123456789'), // forged
    hs256(claims, secret), // no exp
    hs256({ ...claims, exp: now + 600, nbf: now + 3600 }, secret), // not yet valid
    hs256({ ...claims, exp: now + 600, tenant: 'ACME' }, secret), // malformed tenant
    hs256({ ...claims, exp: now + 600, tenant: '../globex' }, secret),
    hs256({ ...claims, exp: now + 600, roles: ['root', 'admin'] }, secret), // no known role
    hs256({ ...claims, exp: now + 600, sub: '' }, secret), // no subject
  ]);
  const introspection = await send(system.gatewayUrl, post(getIntrospectionQuery(), undefined, 'executive'));
  schema = buildClientSchema(introspection.body.data);
  const first = await send(system.gatewayUrl, post(CHECKPOINT_QUERY, { from: FROM, to: TO }, 'executive'));
  expect(first.body.errors).toBeUndefined();
  expect(first.body.data.me.productivity.totalEvents).toBeGreaterThan(0);
  baseline = first.body.data;
}, 120_000);

afterAll(async () => {
  await system?.close();
  remove?.();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.info(`security fuzz: ${sent} requests, ${checkpoints} checkpoints, ${seconds} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}; `
    + `codes ${JSON.stringify(Object.fromEntries(codes))}`);
});

// ── The properties (numRuns sum to 10,000) ──────────────────────────────────────────────────────

const RUNS = { syntax: 1200, structure: 1000, schemaWalk: 2500, variables: 1500, dates: 1000, strings: 1000, introspection: 500, transport: 1300 };

describe('10,000 hostile requests: the gateway keeps serving, answers only documented codes, leaks nothing', () => {
  test('the budget of runs is 10,000', () => {
    expect(Object.values(RUNS).reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  test(`syntactically broken documents (${RUNS.syntax})`, () => fuzz(RUNS.syntax, 1, brokenDocument), 120_000);
  test(`deep nesting, alias floods, fragment bombs and cycles, directives, several operations (${RUNS.structure})`, () => fuzz(RUNS.structure, 2, structural), 120_000);
  test(`random operations over the schema: unknown fields and arguments, wrong types, literals and variables (${RUNS.schemaWalk})`, () => fuzz(RUNS.schemaWalk, 3, schemaWalk), 120_000);
  test(`hostile variable values for valid operations (${RUNS.variables})`, () => fuzz(RUNS.variables, 4, hostileVariables), 120_000);
  test(`dates: impossible, malformed, reversed, a century long, at the ends of the calendar (${RUNS.dates})`, () => fuzz(RUNS.dates, 5, dateRanges), 120_000);
  test(`hostile strings in every String and ID argument (${RUNS.strings})`, () => fuzz(RUNS.strings, 6, hostileStrings), 120_000);
  test(`__typename and introspection, including of hidden types (${RUNS.introspection})`, () => fuzz(RUNS.introspection, 7, introspection), 120_000);
  test(`transport: batches, content types, GET, methods, bodies that are not operations, headers, tokens (${RUNS.transport})`, () => fuzz(RUNS.transport, 8, transport), 120_000);

  test('after all of it the system still answers the known-good operation as at the start', async () => {
    await checkpoint();
    expect(sent).toBe(10_000);
  });
});

// ── Found by the fuzzer, fixed, kept as regressions ───────────────────────────────────────────

describe('found and fixed', () => {
  // Was a bug: an impossible date reached the metrics subgraph, whose 400 the gateway turned into
  // INTERNAL_SERVER_ERROR "400: Bad Request" carrying the subgraph's URL. The gateway now validates scalars.
  test('an impossible date is BAD_USER_INPUT, without internal URLs', async () => {
    for (const request of [
      post('{ tenant { eventCounts(from: "2025-02-30", to: "2025-03-05") { count } } }', undefined, 'executive'),
      post('query($from: Date!) { me { productivity(from: $from, to: "2025-03-05") { totalEvents } } }', { from: '9999-99-99' }, 'executive'),
    ]) {
      const response = await send(system.gatewayUrl, request);
      expect(response.text).not.toMatch(/127\.0\.0\.1|"response":/);
      expect(response.body.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    }
  });

  // Was a bug: Apollo Server's BAD_REQUEST code, and HTTP 405/406, were not in the contract; and a
  // request whose Accept header excluded JSON was executed (and charged) before Apollo refused it.
  test('requests that are not GraphQL operations get documented codes and statuses', async () => {
    const auth = { authorization: `Bearer ${tokens.executive}` };
    const answers = [];
    for (const request of [
      { headers: { ...auth, 'content-type': 'application/json' }, body: '[]' }, // an empty batch
      { headers: { ...auth, 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) },
      { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) },
      { method: 'GET', headers: auth, search: `?query=${encodeURIComponent('mutation { resetBudgetUsage { usedBytes } }')}` },
      { headers: { ...auth, 'content-type': 'application/json', accept: 'text/html' }, body: JSON.stringify({ query: '{ __typename }' }) },
    ] satisfies RawRequest[]) {
      const response = await send(system.gatewayUrl, request);
      expect(contractViolations(response, documented, { requestText: requestTextOf(request) })).toEqual([]);
      answers.push(`${response.status} ${response.body.errors.map((e: any) => e.extensions.code).join()}`);
    }
    expect(answers).toEqual(['400 BAD_REQUEST', '400 BAD_REQUEST', '405 BAD_REQUEST', '405 BAD_REQUEST', '406 BAD_REQUEST']);
  });

  test('an operation whose Accept header excludes JSON is refused before it runs: nothing charged', async () => {
    const usedBytes = async () => (await send(system.gatewayUrl, post('{ myBudget { usedBytes } }', undefined, 'viewer'))).body.data.myBudget.usedBytes;
    const before = await usedBytes();
    const request = post(`{ me { productivity(from: "${FROM}", to: "${TO}") { totalEvents } } }`, undefined, 'viewer');
    const response = await send(system.gatewayUrl, { ...request, headers: { ...request.headers, accept: 'text/html, application/xml;q=0.9' } });
    expect({ status: response.status, usedBytes: await usedBytes() }).toEqual({ status: 406, usedBytes: before });
    // The same operation, accepting JSON, is charged: the comparison above could fail.
    await send(system.gatewayUrl, request);
    expect(await usedBytes()).toBeGreaterThan(before);
  });

  // Was a bug: an unknown automatic-persisted-query hash answered an undocumented code, a wrong one INTERNAL_SERVER_ERROR.
  test('persisted-query hashes, unknown or wrong, get documented codes', async () => {
    const headers = { authorization: `Bearer ${tokens.executive}`, 'content-type': 'application/json' };
    const answers = [];
    for (const body of [{ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } }, { query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: '00' } } }]) {
      const request = { headers, body: JSON.stringify(body) };
      const response = await send(system.gatewayUrl, request);
      expect(contractViolations(response, documented, { requestText: requestTextOf(request), forbiddenCodes: ['INTERNAL_SERVER_ERROR'] })).toEqual([]);
      answers.push(`${response.status} ${response.body.errors.map((e: any) => e.extensions.code).join()}`);
    }
    expect(answers).toEqual(['200 PERSISTED_QUERY_NOT_FOUND', '400 BAD_REQUEST']);
  });

  // Was a bug: operations graphql-js could not resolve (no operation chosen) answered HTTP 500.
  test('an operation that cannot be chosen is a 400, not a 500', async () => {
    for (const request of [
      post('query A { __typename }', undefined, 'executive', 'B'),
      post('query A { __typename } query B { __typename }', undefined, 'executive'),
      post('subscription { __typename }', undefined, 'executive'),
    ]) {
      const response = await send(system.gatewayUrl, request);
      expect(response.status).toBe(400);
      expect(documented.codes.has(response.body.errors[0].extensions.code)).toBe(true);
    }
  });

  // Was a bug: with `operationName: ""` graphql-js chose no operation, yet it was priced, reserved, run and charged.
  test('operationName "" is refused before anything runs or is charged', async () => {
    const usedBytes = async () => (await send(system.gatewayUrl, post('{ myBudget { usedBytes } }', undefined, 'viewer'))).body.data.myBudget.usedBytes;
    const before = await usedBytes();
    const response = await send(system.gatewayUrl, post(`{ me { productivity(from: "${FROM}", to: "${TO}") { totalEvents } } }`, undefined, 'viewer', ''));
    expect({ status: response.status, usedBytes: await usedBytes() }).toEqual({ status: 400, usedBytes: before });
  });

  // Was a bug: `operationName=` skipped Apollo Server's GET-is-query-only check, and the gateway ran the mutation.
  test('a mutation is never executed over GET, not even with an empty operationName', async () => {
    const reason = `executed over GET ${Date.now()}`;
    const search = `?${new URLSearchParams({ query: `mutation { setUserBudget(userId: "get-probe", dailyLimitBytes: 1073741824, reason: "${reason}") { dailyLimitBytes } }`, operationName: '' })}`;
    await send(system.gatewayUrl, { method: 'GET', search, headers: { authorization: `Bearer ${tokens.globexAdmin}` } });
    const audit = await send(system.gatewayUrl, post(`{ budgetUsage(from: "${FROM}", to: "${FROM}", first: 500) { changes { reason } } }`, undefined, 'globexAdmin'));
    expect(audit.body.data.budgetUsage.changes.map((change: { reason: string }) => change.reason)).not.toContain(reason);
  });

  // Was a bug (HTTP 500): graphql-js 16.15 knows `__Type.isOneOf`, Apollo Gateway 2.14.4's planner does not.
  test('introspecting __Type.isOneOf is a 400 validation error, not a 500', async () => {
    const response = await send(system.gatewayUrl, post('{ __type(name: "User") { name isOneOf } me { id } }', undefined, 'executive'));
    expect(contractViolations(response, documented, { requestText: '' })).toEqual([]);
    expect({ status: response.status, codes: response.body.errors.map((e: any) => e.extensions.code) }).toEqual({ status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] });
  });

  // Was a bug: Node refuses headers over 16 KiB before the app sees them, by default with an empty body.
  test('a GET whose query string is over 16 KiB gets a coded JSON error', async () => {
    const request = { method: 'GET', search: `?query=${encodeURIComponent(`{ me { id } } # ${'x'.repeat(20_000)}`)}`, headers: { authorization: `Bearer ${tokens.executive}` } };
    const response = await send(system.gatewayUrl, request);
    expect(contractViolations(response, documented, { requestText: requestTextOf(request) })).toEqual([]);
    expect({ status: response.status, code: response.body.errors[0].extensions.code }).toEqual({ status: 431, code: 'PAYLOAD_TOO_LARGE' });
  });
});

// ── The property runner ─────────────────────────────────────────────────────────────────────────

/**
 * Generates `numRuns` requests with fast-check under a fixed seed (fc.sample: the same requests every
 * run), sends them CONCURRENCY at a time, checks each answer, and runs a checkpoint after every
 * CHECKPOINT_EVERY requests of the file. A failure names the property's seed and the request's index.
 */
async function fuzz(numRuns: number, seed: number, generate: (g: G) => Generated): Promise<void> {
  const generated = fc.sample(fc.gen().map((g) => generate(g)), { seed, numRuns });
  let next = 0;
  while (next < generated.length) {
    const chunk = generated.slice(next, next + CHECKPOINT_EVERY - (sent % CHECKPOINT_EVERY));
    const offset = next;
    await inParallel(chunk, CONCURRENCY, async (item, i) => {
      try {
        await check(item.request, item.authenticated, item.forbidInResponse);
      } catch (error) {
        throw new Error(`seed ${seed}, request #${offset + i}: ${(error as Error).message}`);
      }
    });
    next += chunk.length;
    sent += chunk.length;
    if (sent % CHECKPOINT_EVERY === 0) await checkpoint();
  }
}

const CONCURRENCY = 4;

/** Runs `work` over `items`, at most `limit` at once; the first failure stops new work and is thrown. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index], index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failure !== undefined) throw failure;
}

interface Generated {
  request: RawRequest;
  /** false: the request carries no valid token, so it must not be answered with data. */
  authenticated: boolean;
  /** Strings this response must not contain (beyond the general leak patterns). */
  forbidInResponse?: readonly string[];
}

async function check(request: RawRequest, authenticated: boolean, forbidInResponse: readonly string[] = []): Promise<void> {
  let response: HttpResponse;
  if (/mutation/i.test(request.body ?? request.search ?? '')) stored.push(requestTextOf(request).toLowerCase());
  // FUZZ_TRACE=<file>: every request is appended before it is sent, to find one that stops the (in-process) system.
  if (process.env.FUZZ_TRACE) fs.appendFileSync(process.env.FUZZ_TRACE, `${sent} ${Date.now() - started} ms ${describeRequest(request).slice(0, 3000)}\n`);
  try {
    response = await send(system.gatewayUrl, request);
  } catch (error) {
    throw new Error(`no answer (${String(error)}) to ${describeRequest(request)}`);
  }
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  for (const error of response.body?.errors ?? []) {
    const code = String(error?.extensions?.code);
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  const requestText = requestTextOf(request);
  const violations = contractViolations(response, documented, { requestText, forbiddenCodes: ['INTERNAL_SERVER_ERROR'], stored: (fragment) => stored.some((text) => text.includes(fragment)) });
  if (!authenticated && (response.status === 200 || (response.body?.data !== undefined && response.body?.data !== null))) violations.push('an unauthenticated request was answered with data');
  for (const text of forbidInResponse) if (response.text.includes(text) && !requestText.includes(text)) violations.push(`response mentions ${text}`);
  if (violations.length > 0) {
    throw new Error(`${violations.join('\n')}\nrequest: ${describeRequest(request)}\nresponse: HTTP ${response.status} ${response.text.slice(0, 1500)}`);
  }
}

/** The process still serves: /healthz, and the known-good operation answers exactly as at the start. */
async function checkpoint(): Promise<void> {
  checkpoints += 1;
  const health = await fetch(new URL('/healthz', system.gatewayUrl), { signal: AbortSignal.timeout(10_000) });
  expect(health.status).toBe(200);
  const response = await send(system.gatewayUrl, post(CHECKPOINT_QUERY, { from: FROM, to: TO }, 'executive'), 10_000);
  expect(response.status).toBe(200);
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data).toEqual(baseline);
}

function describeRequest(request: RawRequest): string {
  const body = request.body === undefined ? '' : ` body=${request.body.length > 1200 ? `${request.body.slice(0, 1200)}…(${request.body.length})` : request.body}`;
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k, k === 'authorization' ? `${v.slice(0, 20)}…` : v]));
  return `${request.method ?? 'POST'} ${request.search ?? ''} headers=${JSON.stringify(headers)}${body}`;
}

// ── Requests ────────────────────────────────────────────────────────────────────────────────────

function post(query: string, variables: unknown, caller: Caller, operationName?: string): RawRequest {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[caller]}` },
    body: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }), ...(operationName === undefined ? {} : { operationName }) }),
  };
}

/** A POST usually, a GET with the operation in the query string sometimes. */
function operationRequest(g: G, query: string, variables: unknown, caller: Caller, operationName?: string): Generated {
  if (chance(g, 0.1)) {
    const params = new URLSearchParams({ query });
    if (variables !== undefined) params.set('variables', JSON.stringify(variables));
    if (operationName !== undefined) params.set('operationName', operationName);
    return { request: { method: 'GET', search: `?${params}`, headers: { authorization: `Bearer ${tokens[caller]}` } }, authenticated: true };
  }
  return { request: post(query, variables, caller, operationName), authenticated: true };
}

function caller(g: G): Caller {
  return pick(g, ['executive', 'executive', 'manager', 'viewer', 'globexAdmin'] as const);
}

// ── Generators ──────────────────────────────────────────────────────────────────────────────────

const VALID_DOCUMENTS = [
  '{ me { id displayName email department manager { id displayName } } }',
  `{ tenant { id name dataRange { from to } topTimeWasters(from: "${FROM}", to: "${TO}", first: 5) { user { id } totalWasteHours authWasteHours } } }`,
  `{ tenant { appUsage(from: "${FROM}", to: "${TO}") { app { id name } events users } eventCounts(from: "${FROM}", to: "${TO}", eventType: "user.session.start") { date eventType count } } }`,
  `query Q($from: Date!, $to: Date!) { me { productivity(from: $from, to: $to) { totalEvents uniqueApps totalWasteHours } daily(from: $from, to: $to) { date totalEvents } } }`,
  `{ users(first: 10, after: null) { totalCount edges { cursor node { id email manager { id } } } pageInfo { hasNextPage endCursor } } }`,
  `{ user(id: "${viewer.id}") { id displayName budget { usedBytes remainingBytes resetsAt } } }`,
  `{ myBudget { dailyLimitBytes maxQueryBytes usedBytes remainingBytes resetsAt } tenant { budget { usedBytes } } }`,
  `{ budgetUsage(from: "${FROM}", to: "${TO}", first: 3) { topSpenders { user { id } usedBytes } recentRejections { at requestedBytes exceeded } changes { at actor action old new reason } } }`,
  'mutation M { setUserBudget(userId: "u1", dailyLimitBytes: 5368709120, reason: "fuzz") { dailyLimitBytes } }',
  'query A { ...F } fragment F on Query { me { ... on User { id } } }',
  'query V($skip: Boolean = false) { me { id @skip(if: $skip) displayName @include(if: true) } }',
  '{ __schema { queryType { name } types { name kind } } }',
];

const GRAPHQL_PUNCTUATION = ['{', '}', '(', ')', '[', ']', ':', '$', '@', '!', '=', '...', '.', '"', '"""', '\\', '#', ',', '|', '&', '\n', ' ', '\u0000', '\ufeff', '-', '+', '0', '1e', '__', 'on', 'fragment', 'query', 'mutation', 'subscription', 'null', 'true'];

/** Valid documents cut, spliced and sprinkled with punctuation; random text; pathological literals. */
function brokenDocument(g: G): Generated {
  const roll = g(fc.nat, 99);
  let text: string;
  if (roll < 60) {
    text = pick(g, VALID_DOCUMENTS);
    for (let i = 0, n = 1 + g(fc.nat, 3); i < n; i++) {
      const at = g(fc.nat, text.length);
      switch (g(fc.nat, 4)) {
        case 0: text = text.slice(0, at); break; // truncated
        case 1: text = text.slice(0, at) + text.slice(Math.min(text.length, at + 1 + g(fc.nat, 10))); break; // a hole
        case 2: text = text.slice(0, at) + pick(g, GRAPHQL_PUNCTUATION) + text.slice(at); break; // an extra token
        case 3: text = text.slice(0, at) + g(fc.string, { unit: 'binary', maxLength: 8 }) + text.slice(at); break; // noise
        default: text = text.slice(0, at) + text.slice(g(fc.nat, text.length)); break; // spliced onto itself
      }
    }
  } else if (roll < 75) {
    text = g(fc.string, { unit: 'binary', maxLength: 300 });
  } else if (roll < 95) {
    text = g(fc.array, fc.constantFrom(...GRAPHQL_PUNCTUATION, 'me', 'id', 'tenant', 'user', '(id: "x")', 'users', '{ id }'), { maxLength: 60 }).join(' ');
  } else {
    text = pick(g, ['', ' ', '\n\n', '#only a comment', '"""unterminated', '"unterminated', '"\\u{110000}"', '{ me(id: "\\uD800") { id } }', '{ me { id } } }', '{{{{', '}}}}',
      '\ufeff{ __typename }', '{ __typename }\u0000', `{ a: ${'1'.repeat(500)} }`, '{ me { id } } # ' + 'x'.repeat(20_000), '{ me { id(x: 1e99999) } }', '{ me { id(x: -0x1) } }']);
  }
  return operationRequest(g, text, undefined, caller(g));
}

/** Shapes that stress the limits and the planners rather than the syntax. */
function structural(g: G): Generated {
  const kind = g(fc.nat, 12);
  const n = g(fc.integer, { min: 1, max: kind < 4 ? 60 : 120 });
  let query: string;
  let operationName: string | undefined;
  switch (kind) {
    case 0: query = `{ me { ${'manager { '.repeat(n)}id${' }'.repeat(n)} } }`; break;
    case 1: query = `{ ${'nope { '.repeat(n)}id${' }'.repeat(n)} }`; break;
    case 2: query = `{ me { ${'... on User { '.repeat(n)}id${' }'.repeat(n)} } }`; break;
    case 3: query = `{ __schema { types { ${'fields { type { '.repeat(Math.min(n, 30))}name${' } }'.repeat(Math.min(n, 30))} } } }`; break;
    case 4: query = `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${pick(g, ['__typename', 'me { id }', 'tenant { id }', `tenant { eventCounts(from: "${FROM}", to: "${TO}") { count } }`, 'myBudget { usedBytes }'])}`).join(' ')} }`; break;
    case 5: query = `{ ${Array.from({ length: n }, () => pick(g, ['__typename', 'me { id }', 'tenant { name }', `me { productivity(from: "${FROM}", to: "${TO}") { totalEvents } }`])).join(' ')} }`; break;
    case 6: { // a fragment spread 2^n times
      const levels = Math.min(n, 45);
      query = `query Bomb { ...F${levels} } fragment F0 on Query { ${pick(g, ['__typename', 'me { id }', `tenant { appUsage(from: "${FROM}", to: "${TO}") { events } }`, 'users(first: 500) { edges { node { id } } }'])} } `;
      for (let i = 1; i <= levels; i++) query += `fragment F${i} on Query { ...F${i - 1} ${chance(g, 0.5) ? `a${i}: ` : ''}...F${i - 1} } `;
      break;
    }
    case 7: query = `{ ...A } fragment A on Query { ...B } fragment B on Query { ${chance(g, 0.5) ? '...A' : '...C'} }`; break;
    case 8: { // several operations; the name asked for may not exist
      const names = Array.from({ length: Math.min(n, 20) }, (_, i) => (chance(g, 0.2) ? '' : `Op${i}`));
      query = names.map((name) => `${pick(g, ['query', 'query', 'mutation', 'subscription'])} ${name} { __typename }`).join(' ');
      operationName = pick(g, [undefined, 'Op0', 'Op1', 'Nope', '', ...names]);
      break;
    }
    case 9: { // directives: known with wrong arguments, unknown, repeated
      const directive = () => pick(g, ['@skip(if: true)', '@skip(if: false)', '@include(if: "yes")', '@include', '@skip(if: $undefined)', '@deprecated', '@defer', '@stream(initialCount: 1)',
        '@cost(weight: -1)', '@listSize(assumedSize: 1)', '@scan(query: "x", table: "users", columns: ["email"])', '@noScan(reason: "free")', '@inaccessible', '@specifiedBy(url: "x")']);
      query = `{ me ${directive()} { id ${directive()} displayName ${Array.from({ length: n % 8 }, directive).join(' ')} } tenant { name ${directive()} } }`;
      break;
    }
    case 10: query = `query(${Array.from({ length: n % 40 }, (_, i) => `$v${i}: ${pick(g, ['Int', 'Date!', '[String]', 'Nope', 'User', 'Boolean = 3', 'ID! = null'])}`).join(' ')}) { me { id } }`; break;
    case 11: query = `{ me { productivity(from: "${FROM}", to: "${TO}") { totalEvents } productivity(from: "${FROM}", to: "${addDays(TO, -1)}") { totalEvents } id: displayName } }`; break;
    default: query = `{ tenant { eventCounts(from: "${FROM}", to: "${TO}", eventType: "a", eventType: "b") { count } } }`;
  }
  return operationRequest(g, query, undefined, caller(g), operationName);
}

/** Random operations from the API schema: real and unknown fields and arguments, values of every kind. */
function schemaWalk(g: G): Generated {
  const asAdmin = chance(g, 0.1);
  const root = asAdmin ? schema.getMutationType()! : schema.getQueryType()!;
  const variables = new Variables();
  const selection = select(g, root, 0, chance(g, 0.05) ? 16 : 4, variables);
  const query = `${root === schema.getQueryType() ? 'query' : 'mutation'} Walk${variables.definitions(g)} { ${selection} }`;
  return operationRequest(g, query, variables.values(g), asAdmin ? 'globexAdmin' : caller(g));
}

const UNKNOWN_FIELDS = ['nope', '_entities(representations: [{ __typename: "User", id: "x" }]) { __typename }', '_service { sdl }', '_scanStatistics { table }', '_knownUsers(ids: ["x"])', 'password', 'tenantId', 'sql', '__proto__', 'constructor', 'edges', 'node { id }'];
const UNKNOWN_ARGUMENTS = ['tenant', 'tenantId', 'where', 'sql', 'orderBy', 'limit', 'offset', 'as', 'id'];

function select(g: G, type: GraphQLObjectType, depth: number, maxDepth: number, variables: Variables): string {
  const fields = Object.values(type.getFields());
  const parts: string[] = [];
  for (let i = 0, n = 1 + g(fc.nat, 3); i < n; i++) {
    const roll = g(fc.nat, 99);
    if (roll < 5) { parts.push(pick(g, UNKNOWN_FIELDS)); continue; }
    if (roll < 8) { parts.push('__typename'); continue; }
    if (roll < 10 && depth < maxDepth) { parts.push(`... on ${type.name} { ${select(g, type, depth + 1, maxDepth, variables)} }`); continue; }
    const field = pick(g, fields);
    let text = chance(g, 0.15) ? `${pick(g, ['a', 'b', 'id', 'me', 'x1'])}: ${field.name}` : field.name;
    const args: string[] = [];
    for (const argument of field.args) {
      if (chance(g, isNonNullType(argument.type) ? 0.95 : 0.6)) args.push(`${argument.name}: ${argumentValue(g, argument, variables)}`);
    }
    if (chance(g, 0.05)) args.push(`${pick(g, UNKNOWN_ARGUMENTS)}: ${literal(anyValue(g))}`);
    if (args.length > 0) text += `(${args.join(', ')})`;
    const named = getNamedType(field.type);
    if (isObjectType(named) || isInterfaceType(named)) {
      if (depth >= maxDepth) text += ' { __typename }';
      else if (!chance(g, 0.03)) text += ` { ${select(g, named as GraphQLObjectType, depth + 1, maxDepth, variables)} }`;
    } else if (chance(g, 0.03)) {
      text += ' { id }';
    }
    parts.push(text);
  }
  return parts.join(' ');
}

/** Variables an operation declares and sends; declared types and values can both be wrong. */
class Variables {
  private readonly entries: { name: string; type: string; value: unknown; send: boolean; declare: boolean }[] = [];

  add(g: G, type: string, value: unknown): string {
    const name = `v${this.entries.length}`;
    const declared = chance(g, 0.85) ? type : pick(g, ['String', 'Int', 'Date', 'Date!', '[Date!]', 'Boolean', 'ID!', 'Bytes', 'Nope', 'User']);
    this.entries.push({ name, type: declared, value, send: chance(g, 0.95), declare: chance(g, 0.97) });
    return `$${name}`;
  }

  definitions(g: G): string {
    const declared = this.entries.filter((e) => e.declare).map((e) => `$${e.name}: ${e.type}`);
    if (chance(g, 0.05)) declared.push(`$extra: ${pick(g, ['String', 'Int = 1', 'Date = "2025-02-30"', 'Date = "9999-12-31"'])}`);
    return declared.length ? `(${declared.join(', ')})` : '';
  }

  values(g: G): Record<string, unknown> | undefined {
    if (this.entries.length === 0 && chance(g, 0.7)) return undefined;
    const values: Record<string, unknown> = Object.fromEntries(this.entries.filter((e) => e.send && !(e.value instanceof Raw)).map((e) => [e.name, e.value]));
    if (chance(g, 0.05)) values[pick(g, ['extra', '__proto__', 'constructor', 'v99'])] = anyValue(g);
    return values;
  }
}

/** A literal (with its own wrongness) or a variable carrying the value. */
function argumentValue(g: G, argument: GraphQLArgument, variables: Variables): string {
  const value = valueOfType(g, getNamedType(argument.type).name);
  if (value instanceof Raw || chance(g, 0.6)) return literal(value);
  return variables.add(g, String(argument.type), value);
}

/** A GraphQL source token sent as is (enum values, NaN, variables nobody declared). */
class Raw {
  constructor(readonly text: string) {}
}

/**
 * The GraphQL literal of `value`. Nesting stops at MAX_LITERAL_NESTING: deeper list literals hang
 * the gateway (the planner's work doubles per level — a known bug, reproduced below); JSON
 * variables carry the deep values instead.
 */
function literal(value: unknown, depth = 0): string {
  if (value instanceof Raw) return value.text;
  if (value === null || value === undefined || depth > MAX_LITERAL_NESTING) return 'null';
  if (typeof value === 'string') return JSON.stringify(value); // JSON's escapes are GraphQL's
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((item) => literal(item, depth + 1)).join(', ')}]`;
  return `{ ${Object.entries(value as object).map(([k, v]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'k'}: ${literal(v, depth + 1)}`).join(', ')} }`;
}

const MAX_LITERAL_NESTING = 12;

const dayOf = (date: Date) => date.toISOString().slice(0, 10);
const VALID_DATES = Array.from({ length: 12 }, (_, i) => addDays('2025-03-01', i));
const EDGE_DATES = ['9999-12-31', '0100-01-01', '1000-01-01', '1970-01-01', '2024-02-29', '2000-02-29', '2100-12-31', '2025-01-01'];
const BAD_DATES = ['2025-02-30', '9999-99-99', '2025-13-01', '2025-00-10', '2025-04-31', '2023-02-29', '1900-02-29', '0000-01-01', '0000-00-00', '0099-12-31',
  '2025-1-1', '25-03-03', '20250303', '2025/03/03', '2025-03-03T00:00:00Z', '2025-03-03 ', ' 2025-03-03', '2025-03-03\n', '2025-03-0３', '２０２５-03-03',
  '+02025-03-03', '-2025-03-03', '2025-03-03;', "2025-03-03' OR '1'='1", "2025-03-03') --", 'today', 'now()', 'CURRENT_DATE', '', 'null', '2025-03-03\u0000'];

function dateValue(g: G): unknown {
  const roll = g(fc.nat, 99);
  if (roll < 35) return pick(g, VALID_DATES);
  if (roll < 47) return pick(g, EDGE_DATES);
  if (roll < 75) return pick(g, BAD_DATES);
  if (roll < 93) return dayOf(g(fc.date, { min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }));
  if (roll < 97) return pick(g, HOSTILE_STRINGS);
  return anyValue(g);
}

function intValue(g: G): unknown {
  const roll = g(fc.nat, 99);
  if (roll < 50) return g(fc.integer, { min: -10, max: 600 });
  if (roll < 78) return pick(g, [0, -1, 1, 500, 501, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1.5, -0, 1e308]);
  if (roll < 85) return g(fc.double);
  if (roll < 90) return pick(g, [new Raw('NaN'), new Raw('Infinity'), new Raw('-Infinity'), new Raw('1e99999'), new Raw('0x10'), new Raw('$nope')]);
  if (roll < 95) return pick(g, ['10', '1e3', '', 'ten']);
  return anyValue(g);
}

function stringValue(g: G): unknown {
  const roll = g(fc.nat, 99);
  if (roll < 15) return pick(g, acme).id;
  if (roll < 20) return pick(g, globex).id;
  if (roll < 28) return Buffer.from(pick(g, acme).id).toString('base64'); // a cursor
  if (roll < 68) return pick(g, HOSTILE_STRINGS);
  if (roll < 83) return g(fc.string, { unit: 'binary', maxLength: 60 });
  if (roll < 88) return g(fc.string, { unit: 'grapheme', maxLength: 40 });
  if (roll < 94) return g(fc.integer, { min: -5, max: 5 });
  return anyValue(g);
}

function bytesValue(g: G): unknown {
  return pick(g, [-1, 0, 1, 1.5, 2 ** 30, 2 ** 40, 2 ** 50, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 1e308, -0, '5GiB', '1024', null, true, new Raw('NaN'), g(fc.integer, { min: -(2 ** 31), max: 2 ** 31 - 1 })]);
}

function valueOfType(g: G, typeName: string): unknown {
  if (chance(g, 0.08)) return anyValue(g); // type confusion
  switch (typeName) {
    case 'Date': return dateValue(g);
    case 'DateTime': return pick(g, ['2025-03-03T00:00:00Z', '2025-03-03', 'yesterday', '9999-12-31T23:59:59+14:00', ...BAD_DATES]);
    case 'Int': case 'Float': return intValue(g);
    case 'Bytes': return bytesValue(g);
    case 'Boolean': return pick(g, [true, false, null, 'true', 1, new Raw('TRUE')]);
    default: return stringValue(g);
  }
}

/** Any JSON-ish value, deep nesting and other types' values included. */
function anyValue(g: G): unknown {
  const roll = g(fc.nat, 99);
  if (roll < 40) return g(fc.jsonValue, { maxDepth: 3 });
  if (roll < 60) return pick(g, HOSTILE_STRINGS);
  if (roll < 70) return pick(g, [...BAD_DATES, ...EDGE_DATES]);
  if (roll < 80) {
    let nested: unknown = pick(g, ['x', 1, null]);
    for (let i = 0, depth = g(fc.integer, { min: 1, max: 400 }); i < depth; i++) nested = chance(g, 0.5) ? [nested] : { k: nested };
    return nested;
  }
  if (roll < 90) return pick(g, [new Raw('ENUM_VALUE'), new Raw('$undeclared'), new Raw('NaN'), new Raw('{ a: $b }'), new Raw('[[[]]]')]);
  return g(fc.double);
}

const VARIABLE_OPERATIONS: { query: string; variables: Record<string, string>; caller?: Caller }[] = [
  { query: 'query Dash($from: Date!, $to: Date!, $first: Int) { tenant { topTimeWasters(from: $from, to: $to, first: $first) { user { id displayName } totalWasteHours } appUsage(from: $from, to: $to, first: $first) { app { id name } events users } } }', variables: { from: 'Date', to: 'Date', first: 'Int' } },
  { query: 'query U($id: ID!, $from: Date!, $to: Date!) { user(id: $id) { id email displayName manager { id } productivity(from: $from, to: $to) { totalEvents totalWasteHours } daily(from: $from, to: $to) { date totalEvents } } }', variables: { id: 'ID', from: 'Date', to: 'Date' } },
  { query: 'query P($first: Int, $after: String) { users(first: $first, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }', variables: { first: 'Int', after: 'String' } },
  { query: 'query E($from: Date!, $to: Date!, $type: String) { tenant { eventCounts(from: $from, to: $to, eventType: $type) { date eventType count } } }', variables: { from: 'Date', to: 'Date', type: 'String' } },
  { query: 'query B($from: Date!, $to: Date!, $first: Int) { budgetUsage(from: $from, to: $to, first: $first) { topSpenders { usedBytes } changes { reason } } myBudget { usedBytes } }', variables: { from: 'Date', to: 'Date', first: 'Int' }, caller: 'globexAdmin' },
  { query: 'query S($skip: Boolean!, $inc: Boolean!) { me { id @skip(if: $skip) displayName @include(if: $inc) } }', variables: { skip: 'Boolean', inc: 'Boolean' } },
  { query: 'mutation M($user: ID!, $daily: Bytes, $max: Bytes, $reason: String) { setUserBudget(userId: $user, dailyLimitBytes: $daily, maxQueryBytes: $max, reason: $reason) { dailyLimitBytes maxQueryBytes } }', variables: { user: 'ID', daily: 'Bytes', max: 'Bytes', reason: 'String' }, caller: 'globexAdmin' },
  { query: 'mutation R($user: ID, $reason: String) { resetBudgetUsage(userId: $user, reason: $reason) { usedBytes } }', variables: { user: 'ID', reason: 'String' }, caller: 'globexAdmin' },
];

const validOf: Record<string, (g: G) => unknown> = {
  Date: (g) => pick(g, VALID_DATES), Int: (g) => g(fc.integer, { min: 1, max: 50 }), ID: (g) => pick(g, acme).id,
  String: (g) => pick(g, ['user.session.start', 'user.authentication.sso', null]), Boolean: (g) => chance(g, 0.5), Bytes: (g) => g(fc.integer, { min: 2 ** 30, max: 2 ** 40 }),
};

/** Valid operations with values of the right type, of the wrong type, hostile, deep, missing or extra. */
function hostileVariables(g: G): Generated {
  const operation = pick(g, VARIABLE_OPERATIONS);
  const variables: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(operation.variables)) {
    const roll = g(fc.nat, 99);
    if (roll < 35) variables[name] = validOf[type](g);
    else if (roll < 75) variables[name] = valueOfType(g, type);
    else if (roll < 95) variables[name] = anyValue(g);
    // else: missing
    if (variables[name] instanceof Raw) variables[name] = (variables[name] as Raw).text;
  }
  if (chance(g, 0.1)) variables[pick(g, ['extra', '__proto__', 'from ', 'FROM'])] = anyValue(g);
  return operationRequest(g, operation.query, variables, operation.caller ?? caller(g));
}

const DATE_FIELDS: ((from: string, to: string) => string)[] = [
  (f, t) => `tenant { topTimeWasters(from: ${f}, to: ${t}, first: 3) { user { id displayName } totalWasteHours } }`,
  (f, t) => `tenant { appUsage(from: ${f}, to: ${t}) { app { id name } events users } }`,
  (f, t) => `tenant { eventCounts(from: ${f}, to: ${t}) { date count } }`,
  (f, t) => `tenant { eventCounts(from: ${f}, to: ${t}, eventType: "user.session.start") { date eventType count } }`,
  (f, t) => `me { productivity(from: ${f}, to: ${t}) { totalEvents totalWasteHours } }`,
  (f, t) => `me { daily(from: ${f}, to: ${t}) { date totalEvents } }`,
  (f, t) => `user(id: "${viewer.id}") { productivity(from: ${f}, to: ${t}) { totalEvents } manager { daily(from: ${f}, to: ${t}) { date } } }`,
  (f, t) => `users(first: 3) { edges { node { id productivity(from: ${f}, to: ${t}) { totalEvents } } } }`,
  (f, t) => `budgetUsage(from: ${f}, to: ${t}) { topSpenders { usedBytes } }`,
];

/** Ranges: impossible and malformed dates, reversed, empty, one day over the limit, a century, the calendar's ends. */
function dateRanges(g: G): Generated {
  let from: unknown;
  let to: unknown;
  const roll = g(fc.nat, 99);
  if (roll < 30) {
    [from, to] = [dateValue(g), dateValue(g)];
  } else if (roll < 65) {
    from = dayOf(g(fc.date, { min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true }));
    to = addDays(from as string, pick(g, [0, 1, 6, 30, 364, 365, 366, 367, 3653, 36_524, 36_525, -1, -366]));
  } else if (roll < 80) {
    [from, to] = pick(g, [['1925-03-03', '2025-03-03'], ['0100-01-01', '9999-12-31'], ['9999-12-01', '9999-12-31'], ['0100-01-01', '0100-12-31'], [TO, FROM], ['2024-03-03', '2025-03-03'], ['2024-03-04', '2025-03-03']]);
  } else {
    from = pick(g, VALID_DATES);
    to = pick(g, BAD_DATES);
    if (chance(g, 0.5)) [from, to] = [to, from];
  }
  const field = pick(g, DATE_FIELDS);
  if (chance(g, 0.5)) {
    const text = field(literal(from), literal(to));
    return operationRequest(g, `{ ${text} }`, undefined, text.startsWith('budgetUsage') ? 'globexAdmin' : caller(g));
  }
  const text = field('$from', '$to');
  return operationRequest(g, `query R($from: Date!, $to: Date!) { ${text} }`, { from, to }, text.startsWith('budgetUsage') ? 'globexAdmin' : caller(g));
}

/** Every String/ID argument the schema has (walked, not listed), with hostile text, as a literal or a variable. */
function hostileStrings(g: G): Generated {
  const sites = argumentSites(schema, (type) => type.name === 'String' || type.name === 'ID');
  const site = pick(g, sites);
  const roll = g(fc.nat, 99);
  const value = roll < 60 ? pick(g, HOSTILE_STRINGS)
    : roll < 85 ? g(fc.string, { unit: pick(g, ['binary', 'grapheme', 'binary-ascii'] as const), maxLength: 200 })
      : g(fc.string, { unit: 'binary-ascii', minLength: 1, maxLength: 4 }).repeat(g(fc.integer, { min: 100, max: 12_000 }));
  const fill = (argument: GraphQLArgument) => fillArgument(argument);
  const asVariable = chance(g, 0.5);
  const query = asVariable
    ? siteOperation(site, '$value', fill, `($value: ${String(site.argument.type)})`)
    : siteOperation(site, literal(value), fill);
  return operationRequest(g, query, asVariable ? { value } : undefined, site.operation === 'mutation' ? 'globexAdmin' : caller(g));
}

function fillArgument(argument: GraphQLArgument): string {
  switch (getNamedType(argument.type).name) {
    case 'Date': return JSON.stringify(argument.name === 'to' ? TO : FROM);
    case 'Int': return '5';
    case 'Bytes': return String(2 ** 40);
    default: return JSON.stringify(viewer.id);
  }
}

const HIDDEN = ['_scanStatistics', 'PartitionStatistic', '_dataVersions', 'DataVersion', '_knownUsers', 'join__', 'link__', '_entities', '_service', '@scan', 'noScan'];

/** __typename everywhere, __schema and __type (of hidden types too), nested past the limits. */
function introspection(g: G): Generated {
  const roll = g(fc.nat, 99);
  let query: string;
  if (roll < 25) {
    const extra = pick(g, ['', 'specifiedByURL', 'isOneOf', 'inputFields { name defaultValue }', 'enumValues(includeDeprecated: true) { name }', 'possibleTypes { name }']);
    query = `{ __type(name: ${literal(pick(g, ['User', 'Query', 'PartitionStatistic', 'DataVersion', 'join__Graph', 'link__Purpose', '_Service', '_Entity', '_Any', 'Budget', '__Type', ...HOSTILE_STRINGS.slice(0, 20), g(fc.string, { maxLength: 30 })]))}) { name kind description ${extra} fields(includeDeprecated: true) { name args { name type { name } } } } }`;
  } else if (roll < 45) {
    const depth = g(fc.integer, { min: 1, max: 14 });
    query = `{ __schema { ${pick(g, ['types', 'queryType', 'mutationType', 'directives { name args { type'])} { ${'ofType { '.repeat(depth)}name kind${' }'.repeat(depth)} }${roll % 2 ? '' : ' } }'} } }`;
  } else if (roll < 60) {
    query = `{ __schema { types { fields { type { fields { type { fields { type { ${pick(g, ['name', 'fields { name }'])} } } } } } } } } }`;
  } else if (roll < 88) {
    const spots = ['me { __typename manager { __typename id } }', '__typename', 'tenant { __typename id dataRange { __typename } }', `a: __typename b: __typename`, 'myBudget { __typename }',
      'users(first: 2) { __typename edges { __typename node { __typename } } }', '__typename @skip(if: true)', '... on Query { __typename }', '__typename(arg: 1)', '__typename { x }', '__schema', '__type { name }'];
    query = `{ ${Array.from({ length: 1 + g(fc.nat, 4) }, () => pick(g, spots)).join(' ')} }`;
  } else if (roll < 93) {
    query = getIntrospectionQuery({ descriptions: chance(g, 0.5), inputValueDeprecation: chance(g, 0.5), specifiedByUrl: chance(g, 0.5), directiveIsRepeatable: chance(g, 0.5) });
  } else {
    query = `mutation { __typename ${chance(g, 0.5) ? '__schema { types { name } }' : ''} }`;
  }
  return { ...operationRequest(g, query, undefined, caller(g)), forbidInResponse: HIDDEN };
}

/** Everything around the operation: how it is carried, and who (if anyone) sends it. */
function transport(g: G): Generated {
  const who = caller(g);
  const valid = pick(g, VALID_DOCUMENTS.slice(0, 8));
  const auth = { authorization: `Bearer ${tokens[who]}` };
  const json = { 'content-type': 'application/json' };
  const roll = g(fc.nat, 15);
  switch (roll) {
    case 0: { // batches
      const items = Array.from({ length: g(fc.nat, 5) }, () => (chance(g, 0.7) ? { query: pick(g, VALID_DOCUMENTS) } : anyValue(g)));
      return { request: { headers: { ...json, ...auth }, body: JSON.stringify(items) }, authenticated: true };
    }
    case 1: { // content types
      const contentType = pick(g, ['text/plain', 'application/graphql', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '', 'application/json; charset=utf-16',
        'application/jsonx', 'text/plain; x=application/json', 'application/graphql-response+json', 'APPLICATION/JSON', 'application/json, text/plain']);
      const body = pick(g, [JSON.stringify({ query: valid }), valid, `query=${encodeURIComponent(valid)}`, '<query>{ me { id } }</query>']);
      return { request: { headers: { ...auth, ...(contentType ? { 'content-type': contentType } : {}) }, body }, authenticated: true };
    }
    case 2: { // GET with a query string
      const params = new URLSearchParams();
      if (chance(g, 0.9)) params.set('query', pick(g, [valid, 'mutation { resetBudgetUsage { usedBytes } }', 'mutation { setTenantBudget(dailyLimitBytes: 1) { usedBytes } }', g(fc.string, { maxLength: 80 })]));
      if (chance(g, 0.5)) params.set('variables', pick(g, ['{}', '{"from": "2025-02-30"}', '{x', '[]', 'null', '"{}"', JSON.stringify({ id: pick(g, HOSTILE_STRINGS) })]));
      if (chance(g, 0.3)) params.set('operationName', pick(g, ['', 'Nope', 'Q', '__proto__']));
      if (chance(g, 0.2)) params.set('extensions', pick(g, ['{}', '{"persistedQuery":{"version":1,"sha256Hash":"00"}}', 'x']));
      let search = `?${params}`;
      if (chance(g, 0.1)) search += pick(g, ['&query=%7B__typename%7D', '&query', '%', '&%E0%A4%A', '#frag']);
      return { request: { method: 'GET', search, headers: auth }, authenticated: true };
    }
    case 3: { // other methods
      return { request: { method: pick(g, ['PUT', 'PATCH', 'DELETE', 'OPTIONS']), headers: { ...json, ...auth }, body: pick(g, [JSON.stringify({ query: valid }), undefined]) }, authenticated: true };
    }
    case 4: { // bodies that are not JSON
      const body = pick(g, ['', ' ', '{', '{"query": ', '{"query": "{ me { id } }"', "{'query': '{ me { id } }'}", '\u0000', '\ufeff{"query": "{ __typename }"}',
        '{"query": "{ __typename }"}garbage', g(fc.string, { unit: 'binary', maxLength: 200 }), `${'['.repeat(5000)}${']'.repeat(5000)}`, `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`]);
      return { request: { headers: { ...json, ...auth }, body }, authenticated: true };
    }
    case 5: { // JSON that is not an operation
      const body = JSON.stringify(pick(g, [null, 42, 'query', [], {}, { query: null }, { query: 42 }, { query: ['{ me { id } }'] }, { query: { kind: 'Document' } }, { query: valid, variables: 'x' },
        { query: valid, variables: [1] }, { query: valid, variables: '{"a":1}' }, { query: valid, operationName: 42 }, { query: valid, extensions: 'x' }, { query: valid, extensions: [] },
        { extensions: { persistedQuery: { version: 1, sha256Hash: g(fc.string, { maxLength: 64 }) } } }, { query: valid, extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } },
        { query: valid, __proto__: { polluted: true } }, { queryx: valid }, { QUERY: valid }, { query: '' }, { query: ' ' }, g(fc.jsonValue, { maxDepth: 3 })]));
      return { request: { headers: { ...json, ...auth }, body }, authenticated: true };
    }
    case 6: { // a body over MAX_BODY_BYTES
      const size = g(fc.integer, { min: 65_537, max: 200_000 }); // the padding alone is over MAX_BODY_BYTES (65,536)
      const body = JSON.stringify({ query: valid, variables: { pad: 'x'.repeat(size) } });
      return { request: { headers: { ...json, ...(chance(g, 0.5) ? auth : {}) }, body }, authenticated: false };
    }
    case 7: { // x-cost-mode
      const mode = pick(g, ['estimate', 'ESTIMATE', 'enforce', 'measure', 'off', '', ' estimate', 'estimate, estimate', g(fc.string, { unit: 'binary-ascii', maxLength: 20 }).replace(/[^\x20-\x7e]/g, '')]);
      return { request: { headers: { ...json, ...auth, 'x-cost-mode': mode }, body: JSON.stringify({ query: valid }) }, authenticated: true };
    }
    case 8: { // accept
      const accept = pick(g, ['*/*', 'application/json', 'application/graphql-response+json', 'text/html', 'multipart/mixed; deferSpec=20220824', 'multipart/mixed', 'text/event-stream', 'application/xml', 'application/json;q=0']);
      return { request: { headers: { ...json, ...auth, accept }, body: JSON.stringify({ query: valid }) }, authenticated: true };
    }
    case 9: { // the operation's name
      return { request: { headers: { ...json, ...auth }, body: JSON.stringify({ query: pick(g, [valid, 'query A { __typename } query B { me { id } }', 'query A { __typename }']), operationName: pick(g, [null, '', 'A', 'B', 'C', 'Q', '__proto__']) }) }, authenticated: true };
    }
    case 10: { // operations from the other generators, but with forged, expired, alg:none, malformed or missing tokens
      return { request: { headers: { ...json, authorization: badAuthorization(g) }, body: JSON.stringify({ query: valid }) }, authenticated: false };
    }
    case 11: { // no Authorization at all, on any method
      const method = pick(g, ['GET', 'POST']);
      return method === 'GET'
        ? { request: { method, search: `?query=${encodeURIComponent(valid)}`, headers: {} }, authenticated: false }
        : { request: { headers: json, body: JSON.stringify({ query: valid }) }, authenticated: false };
    }
    case 12: { // headers a client must not be able to use to speak for the gateway
      return {
        request: { headers: { ...json, ...auth, 'x-bytegate-identity': Buffer.from(JSON.stringify({ tenant: 'globex', sub: globexCeo.id, roles: ['executive'], exp: Date.now() + 60_000 })).toString('base64url'), 'x-bytegate-signature': 'x'.repeat(43), 'x-forwarded-for': '127.0.0.1', 'apollo-require-preflight': 'true' }, body: JSON.stringify({ query: valid }) },
        authenticated: true,
      };
    }
    case 13: { // a query string on a POST
      return { request: { search: `?query=${encodeURIComponent('{ __typename }')}&variables=%7Bx`, headers: { ...json, ...auth }, body: JSON.stringify({ query: valid }) }, authenticated: true };
    }
    default: { // duplicated keys, unicode escapes and odd whitespace in otherwise valid JSON
      const body = pick(g, [`{"query": "{ __typename }", "query": ${JSON.stringify(valid)}}`, `{"\\u0071uery": ${JSON.stringify(valid)}}`, `\n\t {"query" : ${JSON.stringify(valid)} }\n`, `{"query": ${JSON.stringify(valid)}, "variables": {"a": 1, "a": "2025-02-30"}}`]);
      return { request: { headers: { ...json, ...auth }, body }, authenticated: true };
    }
  }
}

function badAuthorization(g: G): string {
  const claims = { sub: ceo.id, tenant: 'acme', roles: ['executive'], exp: Math.floor(Date.now() / 1000) + 600 };
  switch (g(fc.nat, 6)) {
    case 0: return `Bearer ${unsignedJwt(claims)}`;
    case 1: return `Bearer ${tokens.executive.slice(0, -3)}${tokens.executive.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`; // a bad signature
    case 2: return `Bearer ${tokens.executive.split('.').slice(0, 2).join('.')}.`; // no signature
    case 3: return pick(g, ['', 'Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'Token abc', `bearer${tokens.executive}`, `Bearer ${tokens.executive} ${tokens.executive}`, 'Bearer a.b.c', 'Bearer ....', `Bearer ${'A'.repeat(4000)}`]);
    case 4: return `Bearer ${g(fc.string, { unit: 'binary-ascii', maxLength: 200 }).replace(/[^\x21-\x7e]/g, '')}`;
    default: return `Bearer ${pick(g, wronglySigned)}`;
  }
}

// ── Small helpers ───────────────────────────────────────────────────────────────────────────────

function pick<T>(g: G, items: readonly T[]): T {
  return items[g(fc.nat, items.length - 1)];
}

function chance(g: G, probability: number): boolean {
  return g(fc.nat, 999) < probability * 1000;
}
