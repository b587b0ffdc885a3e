/**
 * The first `npm start` on an empty DATA_DIR, as a newcomer runs it: it serves within seconds while the
 * demo tenants' events load behind it, newest day first, and /readyz says what is still loading;
 * stopped midway, the next start resumes the load; in the end the datasets hold exactly the events
 * the generator makes — every day, every event once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DemoLoading } from '../../common/demoLoading';
import { addDays } from '../../common/dates';
import { generateDays, generateDirectory } from '../../okta/generator';
import { datasetPath } from '../../warehouse/duckdb/datasetFiles';
import { type RunningCli, freePorts, runMain, startNpm } from './processes';

const SECRETS = { JWT_SECRET: 'first-run-e2e-jwt-secret-0123456789abcdef', SUBGRAPH_SECRET: 'first-run-e2e-subgraph-secret-0123456789abc' };

let dataDir: string;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-first-run-'));
});

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

test('it serves while the demo data loads; stopped midway and started again, it resumes, and every event is stored once', async () => {
  const yesterday = addDays(new Date().toISOString().slice(0, 10), -1);
  const first = await npmStart();
  let record: DemoLoading;
  try {
    await first.system.waitFor('bytegate is up: ', 60_000);
    expect(first.system.stderr()).toContain('demo data: acme and globex are loading behind the servers, newest day first');
    const early = await readyz(first.port);
    expect(early.status).toBe(200);
    expect(early.body.status).toBe('ready');
    expect(early.body.checks.loading).toMatchObject({ state: 'loading', tenants: { acme: { days: 30 }, globex: { days: 30, daysLoaded: 0 } } });

    // Newest day first: once two of acme's days are in, its data ends yesterday and begins after the range's first day.
    await until(async () => ((await readyz(first.port)).body.checks.loading?.tenants.acme.daysLoaded ?? 0) >= 2, 90_000, 'two of acme\'s days loaded');
    const executive = /--tenant acme --user (\S+) --role executive/.exec(first.system.stderr())![1];
    const range = await query(first.port, await tokenFor(executive), '{ tenant { name dataRange { from to } } }');
    expect(range.tenant.name).toBe('Acme Corporation');
    expect(range.tenant.dataRange.to).toBe(yesterday);
    expect(range.tenant.dataRange.from > addDays(yesterday, -29)).toBe(true);

    expect(await first.system.stop('SIGTERM')).toBe(0);
    record = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-loading.json'), 'utf8')) as DemoLoading;
    const acme = record.tenants.find((t) => t.tenant === 'acme')!;
    expect(acme.loadedDays.length).toBeGreaterThanOrEqual(2);
    expect(acme.loadedDays.length).toBeLessThan(30);
  } finally {
    await first.system.stop('SIGKILL');
  }

  const second = await npmStart();
  try {
    await second.system.waitFor('bytegate is up: ', 60_000);
    const resumed = (await readyz(second.port)).body.checks.loading.tenants.acme;
    expect(resumed.daysLoaded).toBeGreaterThanOrEqual(record.tenants[0].loadedDays.length);
    await second.system.waitFor('demo data loaded in ', 300_000);
    expect((await readyz(second.port)).body.checks.loading).toBeUndefined();
    expect(fs.existsSync(path.join(dataDir, 'demo-loading.json'))).toBe(false);
  } finally {
    expect(await second.system.stop('SIGTERM')).toBe(0);
  }

  for (const demo of record.tenants) {
    const expected = new Map<string, number>();
    for (const { day, events } of generateDays(demo, generateDirectory(demo))) expected.set(day, events.length);
    const stored = await perDay(demo.tenant);
    expect(stored.map((d) => d.day)).toEqual([...expected.keys()]);
    for (const { day, events, uuids } of stored) {
      expect({ day, events, uuids }).toEqual({ day, events: expected.get(day), uuids: expected.get(day) });
    }
  }
}, 480_000);

// Private:

async function npmStart(): Promise<{ system: RunningCli; port: number }> {
  const [port, users, tenants, metrics] = await freePorts(4);
  const system = startNpm({
    ...SECRETS, DATA_DIR: dataDir, PORT: String(port), USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics),
  });
  return { system, port };
}

async function readyz(port: number): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: await response.json() };
}

async function tokenFor(user: string): Promise<string> {
  const result = await runMain('token', ['--tenant', 'acme', '--user', user, '--role', 'executive'], { ...SECRETS, DATA_DIR: dataDir });
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

/**
 * The operation's data. A query arriving while a write holds the file waits for it, and may be answered
 * 503 WAREHOUSE_UNAVAILABLE ("retry shortly") when the write outlasts the gateway's wait: it is retried.
 */
async function query(port: number, token: string, text: string): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: text }),
    });
    const body = (await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
    if (response.status === 503 && body.errors?.[0]?.extensions?.code === 'WAREHOUSE_UNAVAILABLE' && attempt < 5) continue;
    expect({ status: response.status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
    return body.data;
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Events and distinct uuids per day in the tenant's dataset, by day. */
async function perDay(tenant: string): Promise<{ day: string; events: number; uuids: number }[]> {
  const instance = await DuckDBInstance.create(datasetPath(dataDir, tenant), { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    const result = await connection.runAndReadAll(`SELECT strftime(CAST(published AS DATE), '%Y-%m-%d') AS day, count(*), count(DISTINCT uuid)
      FROM sso_events GROUP BY day ORDER BY day`);
    connection.closeSync();
    return result.getRows().map(([day, events, uuids]) => ({ day: String(day), events: Number(events), uuids: Number(uuids) }));
  } finally {
    instance.closeSync();
  }
}
