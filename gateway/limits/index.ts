/**
 * Operation limits: the second stage of the request path, after authentication. Everything that
 * bounds what a caller may send is checked here, before anything is priced, planned or run, so an
 * operation over a limit reaches no subgraph and charges nothing:
 *
 * | limit                     | where it is checked                              | code                        |
 * | ------------------------- | ------------------------------------------------ | --------------------------- |
 * | MAX_BODY_BYTES            | the HTTP integration, while reading the body     | PAYLOAD_TOO_LARGE (413)     |
 * | MAX_TOKENS                | graphql-js's parser                              | MAX_TOKENS_EXCEEDED         |
 * | MAX_DEPTH                 | MaxDepthRule.ts (validation)                     | MAX_DEPTH_EXCEEDED          |
 * | MAX_ALIASES               | MaxAliasesRule.ts (validation)                   | MAX_ALIASES_EXCEEDED        |
 * | Date, DateTime, Bytes     | scalarInputCoercion.ts (validation)              | BAD_USER_INPUT              |
 * | plannable introspection   | UnplannableIntrospectionRule.ts (validation)     | GRAPHQL_VALIDATION_FAILED   |
 * | one runnable operation    | requireOperation.ts (after validation)           | BAD_USER_INPUT (400)        |
 *
 * MAX_RANGE_DAYS and MAX_PAGE_SIZE bound argument values: the subgraphs enforce them where they read
 * the arguments (BAD_USER_INPUT), and the estimator prices a refused range as running nothing.
 */
import type { OperationLimits } from '../../common/config';
import { formatLimitErrors } from './limitErrors';
import { MaxAliasesRule } from './MaxAliasesRule';
import { MaxDepthRule } from './MaxDepthRule';
import { UnplannableIntrospectionRule } from './UnplannableIntrospectionRule';
import { requireOperation } from './requireOperation';

/** The limits as Apollo Server and the HTTP integration take them. */
export function operationLimits(limits: OperationLimits) {
  return {
    maxBodyBytes: limits.maxBodyBytes,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: [MaxDepthRule(limits.maxDepth), MaxAliasesRule(limits.maxAliases), UnplannableIntrospectionRule],
    plugin: requireOperation(),
    /** Restores the limit codes Apollo's generic parse and validation codes hide. */
    formatError: formatLimitErrors,
  };
}
