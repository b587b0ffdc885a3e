/**
 * bytegate's own BigQuery bill, measured on the real processes: two replicas (each a gateway over its
 * own users, tenants and metrics subgraph processes) on WAREHOUSE=bigquery against the recording
 * BigQuery fake, `tenants` simulated tenants loaded through the BigQuery loader. Per tenant, every
 * second its CEO dashboard is reloaded (alternating replicas: mostly response-cache hits) and every
 * five seconds an analyst asks app usage and event counts over a random window (mostly warehouse
 * work): the users' bill. Measured, in one run:
 * - watched, nothing written: metadata queries, tables.get calls, what users and bytegate billed,
 *   Redis commands, and the CPU of gateways and subgraphs per operation — on today's path (each
 *   process re-reads all metadata every 5 s: METADATA_CHECK_MS = METADATA_FULL_READ_MS = 5000, no
 *   shared store) and on the shared one (REDIS_URL; checks every `checkMs`, shorter than production's
 *   60 s so the run sees many);
 * - one ingest per tenant (`batchEvents` events on a new day, through the loader with REDIS_URL, as
 *   the Okta poller writes): metadata queries and the tables they name, the data-change messages,
 *   Redis commands, every job's bill by reason; then the replicas watched again, serving the new day.
 * capacityModel.ts extrapolates these unit costs to 1,000 tenants.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { terminate, waitForHealth } from '../cli/childProcesses';
import { seedTenant } from '../cli/seedTenant';
import { DATA_CHANGES_CHANNEL, openDataChangeFeed } from '../common/changeFeed';
import { loadConfig } from '../common/config';
import { addDays } from '../common/dates';
import { VERSION } from '../common/version';
import { signDevToken } from '../gateway/auth/devToken';
import { type GeneratorOptions, generateDays, generateDirectory } from '../okta/generator';
import { METADATA_KEY_PREFIX } from '../warehouse/bigquery/metadataStore';
import { openDatasetWriter } from '../warehouse/openWarehouse';
import { type OverheadReason, type OverheadTotal, createOverheadMeter } from '../warehouse/overhead';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import { type BigQueryFake, startBigQueryFake } from '../test/warehouse/bigQueryFake';
import { freePorts, load } from './stack';

export interface CapacityOptions {
  readonly tenants: number;
  readonly users: number;
  readonly days: number;
  readonly eventsPerUser: number;
  /** How long each path is watched, and the replicas after the ingest. */
  readonly watchSeconds: number;
  /** Events per tenant in the ingest. */
  readonly batchEvents: number;
  /** METADATA_CHECK_MS of the shared path. */
  readonly checkMs: number;
  readonly redisUrl: string;
}

/** One path watched for `seconds`: totals over every tenant and process. */
export interface Watched {
  readonly seconds: number;
  readonly operations: number;
  readonly responseCacheHits: number;
  readonly metadataQueries: number;
  readonly tableGets: number;
  /** What the users' operations billed (the gateway's extensions.cost.billedBytes), processed, and their warehouse jobs. */
  readonly userBilledBytes: number;
  readonly userProcessedBytes: number;
  readonly userJobs: number;
  /** What the subgraphs billed for bytegate itself meanwhile (their /metrics, every reason). */
  readonly overheadBilledBytes: number;
  readonly redisCommands: number;
  readonly gatewayCpuSeconds: number;
  readonly subgraphCpuSeconds: number;
}

export interface CapacityResult {
  readonly tenants: number;
  readonly replicas: number;
  /** Events per tenant per day in the simulated data. */
  readonly eventsPerDay: number;
  readonly today: Watched;
  readonly shared: Watched;
  /** The shared path's processes without traffic, right after `shared`. */
  readonly idle: Watched;
  readonly ingest: {
    readonly events: number;
    /** Metadata queries the ingests ran (all of them: the writer's re-read), and the tables those name. */
    readonly metadataQueries: number;
    readonly changedTables: number;
    readonly dataChangeMessages: number;
    readonly redisCommands: number;
    /** Every job the writer ran, summed over the tenants' ingests. */
    readonly byReason: Readonly<Partial<Record<OverheadReason, { jobs: number; billedBytes: number }>>>;
  };
  /** The replicas watched after the ingest, serving the new day. */
  readonly afterIngest: Watched & { readonly newDayServed: boolean };
  /** Metadata snapshot in Redis per tenant (bytes), and the days it covers. */
  readonly snapshotBytes: number;
  readonly snapshotDays: number;
  /** METADATA_CHECK_MS of the shared path. */
  readonly checkMs: number;
  /** Logical bytes per event of the columns an ingest reads at scale: `uuid` (the dedupe) and the rollup's. */
  readonly uuidBytesPerEvent: number;
  readonly rollupBytesPerEvent: number;
}

