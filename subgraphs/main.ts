/**
 * `npm run subgraph -- <users|tenants|metrics>` — one subgraph as its own process (npm start
 * runs one per subgraph). Reads the environment (common/config.ts), opens the warehouse (DuckDB or
 * BigQuery, metering bytegate's own jobs for `/metrics`) and the aggregate cache, listens on
 * HOST:config.subgraphPorts[name], and on SIGINT/SIGTERM drains (not ready for SHUTDOWN_DELAY_MS, then
 * requests in flight get SHUTDOWN_TIMEOUT_MS) and closes.
 */
import { SUBGRAPH_NAMES, type SubgraphName, loadConfig } from '../common/config';
import { createLog, logConfigWarnings } from '../common/log';
import { VERSION } from '../common/version';
import { openWarehouse } from '../warehouse/openWarehouse';
import { createOverheadMeter } from '../warehouse/overhead';
import { type Usage, parseFlags, usageText } from '../common/args';
import { UsageError, runMain, terminationSignal } from '../common/runMain';
import { openAggregateCache } from './common/aggregateCache';
import { startSubgraph } from '.';

const USAGE = {
  command: 'npm run subgraph --',
  synopsis: [SUBGRAPH_NAMES.join('|')],
  operands: true,
  summary: 'One subgraph alone, configured only by the environment (README "Configuration": HOST, its port — USERS_PORT, TENANTS_PORT or METRICS_PORT —, the secrets, WAREHOUSE, DATA_DIR, REDIS_URL, …); npm start runs one per subgraph.',
  flags: {},
  notes: ['It stops on SIGTERM or SIGINT: /readyz answers 503 for SHUTDOWN_DELAY_MS while it still serves, then requests in flight get SHUTDOWN_TIMEOUT_MS.'],
  examples: ['npm run subgraph -- users', 'HOST=0.0.0.0 NODE_ENV=production SUBGRAPH_SECRET=… JWT_SECRET=… npm run subgraph -- metrics'],
} satisfies Usage;

runMain(usageText(USAGE), async () => {
  const names = parseFlags(process.argv.slice(2), USAGE).positionals;
  const name = names[0];
  if (names.length !== 1 || !SUBGRAPH_NAMES.includes(name as SubgraphName)) throw new UsageError(`name one subgraph: ${SUBGRAPH_NAMES.join(', ')} (got ${names.length === 0 ? 'none' : names.join(' ')}).`);
  const config = loadConfig(process.env);
  const log = createLog(name, config.logLevel);
  logConfigWarnings(log, config.warnings);

  const overhead = createOverheadMeter();
  const warehouse = await openWarehouse(config, VERSION, { overhead, log: (message) => log.warn(message) });
  const aggregates = config.cacheTtlMs > 0
    ? await openAggregateCache({ redisUrl: config.redisUrl, ttlMs: config.cacheTtlMs, log: (message) => log.warn(message) })
    : undefined;
  const subgraph = await startSubgraph(name as SubgraphName, { warehouse, config, aggregates, log, overhead, port: config.subgraphPorts[name as SubgraphName], host: config.host });
  log.info(`${name} subgraph on ${subgraph.url} (aggregate cache: ${aggregates ? aggregates.status().store : 'off'})`);

  const signal = await terminationSignal(config.shutdown.delayMs + config.shutdown.timeoutMs + STOP_SLACK_MS);
  log.info(`${name} subgraph: ${signal}, draining (${config.shutdown.delayMs} ms not ready, then up to ${config.shutdown.timeoutMs} ms for requests in flight)`);
  await subgraph.close(config.shutdown);
  await Promise.all([warehouse.close(), aggregates?.close()]);
});

/** What closing the warehouse and the cache may take after the HTTP server stopped. */
const STOP_SLACK_MS = 5000;
