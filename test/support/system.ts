/**
 * The real system in one test process: a generated tenant in a DuckDB dataset, the three subgraphs
 * over HTTP, and the gateway composed over them. Each subgraph sits behind a counting HTTP relay,
 * so tests can tell whether an operation reached any subgraph at all.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type Config, SUBGRAPH_NAMES, type SubgraphName, loadConfig } from '../../common/config';
import { close, listen } from '../../common/http/graphqlHttpServer';
import type { Principal } from '../../common/principal';
import { seedTenant } from '../../cli/seedTenant';
import { duckDbDatasetWriter } from '../../warehouse/duckdb/tenantDataset';
import { signDevToken } from '../../gateway/auth/devToken';
import { type GatewayDeps, startGateway } from '../../gateway';
import type { ApolloLogger } from '../../common/log';
import type { Logger } from '../../common/log';
import { STATISTICS_FIELD } from '../../gateway/cost/costIndex';
import { DATA_VERSIONS_FIELD, KNOWN_USERS_FIELD } from '../../gateway/execute/internalFetch';
import { bytegateSubgraphs, composeSupergraph } from '../../gateway/supergraph';
import type { GeneratorOptions } from '../../okta/generator';
import { startSubgraph } from '../../subgraphs';
import type { AggregateCache } from '../../subgraphs/common/aggregateCache';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import type { Warehouse } from '../../warehouse/warehouse';
import { countingWarehouse } from '../subgraphs/harness';
import { createFileStore } from '../../budgets/fileStore';
import { createMemoryLedger } from '../../budgets/memoryLedger';

export interface System {
  readonly config: Config;
  /** e.g. http://127.0.0.1:PORT/graphql */
  readonly gatewayUrl: string;
  /** Each subgraph's own URL (not through its relay). */
  readonly subgraphUrls: Readonly<Record<SubgraphName, string>>;
  readonly dataDir: string;
  /** Names of the warehouse queries the subgraphs ran, in order. */
  readonly warehouseQueries: string[];
  /** Operations the subgraphs received from the gateway (its own requests for statistics, data versions and known users not included). */
  readonly subgraphOperations: { subgraph: SubgraphName; query: string }[];
  /** A 10-minute token of `principal`, signed with the gateway's development secret. */
  tokenOf(principal: Principal): Promise<string>;
  query(principal: Principal, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

export interface SystemOptions {
  /** Configuration variables (PORT is always 0). */
  env?: NodeJS.ProcessEnv;
  /** Default: an in-memory ledger and a file store in a fresh directory; no response cache (every operation runs). */
  gateway?: Pick<GatewayDeps, 'fetchStatistics' | 'budgets' | 'observability' | 'answers' | 'persistedQueries'>;
  /** The subgraphs' request logs; default none. */
  subgraphLog?: Logger;
  /** The subgraphs' aggregate cache; default none (every aggregate computed). */
  aggregates?: AggregateCache;
  /** The subgraphs' warehouse; default DuckDB over the data dir. */
  warehouse?: Warehouse;
  /** Where the gateway sends a subgraph's fetches instead of its relay (e.g. a closed port: that subgraph is down). */
  subgraphUrls?: Partial<Record<SubgraphName, string>>;
}

/** Seeds `tenants` into a fresh DATA_DIR. */
export async function seedDataDir(tenants: GeneratorOptions[]): Promise<{ dataDir: string; remove(): void }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-cost-'));
  for (const tenant of tenants) await seedTenant(duckDbDatasetWriter(dataDir), tenant);
  return { dataDir, remove: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}

export async function startSystem(dataDir: string, options: SystemOptions = {}): Promise<System> {
  const config = loadConfig({ ...options.env, DATA_DIR: dataDir, PORT: '0' });
  const warehouseQueries: string[] = [];
  const warehouse: Warehouse = countingWarehouse(options.warehouse ?? createDuckDbWarehouse({ dataDir }), warehouseQueries);
  const subgraphOperations: System['subgraphOperations'] = [];
  const subgraphs = await Promise.all(SUBGRAPH_NAMES.map((name) => startSubgraph(name, { warehouse, config, aggregates: options.aggregates, log: options.subgraphLog, port: 0 })));
  const relays = await Promise.all(SUBGRAPH_NAMES.map((name, i) => startRelay(subgraphs[i].url, (query) => {
    if (!INTERNAL_FIELDS.some((field) => query.includes(field))) subgraphOperations.push({ subgraph: name, query });
  })));
  const urls = { ...Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [name, relays[i].url])), ...options.subgraphUrls } as Record<SubgraphName, string>;
  const budgetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-budgets-'));
  const budgets = options.gateway?.budgets ?? { store: await createFileStore({ dir: budgetsDir }), ledger: createMemoryLedger() };
  const gateway = await startGateway(config, { supergraphSdl: composeSupergraph(bytegateSubgraphs(urls)), logger: quietLogger, budgets, ...options.gateway });

  const tokenOf = (principal: Principal) => {
    if (config.auth.kind !== 'hs256') throw new Error('needs HS256');
    return signDevToken({ tenant: principal.tenant, user: principal.userId, roles: [...principal.roles], secret: config.auth.secret, ttlSeconds: 600 });
  };
  return {
    config,
    gatewayUrl: gateway.url,
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [name, subgraphs[i].url])) as Record<SubgraphName, string>,
    dataDir,
    warehouseQueries,
    subgraphOperations,
    tokenOf,
    async query(principal, query, variables, headers = {}) {
      const token = await tokenOf(principal);
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    async close() {
      await gateway.close();
      await Promise.all(relays.map((r) => r.close()));
      await Promise.all(subgraphs.map((s) => s.close()));
      await warehouse.close();
      if (!options.gateway?.budgets) await Promise.all([budgets.store.close(), budgets.ledger.close()]);
      fs.rmSync(budgetsDir, { recursive: true, force: true });
    },
  };
}

// Private:

/** The gateway's own requests, not made for a client's operation. */
const INTERNAL_FIELDS = [STATISTICS_FIELD, DATA_VERSIONS_FIELD, KNOWN_USERS_FIELD];

const quietLogger: ApolloLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: (message) => console.error(message) };

/** Forwards every request to `target` unchanged, reporting each GraphQL query text it carries. */
async function startRelay(target: string, onQuery: (query: string) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks);
      try {
        onQuery(String((JSON.parse(body.toString('utf8')) as { query?: unknown }).query ?? ''));
      } catch {
        onQuery('');
      }
      const upstream = await fetch(target, { method: request.method, headers: request.headers as Record<string, string>, body: body.length ? body : undefined });
      response.writeHead(upstream.status, Object.fromEntries(upstream.headers));
      response.end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}/graphql`, close: () => close(server) };
}
