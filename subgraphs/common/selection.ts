/** What a resolver's field selection asks for, read from its `info` (the subgraph's own operation). */
import { type GraphQLResolveInfo, GraphQLIncludeDirective, GraphQLSkipDirective, Kind, type SelectionNode, getDirectiveValues } from 'graphql';

/**
 * Whether the selection of the field being resolved asks for a field other than `allowed` and
 * `__typename`: inline fragments and fragment spreads followed, `@skip`/`@include` applied (as the
 * gateway's estimator reads a selection for `@scan(unlessOnly:)`, so a job it priced at 0 never runs).
 * A field without a selection set asks for itself: true.
 */
export function asksBeyond(info: GraphQLResolveInfo, allowed: readonly string[]): boolean {
  const spread = new Set<string>();
  const walk = (selections: readonly SelectionNode[]): boolean => selections.some((selection) => {
    if (!included(selection, info.variableValues)) return false;
    switch (selection.kind) {
      case Kind.FIELD:
        return selection.name.value !== '__typename' && !allowed.includes(selection.name.value);
      case Kind.INLINE_FRAGMENT:
        return walk(selection.selectionSet.selections);
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        if (spread.has(name)) return false; // already walked: whatever it asks is counted there
        spread.add(name);
        const fragment = info.fragments[name];
        return fragment ? walk(fragment.selectionSet.selections) : true;
      }
    }
  });
  return info.fieldNodes.some((node) => !node.selectionSet || walk(node.selectionSet.selections));
}

// Private:

function included(selection: SelectionNode, variables: Record<string, unknown>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, selection, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.if !== false;
}
