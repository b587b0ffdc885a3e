/**
 * Injection: every String, ID and date argument of the schema — found by walking the API schema from
 * Query and Mutation (and the `__type(name:)` meta-field), not listed by hand — gets every hostile
 * string (SQL for DuckDB, BigQuery and PostgreSQL, identifier and parameter syntax, NUL, unpaired
 * UTF-16, very long text, …), as an inline literal and as a variable, through the real gateway, over
 * real DuckDB datasets, a real PostgreSQL budget store and a real Redis ledger. Proves: no SQL,
 * database or stack text leaks; every error is coded (BAD_USER_INPUT / FORBIDDEN, parse and validation
 * errors only for literals); answers are empty where the string matches nothing; strings stored by
 * the budget mutations come back byte for byte (they were parameters, not SQL); and nothing else
 * changed — the DuckDB files are byte-identical, both tenants' dashboards answer as before, the other
 * tenant's budget rows and usage are untouched, and no table was added or dropped.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type GraphQLArgument, type GraphQLSchema, buildClientSchema, getIntrospectionQuery, getNamedType } from 'graphql';
import { Client } from 'pg';
import { createClient } from '@redis/client';
import { addDays } from '../../common/dates';
import type { Principal } from '../../common/principal';
import { createPostgresStore } from '../../budgets/postgresStore';
import { createRedisLedger } from '../../budgets/redisLedger';
import type { BudgetLedger } from '../../budgets/ledger';
import type { BudgetStore } from '../../budgets/store';
import { signDevToken } from '../../gateway/auth/devToken';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { type System, seedDataDir, startSystem } from '../support/system';
import {
  type ArgumentSite,
  type DocumentedErrors,
  HOSTILE_STRINGS,
  type RawRequest,
  argumentSites,
  contractViolations,
  documentedErrors,
  requestTextOf,
  send,
  siteOperation,
} from './support';

const run = randomUUID().replace(/-/g, '').slice(0, 10);
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const PG_SCHEMA = `bytegate_security_${run}`;
const KEY_PREFIX = `bytegate-security:${run}:`;

const ACME: GeneratorOptions = { tenant: 'acme', users: 25, days: 5, eventsPerUser: 12, start: '2025-06-02', seed: 31 };
const GLOBEX: GeneratorOptions = { tenant: 'globex', users: 12, days: 5, eventsPerUser: 12, start: '2025-06-02', seed: 32 };
const FROM = ACME.start;
const TO = addDays(ACME.start, ACME.days - 1);
const acme = generateDirectory(ACME);
const acmeCeo = acme.find((u) => u.managerId === null)!;
const acmeManager = acme.find((u) => u.managerId === acmeCeo.id && acme.some((r) => r.managerId === u.id))!;
const globexCeo = generateDirectory(GLOBEX).find((u) => u.managerId === null)!;
/** The user of the budget mutations whose user id is not under attack: one the directory holds, so they pass its check. */
const FIXED_USER = acmeManager.id;

/** The caller of every injection: sees the whole tenant and may run every mutation. */
const ADMIN: Principal = { tenant: 'acme', userId: acmeCeo.id, roles: ['executive', 'quota-admin'] };
/** A manager too: their queries carry the team's ids as a parameter next to the hostile one. */
const MANAGER: Principal = { tenant: 'acme', userId: acmeManager.id, roles: ['manager'] };
const GLOBEX_ADMIN: Principal = { tenant: 'globex', userId: globexCeo.id, roles: ['executive', 'quota-admin'] };

const DASHBOARD = `query($from: Date!, $to: Date!) {
  tenant { id name dataRange { from to } topTimeWasters(from: $from, to: $to, first: 50) { user { id email displayName } totalWasteHours }
    appUsage(from: $from, to: $to, first: 50) { app { id name } events users } eventCounts(from: $from, to: $to) { date count } }
  users(first: 500) { totalCount edges { node { id email displayName department manager { id } } } }
  me { productivity(from: $from, to: $to) { totalEvents uniqueApps totalWasteHours } daily(from: $from, to: $to) { date totalEvents } } }`;

let system: System;
let store: BudgetStore;
let ledger: BudgetLedger;
let remove: () => void;
let dataDir: string;
let documented: DocumentedErrors;
let schema: GraphQLSchema;
let secret: string;
let before: Snapshot;
/** What the mutations were asked to store, and what they accepted. */
const accepted = { userIds: new Set<string>(), reasons: [] as string[], mutations: 0 };
let requests = 0;

