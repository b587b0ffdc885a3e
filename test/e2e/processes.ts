/**
 * Real processes for end-to-end tests: the project's CLIs and mains, run from their TypeScript sources
 * through tsx (the code under test, with no build between an edit and a run; npm's scripts run the same
 * entries compiled, as `startNpm`, `startBuilt` and test/cli/ exercise them), with a private DATA_DIR, free ports and
 * test secrets; and redis-servers of their own, for tests that stop one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cli/<script>.ts args…` to completion. */
export function runMain(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnMain(`cli/${script}.ts`, args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** Everything printed so far (stdout and stderr interleaved). */
  output(): string;
  /** What it printed so far on stdout alone, and on stderr alone. */
  stdout(): string;
  stderr(): string;
  /** Resolves once the output contains `text`; rejects if the process exits first or after `timeoutMs`. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a long-running `cli/<script>.ts` (e.g. start). */
export function startCli(script: string, args: string[], env: NodeJS.ProcessEnv): RunningCli {
  return startMain(`cli/${script}.ts`, args, env);
}

/** Starts a long-running entry point by its path in the repository (e.g. gateway/main.ts). */
export function startMain(file: string, args: string[], env: NodeJS.ProcessEnv): RunningCli {
  return running(spawnMain(file, args, env));
}

/**
 * Starts a compiled entry point as production runs it — plain node on dist/ (`gateway/main` runs
 * dist/gateway/main.js), through scripts/freshDist.js, so a stale dist/ is rebuilt first.
 */
export function startBuilt(entry: string, args: string[], env: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'scripts/freshDist.js'), path.join(ROOT, 'dist', `${entry}.js`), ...args], { cwd: ROOT, env: ownEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  return running(child);
}

/** Starts `npm start` as a person does: npm runs the package's start script. */
export function startNpm(env: NodeJS.ProcessEnv): RunningCli {
  return running(spawn('npm', ['start'], { cwd: ROOT, env: ownEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** `count` distinct TCP ports that were free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export interface RedisServer {
  readonly url: string;
  readonly child: ChildProcess;
  /** Sends `signal` (SIGKILL by default) and resolves once the server is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A redis-server on `port` that keeps nothing on disk: stopped and started again, it is empty. */
export async function startRedisServer(port: number): Promise<RedisServer> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready within 5 s:\n${output}`)), 5000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${output}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    child,
    async stop(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGCONT'); // a frozen (SIGSTOPped) server must run again to act on anything but SIGKILL
      child.kill(signal);
      await exited;
    },
  };
}

// Private:

function spawnMain(file: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args], { cwd: ROOT, env: ownEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `env` and what finding programs needs, none of the test runner's own settings. */
function ownEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
}

function running(child: ChildProcess): RunningCli {
  const printed = { output: '', stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      printed.output += text;
      printed[stream] += text;
      for (const listener of listeners) listener();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const output = () => printed.output;
  return {
    child,
    output,
    stdout: () => printed.stdout,
    stderr: () => printed.stderr,
    waitFor(text, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => output().includes(text) && done();
        const timer = setTimeout(() => done(new Error(`"${text}" not printed within ${timeoutMs} ms:\n${output()}`)), timeoutMs);
        listeners.add(check);
        void exited.then((code) => done(new Error(`exited (${code}) before printing "${text}":\n${output()}`)));
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

