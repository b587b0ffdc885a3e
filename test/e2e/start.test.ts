/**
 * `npm start` as a person runs it — npm, then the start script — on free ports and a DATA_DIR seeded
 * small beforehand (start seeds only an empty one). Proves public contract v2's `npm start`: JSON lines
 * on stdout, the banner on stderr; SIGTERM or SIGINT to npm's pid, or npm SIGKILLed, or the supervisor
 * SIGKILLed, leaves no process and no port behind; a port in use stops it at once; a process that
 * keeps failing makes it give up. Processes are found in /proc, ports by connecting to them.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { seedDataDir } from '../support/system';
import { type RunningCli, freePorts, startNpm } from './processes';

const ACME: GeneratorOptions = { tenant: 'acme', users: 12, days: 2, eventsPerUser: 5, start: '2026-01-05', seed: 4 };
const directory = generateDirectory(ACME);
const SECRETS = { JWT_SECRET: 'start-e2e-jwt-secret-0123456789abcdef0123', SUBGRAPH_SECRET: 'start-e2e-subgraph-secret-0123456789abcdef' };
/** The banner's first words, on stderr once every process answers. */
const BANNER = 'bytegate is up: ';
/** Every process stops within terminate()'s 5 s grace; a second more for the checks. */
const STOPPED_WITHIN_MS = 6000;

let seeded: { dataDir: string; remove(): void };

beforeAll(async () => {
  seeded = await seedDataDir([ACME]);
});

afterAll(() => seeded?.remove());

