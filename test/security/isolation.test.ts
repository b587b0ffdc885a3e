/**
 * Zero cross-tenant data. Two tenants with disjoint generated directories, one real system (gateway,
 * three subgraphs, DuckDB datasets, the aggregate cache on the real Redis). Proves that tenant A's
 * user ids, emails, display names and app ids never appear in any response to anyone but tenant A —
 * scanning each whole response text — whatever is tried:
 * - tokens that are missing, malformed, forged, expired, `alg: none`, of a refused algorithm or with
 *   tampered or malformed claims: 401 UNAUTHENTICATED, and no subgraph or warehouse touched;
 * - tenant B's valid tokens (every role) naming tenant A's user ids in every ID argument the schema
 *   has (walked, not listed), in cursors, and down manager chains, productivity and budgets; B's
 *   quota admin setting or resetting the budgets of A's user ids leaves A's budgets untouched;
 * - direct subgraph calls: unsigned, an identity without signature, a forged signature, a genuine
 *   signature with a tampered identity, replayed with another operation, other variables, another
 *   method, or after it expired: 401 INVALID_SIGNATURE, nothing run; and even a genuine signature of
 *   tenant B cannot reach tenant A's Tenant entity;
 * - the aggregate cache: tenant B (and a caller whose user id is literally "tenant") crafting
 *   arguments that would collide with A's entries were keys naive concatenations: never a hit.
 * Every error carries a documented code (README's table).
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair } from 'jose';
import { type GraphQLArgument, type GraphQLSchema, buildClientSchema, getIntrospectionQuery, getNamedType } from 'graphql';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { addDays } from '../../common/dates';
import type { Principal, Role } from '../../common/principal';
import { DEFAULT_IDENTITY_TTL_MS, IDENTITY_HEADER, signIdentity } from '../../common/signedIdentity';
import { signDevToken } from '../../gateway/auth/devToken';
import { type GeneratorOptions, generateDays, generateDirectory } from '../../okta/generator';
import { type AggregateCache, openAggregateCache } from '../../subgraphs/common/aggregateCache';
import { type System, seedDataDir, startSystem } from '../support/system';
import { claimsOf, signJwt } from '../gateway/harness';
import {
  type DocumentedErrors,
  type HttpResponse,
  type RawRequest,
  argumentSites,
  contractViolations,
  documentedErrors,
  hs256,
  requestTextOf,
  secretsIn,
  send,
  siteOperation,
  tamperedJwt,
  tenantSecrets,
  unsignedJwt,
} from './support';

const run = randomUUID().slice(0, 8);
const ACME: GeneratorOptions = { tenant: 'acme', users: 30, days: 6, eventsPerUser: 12, start: '2025-05-05', seed: 1001 };
const GLOBEX: GeneratorOptions = { tenant: 'globex', users: 20, days: 6, eventsPerUser: 12, start: '2025-05-05', seed: 2002 };
const FROM = ACME.start;
const TO = addDays(ACME.start, ACME.days - 1);
const acme = generateDirectory(ACME);
const globex = generateDirectory(GLOBEX);
/** Tenant A's secrets (what globex must never see), and tenant B's (what acme must never see). */
const ACME_SECRETS = tenantSecrets(ACME, GLOBEX);
const GLOBEX_SECRETS = tenantSecrets(GLOBEX, ACME);

const roots = (directory: typeof acme) => {
  const ceo = directory.find((u) => u.managerId === null)!;
  const manager = directory.find((u) => u.managerId === ceo.id && directory.some((r) => r.managerId === u.id))!;
  const leaf = directory.find((u) => !directory.some((r) => r.managerId === u.id) && u.managerId !== ceo.id)!;
  return { ceo, manager, leaf };
};
const A = roots(acme);
const B = roots(globex);
/** A's user ids B names: the CEO, a manager, someone with no reports, and the rest of a sample. */
const A_IDS = [A.ceo.id, A.manager.id, A.leaf.id, ...acme.slice(3, 6).map((u) => u.id)];

