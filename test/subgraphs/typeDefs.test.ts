/** The subgraphs compose into a supergraph that carries the public contract's names. */
import { composeServices } from '@apollo/composition';
import { SUBGRAPHS } from '../../subgraphs';

const composed = composeServices(Object.entries(SUBGRAPHS).map(([name, { typeDefs }]) => ({ name, typeDefs, url: `http://${name}.invalid/graphql` })));

test('the three subgraphs compose without errors', () => {
  expect(composed.errors).toBeUndefined();
});

test.each([
  ['Query', ['me', 'user', 'users', 'tenant']],
  ['User', ['id', 'email', 'displayName', 'department', 'manager', 'productivity', 'daily']],
  ['Tenant', ['id', 'name', 'dataRange', 'topTimeWasters', 'appUsage', 'eventCounts']],
  ['Productivity', ['totalEvents', 'uniqueApps', 'authWasteHours', 'contextSwitchWasteHours', 'totalWasteHours']],
  ['DailyProductivity', ['date', 'totalEvents', 'uniqueApps', 'authWasteHours', 'contextSwitchWasteHours', 'totalWasteHours']],
  ['TimeWaster', ['user', 'totalWasteHours', 'authWasteHours', 'contextSwitchWasteHours']],
  ['App', ['id', 'name']],
  ['AppUsage', ['app', 'events', 'users']],
  ['EventCount', ['date', 'eventType', 'count']],
  ['DateRange', ['from', 'to']],
  ['UserConnection', ['edges', 'pageInfo', 'totalCount']],
  ['UserEdge', ['cursor', 'node']],
  ['PageInfo', ['hasNextPage', 'endCursor']],
])('the supergraph\'s %s has the contract\'s fields', (typeName, fields) => {
  const type = composed.schema!.toAPISchema().toGraphQLJSSchema().getType(typeName) as { getFields(): Record<string, unknown> };
  expect(Object.keys(type.getFields()).sort()).toEqual([...fields].sort());
});
