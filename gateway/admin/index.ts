/** The budgets subgraph the gateway serves in-process (see typeDefs.ts for why). */
import { type GraphQLDataSourceProcessOptions, LocalGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../common/errors';
import { subgraphSchema } from '../../common/graphql/subgraphSchema';
import type { Budgets } from '../admission/budgetGuard';
import { type AdminOptions, type KnownUsers, budgetsResolvers } from './resolvers';
import { typeDefs } from './typeDefs';

export { typeDefs };

export const BUDGETS_SUBGRAPH = 'budgets';
/** Its URL in the supergraph: a marker, never fetched — the gateway resolves it locally. */
export const BUDGETS_LOCAL_URL = 'local://gateway/budgets';

/**
 * `onChange(tenant)` runs after every budget change, so cached limits can be dropped; `knownUsers` is the
 * tenant's user directory, which a user's budget is set or reset for only.
 */
export function budgetsDataSource(
  options: AdminOptions, budgets: Budgets, onChange: (tenant: string) => void, log: { error(message: string): void }, knownUsers: KnownUsers,
): LocalGraphQLDataSource {
  return new BudgetsDataSource(subgraphSchema(typeDefs, budgetsResolvers(options, budgets, onChange, knownUsers)), log);
}

/**
 * An error without a code (the budget store's own: a PostgreSQL or file error) is logged and answered
 * as INTERNAL_SERVER_ERROR without its text, which names tables and database internals — Apollo
 * Gateway would pass it on verbatim as DOWNSTREAM_SERVICE_ERROR.
 */
class BudgetsDataSource extends LocalGraphQLDataSource {
  constructor(schema: ConstructorParameters<typeof LocalGraphQLDataSource>[0], private readonly log: { error(message: string): void }) {
    super(schema);
  }

  override async process(options: GraphQLDataSourceProcessOptions) {
    const response = await super.process(options);
    if (!response.errors) return response;
    return {
      ...response,
      errors: response.errors.map((error) => {
        if (error.extensions?.code) return error;
        this.log.error(`budgets: ${error.message}`);
        return new GraphQLError('The budget store failed; the details are logged.', { path: error.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
      }),
    };
  }
}