const as = (tenant: GeneratorOptions, userId: string, ...roles: Role[]): Principal => ({ tenant: tenant.tenant, userId, roles });
const B_CALLERS: Record<string, Principal> = {
  executive: as(GLOBEX, B.ceo.id, 'executive'),
  manager: as(GLOBEX, B.manager.id, 'manager'),
  viewer: as(GLOBEX, B.leaf.id, 'viewer'),
  'quota-admin': as(GLOBEX, B.leaf.id, 'quota-admin'),
};

const DASHBOARD = `query Dashboard($from: Date!, $to: Date!) {
  tenant { id name dataRange { from to }
    topTimeWasters(from: $from, to: $to, first: 50) { user { id email displayName manager { id displayName } } totalWasteHours }
    appUsage(from: $from, to: $to, first: 50) { app { id name } events users }
    eventCounts(from: $from, to: $to) { date count } }
  users(first: 100) { totalCount edges { node { id email displayName department manager { id email } } } }
  me { id email displayName productivity(from: $from, to: $to) { totalEvents } } }`;

let system: System;
let cache: AggregateCache;
let remove: () => void;
let documented: DocumentedErrors;
let schema: GraphQLSchema;
let secret: string;

beforeAll(async () => {
  documented = documentedErrors();
  const seeded = await seedDataDir([ACME, GLOBEX]);
  remove = seeded.remove;
  cache = await openAggregateCache({ redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379', ttlMs: 600_000, namespace: `bytegate-security-${run}` });
  system = await startSystem(seeded.dataDir, { aggregates: cache });
  if (system.config.auth.kind !== 'hs256') throw new Error('needs HS256 dev auth');
  secret = system.config.auth.secret;
  schema = buildClientSchema((await query(B_CALLERS.executive, getIntrospectionQuery())).body.data);
}, 120_000);

afterAll(async () => {
  await system?.close();
  await cache?.close();
  remove?.();
});

// ── Helpers ─────────────────────────────────────────────────────────────────────────────────────

async function tokenOf(principal: Principal): Promise<string> {
  return signDevToken({ tenant: principal.tenant, user: principal.userId, roles: principal.roles, secret, ttlSeconds: 600 });
}

function graphqlRequest(query: string, variables: Record<string, unknown> | undefined, authorization: string | undefined, extra: Record<string, string> = {}): RawRequest {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }), ...extra },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  };
}

async function query(principal: Principal, text: string, variables?: Record<string, unknown>, extra?: Record<string, string>): Promise<HttpResponse & { request: RawRequest }> {
  const request = graphqlRequest(text, variables, `Bearer ${await tokenOf(principal)}`, extra);
  return { ...(await send(system.gatewayUrl, request)), request };
}

/**
 * The checks every response to tenant B (or to no one) gets: no secret of `secrets` it did not send
 * itself, documented codes, no leak.
 */
function expectNothingOf(secrets: readonly string[], response: HttpResponse, request: RawRequest): void {
  const requestText = requestTextOf(request);
  expect(secretsIn(response.text, secrets, requestText)).toEqual([]);
  expect(contractViolations(response, documented, { requestText })).toEqual([]);
}

/** What the subgraphs and the warehouse did while `action` ran. */
async function traffic<T>(action: () => Promise<T>): Promise<{ result: T; subgraphOperations: number; warehouseQueries: string[] }> {
  const [operations, queries] = [system.subgraphOperations.length, system.warehouseQueries.length];
  const result = await action();
  return { result, subgraphOperations: system.subgraphOperations.length - operations, warehouseQueries: system.warehouseQueries.slice(queries) };
}

// ── The setup is sound: A's data is there for A, and the scan would see it ──────────────────────