describe('up and serving, then SIGTERM to the pid of npm start', () => {
  let up: Up;

  beforeAll(async () => {
    up = await npmStartUp({}); // no secrets set: the dev-secret warnings apply
    await up.system.waitFor('"msg":"bytegate is up"', 5000); // the supervisor's log line, after the banner
  }, 40_000);

  afterAll(() => killAll(up));

  test('no shell between npm and the supervisor: npm → node dist/cli/start.js → the four servers, compiled, plain node', () => {
    expect(up.tree.supervisor.command).toMatch(/^node --max-old-space-size=384 -r \.\/scripts\/freshDist\.js dist\/cli\/start\.js$/);
    expect(up.tree.servers.map((p) => p.command.replace(/^\S+ --require \/\S+\/dist\/cli\/stopWithSupervisor\.js \/\S+\/dist\//, '')).sort())
      .toEqual(['gateway/main.js', 'subgraphs/main.js metrics', 'subgraphs/main.js tenants', 'subgraphs/main.js users']);
  });

  test('stdout is JSON lines, each naming its process; the dev-secret warnings are one line, from the supervisor', () => {
    const lines = jsonLines(up.system.stdout());
    const names = new Set(lines.map((line) => line.name));
    expect([...names].sort()).toEqual(['gateway', 'metrics', 'supervisor', 'tenants', 'users']);
    const warnings = lines.filter((line) => String(line.msg).includes('SECRET is not set'));
    expect(warnings).toEqual([expect.objectContaining({ name: 'supervisor', level: 40 })]);
    expect(warnings[0].msg).toMatch(/JWT_SECRET is not set.*SUBGRAPH_SECRET is not set/);
    expect(lines).toContainEqual(expect.objectContaining({ name: 'supervisor', msg: 'bytegate is up', url: `http://127.0.0.1:${up.ports[0]}/graphql` }));
  });

  test('the banner is on stderr: the URL, how to stop, a token command for each role with a demo user of acme', () => {
    const stderr = up.system.stderr();
    expect(stderr).toContain(`bytegate is up: http://127.0.0.1:${up.ports[0]}/graphql`);
    expect(stderr).toContain(`kill ${up.tree.supervisor.pid}`);
    expect(stderr).toContain(`curl -s http://127.0.0.1:${up.ports[0]}/graphql`);
    const userFor = (role: string) => {
      const command = new RegExp(`TOKEN=\\$\\(npm run --silent token -- --tenant acme --user (\\S+) --role ${role}\\)`).exec(stderr);
      return directory.find((person) => person.id === command?.[1]);
    };
    const hasReports = (id: string) => directory.some((person) => person.managerId === id);
    expect(userFor('executive')?.managerId).toBeNull();
    expect(userFor('manager')).toEqual(expect.objectContaining({ managerId: expect.any(String) }));
    expect(hasReports(userFor('manager')!.id)).toBe(true);
    expect(hasReports(userFor('viewer')!.id)).toBe(false);
    expect(userFor('quota-admin')).toBeDefined();
    expect(up.system.stdout()).not.toContain('TOKEN=');
  });

  test('SIGTERM to npm: npm exits 0, and every process it started is gone and every port free within seconds', async () => {
    expect(await within(up.system.stop('SIGTERM'), 'npm start to exit after SIGTERM')).toBe(0);
    await expectAllGone(up);
  });
});

// Each leaves no process and no port behind.
test.each<[string, (up: Up) => Promise<unknown>]>([
  ['SIGINT to the pid of npm start: npm exits 0', async ({ system }) => expect(await within(system.stop('SIGINT'), 'npm start to exit after SIGINT')).toBe(0)],
  ['npm SIGKILLed (it cannot pass anything on): the supervisor sees its parent gone and stops every process', ({ system }) => system.stop('SIGKILL')],
  ['the supervisor SIGKILLed: its servers see it gone and stop themselves', async ({ tree }) => process.kill(tree.supervisor.pid, 'SIGKILL')],
])('%s', async (_case, act) => {
  const up = await npmStartUp(SECRETS);
  try {
    await act(up);
    await expectAllGone(up);
  } finally {
    killAll(up);
  }
}, 40_000);

test('a port in use (here an old server answering /healthz) stops npm start at once, naming the port and its variable, before seeding', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-start-'));
  const [port] = await freePorts(1);
  const old = http.createServer((_request, response) => response.end('{"status":"ok"}')).listen(port, '127.0.0.1');
  await once(old, 'listening');
  const { system } = await npmStart({ ...SECRETS, DATA_DIR: empty }, { gateway: port });
  try {
    expect(await within(exitOf(system), 'npm start to refuse the port', 10_000)).not.toBe(0);
    expect(system.stderr()).toContain(`port ${port} (PORT) is already in use`);
    expect(system.output()).not.toContain('bytegate is up');
    expect(fs.existsSync(path.join(empty, 'tenants'))).toBe(false); // nothing seeded
  } finally {
    await system.stop('SIGKILL');
    old.close();
    fs.rmSync(empty, { recursive: true, force: true });
  }
}, 20_000);

test('a process that keeps failing is restarted with growing backoff, then npm start gives up: every process stopped, exit non-zero', async () => {
  // The gateway cannot open its budget store: DATABASE_URL names a PostgreSQL that is not there.
  const [closed] = await freePorts(1);
  const { system, ports } = await npmStart({ ...SECRETS, DATABASE_URL: `postgres://bytegate@127.0.0.1:${closed}/bytegate` });
  let up: Up | undefined;
  try {
    await system.waitFor('metrics is up', 30_000);
    up = { system, ports, tree: processTree(system.child.pid!) };
    expect(up.tree.servers.filter((p) => p.command.includes('subgraphs/main.js'))).toHaveLength(3);
    expect(await within(exitOf(system), 'npm start to give up', 40_000)).not.toBe(0);

    const lines = jsonLines(system.stdout());
    // What the gateway wrote on stderr (runMain's error) reaches stdout as a JSON line under its name.
    expect(lines).toContainEqual(expect.objectContaining({ name: 'gateway', stream: 'stderr', msg: expect.stringContaining('Cannot open the budget store') }));
    const restarts = lines.filter((line) => line.name === 'supervisor' && line.process === 'gateway' && 'restartInMs' in line);
    expect(restarts.map((line) => line.restartInMs)).toEqual([500, 1000, 2000, 4000]);
    expect(system.stderr()).toMatch(/gateway failed 5 times within 60 s .*stopped every process/);
    expect(system.stderr()).toContain(`Cannot open the budget store in PostgreSQL at postgres://bytegate@127.0.0.1:${closed}/bytegate`);
    expect(system.output()).not.toContain('bytegate is up');
    await expectAllGone(up);
  } finally {
    if (up) killAll(up);
    else await system.stop('SIGKILL');
  }
}, 50_000);

// Private:

interface ProcessInfo {
  readonly pid: number;
  readonly command: string;
}

interface Up {
  readonly system: RunningCli;
  /** PORT, USERS_PORT, TENANTS_PORT, METRICS_PORT. */
  readonly ports: readonly number[];
  /** What ran below npm once it was up. */
  readonly tree: Tree;
}

interface Tree {
  /** npm's one child. */
  readonly supervisor: ProcessInfo;
  /** The supervisor's node children. */
  readonly servers: readonly ProcessInfo[];
  /** Every process below npm (the servers' esbuild helpers too). */
  readonly all: readonly number[];
}

async function npmStart(env: NodeJS.ProcessEnv, fixed: { gateway?: number } = {}): Promise<{ system: RunningCli; ports: number[] }> {
  const [port, users, tenants, metrics] = await freePorts(4);
  const ports = [fixed.gateway ?? port, users, tenants, metrics];
  const system = startNpm({
    DATA_DIR: seeded.dataDir, PORT: String(ports[0]), USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics),
    ...env,
  });
  return { system, ports };
}

/** npm start on the seeded DATA_DIR, once its banner is out. */
async function npmStartUp(env: NodeJS.ProcessEnv): Promise<Up> {
  const { system, ports } = await npmStart(env);
  await system.waitFor(BANNER, 30_000);
  return { system, ports, tree: processTree(system.child.pid!) };
}

/** SIGKILLs whatever of `up` still runs, so a failed test leaves no server behind (nor a test runner waiting on its pipes). */
function killAll(up: Up | undefined): void {
  for (const pid of [up?.system.child.pid, ...(up?.tree.all ?? [])]) if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
}

/** `promise`, or a failure naming what did not happen within `timeoutMs`. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = STOPPED_WITHIN_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The exit code once npm is gone, its output read to the end. */
async function exitOf(system: RunningCli): Promise<number | null> {
  if (system.child.exitCode === null && system.child.signalCode === null) await once(system.child, 'close');
  return system.child.exitCode;
}

/** Every line of stdout, parsed: nothing else is there (npm's own header is silenced by the repository's .npmrc). */
function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((line) => line !== '').map((line) => {
    const parsed: unknown = JSON.parse(line);
    expect(parsed).toEqual(expect.objectContaining({ name: expect.any(String) }));
    return parsed as Record<string, unknown>;
  });
}

function processTree(npmPid: number): Tree {
  const processes = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).flatMap((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      return [{ pid, ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), command }];
    } catch {
      return []; // gone meanwhile
    }
  });
  const childrenOf = (pid: number) => processes.filter((p) => p.ppid === pid);
  const below = (pid: number): number[] => childrenOf(pid).flatMap((p) => [p.pid, ...below(p.pid)]);
  const [supervisor, ...others] = childrenOf(npmPid);
  expect(others).toEqual([]);
  return {
    supervisor,
    servers: childrenOf(supervisor.pid).filter((p) => p.command.includes('main.js')),
    all: below(npmPid),
  };
}

/** Whether `pid` runs (a zombie does not: it only waits to be reaped). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function expectAllGone({ tree, ports }: Up): Promise<void> {
  const deadline = Date.now() + STOPPED_WITHIN_MS;
  while (tree.all.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(tree.all.filter(alive).map((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'))).toEqual([]);
  expect(await Promise.all(ports.map(listening))).toEqual(ports.map(() => false));
}
