import type { ApolloServer } from '@apollo/server';
import { buildSubgraphServer } from '../common/buildSubgraphServer';
import type { SubgraphContext, SubgraphDeps } from '../common/context';
import { tenantsResolvers } from './resolvers';
import { typeDefs } from './typeDefs';

export function buildTenantsSubgraph(_deps: SubgraphDeps): ApolloServer<SubgraphContext> {
  return buildSubgraphServer({ typeDefs, resolvers: tenantsResolvers() });
}
