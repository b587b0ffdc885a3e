/**
 * The whole system as `npm start` runs it: tenants seeded by the seed CLI, four real processes
 * (three subgraphs and the gateway), tokens from the token CLI, queries across all three subgraphs,
 * an ingest while it serves, and a clean SIGTERM. Every expected number is computed here from the
 * generator's own output, independently of the warehouse and the subgraphs' SQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addDays } from '../../common/dates';
import { type GeneratorOptions, generateDays, generateDirectory } from '../../okta/generator';
import type { LogEvent } from '../../okta/logEvent';
import { type RunningCli, freePorts, runMain, startCli } from './processes';

const acme: GeneratorOptions = { tenant: 'acme', users: 12, days: 3, eventsPerUser: 40, start: '2026-01-05', seed: 7 };
const globex: GeneratorOptions = { tenant: 'globex', users: 5, days: 2, eventsPerUser: 30, start: '2026-01-05', seed: 3 };
/** A fourth acme day, ingested while the system serves. */
const extraDay: GeneratorOptions = { ...acme, start: '2026-01-08', days: 1 };
const FROM = acme.start;
const TO = addDays(acme.start, acme.days - 1);

const directory = generateDirectory(acme);
const acmeEvents = [...generateDays(acme, directory)].flatMap((d) => d.events);
const extraEvents = [...generateDays(extraDay, directory)].flatMap((d) => d.events);
const ceo = directory.find((u) => u.managerId === null)!;
const individual = directory.find((u) => !directory.some((r) => r.managerId === u.id))!;

let dataDir: string;
let env: NodeJS.ProcessEnv;
let gatewayUrl: string;
let subgraphUrls: string[];
let system: RunningCli;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-e2e-'));
  const [port, users, tenants, metrics] = await freePorts(4);
  env = {
    DATA_DIR: dataDir, PORT: String(port), USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics),
    JWT_SECRET: 'e2e-jwt-secret-0123456789abcdef0123456789', SUBGRAPH_SECRET: 'e2e-subgraph-secret-0123456789abcdef01',
  };
  gatewayUrl = `http://127.0.0.1:${port}/graphql`;
  subgraphUrls = [users, tenants, metrics].map((p) => `http://127.0.0.1:${p}/graphql`);
  for (const options of [acme, globex]) {
    const seeded = await runMain('seed', seedArgs(options), env);
    expect(seeded).toMatchObject({ code: 0 });
  }
  system = startCli('start', [], env);
  await system.waitFor('bytegate is up', 60_000);
}, 120_000);

