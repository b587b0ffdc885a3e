/**
 * The system in one process for benchmarks: the three subgraphs over a given warehouse (and aggregate
 * cache), a gateway with a file budget store and an in-memory ledger, and a timed POST that fails on
 * any error — a benchmark must never average over refusals.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createFileStore } from '../budgets/fileStore';
import { createMemoryLedger } from '../budgets/memoryLedger';
import { SUBGRAPH_NAMES, type SubgraphName, loadConfig } from '../common/config';
import { signDevToken } from '../gateway/auth/devToken';
import { startGateway } from '../gateway';
import { bytegateSubgraphs, composeSupergraph } from '../gateway/supergraph';
import { startSubgraph } from '../subgraphs';
import type { AggregateCache } from '../subgraphs/common/aggregateCache';
import type { Warehouse } from '../warehouse/warehouse';

export interface Stack {
  /** The gateway's /graphql. */
  readonly url: string;
  /** An executive's token of `tenant`. */
  token(tenant: string, userId: string): Promise<string>;
  /** One operation, timed; throws unless HTTP 200 without errors. */
  post(token: string, request: object): Promise<{ ms: number; billedBytes: number; data: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

/** Apollo's logger, errors only. */
export const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };

/** `bench` names the benchmark in errors. */
export async function startStack(bench: string, env: NodeJS.ProcessEnv, warehouse: Warehouse, aggregates?: AggregateCache): Promise<Stack> {
  const config = loadConfig(env);
  const subgraphs = await Promise.all(SUBGRAPH_NAMES.map((name) => startSubgraph(name, { warehouse, config, aggregates, port: 0 })));
  const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [name, subgraphs[i].url])) as Record<SubgraphName, string>;
  const budgetsDir = fs.mkdtempSync(path.join(config.dataDir, 'budgets-'));
  const budgets = { store: await createFileStore({ dir: budgetsDir }), ledger: createMemoryLedger() };
  const gateway = await startGateway(config, { supergraphSdl: composeSupergraph(bytegateSubgraphs(urls)), logger: quiet, budgets });
  return {
    url: gateway.url,
    token: (tenant, userId) => signDevToken({ tenant, user: userId, roles: ['executive'], secret: (config.auth as { secret: string }).secret, ttlSeconds: 3600 }),
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
