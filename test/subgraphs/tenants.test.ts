/** The tenants subgraph: the caller's tenant, from the signature only. */
import { DAYS } from './fixture';
import { codes, entitiesQuery, executive, principal, useHarness, viewer } from './harness';

const harness = useHarness();

const query = '{ tenant { id name dataRange { from to } } }';

test('is the caller\'s tenant, with the days its events span', async () => {
  const response = await harness().request('tenants', query, { as: viewer });
  expect(response.data).toEqual({ tenant: { id: 'acme', name: 'Acme Corp', dataRange: { from: DAYS[0], to: DAYS[2] } } });
  expect(harness().queries).toEqual(['tenantName']); // dataRange reads partition statistics, not the table
});

test('another tenant\'s caller gets their own tenant', async () => {
  const response = await harness().request('tenants', query, { as: principal('00uceo', ['executive'], 'globex') });
  expect(response.data).toEqual({ tenant: { id: 'globex', name: 'Globex', dataRange: { from: DAYS[0], to: DAYS[1] } } });
});

test('a tenant without events has no data range', async () => {
  const response = await harness().request('tenants', query, { as: principal('00uadmin', ['quota-admin'], 'empty') });
  expect(response.data).toEqual({ tenant: { id: 'empty', name: 'Empty Inc', dataRange: null } });
});

test('an unknown tenant is BAD_USER_INPUT, without a warehouse query', async () => {
  const response = await harness().request('tenants', query, { as: principal('00uceo', ['executive'], 'nosuchtenant') });
  expect(response.errors).toMatchObject([{ message: 'Unknown tenant "nosuchtenant": it has no dataset.', extensions: { code: 'BAD_USER_INPUT' } }]);
  expect(harness().queries).toEqual([]);
});

test('a Tenant entity reference resolves only the caller\'s tenant', async () => {
  const representations = [{ __typename: 'Tenant', id: 'acme' }, { __typename: 'Tenant', id: 'globex' }];
  const response = await harness().request('tenants', entitiesQuery('Tenant', 'id name'), { as: executive, variables: { representations } });
  expect(response.data._entities).toEqual([{ id: 'acme', name: 'Acme Corp' }, null]);
  expect(codes(response)).toEqual(['FORBIDDEN']);
});
