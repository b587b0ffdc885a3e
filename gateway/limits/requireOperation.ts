import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { badUserInput } from '../../common/errors';

/**
 * One runnable operation
 * An operation the document does not resolve to (an `operationName` naming none, `""`, or several
 * unnamed operations) is refused before anything is priced, reserved or run — with `operationName: ""`
 * graphql-js chooses none, yet Apollo Gateway would run the only one (and a GET would run a mutation).
 * Subscriptions are refused too: the supergraph has none.
 */
export function requireOperation(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (!operation) {
            throw badUserInput(request.operationName === undefined
              ? 'The document has several operations: name the one to run with operationName.'
              : `operationName "${String(request.operationName).slice(0, 64)}" names no operation of the document.`, { http: { status: 400 } });
          }
          if (operation.operation === 'subscription') throw badUserInput('Subscriptions are not supported.', { http: { status: 400 } });
        },
      };
    },
  };
}
