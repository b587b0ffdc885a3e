/**
 * `tsx subgraphs/main.ts <users|tenants|metrics>` — one subgraph as its own process (npm start
 * runs one per subgraph). Reads the environment (common/config.ts), opens the warehouse (DuckDB or
 * BigQuery, metering bytegate's own jobs for `/metrics`) and the aggregate cache, listens on
 * config.subgraphPorts[name], and closes cleanly on SIGINT/SIGTERM.
 */
import { SUBGRAPH_NAMES, type SubgraphName, loadConfig } from '../common/config';
import { createLog, logConfigWarnings } from '../common/log';
import { VERSION } from '../common/version';
import { openWarehouse } from '../warehouse/openWarehouse';
import { createOverheadMeter } from '../warehouse/overhead';
import { UsageError, runMain } from '../common/runMain';
import { openAggregateCache } from './common/aggregateCache';
import { startSubgraph } from '.';

runMain(`tsx subgraphs/main.ts <${SUBGRAPH_NAMES.join('|')}>`, async () => {
  const name = process.argv[2];
  if (!SUBGRAPH_NAMES.includes(name as SubgraphName)) throw new UsageError(`unknown subgraph "${name ?? ''}".`);
  const config = loadConfig(process.env);
  const log = createLog(name, config.logLevel);
  logConfigWarnings(log, config.warnings);

  const overhead = createOverheadMeter();
  const warehouse = await openWarehouse(config, VERSION, { overhead, log: (message) => log.warn(message) });
  const aggregates = config.cacheTtlMs > 0
    ? await openAggregateCache({ redisUrl: config.redisUrl, ttlMs: config.cacheTtlMs, log: (message) => log.warn(message) })
    : undefined;
  const subgraph = await startSubgraph(name as SubgraphName, { warehouse, config, aggregates, log, overhead, port: config.subgraphPorts[name as SubgraphName] });
  log.info(`${name} subgraph on ${subgraph.url} (aggregate cache: ${aggregates ? aggregates.status().store : 'off'})`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info(`${name} subgraph: ${signal}, closing`);
  await subgraph.close();
  await Promise.all([warehouse.close(), aggregates?.close()]);
});
