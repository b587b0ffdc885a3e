/**
 * Lookups shared among the subgraph requests of one client HTTP batch (subgraphs/common/batchedLoads.ts):
 * the same caller's requests signed with the same batch share one warehouse query; nothing else does —
 * not another tenant, another user or role, another batch, or a request sent alone.
 */
import type { Principal } from '../../common/principal';
import { executive, principal, useHarness } from './harness';

const harness = useHarness();

const byId = 'query($id: ID!) { user(id: $id) { id displayName } }';

/** Sends one `user(id)` request per entry, concurrently, and answers the display names and the warehouse queries run. */
async function together(requests: { as: Principal; id: string; batch?: string }[]) {
  const answers = await Promise.all(requests.map(({ as, id, batch }) => harness().request('users', byId, { as, variables: { id }, batch })));
  return { names: answers.map((answer) => answer.data?.user?.displayName), queries: harness().queries.filter((name) => name === 'usersById').length };
}

test("one caller's requests of one batch share one directory query, each answered its own user", async () => {
  const { names, queries } = await together(['00uic1', '00uic2', '00umgr'].map((id) => ({ as: executive, id, batch: 'b1' })));
  expect(names).toEqual(['Ivan Engineer', 'Iris Engineer', 'Mia Manager']);
  expect(queries).toBe(1);
});

test('the same batch id under two tenants shares nothing: each tenant reads its own directory', async () => {
  const globex = principal('00uceo', ['executive'], 'globex');
  const { names, queries } = await together([{ as: executive, id: '00uceo', batch: 'b2' }, { as: globex, id: '00uceo', batch: 'b2' }]);
  expect(names).toEqual(['Ada Chief', 'Globex Boss']);
  expect(queries).toBe(2);
});

test('another user or role in the same batch id, another batch, or no batch: separate queries', async () => {
  const otherUser = principal('00uvp', ['executive']);
  const otherRoles = principal('00uceo', ['executive', 'quota-admin']);
  expect((await together([{ as: executive, id: '00uic1', batch: 'b3' }, { as: otherUser, id: '00uic2', batch: 'b3' }])).queries).toBe(2);
  harness().resetQueries();
  expect((await together([{ as: executive, id: '00uic1', batch: 'b4' }, { as: otherRoles, id: '00uic2', batch: 'b4' }])).queries).toBe(2);
  harness().resetQueries();
  expect((await together([{ as: executive, id: '00uic1', batch: 'b5' }, { as: executive, id: '00uic2', batch: 'b6' }])).queries).toBe(2);
  harness().resetQueries();
  expect((await together([{ as: executive, id: '00uic1' }, { as: executive, id: '00uic2' }])).queries).toBe(2);
});
