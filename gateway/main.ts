/**
 * `tsx gateway/main.ts` — the gateway as its own process (npm start runs it beside the subgraphs).
 * The only gateway file reading the environment: composes the supergraph with the configured subgraph
 * URLs, opens the budget store and ledger (with REDIS_URL also the budget and data change feeds),
 * listens on PORT (GraphQL, /healthz, /readyz, /metrics), logs JSON to stdout (LOG_LEVEL), and
 * closes cleanly on SIGINT/SIGTERM.
 */
import { runMain } from '../common/runMain';
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

runMain('tsx gateway/main.ts', async () => {
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
  const gateway = await startGateway(config, { supergraphSdl, budgets, answers, dataChanges, persistedQueries, loading, logger: log, observability: createGatewayObservability(log) });
  log.info(`gateway on ${gateway.url} (metrics on /metrics; response cache: ${answers ? answers.status().store : 'off'}; persisted queries: ${persistedQueries.status().store})`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info(`gateway: ${signal}, closing`);
  await gateway.close();
  await Promise.all([budgets.store.close(), budgets.ledger.close(), budgets.changes?.close(), answers?.close(), dataChanges?.close(), persistedQueries.close()]);
});
