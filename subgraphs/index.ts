/**
 * The three subgraphs: their typeDefs (composed into the supergraph) and server factories, and
 * `startSubgraph`, which serves one over HTTP (`/graphql`, `/healthz`, `/readyz` with the aggregate
 * cache's state and hit/miss/error counts, `/metrics` with bytegate's own warehouse bill).
 */
import type { ApolloServer } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import type { SubgraphName } from '../common/config';
import { type ServedEndpoint, createGraphqlHttpServer, serve } from '../common/http/graphqlHttpServer';
import type { OverheadMeter } from '../warehouse/overhead';
import { type SubgraphContext, type SubgraphDeps, subgraphContext } from './common/context';
import { subgraphMetricsRoute } from './common/metrics';
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

/**
 * Serves subgraph `name` on `port` (0: any free port) of `host` (default 127.0.0.1); with `overhead`
 * (the meter its warehouse records into), also `/metrics`.
 */
export async function startSubgraph(name: SubgraphName, deps: SubgraphDeps & { port: number; host?: string; overhead?: OverheadMeter }): Promise<RunningSubgraph> {
  const apollo = SUBGRAPHS[name].build(deps);
  await apollo.start();
  const server = createGraphqlHttpServer({
    apollo,
    context: subgraphContext(deps),
    maxBodyBytes: deps.config.limits.maxBodyBytes,
    // The cache fails open, so its state is reported, never a reason to leave the rotation.
    readiness: async () => ({ ready: true, checks: deps.aggregates ? { aggregateCache: deps.aggregates.status() } : {} }),
    routes: deps.overhead ? { '/metrics': subgraphMetricsRoute(deps.overhead) } : undefined,
  });
  return serve(server, apollo, deps.port, deps.host);
}
