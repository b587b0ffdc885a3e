import { type ASTVisitor, GraphQLError, type ValidationContext } from 'graphql';

/**
 * Unplannable introspection
 * graphql-js 16.15 serves `__Type.isOneOf` (oneOf input objects, still an RFC); Apollo Gateway's query
 * planner does not know the field and would fail the operation with HTTP 500. It fails validation
 * instead (400). No bytegate input type is oneOf, so a client loses nothing by leaving it out.
 */
export function UnplannableIntrospectionRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      if (node.name.value !== 'isOneOf' || context.getParentType()?.name !== '__Type') return;
      context.reportError(new GraphQLError('Cannot query field "isOneOf" on type "__Type": this gateway does not support it; leave it out (no input type here is oneOf).', { nodes: node }));
    },
  };
}
