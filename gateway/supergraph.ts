/**
 * Supergraph composition, in-process with @apollo/composition (the library `rover supergraph compose`
 * runs): https://www.apollographql.com/docs/federation/federated-schemas/composition
 *
 * The gateway composes at start-up with the configured subgraph URLs (~200 ms, no network), so
 * USERS_URL & co. need no separate build step. `schema/supergraph.graphql` is the same composition
 * with the default local URLs, committed for readers and tools and kept fresh by a test; nothing
 * reads it at run time.
 */
import { composeServices } from '@apollo/composition';
import path from 'node:path';
import type { DocumentNode } from 'graphql';
import { SUBGRAPH_NAMES, type SubgraphName, loadConfig } from '../common/config';
import { REPOSITORY_ROOT } from '../common/repositoryRoot';
import { SUBGRAPH_TYPEDEFS } from '../subgraphs/typeDefs';
import { BUDGETS_LOCAL_URL, BUDGETS_SUBGRAPH, typeDefs as budgetsTypeDefs } from './admin';

export interface SubgraphDefinition {
  readonly name: string;
  /** Where the gateway sends this subgraph's fetches; recorded in the supergraph's `@join__graph`. */
  readonly url: string;
  readonly typeDefs: DocumentNode;
}

export class CompositionError extends Error {}

/** The supergraph SDL of `subgraphs`; throws CompositionError listing every composition error. */
export function composeSupergraph(subgraphs: readonly SubgraphDefinition[]): string {
  const result = composeServices(subgraphs.map(({ name, url, typeDefs }) => ({ name, url, typeDefs })));
  if (result.errors) {
    const lines = result.errors.map((error) => `  - ${error.extensions.code ? `[${String(error.extensions.code)}] ` : ''}${error.message}`);
    throw new CompositionError(`Supergraph composition failed with ${result.errors.length} error(s):\n${lines.join('\n')}`);
  }
  return result.supergraphSdl;
}

/** bytegate's own subgraphs (subgraphs/typeDefs.ts), served at `urls`, and the gateway's own budgets subgraph. */
export function bytegateSubgraphs(urls: Readonly<Record<SubgraphName, string>>): SubgraphDefinition[] {
  return [
    ...SUBGRAPH_NAMES.map((name) => ({ name, url: urls[name], typeDefs: SUBGRAPH_TYPEDEFS[name] })),
    { name: BUDGETS_SUBGRAPH, url: BUDGETS_LOCAL_URL, typeDefs: budgetsTypeDefs },
  ];
}

/** The committed composition: `npm run schema` writes it, test/gateway/supergraph.test.ts checks it. */
export const COMMITTED_SUPERGRAPH_PATH = path.join(REPOSITORY_ROOT, 'schema/supergraph.graphql');

/** The supergraph with the default local subgraph URLs (http://127.0.0.1:4001/graphql, …). */
export function composeDefaultSupergraph(): string {
  return composeSupergraph(bytegateSubgraphs(loadConfig({}).subgraphUrls));
}
