/**
 * Shared plumbing of the reliability suite (test/faults): the system's real processes started as
 * `npm start` starts them (test/e2e/processes.ts), a load generator that records every outcome with
 * its timing, readers of what the ledger charged, and the checks every fault test makes (all
 * processes alive, every answer data or a documented code, no request hung).
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { ErrorCode } from '../../common/errors';
import type { Role } from '../../common/principal';
import { createRedisLedger } from '../../budgets/redisLedger';
import { signDevToken } from '../../gateway/auth/devToken';
import { type RunningCli, runMain, startMain } from '../e2e/processes';

export const JWT_SECRET = 'faults-jwt-secret-0123456789abcdef0123456789';
export const SUBGRAPH_SECRET = 'faults-subgraph-secret-0123456789abcdef01';

/** The environment every process of a fault test shares (ports, data dir, secrets, Redis). */
export function baseEnv(options: { dataDir: string; ports: Record<SubgraphName, number>; redisUrl?: string }, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    DATA_DIR: options.dataDir,
    USERS_PORT: String(options.ports.users), TENANTS_PORT: String(options.ports.tenants), METRICS_PORT: String(options.ports.metrics),
    JWT_SECRET, SUBGRAPH_SECRET,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...extra,
  };
}

/** Starts subgraph `name` (tsx subgraphs/main.ts name) and waits until it listens. */
export async function startSubgraphProcess(name: SubgraphName, env: NodeJS.ProcessEnv): Promise<RunningCli> {
  const subgraph = startMain('subgraphs/main.ts', [name], env);
  await subgraph.waitFor(`${name} subgraph on`, 60_000);
  return subgraph;
}

export async function startSubgraphProcesses(env: NodeJS.ProcessEnv): Promise<Record<SubgraphName, RunningCli>> {
  const started = await Promise.all(SUBGRAPH_NAMES.map((name) => startSubgraphProcess(name, env)));
  return Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [name, started[i]])) as Record<SubgraphName, RunningCli>;
}

/** With FAULTS_DEBUG, the gateway logs each failed outgoing request (probes/clientErrors.cjs); otherwise exactly as npm start runs it. */
const PROBES: NodeJS.ProcessEnv = process.env.FAULTS_DEBUG ? { NODE_OPTIONS: `--require ${path.join(__dirname, 'probes', 'clientErrors.cjs')}` } : {};

/** Starts a gateway (tsx gateway/main.ts) on `port`; resolves with its origin once it listens. */
export async function startGatewayProcess(port: number, env: NodeJS.ProcessEnv): Promise<{ process: RunningCli; origin: string }> {
  const gateway = startMain('gateway/main.ts', [], { ...env, ...PROBES, PORT: String(port) });
  await gateway.waitFor('gateway on', 60_000);
  return { process: gateway, origin: `http://127.0.0.1:${port}` };
}

/** Kills a process the way a crash does (SIGKILL: no shutdown handler runs) and waits until it is gone. */
export async function crash(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

export function isAlive(process: RunningCli): boolean {
  return process.child.exitCode === null && process.child.signalCode === null;
}

export function tokenFor(tenant: string, userId: string, ...roles: Role[]): Promise<string> {
  return signDevToken({ tenant, user: userId, roles, secret: JWT_SECRET, ttlSeconds: 3600 });
}

export interface Answer {
  /** HTTP status; 0 when no answer came (connection refused, or not within the request deadline). */
  status: number;
  body?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- a GraphQL response as the gateway sent it
  /** Why no answer came. */
  failure?: string;
  startedAt: number;
  endedAt: number;
}

/** One POST /graphql; never throws: a request that gets no answer within `deadlineMs` is status 0. */
export async function post(origin: string, token: string, query: string, options: { variables?: Record<string, unknown>; deadlineMs?: number; headers?: Record<string, string> } = {}): Promise<Answer> {
  const startedAt = Date.now();
  try {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify({ query, variables: options.variables }),
      signal: AbortSignal.timeout(options.deadlineMs ?? 20_000),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { unparsable: text.slice(0, 200) };
    }
    return { status: response.status, body, startedAt, endedAt: Date.now() };
  } catch (error) {
    const { name, message, cause } = error as { name?: string; message?: string; cause?: { code?: string } };
    return { status: 0, failure: name === 'TimeoutError' ? 'no answer within the deadline' : cause?.code ?? message ?? String(error), startedAt, endedAt: Date.now() };
  }
}

