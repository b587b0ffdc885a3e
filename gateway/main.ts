/**
 * `npm run gateway` — the gateway as its own process (npm start runs it beside the subgraphs).
 * The only gateway file reading the environment: composes the supergraph with the configured subgraph
 * URLs, opens the budget store and ledger (with REDIS_URL also the budget and data change feeds),
 * listens on HOST:PORT (GraphQL, /healthz, /readyz, /metrics), logs JSON to stdout (LOG_LEVEL), and on
 * SIGINT/SIGTERM drains (not ready for SHUTDOWN_DELAY_MS, then requests in flight get SHUTDOWN_TIMEOUT_MS)
 * and closes.
 */
import { type Usage, parseFlags, usageText } from '../common/args';
import { runMain, terminationSignal } from '../common/runMain';
import { openBudgetChangeFeed } from '../budgets/changeFeed';
import { openLedger } from '../budgets/openLedger';
import { openBudgetStore } from '../budgets/openStore';
import { openDataChangeFeed } from '../common/changeFeed';
import { loadConfig } from '../common/config';
import { demoLoadingReport } from '../common/demoLoading';
import { createLog, logConfigWarnings } from '../common/log';
import { createGatewayObservability } from './observability';
import { openAnswerStore } from './responseCache/responseCache';
import { openPersistedQueries } from './persistedQueries';
import { startGateway } from '.';
import { bytegateSubgraphs, composeSupergraph } from './supergraph';

const USAGE = {
  command: 'npm run gateway',
  synopsis: [],
  summary: 'The gateway alone, configured only by the environment (README "Configuration": HOST, PORT, USERS_URL, TENANTS_URL, METRICS_URL, the secrets, REDIS_URL, …); npm start runs it beside the subgraphs.',
  flags: {},
  notes: ['It stops on SIGTERM or SIGINT: /readyz answers 503 for SHUTDOWN_DELAY_MS while it still serves, then requests in flight get SHUTDOWN_TIMEOUT_MS.'],
  examples: ['HOST=0.0.0.0 NODE_ENV=production JWT_SECRET=… SUBGRAPH_SECRET=… USERS_URL=http://users:4001/graphql npm run gateway'],
} satisfies Usage;

runMain(usageText(USAGE), async () => {
  parseFlags(process.argv.slice(2), USAGE);
  const config = loadConfig(process.env);
  const log = createLog('gateway', config.logLevel);
  logConfigWarnings(log, config.warnings);

  const supergraphSdl = composeSupergraph(bytegateSubgraphs(config.subgraphUrls));
  const budgets = {
    store: await openBudgetStore(config),
    ledger: await openLedger(config),
    changes: config.redisUrl ? await openBudgetChangeFeed(config.redisUrl) : undefined,
  };
  const answers = config.cacheTtlMs > 0
    ? await openAnswerStore({ redisUrl: config.redisUrl, ttlMs: config.cacheTtlMs, maxBytes: config.responseCacheMaxBytes, log: (message) => log.warn(message) })
    : undefined;
  const dataChanges = config.redisUrl ? await openDataChangeFeed(config.redisUrl) : undefined;
  const persistedQueries = await openPersistedQueries({ redisUrl: config.redisUrl, log: (message) => log.warn(message) });
  const loading = config.warehouse === 'duckdb' ? () => demoLoadingReport(config.dataDir) : undefined;
  const gateway = await startGateway(config, { host: config.host, supergraphSdl, budgets, answers, dataChanges, persistedQueries, loading, logger: log, observability: createGatewayObservability(log) });
  log.info(`gateway on ${gateway.url} (metrics on /metrics; response cache: ${answers ? answers.status().store : 'off'}; persisted queries: ${persistedQueries.status().store})`);

  const signal = await terminationSignal(config.shutdown.delayMs + config.shutdown.timeoutMs + STOP_SLACK_MS);
  log.info(`gateway: ${signal}, draining (${config.shutdown.delayMs} ms not ready, then up to ${config.shutdown.timeoutMs} ms for requests in flight)`);
  await gateway.close(config.shutdown);
  await Promise.all([budgets.store.close(), budgets.ledger.close(), budgets.changes?.close(), answers?.close(), dataChanges?.close(), persistedQueries.close()]);
});

/** What closing the stores may take after the HTTP server stopped. */
const STOP_SLACK_MS = 5000;
