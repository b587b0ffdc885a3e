/**
 * Reports the request's warehouse usage in the response: `extensions.warehouse =
 * { processedBytes, billedBytes, queries, cacheHits, cacheMisses, queryDurationsMs, dryRuns, overheadJobs,
 * overheadBilledBytes }`, summed
 * over every query the request ran (zeros when it ran none), and the aggregates the cache served
 * instead. The gateway adds the subgraphs' reports up to settle the caller's budget and for its metrics.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { SubgraphContext } from './context';

export function warehouseUsagePlugin(): ApolloServerPlugin<SubgraphContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, warehouse: { ...contextValue.warehouse.usage } };
        },
      };
    },
  };
}
