/** What the limit rules share: a linear fold over a selection set through fragments, and how they name an operation. */
import type { FieldNode, FragmentDefinitionNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, ValidationContext } from 'graphql';
import { Kind } from 'graphql';

/**
 * Folds `measure` over a selection set with `combine`, resolving fragment spreads through a per-fragment
 * memo. Fragments on a cycle measure 0 while being computed.
 */
export function foldSelections(
  context: ValidationContext,
  measure: (selection: FieldNode | InlineFragmentNode, recurse: (selectionSet: SelectionSetNode) => number) => number,
  combine: (a: number, b: number) => number,
): (selectionSet: SelectionSetNode) => number {
  const memo = new Map<string, number>();
  const fragmentValue = (fragment: FragmentDefinitionNode): number => {
    const name = fragment.name.value;
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, 0); // in progress: a cycle back here adds nothing
    const value = fold(fragment.selectionSet);
    memo.set(name, value);
    return value;
  };
  const fold = (selectionSet: SelectionSetNode): number => {
    let value = 0;
    for (const selection of selectionSet.selections) {
      let measured: number;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = context.getFragment(selection.name.value);
        measured = fragment ? fragmentValue(fragment) : 0;
      } else {
        measured = measure(selection, fold);
      }
      value = combine(value, measured);
    }
    return value;
  };
  return fold;
}

export function operationLabel(operation: OperationDefinitionNode): string {
  return operation.name ? `Operation "${operation.name.value}"` : 'The operation';
}
