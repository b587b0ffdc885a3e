import { type GraphQLFormattedError, GraphQLError } from 'graphql';

/**
 * Every error code bytegate puts in `extensions.code`. Public contract: clients switch on these,
 * and README.md documents each one (test/common/errors.test.ts fails when one is missing there).
 */
export const ErrorCode = {
  /** Missing, malformed, forged or expired token (HTTP 401). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Authenticated, but the role or tenant does not allow this. */
  FORBIDDEN: 'FORBIDDEN',
  /** Bad argument: invalid date, from > to, range or page size over its limit, unknown tenant. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The operation nests deeper than the configured maximum depth. */
  MAX_DEPTH_EXCEEDED: 'MAX_DEPTH_EXCEEDED',
  /** The operation uses more aliases than allowed. */
  MAX_ALIASES_EXCEEDED: 'MAX_ALIASES_EXCEEDED',
  /** The document has more lexical tokens than allowed. */
  MAX_TOKENS_EXCEEDED: 'MAX_TOKENS_EXCEEDED',
  /** The HTTP request body is larger than allowed (HTTP 413). */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** The estimate (or a warehouse job's billed bytes) is over the per-query cap (HTTP 400). */
  QUERY_TOO_EXPENSIVE: 'QUERY_TOO_EXPENSIVE',
  /** The estimate is over the caller's remaining daily budget (HTTP 429 with Retry-After). */
  BUDGET_EXCEEDED: 'BUDGET_EXCEEDED',
  /** A subgraph request without a valid gateway signature (HTTP 401). */
  INVALID_SIGNATURE: 'INVALID_SIGNATURE',
  /** The budget ledger (Redis) cannot be reached and the failure policy refuses this operation (HTTP 503). */
  LEDGER_UNAVAILABLE: 'LEDGER_UNAVAILABLE',
  /** The tenant's dataset is busy (an ingest holds it) or unreadable; retry later (HTTP 503). */
  WAREHOUSE_UNAVAILABLE: 'WAREHOUSE_UNAVAILABLE',
  /** A subgraph was down, refused the connection or did not answer within SUBGRAPH_TIMEOUT_MS: its fields are null, the rest answers (HTTP 200). */
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  /** A warehouse query ran past WAREHOUSE_TIMEOUT_MS and was abandoned (and cancelled); retry later or narrow it (HTTP 504). */
  WAREHOUSE_TIMEOUT: 'WAREHOUSE_TIMEOUT',
  /**
   * Not a GraphQL request (Apollo Server's code): an empty batch or one over MAX_BATCH_OPERATIONS, a
   * content type other than JSON, no query, a method other than GET/POST or a mutation over GET (HTTP
   * 405), an Accept header without JSON (406), a persisted-query hash that does not match its query, or
   * malformed HTTP.
   */
  BAD_REQUEST: 'BAD_REQUEST',
  /** No such HTTP path (HTTP 404): the service serves /graphql, /healthz, /readyz (and the gateway /metrics). */
  NOT_FOUND: 'NOT_FOUND',
  /** An automatic-persisted-query hash this replica has not stored: resend with the query (Apollo Server's code). */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  /** GraphQL syntax error (Apollo Server's code). */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** The operation does not validate against the schema (Apollo Server's code). */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** Unexpected failure; details are logged, not returned. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const httpStatusOf: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  INVALID_SIGNATURE: 401,
  PAYLOAD_TOO_LARGE: 413,
  QUERY_TOO_EXPENSIVE: 400,
  BUDGET_EXCEEDED: 429,
  WAREHOUSE_UNAVAILABLE: 503,
  WAREHOUSE_TIMEOUT: 504,
  LEDGER_UNAVAILABLE: 503,
};

/**
 * A GraphQL error carrying its code, and its HTTP status in `extensions.http` (how Apollo Server
 * learns the status of an error thrown before execution).
 */
export function bytegateError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  const status = httpStatusOf[code];
  return new GraphQLError(message, {
    extensions: { code, ...extensions, ...(status ? { http: { status } } : {}) },
  });
}

export function badUserInput(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return bytegateError(ErrorCode.BAD_USER_INPUT, message, extensions);
}

/**
 * A scalar rejecting a literal argument (`from: "2025-02-30"`) fails validation, which Apollo codes
 * GRAPHQL_VALIDATION_FAILED; the contract says bad dates are BAD_USER_INPUT, so the scalar's own
 * code wins. Variables already arrive as BAD_USER_INPUT.
 */
export function keepInputErrorCode(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (formatted.extensions?.code !== ErrorCode.GRAPHQL_VALIDATION_FAILED) return formatted;
  for (let cause = error; cause instanceof Error; cause = (cause as GraphQLError).originalError) {
    if (cause instanceof GraphQLError && cause.extensions.code === ErrorCode.BAD_USER_INPUT) {
      return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_USER_INPUT } };
    }
  }
  return formatted;
}

/**
 * Apollo Server refuses some requests before parsing with an uncoded error and HTTP 400 (a persisted-
 * query hash that does not match its query, an unknown persisted-query version), which its formatting
 * would code INTERNAL_SERVER_ERROR: they are the client's, BAD_REQUEST like Apollo's other refusals.
 */
export function codeRequestErrors(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (formatted.extensions?.code !== ErrorCode.INTERNAL_SERVER_ERROR || !(error instanceof GraphQLError)) return formatted;
  const { code, http } = error.extensions as { code?: unknown; http?: { status?: number } };
  if (code !== undefined || http?.status !== 400) return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_REQUEST } };
}
