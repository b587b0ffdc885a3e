/**
 * Soak: the system as `npm start` runs it — the three subgraphs and the gateway, each its own process
 * started from its real entry point (subgraphs/main.ts, gateway/main.ts), with the budget ledger and
 * the aggregate cache in Redis — under a steady, moderate load for SOAK_SECONDS (default 600), to
 * show memory and event-loop delay do not grow.
 *
 * - Tenant: a freshly seeded one with a unique name (so its Redis keys, deleted afterwards, collide
 *   with nothing), 300 users × 30 days (BENCH_SCALE=small: 100 × 14).
 * - Load: a fixed mix of ~100 distinct operations (the executive's and managers' dashboards and team
 *   pages, viewers' own figures, over several ranges, through variables), each checked once before;
 *   after a 10 s all-out autocannon run (10 connections: the max throughput, which also warms every
 *   cache), autocannon holds a fixed rate of half that max for the whole soak. Aggregates are cached
 *   after their first load; directory lookups, pricing and the budget ledger run on every request.
 * - Measured: each process preloads bench/soakProbe.ts, which samples its own RSS, heap and event-loop
 *   delay (monitorEventLoopDelay) every SOAK_SAMPLE_MS (default 5000). Compared: the first minute of
 *   the soak with the last (each at most half the soak): median RSS, median of the samples' p99
 *   delay, and the requests' latency.
 * - Verdict "no growth", for each of the four processes: last-minute median RSS ≤ 1.10 × the
 *   first minute's, and last-minute p99 delay ≤ max(1.5 × the first minute's, first + 5 ms); and no
 *   request failed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { createClient } from '@redis/client';
import { seedTenant } from '../cli/seedTenant';
import { addDays } from '../common/dates';
import { signDevToken } from '../gateway/auth/devToken';
import { generateDirectory } from '../okta/generator';
import type { DirectoryUser } from '../okta/logEvent';
import type { Role } from '../common/principal';
import { duckDbDatasetWriter } from '../warehouse/duckdb/tenantDataset';
import { sampleOtherCpu } from './machine';
import { freePorts } from './stack';
import type { ProbeSample } from './soakProbe';
import { terminate, waitForHealth } from '../cli/childProcesses';

export interface SoakOptions {
  readonly seconds: number;
  readonly users: number;
  readonly days: number;
  readonly eventsPerUser: number;
  /** Memory sampling interval; the event-loop delay is summarized every LAG_INTERVAL_MS. */
  readonly sampleMs: number;
  readonly redisUrl: string;
}

/** One process's figures over a window of the soak. */
export interface WindowStats {
  readonly rssMedian: number;
  /** The lowest RSS sampled (after a major GC): what a leak would raise. */
  readonly rssMin: number;
  readonly heapMedian: number;
  /** Median of process.memoryUsage().external: off-heap memory held by JS objects (Buffers, native handles). */
  readonly externalMedian: number;
  /** Median over the window's 5 s intervals of each interval's p99 event-loop delay, ms. */
  readonly lagP99: number;
  /** The largest delay of any interval, ms. */
  readonly lagMax: number;
  readonly samples: number;
  readonly lagSamples: number;
}

export interface ProcessSoak {
  readonly name: string;
  readonly first: WindowStats;
  readonly last: WindowStats;
  /** Largest RSS sampled during the soak. */
  readonly rssPeak: number;
  /** The rules below, applied to this process. */
  readonly rssOk: boolean;
  readonly lagOk: boolean;
}

export interface SoakResult {
  readonly seconds: number;
  readonly windowSeconds: number;
  readonly events: number;
  readonly distinctOperations: number;
  readonly maxRequestsPerSecond: number;
  readonly rate: number;
  readonly requests: number;
  /** Non-2xx responses, socket errors and timeouts, and 200s carrying GraphQL errors. */
  readonly failures: number;
  readonly achievedRequestsPerSecond: number;
  readonly latency: { first: { p50: number; p99: number }; last: { p50: number; p99: number } };
  readonly processes: readonly ProcessSoak[];
  /** CPU used by processes other than the soak's (other work on the machine), in cores: mean over each window. */
  readonly otherCpu: { readonly first: number; readonly last: number };
  /** The machine's 1-minute load average at the end of each window. */
  readonly loadAverage: { readonly first: number; readonly last: number };
  /** Every process passed both rules and no request failed. */
  readonly ok: boolean;
}

