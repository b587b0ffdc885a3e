/**
 * The three subgraphs: their typeDefs (composed into the supergraph) and server factories, and
 * `startSubgraph`, which serves one over HTTP (`/graphql`, `/healthz`, `/readyz` with the aggregate
 * cache's state and hit/miss/error counts).
 */
import type { ApolloServer } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import type { SubgraphName } from '../common/config';
import { type ServedEndpoint, createGraphqlHttpServer, serve } from '../common/http/graphqlHttpServer';
import { type SubgraphContext, type SubgraphDeps, subgraphContext } from './common/context';
import { buildMetricsSubgraph } from './metrics';
import { buildTenantsSubgraph } from './tenants';
import { SUBGRAPH_TYPEDEFS } from './typeDefs';
import { buildUsersSubgraph } from './users';

export type { SubgraphContext, SubgraphDeps } from './common/context';

export interface SubgraphModule {
  readonly typeDefs: DocumentNode;
  build(deps: SubgraphDeps): ApolloServer<SubgraphContext>;
}

export const SUBGRAPHS: Readonly<Record<SubgraphName, SubgraphModule>> = {
  users: { typeDefs: SUBGRAPH_TYPEDEFS.users, build: buildUsersSubgraph },
  tenants: { typeDefs: SUBGRAPH_TYPEDEFS.tenants, build: buildTenantsSubgraph },
  metrics: { typeDefs: SUBGRAPH_TYPEDEFS.metrics, build: buildMetricsSubgraph },
};

/** A served subgraph (the warehouse is the caller's to close). */
export type RunningSubgraph = ServedEndpoint;

/** Serves subgraph `name` on `port` (0: any free port) of `host` (default 127.0.0.1). */
export async function startSubgraph(name: SubgraphName, deps: SubgraphDeps & { port: number; host?: string }): Promise<RunningSubgraph> {
  const apollo = SUBGRAPHS[name].build(deps);
  await apollo.start();
  const server = createGraphqlHttpServer({
    apollo,
    context: subgraphContext(deps),
    maxBodyBytes: deps.config.limits.maxBodyBytes,
    // The cache fails open, so its state is reported, never a reason to leave the rotation.
    readiness: async () => ({ ready: true, checks: deps.aggregates ? { aggregateCache: deps.aggregates.status() } : {} }),
  });
  return serve(server, apollo, deps.port, deps.host);
}
