/**
 * bytegate's own BigQuery bill across real processes: two gateway replicas, each over its own three
 * subgraph processes, all on WAREHOUSE=bigquery against the recording BigQuery fake (in this process)
 * and sharing the Redis on 127.0.0.1:6379 — the tenant loaded by `npm run seed`, more events by
 * `npm run ingest`. Metadata queries are the jobs labelled `partitions` / `partitionStats`;
 * tables.get calls are free. Checks run every 300 ms here, so a test sees many of them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { upsertUsers } from '../../warehouse/duckdb/tenantDataset';
import { addDays } from '../../common/dates';
import { signDevToken } from '../../gateway/auth/devToken';
import { type GeneratorOptions, generateDays, generateDirectory } from '../../okta/generator';
import { type BigQueryFake, startBigQueryFake } from '../warehouse/bigQueryFake';
import { type RunningCli, freePorts, runMain, startMain } from './processes';

const run = Math.random().toString(36).slice(2, 8);
const TENANT: GeneratorOptions = { tenant: `bq_${run}`, users: 15, days: 4, eventsPerUser: 10, start: '2025-06-02', seed: 31 };
const LAST = addDays(TENANT.start, TENANT.days - 1);
const NEW_DAY = addDays(LAST, 1);
const people = generateDirectory(TENANT);
const ceo = people.find((u) => u.managerId === null)!;
const JWT_SECRET = 'e2e-bq-jwt-secret-0123456789abcdef0123456';
const CHECK_MS = 300;
const DASHBOARD = (to: string) => `{ tenant { name topTimeWasters(from: "${TENANT.start}", to: "${to}", first: 3) { user { displayName } totalWasteHours }
  eventCounts(from: "${TENANT.start}", to: "${to}") { date count } } me { department } users(first: 3) { totalCount } }`;

let fake: BigQueryFake;
let dataDir: string;
let env: NodeJS.ProcessEnv;
const processes: RunningCli[] = [];
/** Each replica: its gateway's /graphql and its subgraphs' base URLs. */
let replicas: { gateway: string; subgraphs: string[] }[];
let token: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bq-e2e-'));
  const prefix = `e2e_${run}`;
  fs.mkdirSync(path.join(dataDir, 'bigquery'));
  fake = await startBigQueryFake({ dataDir: path.join(dataDir, 'bigquery'), projectId: 'e2e-project', datasetPrefix: prefix });
  env = {
    DATA_DIR: dataDir, WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'e2e-project', BIGQUERY_API_ENDPOINT: fake.url, BIGQUERY_DATASET_PREFIX: prefix,
    METADATA_SERVER_DETECTION: 'none', METADATA_CHECK_MS: String(CHECK_MS), REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    JWT_SECRET, SUBGRAPH_SECRET: 'e2e-bq-subgraph-secret-0123456789abcdefgh', BUDGET_DEFAULTS: 'viewer=1TiB,manager=1TiB,executive=1TiB,quota-admin=1TiB,tenant=8TiB',
  };
  const seeded = await runMain('seed', ['--tenant', TENANT.tenant, '--users', String(TENANT.users), '--days', String(TENANT.days),
    '--events-per-user', String(TENANT.eventsPerUser), '--start', TENANT.start, '--seed', String(TENANT.seed)], env);
  expect(seeded).toMatchObject({ code: 0 });
  expect(seeded.stderr).toMatch(/warehouse jobs run for bytegate itself: .*ingest: 1 job, \d+(\.\d+)? MiB billed/);

  const ports = await freePorts(8);
  replicas = [0, 1].map((i) => ({ gateway: `http://127.0.0.1:${ports[4 * i + 3]}/graphql`, subgraphs: [0, 1, 2].map((j) => `http://127.0.0.1:${ports[4 * i + j]}`) }));
  const started: [RunningCli, string][] = [];
  for (const i of [0, 1]) {
    const [users, tenants, metrics, gateway] = ports.slice(4 * i, 4 * i + 4);
    const own = { ...env, USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics) };
    for (const name of ['users', 'tenants', 'metrics']) started.push([startMain('subgraphs/main.ts', [name], own), `${name} subgraph on`]);
    started.push([startMain('gateway/main.ts', [], { ...own, PORT: String(gateway) }), 'gateway on']);
  }
  processes.push(...started.map(([process]) => process));
  await Promise.all(started.map(([process, text]) => process.waitFor(text, 60_000)));
  token = await signDevToken({ tenant: TENANT.tenant, user: ceo.id, roles: ['executive'], secret: JWT_SECRET, ttlSeconds: 3600 });
}, 180_000);

afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await fake?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('dashboards reloaded on both replicas while nothing is written run no metadata query — many free checks', async () => {
  const queries = fake.metadataQueries().length;
  const gets = fake.tableGets().length;
  const first = await ask(replicas[0].gateway, DASHBOARD(LAST), { 'cache-control': 'no-cache' });
  for (const until = Date.now() + 6 * CHECK_MS; Date.now() < until;) {
    // Past the response cache, so the subgraphs read the data versions each time.
    for (const { gateway } of replicas) expect((await ask(gateway, DASHBOARD(LAST), { 'cache-control': 'no-cache' })).data).toEqual(first.data);
  }
  expect(fake.metadataQueries().length - queries).toBe(0); // the seed stored what it read after its last write
  expect(fake.tableGets().length - gets).toBeGreaterThanOrEqual(5 * 5);
}, 60_000);

test('an ingest re-reads exactly the changed tables, once across both replicas, which show the new day at once', async () => {
  const before = await ask(replicas[1].gateway, DASHBOARD(NEW_DAY));
  expect(before.data.tenant.eventCounts.map((d: { date: string }) => d.date)).not.toContain(NEW_DAY);
  const queries = fake.metadataQueries().length;

  const [{ events: [event] }] = [...generateDays({ ...TENANT, days: 1, start: NEW_DAY, seed: 77 }, people)];
  const file = path.join(dataDir, 'new-day.ndjson');
  fs.writeFileSync(file, `${JSON.stringify({ ...event, uuid: `e2e-bq-${run}` })}\n`);
  const ingested = await runMain('ingest', ['--tenant', TENANT.tenant, '--file', file], env);
  expect(ingested).toMatchObject({ code: 0 });
  expect(ingested.stderr).toMatch(/metadata: 2 jobs, 20 MiB billed/);

  const reread = fake.metadataQueries().slice(queries);
  expect(reread.map((r) => r.body.configuration.labels.query).sort()).toEqual(['partitions', 'partitionstats']);
  const tables = reread.find((r) => r.body.configuration.labels.query === 'partitions')!.body.configuration.query.queryParameters[0].parameterValue.arrayValues.map((v: { value: string }) => v.value);
  expect(tables.sort()).toEqual(['productivity_daily', 'sso_events']);
  // The first replica asked computes the new answer (a new key: the new day's version), the other is served it.
  const after = [];
  for (const { gateway } of replicas) after.push(await ask(gateway, DASHBOARD(NEW_DAY)));
  expect(after.map((a) => a.extensions.cost.responseCache)).toEqual(['miss', 'hit']);
  for (const answer of after) expect(answer.data.tenant.eventCounts.map((d: { date: string }) => d.date)).toContain(NEW_DAY);
  await new Promise((resolve) => setTimeout(resolve, 3 * CHECK_MS)); // checks come and go
  for (const { gateway } of replicas) await ask(gateway, DASHBOARD(NEW_DAY), { 'cache-control': 'no-cache' });
  expect(fake.metadataQueries().length - queries).toBe(2);
}, 60_000);

test('a write from outside bytegate is re-read by one subgraph process, whose /metrics and request log show it as overhead', async () => {
  const queries = fake.metadataQueries().length;
  const billedBefore = await overheadBilled('metadata');
  await upsertUsers(fake.dataDir, TENANT.tenant, [{ ...ceo, department: 'Moonshots' }]);
  let answer;
  for (const until = Date.now() + 10_000; ;) {
    answer = await ask(replicas[0].gateway, DASHBOARD(LAST), { 'cache-control': 'no-cache' });
    if (answer.data.me.department === 'Moonshots' || Date.now() > until) break;
    await new Promise((resolve) => setTimeout(resolve, CHECK_MS));
  }
  expect(answer.data.me.department).toBe('Moonshots');
  const reread = fake.metadataQueries().slice(queries);
  expect(reread.length).toBeGreaterThanOrEqual(1);
  expect(reread.length).toBeLessThanOrEqual(2); // PARTITIONS of users, and the recorded split when it changed
  // Every metadata byte billed is on some subgraph's /metrics, under this tenant.
  expect(await overheadBilled('metadata') - billedBefore).toBe(reread.length * 10 * 2 ** 20);
  const logged = processes.flatMap((p) => p.output().split('\n')).filter((line) => /"overheadBilledBytes":[1-9]/.test(line) && line.includes(TENANT.tenant));
  expect(logged.length).toBeGreaterThan(0);
}, 60_000);

/** bytegate_overhead_billed_bytes_total{tenant,reason} summed over every subgraph process's /metrics. */
async function overheadBilled(reason: string): Promise<number> {
  let total = 0;
  for (const url of replicas.flatMap((r) => r.subgraphs)) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`bytegate_overhead_billed_bytes_total{tenant="${TENANT.tenant}",reason="${reason}"}`));
    total += line ? Number(line.split(' ').at(-1)) : 0;
  }
  return total;
}

async function ask(gateway: string, query: string, headers: Record<string, string> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(gateway, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body;
}
