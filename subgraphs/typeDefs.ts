/** The three subgraphs' schemas, and nothing of their runtime: what the gateway composes its supergraph from. */
import type { DocumentNode } from 'graphql';
import type { SubgraphName } from '../common/config';
import { typeDefs as metrics } from './metrics/typeDefs';
import { typeDefs as tenants } from './tenants/typeDefs';
import { typeDefs as users } from './users/typeDefs';

export const SUBGRAPH_TYPEDEFS: Readonly<Record<SubgraphName, DocumentNode>> = { users, tenants, metrics };