test('the tenants share no user id or email, and A sees its own secrets (so a leak would be seen)', async () => {
  const ids = new Set(acme.map((u) => u.id));
  expect(globex.filter((u) => ids.has(u.id) || acme.some((a) => a.email === u.email))).toEqual([]);
  const own = await query(as(ACME, A.ceo.id, 'executive'), DASHBOARD, { from: FROM, to: TO });
  expect(own.body.errors).toBeUndefined();
  expect(secretsIn(own.text, ACME_SECRETS).length).toBeGreaterThan(acme.length);
  const theirs = await query(B_CALLERS.executive, DASHBOARD, { from: FROM, to: TO });
  expect(theirs.body.data.tenant.id).toBe('globex');
  expect(secretsIn(theirs.text, GLOBEX_SECRETS).length).toBeGreaterThan(globex.length);
  expectNothingOf(ACME_SECRETS, theirs, theirs.request);
});

// ── Tokens ──────────────────────────────────────────────────────────────────────────────────────

describe('a token that is not a valid token of tenant A gets nothing of A: 401, no subgraph, no warehouse', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const aCeo = () => claimsOf(as(ACME, A.ceo.id, 'executive'));
  const cases: [string, () => Promise<string | undefined>][] = [
    ['no Authorization header', async () => undefined],
    ['an empty Authorization header', async () => ''],
    ['"Bearer" and nothing else', async () => 'Bearer '],
    ['another scheme (Basic)', async () => `Basic ${Buffer.from('acme:executive').toString('base64')}`],
    ['a token that is not a JWT', async () => 'Bearer not-a-jwt'],
    ['a JWT with garbage segments', async () => 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA'],
    ['forged: signed with another HS256 key', async () => `Bearer ${await hs256(aCeo(), 'not-the-secret-0123456789abcdef0123456789')}`],
    ['forged: RS256 with a key of its own', async () => `Bearer ${await signJwt(aCeo(), (await generateKeyPair('RS256')).privateKey, 'RS256', 'attacker')}`],
    ['HS512 with the right secret (algorithm not allowed)', async () => `Bearer ${await signJwt(aCeo(), new TextEncoder().encode(secret), 'HS512')}`],
    ['alg: none', async () => `Bearer ${unsignedJwt(aCeo())}`],
    ['alg: none with the right signature of another token appended', async () => `Bearer ${unsignedJwt(aCeo()).slice(0, -1)}.${(await tokenOf(B_CALLERS.executive)).split('.')[2]}`],
    ['expired an hour ago', async () => `Bearer ${await hs256({ ...aCeo(), exp: now() - 3600 }, secret)}`],
    ['without exp', async () => `Bearer ${await hs256({ sub: A.ceo.id, tenant: 'acme', roles: ['executive'] }, secret)}`],
    ['not valid before next hour', async () => `Bearer ${await hs256({ ...aCeo(), nbf: now() + 3600 }, secret)}`],
    ["tampered: B's token with tenant acme", async () => `Bearer ${tamperedJwt(await tokenOf(B_CALLERS.viewer), { ...claimsOf(B_CALLERS.viewer), tenant: 'acme' })}`],
    ["tampered: B's token with A's CEO as subject", async () => `Bearer ${tamperedJwt(await tokenOf(B_CALLERS.viewer), { ...claimsOf(B_CALLERS.viewer), sub: A.ceo.id })}`],
    ["tampered: A viewer's token promoted to executive", async () => `Bearer ${tamperedJwt(await tokenOf(as(ACME, A.leaf.id, 'viewer')), { ...claimsOf(as(ACME, A.leaf.id, 'viewer')), roles: ['executive'] })}`],
    ['tenant claim in capitals', async () => `Bearer ${await hs256({ ...aCeo(), tenant: 'ACME' }, secret)}`],
    ['tenant claim with a path', async () => `Bearer ${await hs256({ ...aCeo(), tenant: 'globex/../acme' }, secret)}`],
    ['tenant claim as a list', async () => `Bearer ${await hs256({ ...aCeo(), tenant: ['globex', 'acme'] }, secret)}`],
    ['no tenant claim', async () => `Bearer ${await hs256({ sub: A.ceo.id, roles: ['executive'], exp: now() + 600 }, secret)}`],
    ['no subject', async () => `Bearer ${await hs256({ tenant: 'acme', roles: ['executive'], exp: now() + 600 }, secret)}`],
    ['no known role', async () => `Bearer ${await hs256({ ...aCeo(), roles: ['admin', 'root'] }, secret)}`],
    ['two tokens in one header', async () => `Bearer ${await tokenOf(B_CALLERS.viewer)} ${await tokenOf(as(ACME, A.ceo.id, 'executive'))}`],
  ];

  test.each(cases)('%s', async (_name, authorization) => {
    const header = await authorization();
    const request = graphqlRequest(DASHBOARD, { from: FROM, to: TO }, header);
    const { result: response, subgraphOperations, warehouseQueries } = await traffic(() => send(system.gatewayUrl, request));
    expect(response.status).toBe(401);
    expect(response.body.errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.data ?? null).toBeNull();
    expectNothingOf(ACME_SECRETS, response, request);
    expect({ subgraphOperations, warehouseQueries }).toEqual({ subgraphOperations: 0, warehouseQueries: [] });
  });

  test('a token in the query string or a cookie is not a credential', async () => {
    const token = await tokenOf(as(ACME, A.ceo.id, 'executive'));
    for (const request of [
      { method: 'GET', search: `?query=${encodeURIComponent('{ users(first: 5) { edges { node { email } } } }')}&access_token=${token}`, headers: {} } as RawRequest,
      { ...graphqlRequest('{ users(first: 5) { edges { node { email } } } }', undefined, undefined), headers: { 'content-type': 'application/json', cookie: `token=${token}; authorization=Bearer%20${token}` } },
    ]) {
      const response = await send(system.gatewayUrl, request);
      expect(response.status).toBe(401);
      expect(secretsIn(response.text, ACME_SECRETS)).toEqual([]);
    }
  });
});