beforeAll(async () => {
  documented = documentedErrors();
  const seeded = await seedDataDir([ACME, GLOBEX]);
  ({ dataDir, remove } = seeded);
  store = await createPostgresStore({ url: DATABASE_URL, schema: PG_SCHEMA });
  ledger = await createRedisLedger({ url: REDIS_URL, keyPrefix: KEY_PREFIX });
  // Budgets no run of this file can exhaust: a refusal would hide what the argument did.
  system = await startSystem(dataDir, { env: { BUDGET_DEFAULTS: 'viewer=1PiB,manager=1PiB,executive=1PiB,quota-admin=1PiB,tenant=4PiB' }, gateway: { budgets: { store, ledger } } });
  if (system.config.auth.kind !== 'hs256') throw new Error('needs HS256 dev auth');
  secret = system.config.auth.secret;
  schema = buildClientSchema((await gql(ADMIN, getIntrospectionQuery())).body.data);
  // The other tenant has budget rows and usage of its own, which must stay exactly as they are.
  for (const text of [
    `mutation { setUserBudget(userId: "${globexCeo.id}", dailyLimitBytes: 7516192768, reason: "globex's own") { dailyLimitBytes } }`,
    'mutation { setTenantBudget(maxQueryBytes: 536870912, reason: "globex cap") { maxQueryBytes } }',
  ]) expect((await gql(GLOBEX_ADMIN, text)).body.errors).toBeUndefined();
  expect((await gql(GLOBEX_ADMIN, DASHBOARD, { from: FROM, to: TO })).body.errors).toBeUndefined();
  before = await snapshot();
  before.globexUsage = await globexUsage(); // after the snapshot's own dashboards, which globex is charged for
}, 120_000);

