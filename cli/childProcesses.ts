/**
 * The processes `npm start` (and the benchmarks) run: supervised so that none outlives its supervisor,
 * their output forwarded as JSON log lines, one that exits unasked restarted with growing backoff
 * until it keeps failing; plus the checks around them (a port free, a process healthy, the parent alive).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { LogLevel } from '../common/config';
import { type Logger, createLog } from '../common/log';
import { COMPILED, REPOSITORY_ROOT } from '../common/repositoryRoot';

export interface ProcessSpec {
  /** The process's `name` in the logs and in the supervisor's messages. */
  readonly name: string;
  /** The entry module, by its source path without the extension (`gateway/main`), then its arguments. */
  readonly args: readonly string[];
  /** Its /healthz. */
  readonly healthUrl: string;
}

export interface SupervisorOptions {
  /** The supervisor's own log; every process's output goes to stdout beside it. */
  readonly log: Logger;
  /** The level of the lines a process writes outside its logger (they are logged under its name). */
  readonly logLevel: LogLevel;
  readonly env: NodeJS.ProcessEnv;
  /** How long a process may take to answer its /healthz at start-up. */
  readonly startTimeoutMs: number;
  /** Called as each process first answers its /healthz. */
  readonly onUp: (spec: ProcessSpec) => void;
}

/** How supervision ended: stopped when asked (a signal), or failed (a process kept failing or never came up). */
export type Stopped = { readonly kind: 'stopped' } | { readonly kind: 'failed'; readonly message: string };

export interface Supervisor {
  /** true once every process answered its /healthz, group after group; false if supervision ended first. */
  readonly up: Promise<boolean>;
  /** Settles once supervision ended and every process is gone. */
  readonly stopped: Promise<Stopped>;
  /** Stops every process (see terminate); `reason` is logged. */
  stop(reason: string): Promise<Stopped>;
}

/**
 * Starts `groups` of processes, each group once the one before it is healthy. A process runs as this
 * supervisor does (compiled, or from the sources through tsx), with the stopWithSupervisor preload; its
 * stdout lines that are JSON log lines pass through as they are, any other line (stderr included) is
 * logged under its name and pid.
 * Health counts only while the process is alive, so that, with its port checked free beforehand, the
 * answer is its own and not an old process's.
 */
