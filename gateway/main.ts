/**
 * `tsx gateway/main.ts` — the gateway as its own process (npm start runs it beside the subgraphs).
 * The only gateway file reading the environment: composes the supergraph with the configured subgraph
 * URLs, opens the budget store and ledger, listens on PORT, and closes cleanly on SIGINT/SIGTERM.
 */
import { runCli } from '../cli/args';
import { openBudgetChangeFeed } from '../budgets/changeFeed';
import { openLedger } from '../budgets/openLedger';
import { openBudgetStore } from '../budgets/openStore';
import { loadConfig } from '../common/config';
import { startGateway } from '.';
import { bytegateSubgraphs, composeSupergraph } from './supergraph';

runCli('tsx gateway/main.ts', async () => {
  const config = loadConfig(process.env);
  for (const warning of config.warnings) console.warn(`warning: ${warning}`);

  const supergraphSdl = composeSupergraph(bytegateSubgraphs(config.subgraphUrls));
  const budgets = {
    store: await openBudgetStore(config),
    ledger: await openLedger(config),
    changes: config.redisUrl ? await openBudgetChangeFeed(config.redisUrl) : undefined,
  };
  const gateway = await startGateway(config, { supergraphSdl, budgets });
  console.log(`gateway on ${gateway.url}`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log(`gateway: ${signal}, closing`);
  await gateway.close();
  await Promise.all([budgets.store.close(), budgets.ledger.close(), budgets.changes?.close()]);
});
