/** Subgraphs trust only the gateway: every request must carry a valid signature over itself. */
import { DEFAULT_IDENTITY_TTL_MS } from '../../common/signedIdentity';
import { SUBGRAPH_NAMES } from '../../common/config';
import { executive, principal, useHarness } from './harness';

const harness = useHarness();

const query = '{ me { id displayName } }';

describe.each(SUBGRAPH_NAMES)('%s subgraph', (subgraph) => {
  const anyQuery = subgraph === 'users' ? query : subgraph === 'tenants' ? '{ tenant { id name } }' : '{ _service { sdl } }';

  test.each([
    ['unsigned', () => ({})],
    ['signed with another secret (forged)', () => harness().sign(executive, anyQuery, undefined, { secret: 'f'.repeat(40) })],
    ['expired', () => harness().sign(executive, anyQuery, undefined, { nowMs: Date.now() - DEFAULT_IDENTITY_TTL_MS - 1000 })],
    ['replayed with another query', () => harness().sign(executive, '{ __typename }')],
  ])('refuses a request %s: 401 INVALID_SIGNATURE, no warehouse call', async (_name, headers) => {
    const response = await harness().request(subgraph, anyQuery, { headers: headers() });
    expect(response.status).toBe(401);
    expect(response.errors?.[0].extensions?.code).toBe('INVALID_SIGNATURE');
    expect(response.data).toBeUndefined();
    expect(harness().queries).toEqual([]);
  });
});

test('a signature binds the variables too', async () => {
  const byId = 'query($id: ID!) { user(id: $id) { displayName } }';
  const headers = harness().sign(executive, byId, { id: '00uic1' });
  const replayed = await harness().request('users', byId, { variables: { id: '00uvp' }, headers });
  expect(replayed.status).toBe(401);
  const genuine = await harness().request('users', byId, { variables: { id: '00uic1' }, headers });
  expect(genuine).toMatchObject({ status: 200, data: { user: { displayName: 'Ivan Engineer' } } });
});

test('the tenant comes from the signature: the same user id in another tenant is another person', async () => {
  const acme = await harness().request('users', query, { as: principal('00uceo', ['executive'], 'acme') });
  const globex = await harness().request('users', query, { as: principal('00uceo', ['executive'], 'globex') });
  expect(acme.data).toEqual({ me: { id: '00uceo', displayName: 'Ada Chief' } });
  expect(globex.data).toEqual({ me: { id: '00uceo', displayName: 'Globex Boss' } });
});

test('a warehouse-backed response reports its usage in extensions.warehouse', async () => {
  const response = await harness().request('users', query, { as: executive });
  expect(response.extensions?.warehouse).toEqual({
    processedBytes: expect.any(Number), billedBytes: expect.any(Number), queries: 1, cacheHits: 0, cacheMisses: 0, queryDurationsMs: [expect.any(Number)], dryRuns: [], overheadJobs: 0, overheadBilledBytes: 0,
  });
  expect(response.extensions?.warehouse.processedBytes).toBeGreaterThan(0);
  expect(response.extensions?.warehouse.billedBytes).toBe(10 * 1024 * 1024); // BigQuery's 10 MiB minimum
});

test('a response without warehouse work reports zero usage', async () => {
  const response = await harness().request('metrics', '{ _service { sdl } }', { as: executive });
  expect(response.extensions?.warehouse).toEqual({ processedBytes: 0, billedBytes: 0, queries: 0, cacheHits: 0, cacheMisses: 0, queryDurationsMs: [], dryRuns: [], overheadJobs: 0, overheadBilledBytes: 0 });
});
