/** One Apollo Server per subgraph, all built the same way. */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { DocumentNode } from 'graphql';
import { keepInputErrorCode } from '../../common/errors';
import { type ResolverMap, subgraphSchema } from '../../common/graphql/subgraphSchema';
import type { SubgraphContext } from './context';
import { warehouseUsagePlugin } from './warehouseUsagePlugin';

export interface SubgraphDefinition {
  typeDefs: DocumentNode;
  /** Resolvers; the scalars the typeDefs declare are added (common/graphql/scalars.ts). */
  resolvers: ResolverMap<SubgraphContext>;
}

export function buildSubgraphServer({ typeDefs, resolvers }: SubgraphDefinition): ApolloServer<SubgraphContext> {
  return new ApolloServer<SubgraphContext>({
    schema: subgraphSchema(typeDefs, resolvers),
    plugins: [ApolloServerPluginInlineTraceDisabled(), warehouseUsagePlugin(), executedIsOk(), requestLog()],
    includeStacktraceInErrorResponses: false,
    // main.ts owns the signals: it closes the HTTP server first, then Apollo, then the warehouse.
    stopOnTerminationSignals: false,
    formatError: keepInputErrorCode,
  });
}

// Private:

/**
 * An operation that executed answers HTTP 200, its field errors in the body: a resolver error's
 * `extensions.http` (a job over its cap is a 400 at the gateway's edge) would otherwise fail the
 * gateway's whole fetch, losing the error's code and the other fields' data.
 */
function executedIsOk(): ApolloServerPlugin<SubgraphContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind === 'single' && 'data' in response.body.singleResult) response.http.status = 200;
        },
      };
    },
  };
}

/** One log line per request: what it asked, what it cost the warehouse, how it ended. */
function requestLog(): ApolloServerPlugin<SubgraphContext> {
  return {
    async requestDidStart({ request }) {
      const started = performance.now();
      return {
        async willSendResponse({ response, contextValue }) {
          if (!contextValue) return; // refused before a context existed (bad signature): the HTTP layer answered
          const { queries, billedBytes, cacheHits, cacheMisses, overheadBilledBytes } = contextValue.warehouse.usage;
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors ?? [] : [];
          contextValue.log.info({
            operation: request.operationName ?? null, durationMs: Math.round(performance.now() - started),
            queries, billedBytes, overheadBilledBytes, cacheHits, cacheMisses, errors: errors.map((e) => e.extensions?.code ?? 'UNCODED'),
          }, 'request');
        },
      };
    },
  };
}
