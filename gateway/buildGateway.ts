/**
 * The gateway, wired: Apollo Gateway on Apollo Server, served by the shared HTTP integration. Each
 * stage of the request path lives in its own folder; this file only connects them, in order:
 *
 *   1. auth/           the bearer token → principal, before the body is parsed (no principal, no operation)
 *   2. limits/         body, tokens, depth, aliases, scalar values, one runnable operation
 *   3. cost/           the operation planned (warehouse jobs, demand-control points) and priced in BigQuery bytes
 *   4. responseCache/  a stored answer served instead: no price, no reservation, 0 bytes billed
 *   5. admission/      per-query caps, the daily budget reserved … settled, `extensions.cost`
 *   6. execute/        Apollo's plan over the subgraphs, each fetch carrying the caller's signed identity
 *      admin/          the budgets admin subgraph, served in-process
 * A request identical to one answered before whose answer is stored skips Apollo Server altogether
 * (warmPath.ts): authenticated, keyed and served from the stored bytes.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import type { GraphQLError } from 'graphql';
import type { DataChangeFeed } from '../common/changeFeed';
import type { DemoLoadingReport } from '../common/demoLoading';
import { type Config, DEV_JWT_SECRET } from '../common/config';
import { limitDefaults } from '../budgets/policy';
import { codeRequestErrors, keepInputErrorCode } from '../common/errors';
import { createGraphqlHttpServer } from '../common/http/graphqlHttpServer';
import { type ApolloLogger, REQUEST_ID_HEADER, requestIdFrom, silentLog } from '../common/log';
import { BUDGETS_SUBGRAPH, budgetsDataSource } from './admin';
import { createAdmission } from './admission/admissionPlugin';
import { type Budgets, createBudgetGuard } from './admission/budgetGuard';
import { COST_MODE_HEADER } from './admission/operationCost';
import { createAuthenticator } from './auth/authenticate';
import { consoleRoutes } from './console/routes';
import type { GatewayContext } from './context';
import { createPricer } from './cost/pricer';
import type { FetchStatistics } from './cost/statistics';
import { answeringIntrospection } from './execute/introspection';
import { subgraphDataVersions, subgraphKnownUsers, subgraphStatistics } from './execute/internalFetch';
import { SignedIdentityDataSource } from './execute/subgraphDataSource';
import { operationLimits } from './limits';
import { adoptScalarInputCoercion } from './limits/scalarInputCoercion';
import { type GatewayObservability, createGatewayObservability, operationRecord, requestIdHeader } from './observability';
import type { PersistedQueryStore } from './persistedQueries';
import { readiness } from './readiness';
import { type AnswerStore, createResponseCache, requestKeyOf } from './responseCache/responseCache';
import { warmPath } from './warmPath';

export interface GatewayDeps {
  /** Composed by gateway/supergraph.ts; its `@join__graph` URLs are where subgraph fetches go. */
  supergraphSdl: string;
  /** Clock for token expiry and identity signatures, epoch ms; default Date.now. */
  now?: () => number;
  /** For Apollo Server and Apollo Gateway; default Apollo's console logger. */
  logger?: ApolloLogger;
  /** Statistics for the estimator; default: asked from the subgraph serving them. */
  fetchStatistics?: FetchStatistics;
  /** false: no estimation or enforcement at all — only for benchmarks' same-run baseline. */
  costControl?: boolean;
  /** Budget store and ledger: daily budgets and the budgets subgraph. Required by bytegate's supergraph. */
  budgets?: Budgets;
  /** Metrics (/metrics) and per-operation logs; default: the metrics without process metrics, no logs. */
  observability?: GatewayObservability;
  /** Where whole answers are stored (responseCache/responseCache.ts openAnswerStore); without it every operation runs. */
  answers?: AnswerStore;
  /** Writes announced by ingest and metadata checks (REDIS_URL): the tenant's statistics and data versions are read afresh at once. */
  dataChanges?: DataChangeFeed;
  /** Data still loading (the first run's demo data: common/demoLoading.ts), reported on /readyz. */
  loading?: () => DemoLoadingReport | undefined;
  /** Automatic persisted queries' documents (persistedQueries.ts; shared by replicas with REDIS_URL); default: Apollo Server's, in this process. */
  persistedQueries?: PersistedQueryStore;
}

