import fs from 'node:fs';
import { parse } from 'graphql';
import { COMMITTED_SUPERGRAPH_PATH, CompositionError, composeDefaultSupergraph, composeSupergraph } from '../../gateway/supergraph';

test('schema/supergraph.graphql is the current composition of the subgraphs', () => {
  const committed = fs.existsSync(COMMITTED_SUPERGRAPH_PATH) ? fs.readFileSync(COMMITTED_SUPERGRAPH_PATH, 'utf8') : '';
  if (committed !== composeDefaultSupergraph()) {
    throw new Error('schema/supergraph.graphql is stale: run `npm run schema` and commit the result.');
  }
});

test('composition errors are listed in the thrown message', () => {
  const a = { name: 'a', url: 'http://a', typeDefs: parse('type Query { x: Int } type T { id: ID! }') };
  const b = { name: 'b', url: 'http://b', typeDefs: parse('type Query { x: String } type T { id: ID! }') };
  expect(() => composeSupergraph([a, b])).toThrow(CompositionError);
  expect(() => composeSupergraph([a, b])).toThrow(/composition failed with \d+ error\(s\):\n {2}- \[[A-Z_]+\] /);
});
