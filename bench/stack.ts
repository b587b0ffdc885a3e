/**
 * The system in one process for benchmarks: the three subgraphs over a given warehouse (and aggregate
 * cache), a gateway with a file budget store and an in-memory ledger, and a timed POST that fails on
 * any error — a benchmark must never average over refusals.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createClient } from '@redis/client';
import autocannon from 'autocannon';
import { createFileStore } from '../budgets/fileStore';
import { createMemoryLedger } from '../budgets/memoryLedger';
import { SUBGRAPH_NAMES, type SubgraphName, loadConfig } from '../common/config';
import type { Role } from '../common/principal';
import { signDevToken } from '../gateway/auth/devToken';
import { startGateway } from '../gateway';
import type { AnswerStore } from '../gateway/responseCache/responseCache';
import { bytegateSubgraphs, composeSupergraph } from '../gateway/supergraph';
import { startSubgraph } from '../subgraphs';
import type { AggregateCache } from '../subgraphs/common/aggregateCache';
import type { Warehouse } from '../warehouse/warehouse';

export interface Stack {
  /** The gateway's /graphql. */
  readonly url: string;
  /** The gateway's /healthz: the floor of one Node HTTP process. */
  readonly healthUrl: string;
  /** A token of `tenant` (an executive's unless `roles` say otherwise). */
  token(tenant: string, userId: string, roles?: Role[]): Promise<string>;
  /** One operation, timed; throws unless HTTP 200 without errors. */
  post(token: string, request: object): Promise<{ ms: number; billedBytes: number; data: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export interface Throughput {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Apollo's logger, errors only. */
export const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };

/** `bench` names the benchmark in errors; `answers` turns the gateway's response cache on. */
export async function startStack(bench: string, env: NodeJS.ProcessEnv, warehouse: Warehouse, aggregates?: AggregateCache, answers?: AnswerStore): Promise<Stack> {
  const config = loadConfig(env);
  const subgraphs = await Promise.all(SUBGRAPH_NAMES.map((name) => startSubgraph(name, { warehouse, config, aggregates, port: 0 })));
  const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [name, subgraphs[i].url])) as Record<SubgraphName, string>;
  const budgetsDir = fs.mkdtempSync(path.join(config.dataDir, 'budgets-'));
  const budgets = { store: await createFileStore({ dir: budgetsDir }), ledger: createMemoryLedger() };
  const gateway = await startGateway(config, { supergraphSdl: composeSupergraph(bytegateSubgraphs(urls)), logger: quiet, budgets, answers });
  return {
    url: gateway.url,
    healthUrl: new URL('/healthz', gateway.url).href,
    token: (tenant, userId, roles = ['executive']) => signDevToken({ tenant, user: userId, roles, secret: (config.auth as { secret: string }).secret, ttlSeconds: 3600 }),
    async post(token, request) {
      const started = process.hrtime.bigint();
      const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(request) });
      const body = (await response.json()) as { errors?: unknown[]; data?: unknown; extensions: { cost: { billedBytes: number } } };
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (response.status !== 200 || body.errors) throw new Error(`${bench} bench: HTTP ${response.status} ${JSON.stringify(body.errors).slice(0, 400)}`);
      return { ms, billedBytes: body.extensions.cost.billedBytes, data: body.data };
    },
    async close() {
      await gateway.close();
      await Promise.all(subgraphs.map((s) => s.close()));
      await Promise.all([budgets.store.close(), budgets.ledger.close()]);
      fs.rmSync(budgetsDir, { recursive: true, force: true });
    },
  };
}

/** autocannon, 10 connections, for `seconds`: the same POST (or GET when `request` is undefined) over and over; throws on any non-2xx. */
export async function load(url: string, token: string, request: object | undefined, seconds: number): Promise<Throughput> {
  const result = await autocannon({
    url, connections: 10, duration: seconds,
    requests: [request === undefined ? { method: 'GET' } : { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(request) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  return { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

/** The median round of each figure. */
export function median(runs: Throughput[]): Throughput {
  const mid = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { requestsPerSecond: mid(runs.map((r) => r.requestsPerSecond)), p50Ms: mid(runs.map((r) => r.p50Ms)), p99Ms: mid(runs.map((r) => r.p99Ms)) };
}

/** REDIS_URL, else the local Redis when it answers, else undefined (stores in memory). */
export async function reachableRedis(): Promise<string | undefined> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  const url = 'redis://127.0.0.1:6379';
  const client = createClient({ url, socket: { connectTimeout: 500, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return url;
  } catch {
    return undefined;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Deletes a benchmark's Redis keys (`<namespace>::*`). */
export async function deleteNamespace(url: string, namespace: string): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${namespace}::*`, COUNT: 1000 })) if (keys.length > 0) await client.del(keys);
  client.destroy();
}

/** `count` distinct TCP ports that were free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
