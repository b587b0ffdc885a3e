/**
 * The three subgraphs: their typeDefs (composed into the supergraph) and server factories, and
 * `startSubgraph`, which serves one over HTTP (`/graphql`, `/healthz`, `/readyz`).
 */
import type { ApolloServer } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import type { SubgraphName } from '../common/config';
import { close, createGraphqlHttpServer, listen } from '../common/http/graphqlHttpServer';
import { type SubgraphContext, type SubgraphDeps, subgraphContext } from './common/context';
import { buildMetricsSubgraph, typeDefs as metricsTypeDefs } from './metrics';
import { buildTenantsSubgraph, typeDefs as tenantsTypeDefs } from './tenants';
import { buildUsersSubgraph, typeDefs as usersTypeDefs } from './users';

export type { SubgraphContext, SubgraphDeps } from './common/context';

export interface SubgraphModule {
  readonly typeDefs: DocumentNode;
  build(deps: SubgraphDeps): ApolloServer<SubgraphContext>;
}

export const SUBGRAPHS: Readonly<Record<SubgraphName, SubgraphModule>> = {
  users: { typeDefs: usersTypeDefs, build: buildUsersSubgraph },
  tenants: { typeDefs: tenantsTypeDefs, build: buildTenantsSubgraph },
  metrics: { typeDefs: metricsTypeDefs, build: buildMetricsSubgraph },
};

export interface RunningSubgraph {
  /** e.g. http://127.0.0.1:4001/graphql */
  readonly url: string;
  /** Stops accepting requests, then stops the Apollo Server (the warehouse is the caller's to close). */
  close(): Promise<void>;
}

/** Serves subgraph `name` on `port` (0: any free port) of `host` (default 127.0.0.1). */
export async function startSubgraph(name: SubgraphName, deps: SubgraphDeps & { port: number; host?: string }): Promise<RunningSubgraph> {
  const apollo = SUBGRAPHS[name].build(deps);
  await apollo.start();
  const server = createGraphqlHttpServer({ apollo, context: subgraphContext(deps), maxBodyBytes: deps.config.limits.maxBodyBytes });
  const host = deps.host ?? '127.0.0.1';
  const port = await listen(server, deps.port, host);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/graphql`,
    async close() {
      await close(server);
      await apollo.stop();
    },
  };
}