afterAll(async () => {
  await system?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('an executive sees the whole tenant, across all three subgraphs, with the numbers the events imply', async () => {
  const token = await tokenFor('acme', ceo.id, 'executive');
  const { status, body } = await query(token, `query Dashboard($from: Date!, $to: Date!) {
      tenant {
        id name dataRange { from to }
        topTimeWasters(from: $from, to: $to, first: 3) { user { id displayName manager { id } } totalWasteHours }
        appUsage(from: $from, to: $to, first: 3) { app { id name } events users }
        eventCounts(from: $from, to: $to, eventType: "user.authentication.sso") { date count }
      }
      users(first: 100) { totalCount edges { node { id email department } } }
      me { id displayName productivity(from: $from, to: $to) { totalEvents uniqueApps } }
    }`, { from: FROM, to: TO });

  expect(body.errors).toBeUndefined();
  expect(status).toBe(200);
  const { tenant, users, me } = body.data;
  // Priced before it ran, from statistics the gateway fetched from the metrics process. (An upper
  // bound: a manager already loaded by the same request is a DataLoader cache hit, not a query.)
  expect(body.extensions.cost.actualBytes).toBeGreaterThan(0);
  expect(body.extensions.cost.estimatedBytes).toBeGreaterThanOrEqual(body.extensions.cost.actualBytes);
  expect(body.extensions.cost.estimatedWarehouseQueries).toBeGreaterThanOrEqual(body.extensions.cost.warehouseQueries);
  expect(tenant).toMatchObject({ id: 'acme', dataRange: { from: FROM, to: TO } });

  const waste = wasteHoursByUser(acmeEvents);
  const expectedWasters = [...waste].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).slice(0, 3);
  expect(tenant.topTimeWasters.map((w: { user: { id: string } }) => w.user.id)).toEqual(expectedWasters.map(([id]) => id));
  tenant.topTimeWasters.forEach((w: { user: { id: string; displayName: string; manager: { id: string } | null }; totalWasteHours: number }, i: number) => {
    const person = directory.find((u) => u.id === w.user.id)!;
    expect(w.totalWasteHours).toBeCloseTo(expectedWasters[i][1], 9);
    expect(w.user.displayName).toBe(person.displayName);
    expect(w.user.manager?.id ?? null).toBe(person.managerId);
  });

  expect(tenant.appUsage).toEqual(appUsage(acmeEvents).slice(0, 3));
  expect(tenant.eventCounts).toEqual(countsByDay(acmeEvents.filter((e) => e.eventType === 'user.authentication.sso')));

  expect(users.totalCount).toBe(directory.length);
  expect(new Set(users.edges.map((e: { node: { id: string; email: string } }) => `${e.node.id} ${e.node.email}`)))
    .toEqual(new Set(directory.map((u) => `${u.id} ${u.email}`)));

  const own = acmeEvents.filter((e) => e.actor.id === ceo.id);
  expect(me).toEqual({
    id: ceo.id,
    displayName: ceo.displayName,
    productivity: { totalEvents: own.length, uniqueApps: appDays(own) },
  });
});

test('operators see it: /metrics on the gateway process, and one request id in the gateway\'s and the subgraphs\' JSON logs', async () => {
  const token = await tokenFor('acme', ceo.id, 'executive');
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'e2e-trace-1' },
    body: JSON.stringify({ query: `query Team { me { displayName productivity(from: "${FROM}", to: "${TO}") { totalEvents } } }` }),
  });
  expect(response.headers.get('x-request-id')).toBe('e2e-trace-1');
  const { extensions } = (await response.json()) as { extensions: { cost: { billedBytes: number } } };
  const metrics = await (await fetch(new URL('/metrics', gatewayUrl))).text();
  expect(metrics).toMatch(/^bytegate_operations_total\{tenant="acme",outcome="ok"\} [1-9]/m);
  expect(metrics).toMatch(/^bytegate_estimate_accuracy_ratio_count\{operation="Team"\} 1$/m);
  expect(metrics).toMatch(/^bytegate_process_resident_memory_bytes \d+/m);
  expect(metrics).toMatch(/^bytegate_nodejs_eventloop_lag_seconds /m);

  // npm start's stdout is every process's JSON lines, each naming its process; they arrive through
  // pipes, shortly after the response.
  const traced = () => system.stdout().split('\n').filter((l) => l.includes('"reqId":"e2e-trace-1"')).map((l) => JSON.parse(l));
  for (let waited = 0; traced().length < 3 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  const parsed = traced();
  expect(parsed.find((l) => l.name === 'gateway')).toMatchObject({ msg: 'operation', operation: 'Team', outcome: 'ok', billedBytes: extensions.cost.billedBytes });
  expect(parsed.filter((l) => l.msg === 'request').map((l) => l.name).sort()).toEqual(['metrics', 'users']);
});

test('a viewer sees only themself, whatever they ask for', async () => {
  const token = await tokenFor('acme', individual.id, 'viewer');
  const { body } = await query(token, `{
      tenant { topTimeWasters(from: "${FROM}", to: "${TO}", first: 10) { user { id } } eventCounts(from: "${FROM}", to: "${TO}") { date count } }
      users(first: 100) { totalCount edges { node { id } } }
    }`);
  expect(body.errors).toBeUndefined();
  expect(body.data.users).toEqual({ totalCount: 1, edges: [{ node: { id: individual.id } }] });
  expect(body.data.tenant.topTimeWasters).toEqual([{ user: { id: individual.id } }]);
  expect(body.data.tenant.eventCounts).toEqual(countsByDay(acmeEvents.filter((e) => e.actor.id === individual.id)));
});

test("another tenant's token never reaches acme's data, and subgraphs refuse unsigned calls", async () => {
  const token = await tokenFor('globex', ceo.id, 'executive');
  const { body } = await query(token, `{ tenant { id dataRange { from to } } user(id: "${ceo.id}") { displayName } users(first: 100) { totalCount } }`);
  expect(body.data.tenant).toEqual({ id: 'globex', dataRange: { from: globex.start, to: addDays(globex.start, globex.days - 1) } });
  expect(body.data.user).toBeNull();
  expect(body.data.users.totalCount).toBe(globex.users);

  for (const url of subgraphUrls) {
    const direct = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-bytegate-identity': 'eyJ0ZW5hbnQiOiJhY21lIn0' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(direct.status).toBe(401);
    expect(((await direct.json()) as any).errors[0].extensions.code).toBe('INVALID_SIGNATURE');
  }
});

