/** The budgets subgraph the gateway serves in-process (see typeDefs.ts for why). */
import { LocalGraphQLDataSource } from '@apollo/gateway';
import type { Config } from '../../common/config';
import { subgraphSchema } from '../../subgraphs/common/buildSubgraphServer';
import type { Budgets } from './budgetGuard';
import { budgetsResolvers } from './resolvers';
import { typeDefs } from './typeDefs';

export { typeDefs };

export const BUDGETS_SUBGRAPH = 'budgets';
/** Its URL in the supergraph: a marker, never fetched — the gateway resolves it locally. */
export const BUDGETS_LOCAL_URL = 'local://gateway/budgets';

/** `onChange(tenant)` runs after every budget change, so cached limits can be dropped. */
export function budgetsDataSource(config: Config, budgets: Budgets, onChange: (tenant: string) => void): LocalGraphQLDataSource {
  return new LocalGraphQLDataSource(subgraphSchema(typeDefs, budgetsResolvers(config, budgets, onChange)));
}
