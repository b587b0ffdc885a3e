/**
 * Rolling restarts lose nothing, on the deployment's own shape: every process started separately from
 * dist/ with plain node, NODE_ENV=production (the production checks on, real secrets), each subgraph on its own loopback
 * address (127.0.0.3–.5) and two gateway replicas on 127.0.0.2, talking to each other only through
 * their configured URLs, sharing Redis. A client balances load over the gateways the way a load
 * balancer does — sending only to replicas whose /readyz answers 200, polled every 100 ms — while each
 * process is stopped (SIGTERM) and replaced in turn: gateway A, gateway B, then each subgraph.
 * Every query must succeed; every stopped process must exit 0 within its bound; and afterwards the
 * ledger holds no reservation and has charged exactly the bytes the answers report billed.
 */
import { addDays } from '../../common/dates';
import type { SubgraphName } from '../../common/config';
import { SUBGRAPH_NAMES } from '../../common/config';
import { generateDirectory } from '../../okta/generator';
import { seedDataDir } from '../support/system';
import { type RedisServer, type RunningCli, freePorts, startBuilt, startRedisServer } from '../e2e/processes';
import { JWT_SECRET, SUBGRAPH_SECRET, ledgerCounters, note, sleep, tokenFor } from './harness';

const tenant = { tenant: 'rolling', users: 12, days: 4, eventsPerUser: 20, start: '2025-03-03', seed: 9 };
const LAST = addDays(tenant.start, tenant.days - 1);
const directory = generateDirectory(tenant);
const ceo = directory.find((u) => u.managerId === null)!;

const SHUTDOWN_DELAY_MS = 500;
const SHUTDOWN_TIMEOUT_MS = 5000;
/** How often the balancer asks each gateway's /readyz: well under SHUTDOWN_DELAY_MS, as a probe period must be. */
const PROBE_MS = 100;
const GATEWAY_HOST = '127.0.0.2';
const SUBGRAPH_HOSTS: Record<SubgraphName, string> = { users: '127.0.0.3', tenants: '127.0.0.4', metrics: '127.0.0.5' };

/** One operation per subgraph mix: users alone; tenants + metrics + users; users + metrics. */
const QUERIES = [
  (i: number) => `{ users(first: ${1 + (i % 10)}) { totalCount edges { node { id displayName } } } }`,
  (i: number) => `{ tenant { name topTimeWasters(from: "${tenant.start}", to: "${LAST}", first: ${1 + (i % 5)}) { totalWasteHours user { displayName } } } }`,
  (i: number) => `{ user(id: "${directory[i % directory.length].id}") { displayName productivity(from: "${tenant.start}", to: "${LAST}") { totalEvents } } }`,
];

interface Outcome {
  readonly origin: string;
  readonly ok: boolean;
  readonly billedBytes: number;
  readonly detail: string;
}

let remove: () => void;
let redis: RedisServer;
let env: NodeJS.ProcessEnv;
let gatewayPorts: number[];
const processes = new Map<string, RunningCli>();

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  const [users, tenants, metrics, gatewayA, gatewayB, redisPort] = await freePorts(6);
  redis = await startRedisServer(redisPort);
  gatewayPorts = [gatewayA, gatewayB];
  const ports: Record<SubgraphName, number> = { users, tenants, metrics };
  env = {
    NODE_ENV: 'production', JWT_SECRET, SUBGRAPH_SECRET, DATA_DIR: seeded.dataDir, REDIS_URL: redis.url,
    USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics),
    ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`${name.toUpperCase()}_URL`, `http://${SUBGRAPH_HOSTS[name]}:${ports[name]}/graphql`])),
    SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    // One replica of each subgraph: the gateway's retry of read-only fetches covers the time its replacement takes to start.
    SUBGRAPH_RETRY_MS: '15000',
    // No caches: every query reaches the subgraphs and the warehouse, so restarts are felt and charges exact.
    CACHE_TTL_MS: '0', BUDGET_DEFAULTS: 'executive=100TiB,tenant=1000TiB',
  };
  await Promise.all([...SUBGRAPH_NAMES.map((name) => start(name)), start('gateway A'), start('gateway B')]);
}, 180_000);

afterAll(async () => {
  await Promise.all([...processes.values()].map((process) => process.stop('SIGKILL')));
  await redis?.stop();
  remove?.();
});

/** Starts `name` (a subgraph, or `gateway A`/`gateway B`) and resolves once its /readyz answers 200. */
async function start(name: string): Promise<void> {
  const subgraph = SUBGRAPH_NAMES.find((s) => s === name);
  const process = subgraph
    ? startBuilt('subgraphs/main', [subgraph], { ...env, HOST: SUBGRAPH_HOSTS[subgraph] })
    : startBuilt('gateway/main', [], { ...env, HOST: GATEWAY_HOST, PORT: String(gatewayPorts[name === 'gateway A' ? 0 : 1]) });
  processes.set(name, process);
  const origin = subgraph ? `http://${SUBGRAPH_HOSTS[subgraph]}:${env[`${subgraph.toUpperCase()}_PORT`]}` : originOf(name);
  const deadline = Date.now() + 60_000;
  while ((await statusOf(`${origin}/readyz`)) !== 200) {
    if (process.child.exitCode !== null) throw new Error(`${name} exited (${process.child.exitCode}):\n${process.output()}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready within 60 s:\n${process.output()}`);
    await sleep(50);
  }
}

