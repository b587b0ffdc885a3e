/**
 * Start-up: how long bytegate's processes take to answer, and their peak memory, compiled (plain node on
 * dist/, what npm's scripts run) against the baseline of the same entry from its TypeScript sources
 * through tsx (what they ran before issue 19), alternating round by round in the same run; medians.
 *
 * `npm run token` and `npm run budget -- get` are timed as a person types them, npm included: a bench
 * package of its own runs both command lines with the same npm (`cd <repository> && <command>`), each
 * under /usr/bin/time for the peak RSS of its largest process — npm's own is not counted. A gateway is
 * timed from spawn until its /healthz answers, its VmHWM read then. For reference, `node dist/cli/token.js`
 * without npm, with and without the check that dist/ is fresh (scripts/freshDist.js). A first, unmeasured
 * round warms tsx's transform cache (a cold one is slower still) and builds dist/ if it is stale.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from './stack';

/** A row of `npm run bench`'s table: scenario, result, baseline, ratio. */
export type Row = [string, string, string, string];

/** `rounds` alternating rounds of every measurement; the rows of their medians. */
export async function benchStartup(options: { rounds: number }): Promise<Row[]> {
  const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;
  const bench = benchPackage({
    'token:before': TSX_SCRIPTS.token, 'token:after': scripts.token,
    'budget:before': TSX_SCRIPTS.budget, 'budget:after': scripts.budget,
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-startup-'));
  const env = { ...process.env, DATA_DIR: dataDir, AUTH_JWKS_URL: '', LOG_LEVEL: 'warn' };
  const measures: Record<string, () => Promise<Sample>> = {};
  for (const side of ['before', 'after'] as const) {
    measures[`token:${side}`] = () => bench.run(`token:${side}`, TOKEN_ARGS, env);
    measures[`budget:${side}`] = () => bench.run(`budget:${side}`, BUDGET_ARGS, env);
  }
  measures['token:node'] = () => bench.node(['dist/cli/token.js', ...TOKEN_ARGS], env);
  measures['token:checked'] = () => bench.node(['-r', './scripts/freshDist.js', 'dist/cli/token.js', ...TOKEN_ARGS], env);
  measures['gateway:before'] = () => gatewayUp('exec node --import tsx gateway/main.ts', env);
  measures['gateway:after'] = () => gatewayUp(scripts.gateway, env);
  const samples = new Map<string, Sample[]>(Object.keys(measures).map((name) => [name, []]));
  try {
    for (let round = 0; round <= options.rounds; round++) {
      for (const [name, measure] of Object.entries(measures)) {
        const sample = await measure();
        if (round > 0) samples.get(name)!.push(sample); // round 0 warms up
      }
    }
  } finally {
    bench.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const median = (name: string) => medianSample(samples.get(name)!);
  const rounds = `median of ${options.rounds} alternating rounds`;
  const npmRow = (script: string, command: string): Row => {
    const [before, after] = [median(`${script}:before`), median(`${script}:after`)];
    return [
      `npm run ${script} -- ${command} (npm included; ${rounds})`,
      `${seconds(after)}, peak RSS ${mib(after)} (${scripts[script]})`,
      `${seconds(before)}, peak RSS ${mib(before)} (${TSX_SCRIPTS[script as keyof typeof TSX_SCRIPTS]})`,
      `${ratio(after, before)}; target < 0.5 s: ${after.seconds < 0.5 ? 'met' : 'NOT met'}`,
    ];
  };
  const [gatewayBefore, gatewayAfter, tokenNode, tokenChecked] = [median('gateway:before'), median('gateway:after'), median('token:node'), median('token:checked')];
  return [
    npmRow('token', TOKEN_ARGS.join(' ')),
    npmRow('budget', BUDGET_ARGS.join(' ')),
    [
      `gateway process: spawn → /healthz answers (${rounds})`,
      `${seconds(gatewayAfter)}, RSS ${mib(gatewayAfter)} (${scripts.gateway}, no npm)`,
      `${seconds(gatewayBefore)}, RSS ${mib(gatewayBefore)} (node --import tsx gateway/main.ts)`,
      ratio(gatewayAfter, gatewayBefore),
    ],
    [
      `for reference: node dist/cli/token.js, no npm (${rounds})`,
      `${seconds(tokenNode)}, peak RSS ${mib(tokenNode)}`,
      `with the check that dist/ is fresh (-r ./scripts/freshDist.js): ${seconds(tokenChecked)}, ${mib(tokenChecked)}`,
      `the check: ${((tokenChecked.seconds - tokenNode.seconds) * 1000).toFixed(0)} ms; npm: ${((median('token:after').seconds - tokenChecked.seconds) * 1000).toFixed(0)} ms`,
    ],
  ];
}

// Private:

const ROOT = path.resolve(__dirname, '..');
const TIME = '/usr/bin/time';
/** The scripts before issue 19: tsx compiled the sources at every start. */
const TSX_SCRIPTS = { token: 'tsx cli/token.ts', budget: 'tsx cli/budget.ts' };
const TOKEN_ARGS = ['--tenant', 'acme', '--user', 'bench', '--role', 'viewer'];
const BUDGET_ARGS = ['get', '--tenant', 'acme'];
const HEALTH_WITHIN_MS = 60_000;

interface Sample {
  readonly seconds: number;
  readonly peakRssBytes: number;
}

interface BenchPackage {
  /** `npm run --silent <script> -- args` in the bench package, timed from spawn to exit; rejects unless it exits 0. */
  run(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Sample>;
  /** `node args…` in the repository, without npm, likewise. */
  node(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Sample>;
  remove(): void;
}

/**
 * A package in a temporary folder whose scripts `cd` to the repository and run the given command lines
 * under /usr/bin/time; its node_modules is the repository's, so tsx is on the scripts' PATH as it was.
 */
function benchPackage(commands: Readonly<Record<string, string>>): BenchPackage {
  if (!fs.existsSync(TIME)) throw new Error(`${TIME} is missing (apt-get install -y time): it measures a process's peak memory.`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-scripts-'));
  const report = path.join(dir, 'time-report');
  const scripts = Object.fromEntries(Object.entries(commands).map(([name, command]) => [name, `cd '${ROOT}' && ${TIME} -f %M -o '${report}' ${command}`]));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bytegate-startup-bench', private: true, scripts }));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  /** Runs `argv` in `cwd`, which writes its peak RSS to `report`. */
  const measured = async (argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Sample> => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code] = await once(child, 'close');
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`);
    return { seconds: elapsed, peakRssBytes: Number(fs.readFileSync(report, 'utf8').trim().split('\n').pop()) * 1024 };
  };
  return {
    run: (script, args, env) => measured(['npm', 'run', '--silent', script, '--', ...args], dir, env),
    node: (args, env) => measured([TIME, '-f', '%M', '-o', report, process.execPath, ...args], ROOT, env),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A gateway started by `command` (`exec node …`, so the shell becomes node) on a free port, until its /healthz answers. */
async function gatewayUp(command: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const [port] = await freePorts(1);
  const started = process.hrtime.bigint();
  const child = spawn('sh', ['-c', command], { cwd: ROOT, env: { ...env, PORT: String(port) }, stdio: 'ignore' });
  try {
    await untilHealthy(`http://127.0.0.1:${port}/healthz`, child);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const peakKib = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    return { seconds: elapsed, peakRssBytes: peakKib * 1024 };
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGKILL'); // only its start-up is measured
    await exited;
  }
}

async function untilHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + HEALTH_WITHIN_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway exited ${child.exitCode} before ${url} answered`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${HEALTH_WITHIN_MS / 1000} s`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The median time and the median peak RSS, each of its own. */
function medianSample(samples: readonly Sample[]): Sample {
  const bySeconds = [...samples].sort((a, b) => a.seconds - b.seconds);
  const byRss = [...samples].sort((a, b) => a.peakRssBytes - b.peakRssBytes);
  const middle = Math.floor(samples.length / 2);
  return { seconds: bySeconds[middle].seconds, peakRssBytes: byRss[middle].peakRssBytes };
}

function seconds(sample: Sample): string {
  return `${sample.seconds.toFixed(2)} s`;
}

function mib(sample: Sample): string {
  return `${(sample.peakRssBytes / 2 ** 20).toFixed(0)} MiB`;
}

function ratio(after: Sample, before: Sample): string {
  return `${(after.seconds / before.seconds).toFixed(2)}× time, ${(after.peakRssBytes / before.peakRssBytes).toFixed(2)}× RSS`;
}
