/**
 * The subgraph test harness: the fixture tenants in real DuckDB files, the three subgraphs served
 * over real HTTP on free ports, requests signed like the gateway signs them, and a record of every
 * warehouse query the subgraphs ran.
 */
import { type Config, type SubgraphName, loadConfig } from '../../common/config';
import type { Principal, Role } from '../../common/principal';
import { signIdentity } from '../../common/signedIdentity';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import type { Warehouse } from '../../warehouse/warehouse';
import { SUBGRAPHS, startSubgraph } from '../../subgraphs';
import type { AggregateCache } from '../../subgraphs/common/aggregateCache';
import { createFixtureDataDir } from './fixture';

export interface GraphqlResponse<Data = any> {
  status: number;
  data?: Data;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  extensions?: Record<string, any>;
}

export interface RequestOptions {
  variables?: Record<string, unknown>;
  /** Signs as this principal; omit to send no identity. */
  as?: Principal;
  /** Replaces the signed identity headers (forgeries, replays). */
  headers?: Record<string, string>;
  /** Signs the request as serving an operation of this client HTTP batch. */
  batch?: string;
}

export interface Harness {
  readonly config: Config;
  /** Names of the warehouse queries run since the last `resetQueries()`, in order. */
  readonly queries: string[];
  resetQueries(): void;
  request<Data = any>(subgraph: SubgraphName, query: string, options?: RequestOptions): Promise<GraphqlResponse<Data>>;
  /** The identity headers the gateway would send for `principal` and this request. */
  sign(principal: Principal, query: string, variables?: Record<string, unknown>, options?: { secret?: string; nowMs?: number; timeoutMs?: number; batch?: string }): Record<string, string>;
  close(): Promise<void>;
}

export function principal(userId: string, roles: Role[], tenant = 'acme'): Principal {
  return { tenant, userId, roles };
}

/** The fixture's executive, manager and individual contributor (test/subgraphs/fixture.ts). */
export const executive = principal('00uceo', ['executive']);
export const manager = principal('00umgr', ['manager']);
export const viewer = principal('00uic1', ['viewer']);

/** The calling test file's harness: started before its tests, query log cleared before each, closed after. */
export function useHarness(): () => Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness?.close());
  beforeEach(() => harness?.resetQueries());
  return () => harness!;
}

export interface HarnessOptions {
  /** Serve this data directory (the caller's to remove); default a fresh fixture directory. */
  readonly dataDir?: string;
  /** The subgraphs' aggregate cache; default none (every aggregate computed). */
  readonly aggregates?: AggregateCache;
}

/** Test limits: ranges up to 31 days, pages up to 200. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const config = loadConfig({ MAX_RANGE_DAYS: '31', MAX_PAGE_SIZE: '200' });
  const { dataDir, remove } = options.dataDir ? { dataDir: options.dataDir, remove: () => {} } : await createFixtureDataDir();
  const queries: string[] = [];
  const warehouse = countingWarehouse(createDuckDbWarehouse({ dataDir }), queries);
  const names = Object.keys(SUBGRAPHS) as SubgraphName[];
  const running = await Promise.all(names.map((name) => startSubgraph(name, { warehouse, config, aggregates: options.aggregates, port: 0 })));
  const urls = Object.fromEntries(names.map((name, i) => [name, running[i].url])) as Record<SubgraphName, string>;

  const sign: Harness['sign'] = (who, query, variables, options = {}) =>
    signIdentity(who, { query, variables }, options.secret ?? config.subgraphSecret, options.nowMs ?? Date.now(), { timeoutMs: options.timeoutMs, batch: options.batch });

  return {
    config,
    queries,
    resetQueries: () => void queries.splice(0),
    sign,
    async request(subgraph, query, options = {}) {
      const identity = options.headers ?? (options.as ? sign(options.as, query, options.variables, { batch: options.batch }) : {});
      const response = await fetch(urls[subgraph], {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...identity },
        body: JSON.stringify({ query, variables: options.variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    async close() {
      await Promise.all(running.map((r) => r.close()));
      await warehouse.close();
      remove();
    },
  };
}

/** A Warehouse that delegates to `inner` and records each query's name: a decorator, not a mock. */
export function countingWarehouse(inner: Warehouse, names: string[]): Warehouse {
  return {
    query: (tenant, query, signal) => {
      names.push(query.name);
      return inner.query(tenant, query, signal);
    },
    dryRun: (tenant, query) => {
      names.push(`dryRun:${query.name}`);
      return inner.dryRun(tenant, query);
    },
    partitionStats: (tenant) => inner.partitionStats(tenant),
    dataVersions: (tenant) => inner.dataVersions(tenant),
    tableVersions: (tenant) => inner.tableVersions(tenant),
    hasTenant: (tenant) => inner.hasTenant(tenant),
    close: () => inner.close(),
  };
}

/** The representations a gateway sends to resolve entities: `_entities(representations: …)`. */
export function entitiesQuery(typename: string, selection: string): string {
  return `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${typename} { ${selection} } } }`;
}

export function codes(response: GraphqlResponse): (string | undefined)[] {
  return (response.errors ?? []).map((e) => e.extensions?.code);
}
