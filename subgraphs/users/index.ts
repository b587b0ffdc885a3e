import type { ApolloServer } from '@apollo/server';
import { buildSubgraphServer } from '../common/buildSubgraphServer';
import type { SubgraphContext, SubgraphDeps } from '../common/context';
import { usersResolvers } from './resolvers';
import { typeDefs } from './typeDefs';

export function buildUsersSubgraph(deps: SubgraphDeps): ApolloServer<SubgraphContext> {
  return buildSubgraphServer({ typeDefs, resolvers: usersResolvers(deps.config.limits) });
}
