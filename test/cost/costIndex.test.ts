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
