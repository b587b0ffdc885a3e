/**
 * Introspection as current tools send it (execute/introspection.ts): graphql-js's own introspection
 * query with every option 16.15 knows, `__Type.isOneOf` included, answered from the API schema without
 * Apollo Gateway's planner — nothing reaches a subgraph, nothing is billed, no internal field shows.
 */
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import type { Principal } from '../../common/principal';
import { signDevToken } from '../../gateway/auth/devToken';
import { smallSystem } from './smallSystem';

const viewer: Principal = { tenant: 'acme', userId: 'u1', roles: ['viewer'] };
const system = smallSystem();

test("graphql-js 16.15's full introspection query (oneOf, specifiedBy, repeatable, descriptions, deprecated inputs) is answered, billing nothing, calling no subgraph", async () => {
  const before = system().subgraphOperations.length;
  const query = getIntrospectionQuery({ oneOf: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
  const { status, body } = await system().query(viewer, query);
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  const schema = buildClientSchema(body.data as IntrospectionQuery);
  expect(Object.keys(schema.getQueryType()!.getFields())).toEqual(expect.arrayContaining(['tenant', 'me', 'users', 'myBudget']));
  expect(Object.keys(schema.getQueryType()!.getFields()).filter((name) => name.startsWith('_'))).toEqual([]); // @inaccessible stays hidden
  expect(body.data.__schema.types.find((t: { name: string }) => t.name === 'Tenant').isOneOf).toBeNull();
  expect(body.extensions.cost).toMatchObject({ estimatedBytes: 0, billedBytes: 0, warehouseQueries: 0 });
  expect(system().subgraphOperations.length).toBe(before);
});

test('a document with an introspection operation and a data operation runs each the right way; mixing isOneOf with data is still a 400', async () => {
  const document = 'query Types { __type(name: "Tenant") { name isOneOf fields { name } } } query Me { me { id } }';
  const types = await fetchNamed(document, 'Types');
  expect(types.body.data.__type).toMatchObject({ name: 'Tenant', isOneOf: null });
  const me = await fetchNamed('query Types { __type(name: "Tenant") { name } } query Me { me { id } }', 'Me');
  expect(me.body.data.me.id).toBe('u1');
  const mixed = await system().query(viewer, '{ __type(name: "User") { isOneOf } me { id } }');
  expect({ status: mixed.status, code: mixed.body.errors[0].extensions.code }).toEqual({ status: 400, code: 'GRAPHQL_VALIDATION_FAILED' });
});

/** A document of several operations, `operationName` choosing one (System.query sends none). */
async function fetchNamed(document: string, operationName: string) {
  const { config, gatewayUrl } = system();
  if (config.auth.kind !== 'hs256') throw new Error('needs HS256');
  const token = await signDevToken({ tenant: viewer.tenant, user: viewer.userId, roles: [...viewer.roles], secret: config.auth.secret, ttlSeconds: 60 });
  const response = await fetch(gatewayUrl, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: document, operationName }),
  });
  return { status: response.status, body: (await response.json()) as any };
}