test('events ingested while the system serves are visible to the next query; malformed lines are reported', async () => {
  const file = path.join(dataDir, 'export.ndjson');
  const lines = extraEvents.map((e) => JSON.stringify(e));
  lines.splice(5, 0, '{"uuid": "broken", "published": ');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);

  const ingested = await runMain('ingest', ['--tenant', 'acme', '--file', file], env);
  expect(ingested.code).toBe(1);
  expect(ingested.stdout).toContain(`${extraEvents.length} new events, 0 duplicates, 1 rejected`);
  expect(ingested.stderr).toContain(`${file}:6:`);

  const token = await tokenFor('acme', ceo.id, 'executive');
  const counts = `{ tenant { dataRange { to } eventCounts(from: "${FROM}", to: "${extraDay.start}") { date count } } }`;
  const after = await query(token, counts);
  expect(after.body.data.tenant).toEqual({ dataRange: { to: extraDay.start }, eventCounts: countsByDay([...acmeEvents, ...extraEvents]) });

  const again = await runMain('ingest', ['--tenant', 'acme', '--file', file], env);
  expect(again.stdout).toContain(`0 new events, ${extraEvents.length} duplicates, 1 rejected`);
  expect((await query(token, counts)).body.data).toEqual(after.body.data);
});

test('SIGTERM stops every process cleanly', async () => {
  const code = await system.stop('SIGTERM');
  expect(code).toBe(0);
  for (const url of [gatewayUrl, ...subgraphUrls]) await expect(fetch(url.replace('/graphql', '/healthz'))).rejects.toThrow();
});

// Private:

function seedArgs(o: GeneratorOptions): string[] {
  return ['--tenant', o.tenant, '--users', String(o.users), '--days', String(o.days), '--events-per-user', String(o.eventsPerUser), '--start', o.start, '--seed', String(o.seed)];
}

async function tokenFor(tenant: string, user: string, role: string): Promise<string> {
  const result = await runMain('token', ['--tenant', tenant, '--user', user, '--role', role], env);
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

async function query(token: string, text: string, variables?: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: text, variables }),
  });
  return { status: response.status, body: await response.json() };
}

const day = (e: LogEvent) => e.published.slice(0, 10);
const appIds = (e: LogEvent) => (e.target ?? []).filter((t) => t.type === 'AppInstance').map((t) => t.id);

function countsByDay(events: LogEvent[]): { date: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(day(e), (counts.get(day(e)) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, count]) => ({ date, count }));
}

/** Each day's distinct apps, summed over days (the rollup's unique_apps, summed over a range). */
function appDays(events: LogEvent[]): number {
  return new Set(events.flatMap((e) => appIds(e).map((id) => `${day(e)} ${id}`))).size;
}

/** The seed's waste formulas per user and day, summed per user (see warehouse/rollup.ts for the rules). */
function wasteHoursByUser(events: LogEvent[]): Map<string, number> {
  const groups = new Map<string, LogEvent[]>();
  for (const e of events) {
    const key = `${e.actor.id} ${day(e)}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const total = new Map<string, number>();
  for (const [key, group] of groups) {
    const steps = group.map((e) => {
      const step = e.authenticationContext?.authenticationStep ?? 0;
      if (step > 0) return step;
      return e.eventType === 'user.authentication.auth_via_mfa' || e.eventType === 'user.authentication.verify' ? 2 : 1;
    });
    const avgStep = steps.reduce((a, b) => a + b, 0) / steps.length;
    const auth = (Math.max(avgStep - 1, 0) * 0.5 * group.length) / 60;
    const contextSwitch = (appDays(group) * 5) / 60;
    const user = key.split(' ')[0];
    total.set(user, (total.get(user) ?? 0) + auth + contextSwitch);
  }
  return total;
}

function appUsage(events: LogEvent[]): { app: { id: string; name: string }; events: number; users: number }[] {
  const apps = new Map<string, { name: string; events: number; users: Set<string> }>();
  for (const e of events) {
    for (const t of (e.target ?? []).filter((target) => target.type === 'AppInstance')) {
      const app = apps.get(t.id) ?? { name: t.displayName ?? '', events: 0, users: new Set<string>() };
      app.events++;
      app.users.add(e.actor.id);
      apps.set(t.id, app);
    }
  }
  return [...apps]
    .sort(([a, x], [b, y]) => y.events - x.events || (a < b ? -1 : 1))
    .map(([id, app]) => ({ app: { id, name: app.name }, events: app.events, users: app.users.size }));
}