afterAll(async () => {
  await system?.close();
  await store?.close();
  await ledger?.close();
  remove?.();
  const pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
  await pg.query(`DROP SCHEMA IF EXISTS "${PG_SCHEMA}" CASCADE`).finally(() => pg.end());
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${KEY_PREFIX}*`, COUNT: 1000 })) keys.push(...batch);
  if (keys.length > 0) await redis.del(keys);
  redis.destroy();
  console.info(`security injection: ${requests} requests`);
});

// ── The walk ────────────────────────────────────────────────────────────────────────────────────

const STRING_LIKE = new Set(['String', 'ID', 'Date', 'DateTime']);
const sites = () => argumentSites(schema, (type) => STRING_LIKE.has(type.name));

test('the walk reaches every string-like argument the contract has', () => {
  expect(sites().map((s) => s.coordinate).sort()).toEqual(expect.arrayContaining([
    'Query.user(id:)', 'Query.users(after:)', 'Query.budgetUsage(from:)', 'Query.budgetUsage(to:)', 'Query.__type(name:)',
    'Query.budgetHistory(from:)', 'Query.budgetHistory(to:)', 'Query.budgetHistory(userId:)', 'Query.estimatorAccuracy(from:)', 'Query.estimatorAccuracy(to:)',
    'Tenant.topTimeWasters(from:)', 'Tenant.topTimeWasters(to:)', 'Tenant.appUsage(from:)', 'Tenant.appUsage(to:)',
    'Tenant.eventCounts(from:)', 'Tenant.eventCounts(to:)', 'Tenant.eventCounts(eventType:)',
    'User.productivity(from:)', 'User.productivity(to:)', 'User.daily(from:)', 'User.daily(to:)',
    'Mutation.setUserBudget(userId:)', 'Mutation.setUserBudget(reason:)', 'Mutation.setTenantBudget(reason:)',
    'Mutation.resetBudgetUsage(userId:)', 'Mutation.resetBudgetUsage(reason:)',
  ]));
});

describe('every hostile string in every string-like argument', () => {
  const callersOf = (site: ArgumentSite): Principal[] => {
    if (site.operation === 'mutation') return [ADMIN];
    return isDate(site) ? [ADMIN] : [ADMIN, MANAGER];
  };

  test.each(['literal', 'variable'] as const)('as an inline %s', async (form) => {
    const cases = sites().flatMap((site) => callersOf(site).flatMap((caller) => HOSTILE_STRINGS.map((value) => ({ site, caller, value }))));
    await inParallel(cases, 4, async ({ site, caller, value }) => {
      const text = form === 'literal'
        ? siteOperation(site, JSON.stringify(value), fillArgument, '', optionalArgument)
        : siteOperation(site, '$value', fillArgument, `($value: ${String(site.argument.type)})`, optionalArgument);
      const variables = form === 'variable' ? { value } : undefined;
      const response = await gql(caller, text, variables);
      try {
        expectHarmless(site, form, value, response);
      } catch (error) {
        throw new Error(`${site.coordinate} as ${caller.roles.join('+')}, ${form} ${JSON.stringify(value).slice(0, 80)}:\n${(error as Error).message}\nresponse: HTTP ${response.status} ${response.text.slice(0, 800)}`);
      }
    });
  }, 120_000);
});

// Was a bug: PostgreSQL refuses NUL in text, and its error text reached the client (DOWNSTREAM_SERVICE_ERROR).
test('a NUL in a budget mutation is BAD_USER_INPUT, without database text', async () => {
  for (const text of ['mutation { setUserBudget(userId: "a\\u0000b", dailyLimitBytes: 1073741824) { dailyLimitBytes } }', 'mutation { setTenantBudget(maxQueryBytes: null, reason: "\\u0000") { dailyLimitBytes } }', 'mutation { resetBudgetUsage(reason: "\\u0000") { usedBytes } }', 'mutation { resetBudgetUsage(userId: "\\u0000") { usedBytes } }']) {
    const response = await gql(ADMIN, text);
    expect(response.text).not.toMatch(/invalid byte sequence|UTF8|0x00/);
    expect(response.body.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
  }
});

describe('afterwards, nothing else changed', () => {
  let after: Snapshot;
  beforeAll(async () => {
    after = await snapshot();
  });

  test('the DuckDB files are byte-identical and both tenants answer their dashboards exactly as before', () => {
    expect(after.files).toEqual(before.files);
    expect(after.dashboards).toEqual(before.dashboards);
  });

  test("the other tenant's budget rows and usage are untouched, and no table was added or dropped", () => {
    expect(after.globexRows).toEqual(before.globexRows);
    expect(after.globexUsage).toEqual(before.globexUsage);
    expect(after.tables).toEqual(['budget_audit', 'tenant_budgets', 'user_budgets']);
  });

  test('what the mutations stored is exactly what was sent: every hostile user id and reason, byte for byte', async () => {
    expect(accepted.mutations).toBeGreaterThan(HOSTILE_STRINGS.length); // the mutations did run
    const rows = await pgRows(`SELECT user_id, reason, action FROM "${PG_SCHEMA}".budget_audit WHERE tenant = 'acme'`);
    expect(rows.length).toBe(accepted.mutations);
    const storedReasons = rows.map((r) => r.reason).filter((r): r is string => r !== null && r !== 'fixed reason').sort();
    expect(storedReasons).toEqual(accepted.reasons.map(wellFormed).sort());
    const userIds = (await pgRows(`SELECT user_id FROM "${PG_SCHEMA}".user_budgets WHERE tenant = 'acme'`)).map((r) => r.user_id);
    expect(new Set(userIds)).toEqual(new Set([...accepted.userIds].map(wellFormed)));
  });
});

/** Unpaired UTF-16 halves cannot be stored as UTF-8 (nor sent as JSON to a UTF-8 store): they come back as U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

// ── Expectations ────────────────────────────────────────────────────────────────────────────────

/** What a hostile string in `site` may produce: coded refusals, or answers that match nothing. */
function expectHarmless(site: ArgumentSite, form: 'literal' | 'variable', value: string, response: Awaited<ReturnType<typeof gql>>): void {
  const requestText = requestTextOf(response.request);
  expect(contractViolations(response, documented, { requestText, forbiddenCodes: ['INTERNAL_SERVER_ERROR'], stored: (fragment) => HOSTILE_STRINGS.some((s) => s.toLowerCase().includes(fragment)) })).toEqual([]);
  expect([200, 400]).toContain(response.status);
  const codes: string[] = (response.body.errors ?? []).map((e: any) => e.extensions.code);
  const allowed = form === 'literal' ? ['BAD_USER_INPUT', 'FORBIDDEN', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED'] : ['BAD_USER_INPUT', 'FORBIDDEN'];
  for (const code of codes) expect(allowed).toContain(code);
  const data = response.body.data;
  if (isDate(site)) {
    // No hostile string is a calendar date.
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.every((code) => code === 'BAD_USER_INPUT' || (form === 'literal' && code.startsWith('GRAPHQL_')))).toBe(true);
    return;
  }
  if (codes.length > 0) return;
  switch (site.coordinate) {
    case 'Query.user(id:)': expect(data.user).toBeNull(); break;
    case 'Query.__type(name:)': expect(data.__type).toBeNull(); break;
    case 'Tenant.eventCounts(eventType:)': expect(data.tenant.eventCounts).toEqual([]); break;
    case 'Query.budgetHistory(userId:)': expect(data.budgetHistory.map((day: { billedBytes: number }) => day.billedBytes)).toEqual([0, 0, 0, 0, 0]); break;
    case 'Query.users(after:)': {
      // A string that happens to be a well-formed cursor pages on from the id it encodes: only acme's users, in order.
      const after = Buffer.from(value, 'base64').toString('utf8');
      const ids: string[] = data.users.edges.map((e: { node: { id: string } }) => e.node.id);
      expect(ids.every((id) => id > after && acme.some((u) => u.id === id))).toBe(true);
      break;
    }
    case 'Mutation.setUserBudget(userId:)': case 'Mutation.resetBudgetUsage(userId:)':
      accepted.mutations += 1;
      if (site.field.name === 'setUserBudget') accepted.userIds.add(value);
      break;
    case 'Mutation.setUserBudget(reason:)': case 'Mutation.setTenantBudget(reason:)': case 'Mutation.resetBudgetUsage(reason:)':
      accepted.mutations += 1;
      if (site.field.name === 'setUserBudget') accepted.userIds.add(FIXED_USER);
      accepted.reasons.push(value);
      break;
    default: throw new Error(`no expectation for ${site.coordinate}`);
  }
}

function isDate(site: ArgumentSite): boolean {
  return getNamedType(site.argument.type).name === 'Date' || getNamedType(site.argument.type).name === 'DateTime';
}

/** Required arguments other than the one under attack: valid values, so only the hostile one can fail. */
function fillArgument(argument: GraphQLArgument): string {
  switch (getNamedType(argument.type).name) {
    case 'Date': return JSON.stringify(argument.name === 'to' ? TO : FROM);
    case 'Int': return '5';
    case 'Bytes': return '5368709120';
    default: return JSON.stringify(argument.name === 'userId' ? FIXED_USER : acmeCeo.id);
  }
}

/**
 * Optional arguments the mutations need to change something (and a fixed reason when it is not the target).
 * setUserBudget clears the daily limit, which needs no directory entry: every hostile user id is stored,
 * while resetBudgetUsage's goes to the directory lookup (and is refused).
 */
function optionalArgument(argument: GraphQLArgument, field: { name: string }): string | undefined {
  if (argument.name === 'dailyLimitBytes' && field.name === 'setUserBudget') return 'null';
  if (argument.name === 'maxQueryBytes' && field.name === 'setTenantBudget') return 'null';
  if (argument.name === 'reason') return '"fixed reason"';
  if (argument.name === 'userId') return JSON.stringify(FIXED_USER);
  return undefined;
}

// ── State ───────────────────────────────────────────────────────────────────────────────────────

interface Snapshot {
  files: Record<string, string>;
  dashboards: unknown[];
  globexRows: unknown[];
  globexUsage: unknown;
  tables: string[];
}

/** Snapshots the state; its dashboards are charged to both tenants, so the usage is read first. */
async function snapshot(): Promise<Snapshot> {
  const usage = await globexUsage();
  const dir = path.join(dataDir, 'tenants');
  const files = Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
  const dashboards = [];
  for (const caller of [ADMIN, GLOBEX_ADMIN]) {
    const response = await gql(caller, DASHBOARD, { from: FROM, to: TO });
    expect(response.body.errors).toBeUndefined();
    dashboards.push(response.body.data);
  }
  const globexRows = [
    ...(await pgRows(`SELECT * FROM "${PG_SCHEMA}".tenant_budgets WHERE tenant = 'globex'`)),
    ...(await pgRows(`SELECT * FROM "${PG_SCHEMA}".user_budgets WHERE tenant = 'globex' ORDER BY user_id`)),
    ...(await pgRows(`SELECT * FROM "${PG_SCHEMA}".budget_audit WHERE tenant = 'globex' ORDER BY id`)),
  ];
  const tables = (await pgRows('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [PG_SCHEMA])).map((r) => r.table_name);
  return { files, dashboards, globexRows, globexUsage: usage, tables };
}

/** The other tenant's budgets and today's usage (reading them is free). */
async function globexUsage(): Promise<unknown> {
  return (await gql(GLOBEX_ADMIN, '{ myBudget { usedBytes dailyLimitBytes maxQueryBytes } tenant { budget { usedBytes dailyLimitBytes maxQueryBytes } } }')).body.data;
}

async function pgRows(sql: string, params: unknown[] = []): Promise<any[]> {
  const pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
  try {
    return (await pg.query(sql, params)).rows;
  } finally {
    await pg.end();
  }
}

// ── HTTP ────────────────────────────────────────────────────────────────────────────────────────

async function gql(principal: Principal, query: string, variables?: Record<string, unknown>) {
  const token = await signDevToken({ tenant: principal.tenant, user: principal.userId, roles: principal.roles, secret, ttlSeconds: 600 });
  const request: RawRequest = {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  };
  requests += 1;
  return { ...(await send(system.gatewayUrl, request)), request };
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= error;
      }
    }
  }));
  if (failure !== undefined) throw failure;
}
