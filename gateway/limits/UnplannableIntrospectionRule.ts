import { type ASTVisitor, GraphQLError, type ValidationContext } from 'graphql';
import { isIntrospectionOnly } from '../../common/graphql/introspectionOnly';

/**
 * Unplannable introspection
 * graphql-js 16.15 serves `__Type.isOneOf` (oneOf input objects, still an RFC); Apollo Gateway's query
 * planner does not know the field and would fail the operation with HTTP 500. An operation of nothing
 * but introspection never reaches the planner (execute/introspection.ts), so it is answered; one that
 * mixes it with data fails validation instead (400). No bytegate input type is oneOf, so such a client
 * loses nothing by leaving it out.
 */
export function UnplannableIntrospectionRule(context: ValidationContext): ASTVisitor {
  // Whether the definition being visited is planned: an operation that reads data, or a fragment some such operation may use.
  let planned = true;
  return {
    OperationDefinition(node) {
      planned = !isIntrospectionOnly(context.getDocument(), node.name?.value ?? null);
    },
    FragmentDefinition() {
      planned = !isIntrospectionOnly(context.getDocument());
    },
    Field(node) {
      if (node.name.value !== 'isOneOf' || context.getParentType()?.name !== '__Type') return;
      if (!planned) return;
      context.reportError(new GraphQLError('Cannot query field "isOneOf" on type "__Type" in an operation that also reads data: send introspection on its own, or leave the field out (no input type here is oneOf).', { nodes: node }));
    },
  };
}