const ROOT = path.resolve(__dirname, '..');
const START = '2025-03-01';
const REPLICAS = 2;
const WARM_UP_SECONDS = 3;
const PROJECT = 'bench-capacity';
/** The sso_events columns the rollup refresh reads (rollup.ts). */
const ROLLUP_COLUMNS = ['actor_id', 'published', 'eventType', 'authenticationContext.authenticationStep', 'target.id', 'target.type'];

export async function benchCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const run = randomBytes(4).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-capacity-'));
  const prefix = `capacity_${run}`;
  const fakeDir = path.join(dir, 'bigquery');
  fs.mkdirSync(fakeDir);
  const fake = await startBigQueryFake({ dataDir: fakeDir, projectId: PROJECT, datasetPrefix: prefix });
  const secret = `bench-capacity-jwt-${randomBytes(16).toString('hex')}`;
  const base: NodeJS.ProcessEnv = {
    ...process.env, DATA_DIR: path.join(dir, 'data'), WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: PROJECT, BIGQUERY_API_ENDPOINT: fake.url,
    BIGQUERY_DATASET_PREFIX: prefix, METADATA_SERVER_DETECTION: 'none', JWT_SECRET: secret, SUBGRAPH_SECRET: `bench-capacity-subgraph-${run}-0123456789abcdef`,
    BUDGET_DEFAULTS: 'viewer=512TiB,manager=512TiB,executive=512TiB,tenant=1024TiB', MAX_QUERY_BYTES: String(2 ** 40), LOG_LEVEL: 'warn',
  };
  delete base.DATABASE_URL;
  const shared = { ...base, REDIS_URL: options.redisUrl, METADATA_CHECK_MS: String(options.checkMs) };
  const today = { ...base, REDIS_URL: '', METADATA_CHECK_MS: '5000', METADATA_FULL_READ_MS: '5000' };
  const tenants: GeneratorOptions[] = Array.from({ length: options.tenants }, (_, i) => ({
    tenant: `cap${i}_${run}`, users: options.users, days: options.days, eventsPerUser: options.eventsPerUser, start: START, seed: 40 + i,
  }));
  const last = addDays(START, options.days - 1);
  const newDay = addDays(last, 1);
  const messages: string[] = [];
  const listener = await openDataChangeFeed(options.redisUrl, { channel: DATA_CHANGES_CHANNEL });
  listener.subscribe((change) => messages.push(change.tenant));
  const redis = createClient({ url: options.redisUrl });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    // Loaded as `npm run seed` loads them (with REDIS_URL: the metadata the writer read is stored for the replicas).
    console.error(`capacity: loading ${tenants.length} tenants into the BigQuery fake…`);
    const writer = await openDatasetWriter(loadConfig(shared), VERSION);
    for (const tenant of tenants) await seedTenant(writer, tenant);
    await writer.close();

    const tokens = await Promise.all(tenants.map((t) => signDevToken({
      tenant: t.tenant, user: generateDirectory(t).find((u) => u.managerId === null)!.id, roles: ['executive'], secret, ttlSeconds: 3600,
    })));
    const watch = async (env: NodeJS.ProcessEnv, seconds: number, to = last) => {
      const replicas = await launchReplicas(env, dir);
      try {
        await traffic(replicas, tokens, 2, to); // every process reads each tenant's metadata once
        // JIT warm-up, so CPU per operation is a running process's: each gateway under load for a few seconds.
        const from = addDays(to, -6);
        for (const gateway of replicas.gateways) {
          await load(gateway, tokens[0], { query: DASHBOARD, variables: { from, to } }, WARM_UP_SECONDS);
          await load(gateway, tokens[0], { query: ANALYST, variables: { from, to, first: 5 } }, WARM_UP_SECONDS);
        }
        const watched = await measure(replicas, fake, redis, () => traffic(replicas, tokens, seconds, to));
        // The same processes without traffic: what they cost anyway (timers, GC, metadata checks), subtracted per operation.
        const idle = await measure(replicas, fake, redis, () => quiet(Math.max(3, seconds / 3)));
        return { replicas, watched, idle };
      } catch (error) {
        await replicas.stop();
        throw error;
      }
    };

    console.error('capacity: watching today\'s path (every process re-reads metadata every 5 s)…');
    const old = await watch(today, options.watchSeconds);
    await old.replicas.stop();
    console.error('capacity: watching the shared path…');
    const now = await watch(shared, options.watchSeconds);

    console.error('capacity: one ingest per tenant…');
    const overhead = createOverheadMeter();
    const queriesBefore = fake.metadataQueries().length;
    const commandsBefore = await redisCommands(redis);
    const messagesBefore = messages.length;
    const ingestWriter = await openDatasetWriter(loadConfig(shared), VERSION, { overhead });
    let events = 0;
    for (const tenant of tenants) {
      const directory = generateDirectory(tenant);
      const eventsPerUser = Math.max(1, Math.round(options.batchEvents / tenant.users));
      const [{ events: day }] = [...generateDays({ ...tenant, days: 1, start: newDay, eventsPerUser, seed: 7 }, directory)];
      events += day.length;
      await ingestWriter.ingestEvents(tenant.tenant, day.map((e) => JSON.stringify(e)));
    }
    await ingestWriter.close();
    const reread = fake.metadataQueries().slice(queriesBefore);
    const changedTables = reread.reduce((sum, r) => sum + (r.body.configuration.labels.query === 'partitions'
      ? r.body.configuration.query.queryParameters[0].parameterValue.arrayValues.length : 1), 0);
    const ingest = {
      events, metadataQueries: reread.length, changedTables, dataChangeMessages: messages.length - messagesBefore,
      redisCommands: (await redisCommands(redis)) - commandsBefore, byReason: byReason(overhead.totals()),
    };

    console.error('capacity: the replicas after the ingest…');
    let newDayServed = true;
    const afterIngest = await measure(now.replicas, fake, redis, async () => {
      const served = await traffic(now.replicas, tokens, options.watchSeconds, newDay);
      newDayServed = served.newDaySeen === tenants.length * REPLICAS;
      return served;
    });
    await now.replicas.stop();

    const snapshotBytes = Number(await redis.hStrLen(`${METADATA_KEY_PREFIX}:${prefix}_${tenants[0].tenant}`, 'snapshot'));
    const columnBytes = await columnBytesPerEvent(fake.dataDir, tenants[0].tenant);
    return {
      tenants: tenants.length, replicas: REPLICAS, eventsPerDay: options.users * options.eventsPerUser,
      today: old.watched, shared: now.watched, idle: now.idle, ingest, afterIngest: { ...afterIngest, newDayServed },
      snapshotBytes, snapshotDays: options.days + 1, checkMs: options.checkMs,
      uuidBytesPerEvent: columnBytes.get('uuid') ?? 0,
      rollupBytesPerEvent: ROLLUP_COLUMNS.reduce((sum, column) => sum + (columnBytes.get(column) ?? 0), 0),
    };
  } finally {
    await listener.close();
    for await (const keys of redis.scanIterator({ MATCH: `*${run}*`, COUNT: 1000 })) if (keys.length > 0) await redis.del(keys);
    redis.destroy();
    await fake.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Private:

/** The Redis every replica shares, as far as counting its commands goes. */
interface Redis {
  info(section: string): Promise<string>;
}

interface Replicas {
  readonly gateways: string[];
  readonly subgraphs: string[];
  readonly gatewayPids: number[];
  readonly subgraphPids: number[];
  stop(): Promise<void>;
}

/** REPLICAS × (users, tenants, metrics subgraphs and a gateway over them), as `npm start` runs each. */
async function launchReplicas(env: NodeJS.ProcessEnv, dir: string): Promise<Replicas> {
  const children: ChildProcess[] = [];
  const gateways: string[] = [];
  const subgraphs: string[] = [];
  const launch = (name: string, args: string[], own: NodeJS.ProcessEnv) => {
    const log = fs.openSync(path.join(dir, `${name}.log`), 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: own, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    children.push(child);
    return child;
  };
  const subgraphChildren: ChildProcess[] = [];
  const gatewayChildren: ChildProcess[] = [];
  try {
    for (let i = 0; i < REPLICAS; i++) {
      const [users, tenants, metrics, gateway] = await freePorts(4);
      const own = { ...env, USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics), PORT: String(gateway) };
      for (const [name, port] of [['users', users], ['tenants', tenants], ['metrics', metrics]] as const) {
        subgraphChildren.push(launch(`${name}${i}`, [path.join(ROOT, 'subgraphs/main.ts'), name], own));
        subgraphs.push(`http://127.0.0.1:${port}`);
      }
      await Promise.all([users, tenants, metrics].map((port) => waitForHealth(`http://127.0.0.1:${port}/healthz`, 60_000)));
      gatewayChildren.push(launch(`gateway${i}`, [path.join(ROOT, 'gateway/main.ts')], own));
      await waitForHealth(`http://127.0.0.1:${gateway}/readyz`, 60_000);
      gateways.push(`http://127.0.0.1:${gateway}/graphql`);
    }
  } catch (error) {
    await Promise.all(children.map(terminate));
    throw error;
  }
  return {
    gateways, subgraphs, gatewayPids: gatewayChildren.map((c) => c.pid!), subgraphPids: subgraphChildren.map((c) => c.pid!),
    async stop() {
      await Promise.all(gatewayChildren.map(terminate));
      await Promise.all(subgraphChildren.map(terminate));
    },
  };
}

interface Traffic {
  readonly operations: number;
  readonly responseCacheHits: number;
  readonly userBilledBytes: number;
  /** What the users' jobs processed, and how many ran (to scale the bill to larger data). */
  readonly processedBytes: number;
  readonly warehouseQueries: number;
  /** Dashboards that listed `to` among their event counts' dates. */
  readonly newDaySeen: number;
}

const DASHBOARD = `query CeoDashboard($from: Date!, $to: Date!) { tenant { name
  topTimeWasters(from: $from, to: $to, first: 5) { totalWasteHours user { displayName } }
  eventCounts(from: $from, to: $to) { date count } } }`;
const ANALYST = `query Analyst($from: Date!, $to: Date!, $first: Int!) { tenant {
  appUsage(from: $from, to: $to, first: $first) { app { name } events users }
  eventCounts(from: $from, to: $to, eventType: "user.authentication.sso") { date count } } }`;

/** Per tenant for `seconds`: the dashboard every second (replicas in turn), an analyst's random window every 5 s. */
async function traffic(replicas: Replicas, tokens: string[], seconds: number, to: string): Promise<Traffic> {
  const totals = { operations: 0, responseCacheHits: 0, userBilledBytes: 0, processedBytes: 0, warehouseQueries: 0, newDaySeen: 0 };
  const seen = new Set<string>();
  const ask = async (gateway: string, token: string, query: string, variables: object) => {
    const response = await fetch(gateway, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: { tenant: { eventCounts: { date: string }[] } }; errors?: unknown[]; extensions: { cost: { billedBytes: number; actualBytes: number; warehouseQueries: number; responseCache: string } } };
    if (response.status !== 200 || body.errors) throw new Error(`capacity bench: HTTP ${response.status} ${JSON.stringify(body.errors).slice(0, 300)}`);
    totals.operations++;
    totals.userBilledBytes += body.extensions.cost.billedBytes;
    totals.processedBytes += body.extensions.cost.actualBytes;
    totals.warehouseQueries += body.extensions.cost.warehouseQueries;
    if (body.extensions.cost.responseCache === 'hit') totals.responseCacheHits++;
    if (body.data?.tenant.eventCounts.some((d) => d.date === to)) seen.add(`${gateway} ${token}`);
  };
  const from = addDays(to, -6);
  await Promise.all(tokens.map(async (token, t) => {
    for (let second = 0; second < seconds; second++) {
      const started = Date.now();
      const gateway = replicas.gateways[(second + t) % replicas.gateways.length];
      await ask(gateway, token, DASHBOARD, { from, to });
      if (second % 5 === t % 5) {
        const start = addDays(to, -Math.floor(Math.random() * 6));
        await ask(gateway, token, ANALYST, { from: addDays(start, -Math.floor(Math.random() * 3)), to: start, first: 1 + Math.floor(Math.random() * 20) });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
    }
  }));
  return { ...totals, newDaySeen: seen.size };
}

async function quiet(seconds: number): Promise<Traffic> {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return { operations: 0, responseCacheHits: 0, userBilledBytes: 0, processedBytes: 0, warehouseQueries: 0, newDaySeen: 0 };
}

/** What `work` cost: metadata queries and tables.get at the fake, Redis commands, overhead on /metrics, CPU of the processes. */
async function measure(replicas: Replicas, fake: BigQueryFake, redis: Redis, work: () => Promise<Traffic>): Promise<Watched> {
  const before = {
    queries: fake.metadataQueries().length, gets: fake.tableGets().length, commands: await redisCommands(redis), overhead: await overheadBilled(replicas.subgraphs),
    gatewayCpu: cpuSeconds(replicas.gatewayPids), subgraphCpu: cpuSeconds(replicas.subgraphPids), at: Date.now(),
  };
  const done = await work();
  return {
    seconds: (Date.now() - before.at) / 1000, operations: done.operations, responseCacheHits: done.responseCacheHits,
    userBilledBytes: done.userBilledBytes, userProcessedBytes: done.processedBytes, userJobs: done.warehouseQueries,
    metadataQueries: fake.metadataQueries().length - before.queries, tableGets: fake.tableGets().length - before.gets,
    overheadBilledBytes: (await overheadBilled(replicas.subgraphs)) - before.overhead,
    redisCommands: (await redisCommands(redis)) - before.commands,
    gatewayCpuSeconds: cpuSeconds(replicas.gatewayPids) - before.gatewayCpu, subgraphCpuSeconds: cpuSeconds(replicas.subgraphPids) - before.subgraphCpu,
  };
}

/** bytegate_overhead_billed_bytes_total summed over the subgraphs' /metrics. */
async function overheadBilled(subgraphs: string[]): Promise<number> {
  let total = 0;
  for (const url of subgraphs) {
    for (const line of (await (await fetch(`${url}/metrics`)).text()).split('\n')) {
      if (line.startsWith('bytegate_overhead_billed_bytes_total{')) total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}

async function redisCommands(redis: Redis): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? NaN);
}

/** User + system CPU of the processes so far (/proc/PID/stat, clock ticks of 1/100 s). */
function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

/** Logical bytes per sso_events row of each leaf column, over the tenant's whole dataset (the fake's DuckDB file). */
async function columnBytesPerEvent(dataDir: string, tenant: string): Promise<Map<string, number>> {
  const duck = createDuckDbWarehouse({ dataDir });
  try {
    const stats = (await duck.partitionStats(tenant)).filter((s) => s.table === 'sso_events');
    const rows = new Map<string, number>();
    const bytes = new Map<string, number>();
    for (const s of stats) {
      rows.set(s.column, (rows.get(s.column) ?? 0) + s.rows);
      bytes.set(s.column, (bytes.get(s.column) ?? 0) + s.logicalBytes);
    }
    return new Map([...bytes].map(([column, b]) => [column, b / Math.max(1, rows.get(column) ?? 1)]));
  } finally {
    await duck.close();
  }
}

function byReason(totals: readonly OverheadTotal[]): Partial<Record<OverheadReason, { jobs: number; billedBytes: number }>> {
  const sums: Partial<Record<OverheadReason, { jobs: number; billedBytes: number }>> = {};
  for (const { reason, jobs, billedBytes } of totals) {
    const sum = (sums[reason] ??= { jobs: 0, billedBytes: 0 });
    sum.jobs += jobs;
    sum.billedBytes += billedBytes;
  }
  return sums;
}
