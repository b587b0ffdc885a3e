import type { ApolloServer } from '@apollo/server';
import { buildSubgraphServer } from '../common/buildSubgraphServer';
import type { SubgraphContext, SubgraphDeps } from '../common/context';
import { metricsResolvers } from './resolvers';
import { typeDefs } from './typeDefs';

export function buildMetricsSubgraph(deps: SubgraphDeps): ApolloServer<SubgraphContext> {
  return buildSubgraphServer({ typeDefs, resolvers: metricsResolvers(deps.config.limits) });
}
