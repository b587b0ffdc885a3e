/** Cost declarations: indexed from the composed supergraph; an unpriced or malformed one stops the gateway. */
import { parse } from 'graphql';
import { loadConfig } from '../../common/config';
import { buildGateway } from '../../gateway';
import { CostDeclarationError, indexCostDirectives } from '../../gateway/cost/costIndex';
import { composeDefaultSupergraph, composeSupergraph } from '../../gateway/supergraph';
import { schemaHeader } from '../../common/graphql/costSpec';

test("bytegate's supergraph prices every field, owned by the subgraph that runs it", () => {
  const index = indexCostDirectives(composeDefaultSupergraph());
  expect(index.statisticsSubgraph).toBe('metrics');
  expect(index.fields.get('Tenant')?.get('appUsage')).toEqual({
    owners: ['metrics'],
    listSize: { slicingArguments: ['first'] },
    scans: [
      { query: 'appUsage', table: 'app_usage_daily', columns: ['actor_id', 'day', 'app_id', 'app_name', 'events'], partitionedBy: ['from', 'to'], per: 'FIELD' },
      expect.objectContaining({ query: 'teamScope', per: 'REQUEST', roles: ['manager'], exceptRoles: ['executive'] }),
    ],
  });
  expect(index.entityScans.get('User')?.get('users')?.map((s) => s.query)).toEqual(['usersById', 'managementChain', 'teamScope']);
  expect(index.entityScans.get('User')?.get('metrics')).toBeUndefined();
});

function supergraphWith(field: string): string {
  return composeSupergraph([{
    name: 'reports',
    url: 'http://127.0.0.1:1/graphql',
    typeDefs: parse(`${schemaHeader(['@key'])}
      type Query { ${field} }
      scalar Date`),
  }]);
}

test.each([
  ['no declaration', 'events: Int', /Query.events declares no cost/],
  ['an unknown table', 'events: Int @scan(query: "q", table: "nope", columns: ["id"])', /table "nope" is not a warehouse table/],
  ['an unknown column', 'events: Int @scan(query: "q", table: "users", columns: ["salary"])', /users has no leaf column "salary"/],
  ['a partitioned table without partition arguments', 'events: Int @scan(query: "q", table: "sso_events", columns: ["published"])', /sso_events is partitioned/],
  ['partition arguments the field does not have', 'events(from: Date!): Int @scan(query: "q", table: "sso_events", columns: ["published"], partitionedBy: ["from", "to"])', /partitionedBy must name/],
  ['an unknown per', 'events: Int @scan(query: "q", table: "users", columns: ["id"], per: "ROW")', /per must be one of/],
  ['declarations of one job that disagree', 'events: Int @scan(query: "q", table: "users", columns: ["id"]) @scan(query: "q", table: "users", columns: ["email"], per: "FIELD")', /must agree/],
])('%s stops the gateway at start-up', (_name, field, message) => {
  const sdl = supergraphWith(field);
  expect(() => indexCostDirectives(sdl)).toThrow(message);
  expect(() => buildGateway(loadConfig({}), { supergraphSdl: sdl })).toThrow(CostDeclarationError);
});

test('scans without a statistics subgraph to price them stop the gateway', () => {
  const sdl = supergraphWith('events: Int @scan(query: "q", table: "users", columns: ["id"])');
  expect(() => buildGateway(loadConfig({}), { supergraphSdl: sdl })).toThrow(/no subgraph serves _scanStatistics/);
});

test('@noScan marks a free field', () => {
  const index = indexCostDirectives(supergraphWith('version: String @noScan(reason: "a constant")'));
  expect(index.fields.get('Query')?.get('version')).toEqual({ owners: [], scans: [] });
});

/**
 * A one-subgraph supergraph of pages of groups of items, the page's lists sized by `sizedFields`.
 * The composition here refuses nested entries (LIST_SIZE_INVALID_SIZED_FIELD), which the Router reads
 * in supergraphs composed elsewhere: they are written into the composed SDL.
 */
function pagesSupergraph(sizedFields: string): string {
  const sdl = composeSupergraph([{
    name: 'reports',
    url: 'http://127.0.0.1:1/graphql',
    typeDefs: parse(`${schemaHeader(['@key', '@listSize'])}
      type Query { page(first: Int): Page @listSize(slicingArguments: ["first"], sizedFields: ["items"], requireOneSlicingArgument: false) @noScan(reason: "a test") }
      type Page { items: [Int] groups: [Group] }
      type Group { items: [Int] others: [Int] }`),
  }]);
  return sdl.replace('sizedFields: ["items"]', `sizedFields: ${sizedFields}`);
}

test('@listSize sizedFields are field sets, read as the Router reads them', () => {
  const sdl = pagesSupergraph('["items", "groups { items }"]');
  // `items` is sized here and inside each group; `groups` is a way through, not a list sized here.
  expect(indexCostDirectives(sdl).fields.get('Query')?.get('page')?.listSize?.sizedFields).toEqual({
    leaves: new Set(['items']),
    nested: new Map([['groups', { leaves: new Set(['items']), nested: new Map() }]]),
  });
});

test('a sizedFields entry naming two lists at one level stops the gateway, as it stops the Router', () => {
  const sdl = pagesSupergraph('["groups { items others }"]');
  expect(() => indexCostDirectives(sdl)).toThrow(/must name at most one list per level/);
});