export const RSS_GROWTH_LIMIT = 1.1;
/** Last-minute p99 delay allowed: max(LAG_GROWTH_FACTOR × first, first + LAG_SLACK_MS). */
export const LAG_GROWTH_FACTOR = 1.5;
export const LAG_SLACK_MS = 5;
/** The probes' event-loop delay intervals. */
export const LAG_INTERVAL_MS = 5000;

const ROOT = path.resolve(__dirname, '..');
const START = '2025-01-01';
const PROCESS_NAMES = ['users', 'tenants', 'metrics', 'gateway'] as const;

export async function benchSoak(options: SoakOptions): Promise<SoakResult> {
  const tenantId = `soak_${randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-soak-'));
  const dataDir = path.join(dir, 'data');
  const tenant = { tenant: tenantId, users: options.users, days: options.days, eventsPerUser: options.eventsPerUser, start: START, seed: 17 };
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const secret = `bench-soak-jwt-${randomBytes(16).toString('hex')}`;
  try {
    const report = await seedTenant(duckDbDatasetWriter(dataDir), tenant);
    const [gatewayPort, usersPort, tenantsPort, metricsPort] = await freePorts(4);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir, PORT: String(gatewayPort), USERS_PORT: String(usersPort), TENANTS_PORT: String(tenantsPort), METRICS_PORT: String(metricsPort),
      REDIS_URL: options.redisUrl, JWT_SECRET: secret, SUBGRAPH_SECRET: `bench-soak-subgraph-${randomBytes(16).toString('hex')}`,
      BUDGET_DEFAULTS: 'viewer=512TiB,manager=512TiB,executive=512TiB,tenant=1024TiB',
      BENCH_PROBE_INTERVAL_MS: String(options.sampleMs), BENCH_PROBE_LAG_INTERVAL_MS: String(LAG_INTERVAL_MS),
    };
    delete env.DATABASE_URL; // budget settings in a file under DATA_DIR, like the embedded default
    const probe = pathToFileURL(path.join(__dirname, 'soakProbe.ts')).href;
    const launch = (name: (typeof PROCESS_NAMES)[number]) => {
      const args = name === 'gateway' ? [path.join(ROOT, 'gateway/main.ts')] : [path.join(ROOT, 'subgraphs/main.ts'), name];
      const log = fs.openSync(path.join(dir, `${name}.log`), 'a');
      const child = spawn(process.execPath, ['--import', 'tsx', '--import', probe, ...args], {
        cwd: ROOT, env: { ...env, BENCH_PROBE_FILE: path.join(dir, `${name}.probe.jsonl`) }, stdio: ['ignore', log, log],
      });
      fs.closeSync(log);
      children.set(name, child);
      child.once('exit', (code, signal) => {
        if (!stopping) console.error(`soak: ${name} exited (${signal ?? code}) — see its log:\n${tail(path.join(dir, `${name}.log`))}`);
      });
    };
    for (const name of ['users', 'tenants', 'metrics'] as const) launch(name);
    await Promise.all([usersPort, tenantsPort, metricsPort].map((port) => waitForHealth(`http://127.0.0.1:${port}/healthz`, 60_000)));
    launch('gateway');
    await waitForHealth(`http://127.0.0.1:${gatewayPort}/readyz`, 60_000);
    const url = `http://127.0.0.1:${gatewayPort}/graphql`;

    const requests = await operationMix(tenant, options.days, secret);
    // Each operation once: no errors (and the aggregate cache filled).
    for (const request of requests) {
      const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
      const text = await response.text();
      if (response.status !== 200 || text.includes('"errors"')) throw new Error(`soak: HTTP ${response.status}: ${text.slice(0, 400)}\n  for ${request.body.slice(0, 300)}`);
    }

    let failures = 0;
    const withCheck = requests.map((request) => ({
      ...request, method: 'POST' as const,
      onResponse: (status: number, body: string) => {
        if (status !== 200 || body.includes('"errors"')) failures++;
      },
    }));
    const max = await autocannon({ url, connections: 10, duration: 10, requests: withCheck });
    failures += max.non2xx + max.errors + max.timeouts;
    const maxRequestsPerSecond = max.requests.average;
    const rate = Math.max(1, Math.round(maxRequestsPerSecond / 2));

    // The soak: a fixed rate; each response's latency kept with its time.
    const soakStart = Date.now();
    let loadAfterFirstWindow = NaN;
    const windowMs = Math.min(60_000, (options.seconds * 1000) / 2);
    const firstWindowEnd = setTimeout(() => (loadAfterFirstWindow = os.loadavg()[0]), windowMs);
    const otherCpu = sampleOtherCpu(1000);
    const latencies: { t: number; ms: number }[] = [];
    const running = new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon({ url, connections: 10, overallRate: rate, duration: options.seconds, requests: withCheck }, (error, result) => (error ? reject(error) : resolve(result)));
      instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push({ t: Date.now(), ms: responseTime }));
    });
    const minute = setInterval(() => {
      const elapsed = Math.round((Date.now() - soakStart) / 1000);
      console.error(`soak: ${elapsed}/${options.seconds} s, ${latencies.length.toLocaleString('en-US')} requests at ${rate} req/s, ${failures} failed`);
    }, 60_000);
    const soak = await running;
    clearInterval(minute);
    const soakEnd = Date.now();
    const loadAtEnd = os.loadavg()[0];
    clearTimeout(firstWindowEnd);
    otherCpu.stop();
    failures += soak.non2xx + soak.errors + soak.timeouts;

    stopping = true;
    await stopAll(children);

    // A memory sample is an instant; a delay (or CPU) sample at t covers (t − interval, t]: a window
    // keeps the samples whose interval lies inside it.
    const inFirst = (t: number, interval = 0) => t > soakStart + interval && t <= soakStart + windowMs;
    const inLast = (t: number, interval = 0) => t > soakEnd - windowMs + interval && t <= soakEnd;
    const window = (samples: ProbeSample[], inWindow: typeof inFirst) => windowStats(
      samples.filter((s): s is MemorySample => s.kind === 'memory' && inWindow(s.t)),
      samples.filter((s): s is LagSample => s.kind === 'lag' && inWindow(s.t, LAG_INTERVAL_MS)));
    const processes = PROCESS_NAMES.map((name): ProcessSoak => {
      const samples = readProbe(path.join(dir, `${name}.probe.jsonl`));
      const during = samples.filter((s): s is MemorySample => s.kind === 'memory' && s.t > soakStart && s.t <= soakEnd);
      const first = window(samples, inFirst);
      const last = window(samples, inLast);
      return {
        name, first, last, rssPeak: Math.max(...during.map((s) => s.rss)),
        rssOk: last.rssMedian <= RSS_GROWTH_LIMIT * first.rssMedian,
        lagOk: last.lagP99 <= Math.max(LAG_GROWTH_FACTOR * first.lagP99, first.lagP99 + LAG_SLACK_MS),
      };
    });

    const latencyOf = (filter: (t: number) => boolean) => {
      const values = latencies.filter((l) => filter(l.t)).map((l) => l.ms);
      return { p50: percentile(values, 0.5), p99: percentile(values, 0.99) };
    };
    return {
      seconds: options.seconds, windowSeconds: windowMs / 1000, events: report.accepted, distinctOperations: requests.length,
      maxRequestsPerSecond, rate, requests: soak.requests.total, failures, achievedRequestsPerSecond: soak.requests.total / ((soakEnd - soakStart) / 1000),
      latency: { first: latencyOf((t) => t - soakStart <= windowMs), last: latencyOf((t) => t > soakEnd - windowMs) },
      processes, otherCpu: { first: otherCpu.mean(soakStart, soakStart + windowMs), last: otherCpu.mean(soakEnd - windowMs, soakEnd) },
      loadAverage: { first: loadAfterFirstWindow, last: loadAtEnd },
      ok: failures === 0 && processes.every((p) => p.rssOk && p.lagOk),
    };
  } finally {
    stopping = true;
    await stopAll(children);
    await deleteTenantKeys(options.redisUrl, tenantId).catch((error) => console.error(`soak: could not delete ${tenantId}'s Redis keys: ${error}`));
    if (process.env.SOAK_KEEP_DIR) console.error(`soak: logs and probe samples kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Private:

interface MixRequest {
  readonly headers: Record<string, string>;
  readonly body: string;
}

const DASHBOARD = `query Dashboard($from: Date!, $to: Date!) { tenant {
  topTimeWasters(from: $from, to: $to, first: 10) { totalWasteHours user { displayName productivity(from: $from, to: $to) { totalEvents uniqueApps totalWasteHours } } }
  appUsage(from: $from, to: $to, first: 10) { app { name } events users } } }`;
const TEAM = `query Team($from: Date!, $to: Date!) { users(first: 20) { totalCount edges { node {
  displayName department manager { displayName } productivity(from: $from, to: $to) { totalEvents totalWasteHours } } } } }`;
const ME = `query Me($from: Date!, $to: Date!) { me { displayName manager { displayName }
  productivity(from: $from, to: $to) { totalEvents totalWasteHours } daily(from: $from, to: $to) { date totalEvents } } }`;

/** The executive, 4 managers and 10 viewers, each with the panels their role would open, over 3 ranges. */
async function operationMix(tenant: { tenant: string; users: number; days: number; eventsPerUser: number; start: string; seed: number }, days: number, secret: string): Promise<MixRequest[]> {
  const directory = generateDirectory(tenant);
  const managerIds = new Set(directory.map((u) => u.managerId).filter((id): id is string => id !== null));
  const ceo = directory.find((u) => u.managerId === null)!;
  const managers = directory.filter((u) => u.managerId !== null && managerIds.has(u.id)).slice(0, 4);
  const viewers = directory.filter((u) => !managerIds.has(u.id)).slice(0, 10);
  const last = addDays(START, days - 1);
  const ranges = [{ from: addDays(last, -6), to: last }, { from: addDays(last, -13), to: addDays(last, -7) }, { from: addDays(last, -Math.min(29, days - 1)), to: last }];
  const token = (user: DirectoryUser, role: Role) => signDevToken({ tenant: tenant.tenant, user: user.id, roles: [role], secret, ttlSeconds: 86_400 });
  const requests: MixRequest[] = [];
  const add = (bearer: string, query: string, variables: object) =>
    requests.push({ headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query, variables }) });
  for (const [user, role] of [[ceo, 'executive'] as const, ...managers.map((m) => [m, 'manager'] as const)]) {
    const bearer = await token(user, role);
    for (const range of ranges) for (const query of [DASHBOARD, TEAM, ME]) add(bearer, query, range);
  }
  for (const viewer of viewers) {
    const bearer = await token(viewer, 'viewer');
    for (const range of ranges) for (const query of [ME, ME]) add(bearer, query, range); // viewers reload their page more often
  }
  // A fixed interleaving (autocannon cycles through the list per connection).
  let state = 42;
  const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = requests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [requests[i], requests[j]] = [requests[j], requests[i]];
  }
  return requests;
}

function readProbe(file: string): ProbeSample[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as ProbeSample);
}

type MemorySample = Extract<ProbeSample, { kind: 'memory' }>;
type LagSample = Extract<ProbeSample, { kind: 'lag' }>;

function windowStats(memory: MemorySample[], lag: LagSample[]): WindowStats {
  if (memory.length === 0 || lag.length === 0) throw new Error('soak: a window has no probe samples (SOAK_SECONDS too short?)');
  return {
    rssMedian: percentile(memory.map((s) => s.rss), 0.5),
    rssMin: Math.min(...memory.map((s) => s.rss)),
    heapMedian: percentile(memory.map((s) => s.heapUsed), 0.5),
    externalMedian: percentile(memory.map((s) => s.external ?? 0), 0.5),
    lagP99: percentile(lag.map((s) => s.p99), 0.5),
    lagMax: Math.max(...lag.map((s) => s.max)),
    samples: memory.length,
    lagSamples: lag.length,
  };
}

/** The gateway first (it drains its in-flight operations against live subgraphs), then the subgraphs. */
async function stopAll(children: Map<string, ChildProcess>): Promise<void> {
  const gateway = children.get('gateway');
  if (gateway) await terminate(gateway);
  await Promise.all([...children].filter(([name]) => name !== 'gateway').map(([, child]) => terminate(child)));
}


function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The tenant's ledger (`bytegate:budget:{tenant}…`) and aggregate (`bytegate:aggregate::tenant…`) keys. */
async function deleteTenantKeys(url: string, tenantId: string): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `bytegate:*${tenantId}*`, COUNT: 1000 })) if (keys.length > 0) await client.del(keys);
  } finally {
    client.destroy();
  }
}

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