export function supervise(groups: readonly (readonly ProcessSpec[])[], options: SupervisorOptions): Supervisor {
  const { log } = options;
  const running = new Map<string, ChildProcess>();
  let ended = false;
  let settle!: (outcome: Stopped) => void;
  const stopped = new Promise<Stopped>((resolve) => (settle = resolve));

  /** Ends supervision once, with the first outcome given. */
  const end = (outcome: Stopped): Promise<Stopped> => {
    if (ended) return stopped;
    ended = true;
    void Promise.all([...running.values()].map((child) => terminate(child))).then(() => {
      log.info('every process stopped');
      settle(outcome);
    });
    return stopped;
  };

  const launch = (spec: ProcessSpec, history: FailureHistory): void => {
    const [file, ...args] = spec.args;
    const child = spawn(process.execPath, [...NODE_ARGS, path.join(CODE_ROOT, `${file}${EXTENSION}`), ...args], {
      cwd: REPOSITORY_ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    running.set(spec.name, child);
    const startedAt = Date.now();
    const lastLines = forwardOutput(spec.name, child, options.logLevel);
    // 'close', not 'exit': by then its last lines (the error it died of) have been read.
    child.once('close', (code, signal) => {
      if (ended) return;
      const exit = signal ?? `code ${code}`;
      const next = afterFailure(history, Date.now() - startedAt, Date.now());
      if (next.kind === 'give-up') {
        const message = `${spec.name} failed ${next.history.failedAt.length} times within ${RESTART.windowMs / 1000} s (last exit: ${exit}); stopped every process.`;
        log.error({ process: spec.name, exit, lastLines }, message);
        void end({ kind: 'failed', message: `${message} Its last output:\n${lastLines.map((line) => `  ${line}`).join('\n')}` });
        return;
      }
      log.warn({ process: spec.name, exit, restartInMs: next.delayMs }, `${spec.name} exited (${exit}); restarting in ${next.delayMs / 1000} s`);
      setTimeout(() => !ended && launch(spec, next.history), next.delayMs);
    });
  };

  const ownAndAlive = (name: string) => () => {
    if (ended) throw new Error('stopped');
    const child = running.get(name);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  };
  const up = (async () => {
    try {
      for (const group of groups) {
        await Promise.all(group.map(async (spec) => {
          launch(spec, { failedAt: [], inARow: 0 });
          await waitForHealth(spec.healthUrl, options.startTimeoutMs, ownAndAlive(spec.name));
          options.onUp(spec);
        }));
      }
      return true;
    } catch (error) {
      await end({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
      return false;
    }
  })();

  return {
    up,
    stopped,
    stop(reason) {
      if (!ended) log.info({ reason }, `stopping every process (${reason})`);
      return end({ kind: 'stopped' });
    },
  };
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child is gone (at once if it already is). */
export function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Resolves once GET `url` answers 2xx while `isOwn()` holds (e.g. the process meant to answer is
 * alive, so an old one on the same port does not count); throws after `timeoutMs`, or what `isOwn` throws.
 */
export async function waitForHealth(url: string, timeoutMs: number, isOwn: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (isOwn() && (await answers(url)) && isOwn()) return;
    if (Date.now() > deadline) throw new Error(`${url} did not become healthy within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Whether something listens on `host`:`port` (where the servers will listen, HOST), found by trying to. */
export function portInUse(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(true) : reject(error)));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/** Calls `onExit` once this process's parent is gone (it was re-parented), checked every second. */
export function onParentExit(onExit: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, 1000);
  timer.unref();
}

// Private:

/** Where the entry modules are (dist/ when compiled), and their extension. */
const CODE_ROOT = path.resolve(__dirname, '..');
const EXTENSION = COMPILED ? '.js' : '.ts';
/**
 * Compiled, a process is plain node on dist/ (npm start); from the sources (tests and benchmarks that
 * run this file through tsx) it runs through tsx too, so it never runs a dist/ older than the code under test.
 */
const NODE_ARGS = COMPILED
  ? ['--require', path.join(__dirname, 'stopWithSupervisor.js')]
  : ['--import', 'tsx', '--import', pathToFileURL(path.join(__dirname, 'stopWithSupervisor.ts')).href];

/**
 * A process that exits unasked is restarted after 0.5 s, doubling with each failure in a row up to
 * 30 s; one that ran a minute starts again from 0.5 s. The fifth failure within a minute ends
 * supervision: it would fail again (a port taken, a database gone), and a loop hides why.
 */
const RESTART = { firstDelayMs: 500, maxDelayMs: 30_000, stableAfterMs: 60_000, maxFailures: 5, windowMs: 60_000 };
/** How many of a process's last output lines a give-up message shows. */
const LAST_LINES = 10;

interface FailureHistory {
  /** When it failed, within the last RESTART.windowMs. */
  readonly failedAt: readonly number[];
  /** Failures since it last ran RESTART.stableAfterMs. */
  readonly inARow: number;
}

type AfterFailure =
  | { readonly kind: 'restart'; readonly delayMs: number; readonly history: FailureHistory }
  | { readonly kind: 'give-up'; readonly history: FailureHistory };

function afterFailure(before: FailureHistory, ranMs: number, now: number): AfterFailure {
  const history = {
    failedAt: [...before.failedAt.filter((at) => at > now - RESTART.windowMs), now],
    inARow: ranMs >= RESTART.stableAfterMs ? 1 : before.inARow + 1,
  };
  if (history.failedAt.length >= RESTART.maxFailures) return { kind: 'give-up', history };
  return { kind: 'restart', delayMs: Math.min(RESTART.firstDelayMs * 2 ** (history.inARow - 1), RESTART.maxDelayMs), history };
}

/** Forwards the child's output to stdout as JSON lines; returns its last LAST_LINES lines, kept current. */
function forwardOutput(name: string, child: ChildProcess, level: LogLevel): string[] {
  const lastLines: string[] = [];
  const stray = createLog(name, level, process.stdout, child.pid);
  const remember = (line: string) => {
    lastLines.push(line);
    if (lastLines.length > LAST_LINES) lastLines.shift();
  };
  eachLine(child.stdout!, (line) => {
    remember(line);
    if (isLogLine(line)) process.stdout.write(`${line}\n`);
    else stray.info(line);
  });
  eachLine(child.stderr!, (line) => {
    remember(line);
    stray.warn({ stream: 'stderr' }, line);
  });
  return lastLines;
}

function eachLine(stream: Readable, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') onLine(line);
  });
  stream.on('end', () => pending.trim() !== '' && onLine(pending));
}

/** A JSON object with a `name`. pino's lines (`{"level":…`, every server logs through pino) are taken as such unparsed: one per request. */
function isLogLine(line: string): boolean {
  if (line.startsWith('{"level":')) return true;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string';
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false; // not listening yet
  }
}
