/** npm run schema — rewrites schema/supergraph.graphql from the subgraphs' typeDefs (default local URLs). */
import fs from 'node:fs';
import path from 'node:path';
import { COMMITTED_SUPERGRAPH_PATH, composeDefaultSupergraph } from '../gateway/supergraph';
import { runMain } from '../common/runMain';

runMain('npm run schema', async () => {
  fs.writeFileSync(COMMITTED_SUPERGRAPH_PATH, composeDefaultSupergraph());
  console.log(`wrote ${path.relative(process.cwd(), COMMITTED_SUPERGRAPH_PATH)}`);
});
