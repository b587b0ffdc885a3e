/**
 * Apollo Server recodes every validation error GRAPHQL_VALIDATION_FAILED and every parse error
 * GRAPHQL_PARSE_FAILED; `formatLimitErrors` restores the limit codes clients switch on.
 */
import { type GraphQLFormattedError, GraphQLError } from 'graphql';
import { ErrorCode } from '../../common/errors';

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
