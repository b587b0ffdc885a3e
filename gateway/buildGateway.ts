/**
 * The gateway: Apollo Gateway on Apollo Server, served by the shared HTTP integration. Every /graphql
 * request is authenticated before parsing (no principal, no operation); operations over the limits
 * fail validation, so they reach no subgraph; each subgraph fetch carries the caller's identity,
 * signed over that very fetch (gateway/subgraphDataSource.ts).
 */
import type http from 'node:http';
import { ApolloServer, type ApolloServerOptions, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import { type ASTVisitor, GraphQLError, GraphQLScalarType, type GraphQLSchema, type ValidationContext } from 'graphql';
import { badUserInput, codeRequestErrors, keepInputErrorCode } from '../common/errors';
import type { Config } from '../common/config';
import { type Readiness, createGraphqlHttpServer } from '../common/http/graphqlHttpServer';
import { REQUEST_ID_HEADER, requestIdFrom, silentLog } from '../common/log';
import type { Principal } from '../common/principal';
import { createAuthenticator } from './auth';
import { COST_MODE_HEADER, type CostContext, type ResponseSummary, createCostControl } from './cost/costControl';
import type { FetchStatistics } from './cost/statistics';
import { BUDGETS_SUBGRAPH, budgetsDataSource } from './budgets';
import { type Budgets, type LedgerStatus, createBudgetGuard } from './budgets/budgetGuard';
import { type GatewayObservability, createGatewayObservability } from './observability';
import { SignedIdentityDataSource } from './subgraphDataSource';
import { SCALARS } from '../subgraphs/common/scalars';
import { MaxAliasesRule, MaxDepthRule, formatLimitErrors } from './operationLimits';

export interface GatewayContext extends BaseContext, CostContext {
  /** From the verified token; the only source of the tenant. */
  readonly principal: Principal;
  /** x-request-id (common/log.ts): answered in the response header, passed to every subgraph fetch. */
  readonly requestId: string;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
}

export type Logger = NonNullable<ApolloServerOptions<BaseContext>['logger']>;

export interface GatewayDeps {
  /** Composed by gateway/supergraph.ts; its `@join__graph` URLs are where subgraph fetches go. */
  supergraphSdl: string;
  /** Clock for token expiry and identity signatures, epoch ms; default Date.now. */
  now?: () => number;
  /** For Apollo Server and Apollo Gateway; default Apollo's console logger. */
  logger?: Logger;
  /** Statistics for the estimator; default: asked from the subgraph serving them. */
  fetchStatistics?: FetchStatistics;
  /** false: no estimation or enforcement at all — only for benchmarks' same-run baseline. */
  costControl?: boolean;
  /** Budget store and ledger: daily budgets and the budgets subgraph. Required by bytegate's supergraph. */
  budgets?: Budgets;
  /** Metrics (/metrics) and per-operation logs; default: the metrics without process metrics, no logs. */
  observability?: GatewayObservability;
}

export interface Gateway {
  /** Not started: call `apollo.start()` before serving. */
  apollo: ApolloServer<GatewayContext>;
  /** Not listening. */
  httpServer: http.Server;
}

/** How long /readyz waits for a subgraph's /healthz. */
const SUBGRAPH_PROBE_TIMEOUT_MS = 1000;

export function buildGateway(config: Config, deps: GatewayDeps): Gateway {
  const now = deps.now ?? Date.now;
  const authenticate = createAuthenticator(config.auth, { now });
  /** Subgraph name → URL, as the supergraph declares them (recorded when the gateway builds its data sources). */
  const subgraphUrls = new Map<string, string>();
  let schemaLoaded = false;
  const guard = deps.budgets && createBudgetGuard(config, deps.budgets, deps.logger ?? console, now);
  // A change made through any replica drops the limits every replica cached for that tenant.
  deps.budgets?.changes?.subscribe((tenant) => guard?.forget(tenant));
  const observability = deps.observability ?? createGatewayObservability(silentLog, { processMetrics: false });
  const costControl = createCostControl(config, {
    fetchStatistics: deps.fetchStatistics, guard, now,
    onResponse: (context, response) => observeOperation(observability, context as GatewayContext, response),
  });
  costControl.load(deps.supergraphSdl); // an unpriced warehouse field stops the gateway here

  const gateway = new ApolloGateway({
    supergraphSdl: deps.supergraphSdl,
    logger: deps.logger,
    buildService: ({ name, url }) => {
      if (name === BUDGETS_SUBGRAPH) {
        if (!deps.budgets) throw new Error('The supergraph has the budgets subgraph, which needs a budget store and ledger (GatewayDeps.budgets).');
        const budgets = deps.budgets;
        return budgetsDataSource(config, budgets, (tenant) => {
          guard?.forget(tenant);
          void budgets.changes?.publish(tenant);
        }, deps.logger ?? console);
      }
      if (!url) throw new Error(`The supergraph declares no URL for subgraph ${name}.`);
      subgraphUrls.set(name, url);
      return new SignedIdentityDataSource(name, url, { secret: config.subgraphSecret, timeoutMs: config.subgraphTimeoutMs, now, costControl, observability });
    },
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    adoptInputCoercion(apiSchema);
    costControl.load(coreSupergraphSdl);
    schemaLoaded = true;
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: deps.logger,
    introspection: true, // BI connectors introspect (public contract)
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: [MaxDepthRule(config.limits.maxDepth), MaxAliasesRule(config.limits.maxAliases), UnplannableIntrospectionRule],
    plugins: [requestIdHeader(), requireOperation(), ...(deps.costControl === false ? [] : [costControl.plugin])],
    formatError: (formatted, error) => codeRequestErrors(keepInputErrorCode(formatLimitErrors(formatted, error), error), error),
    // Apollo's CSRF prevention guards cookie-authenticated servers; bytegate reads credentials only from
    // the Authorization header, which a cross-site form or <img> cannot set, and BI tools send plain GETs.
    // https://www.apollographql.com/docs/apollo-server/security/cors#preventing-cross-site-request-forgery-csrf
    csrfPrevention: false,
    // main.ts owns SIGINT/SIGTERM and closes the HTTP server before Apollo.
    stopOnTerminationSignals: false,
  });

  const httpServer = createGraphqlHttpServer<GatewayContext>({
    apollo,
    context: async (request) => {
      const startedAt = performance.now();
      const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
      let principal: Principal;
      try {
        principal = await authenticate(request.headers.authorization);
      } catch (error) {
        observability.refused(String((error as GraphQLError).extensions?.code ?? 'UNCODED'), requestId);
        throw error;
      }
      return { principal, requestId, startedAt, cost: costControl.begin(request.headers[COST_MODE_HEADER]) };
    },
    maxBodyBytes: config.limits.maxBodyBytes,
    readiness: () => readiness(schemaLoaded, subgraphUrls, guard?.status()),
    routes: { '/metrics': observability.metricsRoute },
  });
  return { apollo, httpServer };
}

// Private:

/**
 * The API schema's custom scalars, which composition leaves accepting any value, get the subgraphs'
 * own input coercion (subgraphs/common/scalars.ts): a bad date, or a list where a date belongs, fails
 * validation at the gateway as BAD_USER_INPUT — before planning, before any subgraph is asked.
 */
function adoptInputCoercion(schema: GraphQLSchema): void {
  for (const [name, scalar] of Object.entries(SCALARS)) {
    const type = schema.getType(name);
    if (type instanceof GraphQLScalarType) Object.assign(type, { parseValue: scalar.parseValue, parseLiteral: scalar.parseLiteral });
  }
}

/**
 * graphql-js 16.15 serves `__Type.isOneOf` (oneOf input objects, still an RFC); Apollo Gateway's query
 * planner does not know the field and would fail the operation with HTTP 500. It fails validation
 * instead (400). No bytegate input type is oneOf, so a client loses nothing by leaving it out.
 */
function UnplannableIntrospectionRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      if (node.name.value !== 'isOneOf' || context.getParentType()?.name !== '__Type') return;
      context.reportError(new GraphQLError('Cannot query field "isOneOf" on type "__Type": this gateway does not support it; leave it out (no input type here is oneOf).', { nodes: node }));
    },
  };
}

