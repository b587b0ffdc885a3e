/**
 * Operation limits, checked before planning so an oversized operation calls no subgraph:
 * depth and aliases as graphql-js validation rules (https://spec.graphql.org/October2021/#sec-Validation),
 * tokens by graphql-js's parser (`parseOptions.maxTokens`), body size by the HTTP integration.
 *
 * Apollo Server recodes every validation error GRAPHQL_VALIDATION_FAILED and every parse error
 * GRAPHQL_PARSE_FAILED; `formatLimitErrors` restores the limit codes clients switch on.
 */
import type { GraphQLFormattedError } from 'graphql';
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type InlineFragmentNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { ErrorCode } from '../common/errors';

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
 * test/gateway/operationLimits.test.ts measures it.
 */
export const INTROSPECTION_DEPTH = 15;

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

/** Apollo Server `formatError`: gives limit violations their own codes instead of Apollo's generic ones. */
export function formatLimitErrors(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = limitCodeOf(formatted, error);
  return code ? { ...formatted, extensions: { ...formatted.extensions, code } } : formatted;
}

// Private:

/** graphql-js's message when `maxTokens` is exceeded (16.x spells it "more that"). */
const TOO_MANY_TOKENS = /^Syntax Error: Document contains more tha[nt] \d+ tokens/;
const LIMIT_CODES: ReadonlySet<unknown> = new Set([ErrorCode.MAX_DEPTH_EXCEEDED, ErrorCode.MAX_ALIASES_EXCEEDED]);

function limitCodeOf(formatted: GraphQLFormattedError, error: unknown): string | undefined {
  const code = formatted.extensions?.code;
  if (code === ErrorCode.GRAPHQL_PARSE_FAILED && TOO_MANY_TOKENS.test(formatted.message)) return ErrorCode.MAX_TOKENS_EXCEEDED;
  if (code !== ErrorCode.GRAPHQL_VALIDATION_FAILED) return undefined;
  // Apollo wraps the rule's error; the original keeps the rule's code.
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  const originalCode = original instanceof GraphQLError ? original.extensions.code : undefined;
  return LIMIT_CODES.has(originalCode) ? (originalCode as string) : undefined;
}

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
  return memoizedOverFragments(context, (selection, recurse) => {
    if (selection.kind !== Kind.FIELD) return recurse(selection.selectionSet);
    return 1 + (selection.selectionSet ? recurse(selection.selectionSet) : 0);
  }, Math.max);
}

/** Number of aliases in a selection set, each fragment counted once per spread (and computed once). */
function aliasCounter(context: ValidationContext): (selectionSet: SelectionSetNode) => number {
  return memoizedOverFragments(context, (selection, recurse) => {
    if (selection.kind !== Kind.FIELD) return recurse(selection.selectionSet);
    return (selection.alias ? 1 : 0) + (selection.selectionSet ? recurse(selection.selectionSet) : 0);
  }, (a, b) => a + b);
}

/**
 * Folds `measure` over a selection set with `combine`, resolving fragment spreads through a per-fragment
 * memo. Fragments on a cycle measure 0 while being computed.
 */
function memoizedOverFragments(
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

function operationLabel(operation: OperationDefinitionNode): string {
  return operation.name ? `Operation "${operation.name.value}"` : 'The operation';
}