const originOf = (gateway: string) => `http://${GATEWAY_HOST}:${gatewayPorts[gateway === 'gateway A' ? 0 : 1]}`;

async function statusOf(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).status;
  } catch {
    return 0;
  }
}

/** Stops `name` with SIGTERM; resolves with its exit code and how long it took. */
async function stop(name: string): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const code = await processes.get(name)!.stop('SIGTERM');
  return { code, ms: Date.now() - started };
}

/**
 * A load balancer's view of the gateways: each replica in rotation while its /readyz answers 200,
 * asked every PROBE_MS; requests go round robin to the replicas in rotation.
 */
function balancer() {
  const origins = ['gateway A', 'gateway B'].map(originOf);
  const ready = new Set<string>(origins);
  let probing = true;
  const probes = origins.map(async (origin) => {
    while (probing) {
      if ((await statusOf(`${origin}/readyz`)) === 200) ready.add(origin);
      else ready.delete(origin);
      await sleep(PROBE_MS);
    }
  });
  let next = 0;
  return {
    async pick(): Promise<string> {
      for (;;) {
        const inRotation = origins.filter((origin) => ready.has(origin));
        if (inRotation.length > 0) return inRotation[next++ % inRotation.length];
        await sleep(10);
      }
    },
    async stop() {
      probing = false;
      await Promise.all(probes);
    },
  };
}

test('each process restarted in turn under load on two gateways: 0 failed queries, clean exits, no reservation left', async () => {
  const token = await tokenFor(tenant.tenant, ceo.id, 'executive');
  const lb = balancer();
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: 6 }, async (_, client) => {
    for (let i = client; running; i += 6) {
      const origin = await lb.pick();
      const query = QUERIES[i % QUERIES.length](i);
      try {
        const response = await fetch(`${origin}/graphql`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }), signal: AbortSignal.timeout(30_000),
        });
        const body = (await response.json()) as { data?: unknown; errors?: unknown[]; extensions?: { cost?: { billedBytes?: number } } };
        const ok = response.status === 200 && body.data != null && body.errors === undefined;
        outcomes.push({ origin, ok, billedBytes: body.extensions?.cost?.billedBytes ?? 0, detail: ok ? '' : `HTTP ${response.status} ${JSON.stringify(body.errors).slice(0, 300)}` });
      } catch (error) {
        outcomes.push({ origin, ok: false, billedBytes: 0, detail: `${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}` });
      }
    }
  });

  await sleep(1000);
  const exits: Record<string, { code: number | null; ms: number }> = {};
  for (const name of ['gateway A', 'gateway B', ...SUBGRAPH_NAMES]) {
    const before = outcomes.length;
    exits[name] = await stop(name);
    await start(name);
    await sleep(1000); // load on the replacement before the next restart
    note(`${name}: exit ${exits[name].code} after ${exits[name].ms} ms; ${outcomes.length - before} answers meanwhile`);
  }
  running = false;
  await Promise.all(loops);
  await lb.stop();

  const failures = outcomes.filter((o) => !o.ok);
  note(`rolling restart: ${outcomes.length} queries, ${failures.length} failed`);
  expect(failures.slice(0, 5).map((o) => `${o.origin}: ${o.detail}`)).toEqual([]);
  expect(outcomes.length).toBeGreaterThan(100);
  for (const origin of ['gateway A', 'gateway B'].map(originOf)) expect(outcomes.filter((o) => o.origin === origin).length).toBeGreaterThan(10);
  for (const [name, exit] of Object.entries(exits)) {
    expect({ name, code: exit.code }).toEqual({ name, code: 0 });
    expect(exit.ms).toBeLessThan(SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 5000);
  }
  // Every reservation settled, to exactly what the answers report billed.
  const counters = await ledgerCounters(redis.url, tenant.tenant, [ceo.id]);
  expect(counters.users.get(ceo.id)).toEqual({ usedBytes: outcomes.reduce((sum, o) => sum + o.billedBytes, 0), heldBytes: 0 });
  expect(counters.tenant.heldBytes).toBe(0);
}, 300_000);

test('in production a process refuses the development secrets: it exits 1 naming the variable', async () => {
  const exitOf = (process: RunningCli) => (process.child.exitCode !== null ? Promise.resolve(process.child.exitCode) : new Promise((resolve) => process.child.once('exit', resolve)));
  const gateway = startBuilt('gateway/main', [], { NODE_ENV: 'production', DATA_DIR: env.DATA_DIR, PORT: '0' });
  expect(await exitOf(gateway)).toBe(1);
  expect(gateway.stderr()).toMatch(/JWT_SECRET is not set.*NODE_ENV=production/s);
  const subgraph = startBuilt('subgraphs/main', ['users'], { HOST: '0.0.0.0', JWT_SECRET, DATA_DIR: env.DATA_DIR, USERS_PORT: '0' });
  expect(await exitOf(subgraph)).toBe(1);
  expect(subgraph.stderr()).toMatch(/SUBGRAPH_SECRET is not set.*HOST=0\.0\.0\.0 \(not loopback\)/s);
});