/**
 * An operation the document does not resolve to (an `operationName` naming none, `""`, or several
 * unnamed operations) is refused before anything is priced, reserved or run — with `operationName: ""`
 * graphql-js chooses none, yet Apollo Gateway would run the only one (and a GET would run a mutation).
 * Subscriptions are refused too: the supergraph has none.
 */
function requireOperation(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (!operation) {
            throw badUserInput(request.operationName === undefined
              ? 'The document has several operations: name the one to run with operationName.'
              : `operationName "${String(request.operationName).slice(0, 64)}" names no operation of the document.`, { http: { status: 400 } });
          }
          if (operation.operation === 'subscription') throw badUserInput('Subscriptions are not supported.', { http: { status: 400 } });
        },
      };
    },
  };
}

/** Answers every operation's request id in the `x-request-id` response header. */
function requestIdHeader(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async willSendResponse({ response }) {
          response.http.headers.set(REQUEST_ID_HEADER, contextValue.requestId);
        },
      };
    },
  };
}

function observeOperation(observability: GatewayObservability, context: GatewayContext, response: ResponseSummary): void {
  const { report } = response;
  observability.operation({
    requestId: context.requestId, tenant: context.principal.tenant, user: context.principal.userId, operationName: response.operationName,
    mode: report.mode, durationMs: performance.now() - context.startedAt, hasData: response.hasData, errorCodes: response.errorCodes,
    rejected: !response.executed, estimatedBilledBytes: report.estimatedBilledBytes, estimatedUsd: report.estimatedUsd,
    billedBytes: report.billedBytes, billedUsd: report.billedUsd, tenantRemainingBytes: report.budget?.tenant.remainingBytes ?? undefined,
  });
}

/**
 * Ready once the schema is loaded. Subgraph reachability (GET <subgraph origin>/healthz) and the
 * budget ledger's state are reported but do not gate readiness: with one subgraph down, operations
 * on the others still succeed, and a ledger outage is handled by its failure policy, so taking the
 * gateway out of rotation would only widen the outage.
 */
async function readiness(schemaLoaded: boolean, subgraphUrls: ReadonlyMap<string, string>, budgets: LedgerStatus | undefined): Promise<Readiness> {
  const probes = await Promise.all([...subgraphUrls].map(async ([name, url]) => [name, await probe(new URL('/healthz', url))] as const));
  return {
    ready: schemaLoaded,
    checks: { schema: schemaLoaded ? 'loaded' : 'loading', subgraphs: Object.fromEntries(probes), ...(budgets ? { budgets } : {}) },
  };
}

async function probe(url: URL): Promise<{ url: string; reachable: boolean; detail?: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(SUBGRAPH_PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.ok ? { url: url.href, reachable: true } : { url: url.href, reachable: false, detail: `HTTP ${response.status}` };
  } catch (error) {
    // fetch reports "fetch failed"; its cause says why (ECONNREFUSED, …).
    const { message, cause } = error as { message?: string; cause?: { code?: string } };
    return { url: url.href, reachable: false, detail: cause?.code ?? message ?? String(error) };
  }
}
