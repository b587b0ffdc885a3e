/**
 * Introspection answered by graphql-js itself, against the API schema, without Apollo Gateway's query
 * planner: the planner does not know every introspection field graphql-js 16.15 defines (it fails
 * `__Type.isOneOf`, which `getIntrospectionQuery({ oneOf: true })` asks for, as newer tools do). An
 * operation whose root selection is only `__schema`, `__type` and `__typename` never needs a subgraph.
 */
import type { ApolloGateway } from '@apollo/gateway';
import { execute } from 'graphql';
import { isIntrospectionOnly } from '../../common/graphql/introspectionOnly';

type Load = ApolloGateway['load'];

/** `gateway`, its executor answering introspection-only operations itself. */
export function answeringIntrospection(gateway: ApolloGateway): Pick<ApolloGateway, 'load' | 'onSchemaLoadOrUpdate' | 'stop'> {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(options: Parameters<Load>[0]) {
      const loaded = await gateway.load(options);
      const plan = loaded.executor;
      if (!plan) return loaded;
      return {
        ...loaded,
        executor: async (requestContext) => {
          const { schema, document, operationName, request, context } = requestContext;
          if (!isIntrospectionOnly(document, operationName)) return plan(requestContext);
          return execute({ schema, document, operationName, variableValues: request.variables, contextValue: context });
        },
      };
    },
  };
}