/** One recorded request of a load run. */
export interface Outcome extends Answer {
  readonly client: number;
  /** What the request was (the operation's label in the test). */
  readonly label: string;
  readonly origin: string;
  readonly user: string;
  readonly query: string;
  /** Sent as `x-request-id`: the id the gateway's and the subgraphs' log lines carry (`reqId`). */
  readonly requestId: string;
}

export interface LoadRequest {
  label: string;
  origin: string;
  user: string;
  token: string;
  query: string;
}

export interface Load {
  /** Everything answered so far (in completion order). */
  readonly outcomes: readonly Outcome[];
  /** Resolves with the first outcome (answered so far, or from now on) for which `predicate` holds; rejects after `withinMs`. */
  waitFor(predicate: (outcome: Outcome) => boolean, withinMs: number): Promise<Outcome>;
  /** Stops issuing requests; resolves with every outcome once the requests in flight are answered. */
  stop(): Promise<Outcome[]>;
}

/**
 * `clients` concurrent loops, each sending `next(client, i)` and the next one as soon as it is
 * answered (closed loop, like autocannon), until stopped.
 */
export function startLoad(clients: number, next: (client: number, i: number) => LoadRequest, options: { deadlineMs?: number; run?: string } = {}): Load {
  const outcomes: Outcome[] = [];
  const waiters = new Set<(outcome: Outcome) => void>();
  let running = true;
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let i = 0; running; i++) {
      const request = next(client, i);
      const requestId = `${options.run ?? 'load'}.${client}.${i}`;
      const answer = await post(request.origin, request.token, request.query, { deadlineMs: options.deadlineMs, headers: { 'x-request-id': requestId } });
      const outcome: Outcome = { ...answer, client, label: request.label, origin: request.origin, user: request.user, query: request.query, requestId };
      outcomes.push(outcome);
      for (const waiter of [...waiters]) waiter(outcome);
      // An answer that came at once (connection refused) must not become a busy loop.
      if (answer.status === 0 && answer.endedAt - answer.startedAt < 5) await sleep(5);
    }
  });
  return {
    outcomes,
    waitFor(predicate, withinMs) {
      const found = outcomes.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          const recent = outcomes.slice(-8).map((o) => `\n  ${o.origin} ${describe(o)}`).join('');
          reject(new Error(`no such outcome within ${withinMs} ms; ${outcomes.length} answers so far, the last:${recent}`));
        }, withinMs);
        const check = (outcome: Outcome) => {
          if (!predicate(outcome)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(outcome);
        };
        waiters.add(check);
      });
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** Every code bytegate documents (README "Error codes"; test/common/errors.test.ts keeps the two in step). */
export const DOCUMENTED_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** The codes of a response's errors (undefined for an error without one). */
export function codesOf(answer: Answer): (string | undefined)[] {
  return ((answer.body?.errors ?? []) as { extensions?: { code?: string } }[]).map((error) => error.extensions?.code);
}

/** A full answer: HTTP 200, data, no errors. */
export function isData(answer: Answer): boolean {
  return answer.status === 200 && answer.body?.data != null && answer.body.errors === undefined;
}

/** Asserts a full answer, showing what came instead when it is not one. */
export function expectData(answer: Answer): void {
  expect(isData(answer) ? 'data' : describe(answer)).toBe('data');
}

/** A refusal with exactly this code (and the HTTP status README gives it). */
export function isRefusal(answer: Answer, code: string, status: number): boolean {
  return answer.status === status && answer.body?.data == null && codesOf(answer).length > 0 && codesOf(answer).every((c) => c === code);
}

/** What the ledger charged for this operation (`extensions.cost.billedBytes`; 0 when absent). */
export function billedOf(answer: Answer): number {
  return Number(answer.body?.extensions?.cost?.billedBytes ?? 0);
}

/** True when the operation held a reservation in the ledger (its response reports the budget after it). */
export function wasReserved(answer: Answer): boolean {
  return answer.body?.extensions?.cost?.budget !== undefined && Number(answer.body?.extensions?.cost?.estimatedBilledBytes ?? 0) > 0;
}

