import { type FieldNode, GraphQLError, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule, Kind } from 'graphql';
import { ErrorCode } from '../../common/errors';
import { foldSelections, operationLabel } from './foldSelections';

/**
 * Max depth
 * An operation's depth is the number of fields on its longest path: `{ me { manager { id } } }` is 3.
 * Fields spread from fragments count where they are spread; `__typename` counts like any field.
 * Subtrees of `__schema` and `__type` may go as deep as the standard introspection query
 * (INTROSPECTION_DEPTH, 15 > the default 12) and no deeper, so BI tools can introspect under the
 * default limit. Introspection whose result grows exponentially (`fields { type { fields … } } }`)
 * is refused earlier by graphql-js's own MaxIntrospectionDepthRule, one of `specifiedRules`.
 */
export function MaxDepthRule(maxDepth: number): ValidationRule {
  const introspectionMaxDepth = Math.max(maxDepth, INTROSPECTION_DEPTH);
  return (context) => ({
    OperationDefinition(operation) {
      const depthOf = selectionSetDepth(context);
      let depth = 0;
      let introspectionDepth = 0;
      for (const field of rootFields(context, operation)) {
        const fieldDepth = 1 + (field.selectionSet ? depthOf(field.selectionSet) : 0);
        if (field.name.value === '__schema' || field.name.value === '__type') introspectionDepth = Math.max(introspectionDepth, fieldDepth);
        else depth = Math.max(depth, fieldDepth);
      }
      if (depth > maxDepth || introspectionDepth > introspectionMaxDepth) {
        const [actual, limit] = depth > maxDepth ? [depth, maxDepth] : [introspectionDepth, introspectionMaxDepth];
        context.reportError(
          new GraphQLError(`${operationLabel(operation)} has depth ${actual}, over the maximum of ${limit}.`, {
            nodes: operation,
            extensions: { code: ErrorCode.MAX_DEPTH_EXCEEDED, depth: actual, maxDepth: limit },
          }),
        );
      }
    },
  });
}

/**
 * Depth of the query graphql-js's getIntrospectionQuery() sends (and GraphiQL, Apollo tooling and most
 * BI connectors copy): `__schema types fields args type` + 9 nested `ofType` + a leaf = 15.
 * test/gateway/limits.test.ts measures it.
 */
export const INTROSPECTION_DEPTH = 15;

// Private:

/** The operation's top-level fields, looking through fragments and inline fragments. */
function rootFields(context: ValidationContext, operation: OperationDefinitionNode): FieldNode[] {
  const fields: FieldNode[] = [];
  const seen = new Set<string>();
  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = context.getFragment(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return fields;
}

/**
 * Depth of a selection set, with each fragment's depth computed once: linear in the document, even
 * for fragments spread many times. A spread that closes a cycle counts 0 (NoFragmentCyclesRule reports it).
 */
function selectionSetDepth(context: ValidationContext): (selectionSet: SelectionSetNode) => number {
  return foldSelections(context, (selection, recurse) => {
    if (selection.kind !== Kind.FIELD) return recurse(selection.selectionSet);
    return 1 + (selection.selectionSet ? recurse(selection.selectionSet) : 0);
  }, Math.max);
}
