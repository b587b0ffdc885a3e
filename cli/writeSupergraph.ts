/** npm run schema — rewrites schema/supergraph.graphql from the subgraphs' typeDefs (default local URLs). */
import fs from 'node:fs';
import path from 'node:path';
import { COMMITTED_SUPERGRAPH_PATH, composeDefaultSupergraph } from '../gateway/supergraph';
import { runMain } from '../common/runMain';
import { type Usage, parseFlags, usageText } from '../common/args';

const USAGE = {
  command: 'npm run schema',
  synopsis: [],
  summary: 'Rewrites schema/supergraph.graphql: the composition of the subgraphs\' typeDefs with the default local URLs (test/gateway/supergraph.test.ts fails while it is stale).',
  flags: {},
  examples: ['npm run schema && git diff schema/supergraph.graphql'],
} satisfies Usage;

runMain(usageText(USAGE), async () => {
  parseFlags(process.argv.slice(2), USAGE);
  fs.writeFileSync(COMMITTED_SUPERGRAPH_PATH, composeDefaultSupergraph());
  console.log(`wrote ${path.relative(process.cwd(), COMMITTED_SUPERGRAPH_PATH)}`);
});