/** A short description of an answer for failure messages. */
export function describe(answer: Answer & { label?: string }): string {
  const errors = ((answer.body?.errors ?? []) as { message?: string; extensions?: { code?: string } }[]).map((e) => `${e.extensions?.code}: ${e.message}`);
  return `${answer.label ?? ''} HTTP ${answer.status} after ${answer.endedAt - answer.startedAt} ms${answer.failure ? ` (${answer.failure})` : ''}${errors.length ? ` ${errors.join(' | ')}` : ''}`;
}

export interface Counters {
  usedBytes: number;
  heldBytes: number;
}

/** Today's counters of the user and the tenant, read from the Redis ledger with the product's own adapter. */
export async function ledgerCounters(redisUrl: string, tenant: string, userIds: readonly string[]): Promise<{ tenant: Counters; users: Map<string, Counters> }> {
  const ledger = await createRedisLedger({ url: redisUrl });
  try {
    const limits = { userDailyBytes: null, tenantDailyBytes: null, timezone: 'UTC' };
    const users = new Map<string, Counters>();
    let tenantCounters: Counters = { usedBytes: 0, heldBytes: 0 };
    for (const userId of userIds) {
      const usage = await ledger.usage({ tenant, userId }, limits);
      users.set(userId, { usedBytes: usage.user.usedBytes, heldBytes: usage.user.reservedBytes });
      tenantCounters = { usedBytes: usage.tenant.usedBytes, heldBytes: usage.tenant.reservedBytes };
    }
    if (userIds.length === 0) {
      const usage = await ledger.tenantUsage(tenant, limits);
      tenantCounters = { usedBytes: usage.usedBytes, heldBytes: usage.reservedBytes };
    }
    return { tenant: tenantCounters, users };
  } finally {
    await ledger.close();
  }
}

/**
 * `npm run budget -- usage --tenant T [--user U]`: what a quota admin reads — the tenant's line, and
 * the user's when asked — as used and reserved bytes.
 */
export async function cliUsage(env: NodeJS.ProcessEnv, tenant: string, userId?: string): Promise<{ tenant: Counters; user?: Counters; stdout: string }> {
  const result = await runMain('budget', ['usage', '--tenant', tenant, ...(userId ? ['--user', userId, '--role', 'executive'] : [])], env);
  if (result.code !== 0) throw new Error(`npm run budget -- usage exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  const line = (label: string): Counters => {
    const found = result.stdout.split('\n').find((l) => l.trim().startsWith(label));
    if (!found) throw new Error(`no "${label}" line in:\n${result.stdout}`);
    // e.g. "used 70 MiB (73400320 bytes) · reserved 0 B · remaining 0 B"
    const used = /used .*?(?:\((\d+) bytes\)|(\d+) B\b)/.exec(found);
    const held = /reserved .*?(?:\((\d+) bytes\)|(\d+) B\b)/.exec(found);
    if (!used || !held) throw new Error(`cannot read "${found}"`);
    return { usedBytes: Number(used[1] ?? used[2]), heldBytes: Number(held[1] ?? held[2]) };
  };
  return { tenant: line('tenant'), ...(userId ? { user: line(`user ${userId}`) } : {}), stdout: result.stdout };
}

export async function readiness(origin: string): Promise<{ http: number; checks?: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    const response = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(5000) });
    return { http: response.status, ...((await response.json()) as object) };
  } catch (error) {
    return { http: 0, checks: { failure: (error as Error).message } };
  }
}

export async function healthz(origin: string): Promise<number> {
  try {
    const response = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/** Polls `attempt` until it returns a value, for at most `withinMs`. */
export async function eventually<T>(attempt: () => Promise<T | undefined>, withinMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await sleep(everyMs);
  }
}

/** A timeline line on stderr when FAULTS_DEBUG is set (to see where a run spent its time). */
export function note(message: string): void {
  if (process.env.FAULTS_DEBUG) process.stderr.write(`[faults ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

/** With FAULTS_DEBUG set, writes each process's output to FAULTS_DEBUG's directory (default the OS temp dir) as <name>.log. */
export function dumpOutputs(processes: Record<string, RunningCli | undefined>): void {
  if (!process.env.FAULTS_DEBUG) return;
  const dir = process.env.FAULTS_DEBUG === '1' ? os.tmpdir() : process.env.FAULTS_DEBUG;
  for (const [name, running] of Object.entries(processes)) if (running) fs.writeFileSync(path.join(dir, `faults-${name}.log`), running.output());
}

/** The JSON log lines of a process's output with this `msg` (README "Logs"). */
export function logLines(output: string, msg: string): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return parsed.msg === msg ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