// ── Tenant B naming tenant A's user ids ─────────────────────────────────────────────────────────

describe("tenant B's valid tokens naming tenant A's user ids get nothing of A", () => {
  /** Every ID argument of the schema, found by walking it from Query and Mutation. */
  const idSites = () => argumentSites(schema, (type) => type.name === 'ID');

  test('the walk finds the ID arguments the contract has', () => {
    expect(idSites().map((s) => s.coordinate).sort()).toEqual(expect.arrayContaining(['Query.user(id:)', 'Mutation.setUserBudget(userId:)', 'Mutation.resetBudgetUsage(userId:)']));
  });

  test.each(Object.keys(B_CALLERS))('as B\'s %s: every ID argument, literal and variable, each of A\'s ids', async (role) => {
    const caller = B_CALLERS[role];
    const fill = (argument: GraphQLArgument) => {
      const name = getNamedType(argument.type).name;
      return name === 'Date' ? JSON.stringify(argument.name === 'to' ? TO : FROM) : name === 'Bytes' ? '1073741824' : name === 'Int' ? '5' : JSON.stringify(A.leaf.id);
    };
    let asked = 0;
    for (const site of idSites()) {
      for (const id of A_IDS) {
        for (const variable of [false, true]) {
          const text = variable
            ? siteOperation(site, '$id', fill, `($id: ${String(site.argument.type)})`)
            : siteOperation(site, JSON.stringify(id), fill);
          const response = await query(caller, text, variable ? { id } : undefined);
          expectNothingOf(ACME_SECRETS, response, response.request);
          if (site.coordinate === 'Query.user(id:)') expect(response.body.data?.user ?? null).toBeNull();
          asked += 1;
        }
      }
    }
    expect(asked).toBeGreaterThanOrEqual(3 * A_IDS.length * 2);
  });

  test.each(Object.keys(B_CALLERS))("as B's %s: A's ids down manager chains, metrics, budgets, cursors and entity fields", async (role) => {
    const caller = B_CALLERS[role];
    const texts = [
      `query($id: ID!, $from: Date!, $to: Date!) { user(id: $id) { id email displayName department manager { id email displayName manager { id email manager { id email displayName } } }
         productivity(from: $from, to: $to) { totalEvents totalWasteHours } daily(from: $from, to: $to) { date totalEvents } budget { usedBytes dailyLimitBytes } } }`,
      `query($id: ID!, $from: Date!, $to: Date!) { a: user(id: $id) { productivity(from: $from, to: $to) { totalEvents } } b: user(id: "${B.ceo.id}") { id manager { id } } }`,
      `query($after: String, $from: Date!, $to: Date!) { users(first: 100, after: $after) { totalCount edges { cursor node { id email displayName manager { id } productivity(from: $from, to: $to) { totalEvents } } } } }`,
    ];
    for (const id of A_IDS) {
      for (const text of texts) {
        const variables = text.includes('$after') ? { after: Buffer.from(id).toString('base64'), from: FROM, to: TO } : { id, from: FROM, to: TO };
        const response = await query(caller, text, variables);
        expectNothingOf(ACME_SECRETS, response, response.request);
      }
    }
  });

  test("B's quota admin setting and resetting budgets of A's user ids changes nothing of A's", async () => {
    const aViewer = as(ACME, A.leaf.id, 'viewer');
    // A's user spends some budget, and A's own settings are the defaults.
    const spent = await query(aViewer, `{ me { productivity(from: "${FROM}", to: "${TO}") { totalEvents } } }`);
    expect(spent.body.errors).toBeUndefined();
    const budgetOfA = async () => (await query(aViewer, '{ myBudget { dailyLimitBytes maxQueryBytes usedBytes } }')).body.data.myBudget;
    const before = await budgetOfA();
    expect(before.usedBytes).toBeGreaterThan(0);

    const admin = B_CALLERS['quota-admin'];
    try {
      for (const text of [
      `mutation { setUserBudget(userId: "${A.leaf.id}", dailyLimitBytes: 1, maxQueryBytes: 1, reason: "cross-tenant") { dailyLimitBytes usedBytes } }`,
      `mutation { resetBudgetUsage(userId: "${A.leaf.id}", reason: "cross-tenant") { usedBytes } }`,
      'mutation { setTenantBudget(dailyLimitBytes: 1, reason: "only my tenant") { dailyLimitBytes } }',
      `{ budgetUsage(from: "${addDays(new Date().toISOString().slice(0, 10), -1)}", to: "${new Date().toISOString().slice(0, 10)}", first: 100) { topSpenders { user { id email displayName } usedBytes } recentRejections { user { id email } } changes { actor user { id email displayName } action reason } } }`,
      ]) {
        const response = await query(admin, text);
        expectNothingOf(ACME_SECRETS, response, response.request);
      }
      expect(await budgetOfA()).toEqual(before);
      // And tenant A still runs (B's tenant budget of 1 byte is B's alone).
      expect((await query(aViewer, `{ me { daily(from: "${FROM}", to: "${TO}") { date } } }`)).body.errors).toBeUndefined();
    } finally {
      await query(admin, 'mutation { setTenantBudget(dailyLimitBytes: null, reason: "restore") { dailyLimitBytes } }');
    }
  });
});