export interface Gateway {
  /** Not started: call `apollo.start()` before serving. */
  apollo: ApolloServer<GatewayContext>;
  /** Not listening. */
  httpServer: http.Server;
}

export function buildGateway(config: Config, deps: GatewayDeps): Gateway {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? console;
  const observability = deps.observability ?? createGatewayObservability(silentLog, { processMetrics: false });
  /** Subgraph name → URL, as the supergraph declares them (recorded when the gateway builds its data sources). */
  const subgraphUrls = new Map<string, string>();
  let schemaLoaded = false;

  // 1. auth
  const authenticate = createAuthenticator(config.auth, { now });
  // 2. limits
  const limits = operationLimits(config.limits);
  // 3. cost
  const pricer = createPricer({
    maxRangeDays: config.limits.maxRangeDays, maxPageSize: config.limits.maxPageSize, statisticsTtlMs: config.costStatisticsTtlMs,
    statisticsFrom: (url) => subgraphStatistics(url, config.subgraphSecret, now), fetchStatistics: deps.fetchStatistics, now,
  });
  /** The subgraph serving the internal fields (statistics, data versions), as the supergraph declares it. */
  let internalUrl: string | undefined;
  const loadCostIndex = (supergraphSdl: string) => {
    const index = pricer.load(supergraphSdl);
    internalUrl = index.statisticsSubgraph && index.subgraphUrls.get(index.statisticsSubgraph);
  };
  loadCostIndex(deps.supergraphSdl); // an unpriced warehouse field stops the gateway here
  // 4. response cache
  const responseCache = deps.answers && createResponseCache(deps.answers, {
    versionsMaxAgeMs: config.costStatisticsTtlMs, now,
    fetchVersions: (tenant) => (internalUrl ? subgraphDataVersions(internalUrl, config.subgraphSecret, now)(tenant) : Promise.resolve([])),
  });
  deps.dataChanges?.subscribe(({ tenant }) => {
    pricer.invalidate(tenant);
    responseCache?.forgetVersions(tenant);
  });
  // 5. admission
  const budgetDefaults = limitDefaults(config);
  const guard = deps.budgets && createBudgetGuard({ limitDefaults: budgetDefaults, ...config.budgets }, deps.budgets, logger, now);
  // A change made through any replica drops the limits every replica cached for that tenant.
  deps.budgets?.changes?.subscribe((tenant) => guard?.forget(tenant));
  const admissionOptions = { costMode: config.costMode, maxQueryBytes: config.maxQueryBytes, maxQueryPoints: config.maxQueryPoints, pricePerTibUsd: config.pricePerTibUsd };
  const admission = createAdmission(admissionOptions, {
    pricer, responseCache, guard, onResponse: (context, response) => observability.operation(operationRecord(context as GatewayContext, response)),
  });
  // 6. execute
  const gateway = new ApolloGateway({
    supergraphSdl: deps.supergraphSdl,
    logger: deps.logger,
    buildService: ({ name, url }) => {
      if (name === BUDGETS_SUBGRAPH) {
        if (!deps.budgets) throw new Error('The supergraph has the budgets subgraph, which needs a budget store and ledger (GatewayDeps.budgets).');
        const budgets = deps.budgets;
        return budgetsDataSource({ limitDefaults: budgetDefaults, ...config.limits }, budgets, (tenant) => {
          guard?.forget(tenant);
          void budgets.changes?.publish(tenant);
        }, logger, subgraphKnownUsers(subgraphUrls, config.subgraphSecret, now));
      }
      if (!url) throw new Error(`The supergraph declares no URL for subgraph ${name}.`);
      subgraphUrls.set(name, url);
      return new SignedIdentityDataSource(name, url, {
        secret: config.subgraphSecret, timeoutMs: config.subgraphTimeoutMs, retryMs: config.subgraphRetryMs, now, observability,
        onResponse: (context, extensions, errorCodes) => admission.observe(context, extensions, errorCodes),
      });
    },
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    adoptScalarInputCoercion(apiSchema);
    loadCostIndex(coreSupergraphSdl);
    responseCache?.forgetOperations();
    schemaLoaded = true;
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway: answeringIntrospection(gateway),
    logger: deps.logger,
    introspection: true, // BI connectors introspect (public contract)
    ...(deps.persistedQueries ? { persistedQueries: { cache: deps.persistedQueries } } : {}),
    includeStacktraceInErrorResponses: false,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    plugins: [requestIdHeader(), limits.plugin, ...(deps.costControl === false ? [] : [admission.plugin])],
    formatError: (formatted, error) => codeRequestErrors(keepInputErrorCode(limits.formatError(formatted, error), error), error),
    // Apollo's CSRF prevention guards cookie-authenticated servers; bytegate reads credentials only from
    // the Authorization header, which a cross-site form or <img> cannot set, and BI tools send plain GETs.
    // https://www.apollographql.com/docs/apollo-server/security/cors#preventing-cross-site-request-forgery-csrf
    csrfPrevention: false,
    // main.ts owns SIGINT/SIGTERM and closes the HTTP server before Apollo.
    stopOnTerminationSignals: false,
  });

  const consolePages = consoleRoutes({
    pricePerTibUsd: config.pricePerTibUsd,
    maxQueryBytes: config.maxQueryBytes,
    oidc: config.auth.kind === 'jwks' && config.auth.consoleClientId
      ? { issuer: config.auth.issuer, clientId: config.auth.consoleClientId, audience: config.auth.audience } : undefined,
    devSecret: config.auth.kind === 'hs256' && config.auth.secret === DEV_JWT_SECRET ? DEV_JWT_SECRET : undefined,
  });
  /** The HTTP request's caller, authenticated once however many operations its batch holds, and the request's batch id. */
  const callers = new WeakMap<http.IncomingMessage, Promise<Pick<GatewayContext, 'principal' | 'requestId' | 'startedAt'> & { batch: string }>>();
  const callerOf = (request: http.IncomingMessage) => {
    let caller = callers.get(request);
    if (!caller) {
      const startedAt = performance.now();
      const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
      caller = authenticate(request.headers.authorization).then(
        (principal) => ({ principal, requestId, startedAt, batch: randomUUID() }),
        (error: unknown) => {
          observability.refused(String((error as GraphQLError).extensions?.code ?? 'UNCODED'), requestId);
          throw error;
        },
      );
      callers.set(request, caller);
    }
    return caller;
  };
  const httpServer = createGraphqlHttpServer<GatewayContext>({
    apollo,
    context: async (request, _body, _clientGone, raw, inBatch) => {
      const { principal, requestId, startedAt, batch } = await callerOf(request);
      const requestKey = requestKeyOf(request.method, new URL(request.url ?? '/', 'http://localhost').search, raw);
      return { principal, requestId, startedAt, batch: inBatch ? batch : undefined, cost: admission.begin(request.headers[COST_MODE_HEADER], requestKey) };
    },
    maxBodyBytes: limits.maxBodyBytes,
    maxBatchOperations: config.limits.maxBatchOperations,
    readiness: () => readiness(schemaLoaded, subgraphUrls, guard?.status(), deps.answers?.status(), deps.loading?.()),
    routes: { '/metrics': observability.metricsRoute, ...consolePages.routes },
    browserPage: consolePages.browserPage,
    intercept: responseCache && warmPath({ authenticate, responseCache, guard, report: admissionOptions, observability }),
  });
  return { apollo, httpServer };
}
