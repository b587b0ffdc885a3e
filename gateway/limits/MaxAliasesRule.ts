import { GraphQLError, type SelectionSetNode, type ValidationContext, type ValidationRule, Kind } from 'graphql';
import { ErrorCode } from '../../common/errors';
import { foldSelections, operationLabel } from './foldSelections';

/**
 * Max aliases
 * Every aliased field counts, including those in fragments, once per place the fragment is spread
 * (each place is executed separately), so aliases cannot be multiplied through fragments.
 */
export function MaxAliasesRule(maxAliases: number): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const aliases = aliasCounter(context)(operation.selectionSet);
      if (aliases > maxAliases) {
        context.reportError(
          new GraphQLError(`${operationLabel(operation)} uses ${aliases} aliases, over the maximum of ${maxAliases}.`, {
            nodes: operation,
            extensions: { code: ErrorCode.MAX_ALIASES_EXCEEDED, aliases, maxAliases },
          }),
        );
      }
    },
  });
}

// Private:

/** Number of aliases in a selection set, each fragment counted once per spread (and computed once). */
function aliasCounter(context: ValidationContext): (selectionSet: SelectionSetNode) => number {
  return foldSelections(context, (selection, recurse) => {
    if (selection.kind !== Kind.FIELD) return recurse(selection.selectionSet);
    return (selection.alias ? 1 : 0) + (selection.selectionSet ? recurse(selection.selectionSet) : 0);
  }, (a, b) => a + b);
}