// ── Direct subgraph calls ───────────────────────────────────────────────────────────────────────

describe('direct subgraph calls: no valid gateway signature over this very request, no data', () => {
  const aExecutive = as(ACME, A.ceo.id, 'executive');
  /** Per subgraph: an operation that returns A's secrets to a genuinely signed A executive. */
  const attack: Record<SubgraphName, { query: string; variables?: Record<string, unknown> }> = {
    users: { query: '{ users(first: 100) { edges { node { id email displayName } } } }' },
    tenants: { query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { id name } } }', variables: { r: [{ __typename: 'Tenant', id: 'acme' }] } },
    metrics: {
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { topTimeWasters(from: "${FROM}", to: "${TO}", first: 50) { user { id } } appUsage(from: "${FROM}", to: "${TO}") { app { id } } } } }`,
      variables: { r: [{ __typename: 'Tenant', id: 'acme' }] },
    },
  };
  const post = (subgraph: SubgraphName, headers: Record<string, string>, body = attack[subgraph]): RawRequest => ({
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const signed = (principal: Principal, body: { query: string; variables?: Record<string, unknown> }, options: { secret?: string; nowMs?: number } = {}) =>
    signIdentity(principal, body, options.secret ?? system.config.subgraphSecret, options.nowMs ?? Date.now());
  const encode = (payload: object) => Buffer.from(JSON.stringify(payload)).toString('base64url');

  test.each(SUBGRAPH_NAMES)('the control: %s answers A\'s data to a genuine signature of A (so the attacks below would show it)', async (subgraph) => {
    const response = await send(system.subgraphUrls[subgraph], post(subgraph, signed(aExecutive, attack[subgraph])));
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(secretsIn(response.text, [...ACME_SECRETS, 'acme']).length).toBeGreaterThan(0);
  });

  const attacks: [string, (subgraph: SubgraphName) => RawRequest][] = [
    ['unsigned', (s) => post(s, {})],
    ['an identity of A with no signature', (s) => post(s, { [IDENTITY_HEADER]: encode({ tenant: 'acme', sub: A.ceo.id, roles: ['executive'], exp: Date.now() + 60_000 }) })],
    ['a signature made with another secret', (s) => post(s, signed(aExecutive, attack[s], { secret: 'f'.repeat(40) }))],
    ["B's genuine signature, its identity rewritten to tenant A", (s) => {
      const headers = signed(B_CALLERS.executive, attack[s]);
      return post(s, { ...headers, [IDENTITY_HEADER]: encode({ tenant: 'acme', sub: A.ceo.id, roles: ['executive'], exp: Date.now() + 60_000 }) });
    }],
    ["A's genuine signature of `{ __typename }`, replayed with this operation", (s) => post(s, signed(aExecutive, { query: '{ __typename }' }))],
    ["A's genuine signature of this operation, replayed with other variables", (s) => {
      const body = attack[s].variables ? attack[s] : { ...attack[s], query: 'query($x: Int) { users(first: 100) { edges { node { id email displayName } } } }', variables: { x: 1 } };
      return post(s, signed(aExecutive, { ...body, variables: { ...body.variables, extra: 1 } }), body);
    }],
    ["A's genuine signature, the operation reformatted", (s) => post(s, signed(aExecutive, { ...attack[s], query: `${attack[s].query} ` }))],
    ["A's genuine signature that expired", (s) => post(s, signed(aExecutive, attack[s], { nowMs: Date.now() - DEFAULT_IDENTITY_TTL_MS - 1000 }))],
    ["A's genuine signature of `{ __typename }` in the URL, the operation in a text/plain body", (s) => ({
      method: 'POST', search: `?query=${encodeURIComponent('{ __typename }')}`, headers: { 'content-type': 'text/plain', ...signed(aExecutive, { query: '{ __typename }' }) }, body: JSON.stringify(attack[s]),
    })],
    ["A's genuine signature of the POST body, the operation sent as a GET", (s) => ({
      method: 'GET', search: `?${new URLSearchParams({ query: attack[s].query, ...(attack[s].variables ? { variables: JSON.stringify({ ...attack[s].variables, y: 1 }) } : { variables: '{"y":1}' }) })}`,
      headers: signed(aExecutive, attack[s]),
    })],
    ['two identities, the second one genuine', (s) => {
      const genuine = signed(aExecutive, attack[s]);
      return post(s, { ...genuine, [IDENTITY_HEADER]: `${encode({ tenant: 'globex', sub: 'x', roles: [], exp: 0 })}, ${genuine[IDENTITY_HEADER]}` });
    }],
  ];

  test.each(SUBGRAPH_NAMES.flatMap((subgraph) => attacks.map(([name, make]) => [subgraph, name, make] as const)))('%s: %s', async (subgraph, _name, make) => {
    const request = make(subgraph);
    const { result: response, warehouseQueries } = await traffic(() => send(system.subgraphUrls[subgraph], request));
    // A GET carrying another operation than the one signed: refused (401), or not even a valid request (400).
    expect(response.status === 401 || (request.method === 'GET' && response.status === 400) || (request.search?.includes('__typename') && response.status === 400)).toBe(true);
    if (response.status === 401) expect(response.body.errors.map((e: any) => e.extensions.code)).toEqual(['INVALID_SIGNATURE']);
    expect(response.body?.data ?? null).toBeNull();
    expect(secretsIn(response.text, ACME_SECRETS)).toEqual([]);
    expect(warehouseQueries).toEqual([]);
  });

  test("even a genuine signature of tenant B reaches none of A's entities", async () => {
    for (const subgraph of ['tenants', 'metrics'] as const) {
      const body = attack[subgraph];
      const response = await send(system.subgraphUrls[subgraph], post(subgraph, signed(B_CALLERS.executive, body)));
      expect(response.body.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      expect(secretsIn(response.text, ACME_SECRETS)).toEqual([]);
    }
    const users = { query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email displayName manager { id email } } } }', variables: { r: A_IDS.map((id) => ({ __typename: 'User', id })) } };
    for (const caller of Object.values(B_CALLERS)) {
      const response = await send(system.subgraphUrls.users, post('users', signed(caller, users), users));
      expect(secretsIn(response.text, ACME_SECRETS, requestTextOf({ body: JSON.stringify(users) }))).toEqual([]);
    }
  });

  test("identity headers a client sends the gateway are not passed on: B's token with A's signed identity gets B's data", async () => {
    const headers = signed(aExecutive, { query: DASHBOARD, variables: { from: FROM, to: TO } });
    const response = await query(B_CALLERS.viewer, DASHBOARD, { from: FROM, to: TO }, headers);
    expect(response.body.data.tenant.id).toBe('globex');
    expect(response.body.data.me.id).toBe(B.leaf.id);
    expectNothingOf(ACME_SECRETS, response, response.request);
  });
});

// ── The aggregate cache ─────────────────────────────────────────────────────────────────────────

describe('aggregate cache keys cannot be steered into another tenant\'s (or another scope\'s) entries', () => {
  const RANGE = { from: addDays(FROM, 1), to: addDays(FROM, 4) };
  const aExecutive = as(ACME, A.ceo.id, 'executive');
  const EVENT_TYPE = 'user.authentication.sso';
  const AGGREGATES = `query($from: Date!, $to: Date!, $type: String) { tenant {
    topTimeWasters(from: $from, to: $to, first: 10) { user { id email } totalWasteHours }
    appUsage(from: $from, to: $to, first: 10) { app { id name } events }
    eventCounts(from: $from, to: $to, eventType: $type) { date eventType count } } }`;
  const EVENT_COUNTS = 'query($from: Date!, $to: Date!, $type: String) { tenant { eventCounts(from: $from, to: $to, eventType: $type) { date eventType count } } }';
  /** Events per day of `tenant` (of `eventType` if given) in RANGE, from the generator itself. */
  const countsOf = (options: GeneratorOptions, eventType: string | null) => {
    const counts = new Map<string, number>();
    for (const { events } of generateDays(options, generateDirectory(options))) {
      for (const e of events) {
        const day = e.published.slice(0, 10);
        if (day < RANGE.from || day > RANGE.to || (eventType !== null && e.eventType !== eventType)) continue;
        counts.set(day, (counts.get(day) ?? 0) + 1);
      }
    }
    return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, count]) => ({ date, eventType, count }));
  };

  beforeAll(async () => {
    // Tenant A's entries, warm: the second run is served from the cache.
    for (const type of [null, EVENT_TYPE]) await query(aExecutive, AGGREGATES, { ...RANGE, type });
    const warm = await query(aExecutive, AGGREGATES, { ...RANGE, type: EVENT_TYPE });
    // The three aggregates, and the directory row of each top time waster (their email).
    expect(warm.body.data.tenant.topTimeWasters).toHaveLength(10);
    expect(warm.body.extensions.cost.cacheHits).toBe(3 + 10);
    expect(warm.body.data.tenant.eventCounts).toEqual(countsOf(ACME, EVENT_TYPE));
  });

  /** eventType values that would rebuild A's key, or a part of it, were keys `tenant:name:parts` concatenations. */
  const crafted = [
    EVENT_TYPE, // the very same arguments
    'acme', `acme:eventCounts:${EVENT_TYPE}`, `acme:eventCounts:1:${RANGE.from}:${RANGE.to}`,
    `tenant","${EVENT_TYPE}`, `"tenant",${JSON.stringify(EVENT_TYPE)}`, `${EVENT_TYPE}"]`, `["tenant","${EVENT_TYPE}"]`,
    JSON.stringify([1, RANGE.from, RANGE.to, '', ['tenant', EVENT_TYPE], '']), 'null', 'tenant', '', `${EVENT_TYPE}\u0000acme`, `../acme/${EVENT_TYPE}`,
  ];

  test.each(crafted)('B with eventType %j: no hit, its own answer, nothing of A', async (eventType) => {
    const response = await query(B_CALLERS.executive, EVENT_COUNTS, { ...RANGE, type: eventType });
    expect(response.body.errors).toBeUndefined();
    expectNothingOf(ACME_SECRETS, response, response.request);
    // Each eventType is asked by B once: nothing can be a hit unless a key collided with A's.
    expect(response.body.extensions.cost.cacheHits).toBe(0);
    expect(response.body.data.tenant.eventCounts).toEqual(countsOf(GLOBEX, eventType));
  });

  test("within A, eventType \"null\" is not eventType null, and a user whose id is \"tenant\" is not the executive's scope", async () => {
    const text = await query(aExecutive, EVENT_COUNTS, { ...RANGE, type: 'null' });
    expect(text.body.extensions.cost.cacheHits).toBe(0);
    expect(text.body.data.tenant.eventCounts).toEqual([]);
    // Scope keys: "tenant" for executives, ["tenant"] for someone whose (only) user id is "tenant".
    const [viewer, manager] = [await query(as(ACME, 'tenant', 'viewer'), AGGREGATES, { ...RANGE, type: null }), await query(as(ACME, 'tenant', 'manager'), AGGREGATES, { ...RANGE, type: null })];
    expect(viewer.body.extensions.cost.cacheHits).toBe(0);
    for (const impostor of [viewer, manager]) expect(impostor.body.data.tenant).toEqual({ topTimeWasters: [], appUsage: [], eventCounts: [] });
  });

  test("B's user whose id is \"tenant\", or one of A's ids, hits nothing of A's", async () => {
    for (const userId of ['tenant', A.ceo.id, A.leaf.id]) {
      for (const roles of [['viewer'], ['manager'], ['executive']] as Role[][]) {
        const response = await query(as(GLOBEX, userId, ...roles), AGGREGATES, { ...RANGE, type: null });
        expectNothingOf(ACME_SECRETS, response, response.request);
        const productivity = await query(as(GLOBEX, userId, ...roles), `{ me { id productivity(from: "${RANGE.from}", to: "${RANGE.to}") { totalEvents } } }`);
        // No such person in B's directory: the caller as the token names them, with none of A's activity
        // (or no data at all, for a caller whose per-query cap an earlier test set refuses it).
        const me = productivity.body.data?.me ?? null;
        if (me !== null) expect(me).toEqual({ id: userId, productivity: { totalEvents: 0 } });
        else expect(productivity.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['QUERY_TOO_EXPENSIVE']);
        // me.id is the id the caller's own token claims (sent by the caller, in the JWT): nothing else of A's.
        expectNothingOf(ACME_SECRETS.filter((secret) => secret !== userId), productivity, productivity.request);
      }
    }
  });
});
