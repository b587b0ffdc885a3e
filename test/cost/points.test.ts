/**
 * Demand-control points on real compositions: each test composes Federation 2.9 subgraphs with
 * @apollo/composition, indexes the supergraph SDL and scores operations against its API schema.
 * Each row states its arithmetic, as the docs do.
 */
import { composeServices } from '@apollo/composition';
import { type DocumentNode, type GraphQLSchema, GraphQLError, buildSchema, execute, parse } from 'graphql';
import { type CostIndex, indexCostDirectives } from '../../gateway/cost/costIndex';
import { type PlanOptions, planOperation } from '../../gateway/cost/planOperation';

interface Supergraph {
  readonly sdl: string;
  readonly apiSchema: GraphQLSchema;
  readonly index: CostIndex;
}

/** Points only: these supergraphs declare no warehouse cost. */
const indexDemandControl = (sdl: string) => indexCostDirectives(sdl, { requireScans: false });
const operationPoints = (schema: GraphQLSchema, index: CostIndex, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | null | undefined, options: Partial<PlanOptions> = {}) =>
  planOperation(schema, index, document, variables, operationName, { roles: [], maxRangeDays: 366, maxPageSize: 500, ...options }).points;

function compose(subgraphs: Record<string, string>): Supergraph {
  const result = composeServices(
    Object.entries(subgraphs).map(([name, typeDefs]) => ({ name, url: `http://${name}.test/graphql`, typeDefs: parse(typeDefs) })),
  );
  if (result.errors) throw new Error(result.errors.map(String).join('\n'));
  return { sdl: result.supergraphSdl, apiSchema: result.schema.toAPISchema().toGraphQLJSSchema(), index: indexDemandControl(result.supergraphSdl) };
}

function pointsOf(
  { apiSchema, index }: Supergraph,
  query: string,
  variables?: Record<string, unknown>,
  operationName?: string,
  options?: Partial<PlanOptions>,
): number {
  return operationPoints(apiSchema, index, parse(query), variables, operationName, options);
}

const federation = (imports: string) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])`;

describe("the demand-control docs' examples", () => {
  // https://www.apollographql.com/docs/graphos/routing/security/demand-control#calculating-cost
  const books = (addressDirectives: string) => `
    ${federation('"@cost", "@listSize"')}
    type Query {
      book(id: ID): Book
      bestsellers: [Book] @listSize(assumedSize: 5)
      newestAdditions(after: ID, limit: Int!): [Book] @listSize(slicingArguments: ["limit"])
    }
    type Book { title: String, author: Author, publisher: Publisher }
    type Author { name: String }
    type Publisher { name: String, address: Address }
    type Address ${addressDirectives} { zipCode: Int! }
  `;
  const defaults = compose({ books: books('') });
  const weighted = compose({ books: books('@cost(weight: 5)') });
  const selection = 'title author { name } publisher { name address { zipCode } }';

  test.each([
    // 1 Query (0) + 1 book object (1) + 1 author object (1) + 1 publisher object (1) + 1 address object (1) = 4
    ['BookQuery, default weights: 4', defaults, `query BookQuery { book(id: 1) { ${selection} } }`, 4],
    // … + 1 address object (5) = 8
    ['BookQuery, Address @cost(weight: 5): 8', weighted, `query BookQuery { book(id: 1) { ${selection} } }`, 8],
    // 5 book objects (assumedSize) × (book (1) + author (1) + publisher (1) + address (5)) = 40
    ['BestsellersQuery: 40', weighted, `query BestsellersQuery { bestsellers { ${selection} } }`, 40],
    // 3 book objects (limit) × 8 = 24
    ['NewestAdditions, limit 3: 24', weighted, `query NewestAdditions { newestAdditions(limit: 3) { ${selection} } }`, 24],
    // 7 book objects (limit) × 8 = 56
    ['NewestAdditions, limit 7: 56', weighted, `query NewestAdditions { newestAdditions(limit: 7) { ${selection} } }`, 56],
  ])('%s', (_name, supergraph, query, points) => {
    expect(pointsOf(supergraph, query)).toBe(points);
  });

  test('composition keeps the directives in the supergraph, under the cost spec link', () => {
    // @cost is named like the spec's namespace, so it needs no import to keep its name.
    expect(weighted.sdl).toContain('@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])');
    expect(weighted.sdl).toMatch(/type Address\s+@join__type\(graph: BOOKS\)\s+@cost\(weight: 5\)/);
    expect(weighted.index.typeWeights.get('Address')).toBe(5);
    expect(weighted.index.fields.get('Query')?.get('newestAdditions')).toEqual({ owners: [], scans: [], listSize: { slicingArguments: ['limit'] } });
  });
});

describe('operationPoints', () => {
  const directory = compose({
    users: `
      ${federation('"@key", "@cost", "@listSize"')}
      type Query {
        users(first: Int = 20, after: String): UserConnection!
          @listSize(slicingArguments: ["first"], sizedFields: ["edges"], requireOneSlicingArgument: false)
        user(id: ID!): User
        search(term: String! @cost(weight: 3), filter: SearchFilter): [SearchResult!]! @listSize(assumedSize: 4)
      }
      type Mutation { renameUser(id: ID!, name: String!): User }
      type UserConnection { edges: [UserEdge!]!, totalCount: Int! }
      type UserEdge { cursor: String!, node: User! }
      type User @key(fields: "id") {
        id: ID!
        name: String
        manager: User
        friends: [User!]!
        reports(first: Int, last: Int): [User!]! @listSize(slicingArguments: ["first", "last"], requireOneSlicingArgument: false)
      }
      type Team { name: String, members: [User!]! }
      union SearchResult = User | Team
      input SearchFilter { department: String @cost(weight: 2) }
    `,
    metrics: `
      ${federation('"@key", "@cost"')}
      scalar Histogram @cost(weight: 6)
      type User @key(fields: "id") { id: ID!, score: Float @cost(weight: 4), activity: Histogram }
    `,
  });

  test.each([
    // users (1) + 50 edges (sized by first) × (edge (1) + node (1)) + totalCount (0) = 101
    ['sizedFields: a connection sizes its edges', '{ users(first: 50) { edges { node { id name } } totalCount } }', {}, 101],
    // first defaults to 20: users (1) + 20 × (edge (1) + node (1)) = 41
    ["the slicing argument's default", '{ users { edges { node { id } } } }', {}, 41],
    // first: $n = 5: users (1) + 5 × 2 = 11
    ['a variable as slicing argument', 'query($n: Int) { users(first: $n) { edges { node { id } } } }', { n: 5 }, 11],
    // $n defaults to 7 in the operation: users (1) + 7 × edge (1) = 8
    ["a variable's default", 'query($n: Int = 7) { users(first: $n) { edges { cursor } } }', {}, 8],
    // users (1) + 3 × 2 = 7: the sizing reaches edges through the fragment
    ['sizedFields through a fragment', '{ users(first: 3) { ...Page } } fragment Page on UserConnection { edges { node { id } } }', {}, 7],
    // (users (1) + 3 × 2) + (users (1) + 30 × 2) = 68: one fragment, two sizes
    [
      'one fragment under two sizes',
      '{ small: users(first: 3) { ...Page } big: users(first: 30) { ...Page } } fragment Page on UserConnection { edges { node { id } } }',
      {},
      68,
    ],
    // user (1) + 10 friends (default list size) × 1 + manager (1) = 12
    ['named and inline fragments', '{ user(id: "1") { ...Friends ... on User { manager { id } } } } fragment Friends on User { friends { id } }', {}, 12],
    // term (3) + 4 results (assumedSize) × (result (1) + manager (1) + 10 members × 1) = 51: every branch adds
    ["a union's branches", '{ search(term: "a") { ... on User { manager { id } } ... on Team { members { id } } } }', {}, 51],
    // user (1) + 6 reports (the larger of first, last) × 1 = 7
    ['several slicing arguments: the largest', '{ user(id: "1") { reports(first: 2, last: 6) { id } } }', {}, 7],
    // user (1) + 0 reports: a negative size does not lower the points
    ['a negative slicing argument sizes 0', '{ user(id: "1") { reports(first: -5) { id } } }', {}, 1],
    // term (3) + 4 results × result (1) = 7
    ['argument weights', '{ search(term: "a") { __typename } }', {}, 7],
    // term (3) + filter object (1) + department (2) + 4 results × 1 = 10
    ['an input object argument', '{ search(term: "a", filter: { department: "x" }) { __typename } }', {}, 10],
    ['an input object variable', 'query($f: SearchFilter) { search(term: "a", filter: $f) { __typename } }', { f: { department: 'x' } }, 10],
    // user (1) + score (field @cost 4, metrics subgraph) + activity (Histogram's @cost 6) = 11
    ['field and scalar weights from another subgraph', '{ user(id: "1") { id score activity } }', {}, 11],
    // user (1); __typename and introspection cost nothing
    ['__typename and introspection', '{ __typename user(id: "1") { __typename } __schema { types { name } } }', {}, 1],
    // mutation (10) + user (1) = 11
    ['a mutation', 'mutation { renameUser(id: "1", name: "x") { id } }', {}, 11],
    // user (1): manager skipped, friends not included, the reports fragment not included
    [
      '@skip and @include',
      'query($with: Boolean!) { user(id: "1") { manager @skip(if: true) { id } friends @include(if: $with) { id } ... @include(if: false) { reports { id } } } }',
      { with: false },
      1,
    ],
    // user (1) + 10 friends × 1 = 11
    ['@include by a variable', 'query($with: Boolean!) { user(id: "1") { friends @include(if: $with) { id } } }', { with: true }, 11],
  ])('%s', (_name, query, variables, points) => {
    expect(pointsOf(directory, query, variables)).toBe(points);
  });

  test('the list size option sizes lists without @listSize, and only those', () => {
    const query = '{ user(id: "1") { friends { id } } search(term: "a") { __typename } }';
    // user (1) + 10 friends + term (3) + 4 results = 18
    expect(pointsOf(directory, query)).toBe(18);
    // user (1) + 3 friends + term (3) + 4 results (assumedSize still) = 11
    expect(pointsOf(directory, query, {}, undefined, { defaultListSize: 3 })).toBe(11);
  });

  test('multiple operations: the named one; no name or an unknown one throws as graphql-js does', () => {
    const query = 'query A { user(id: "1") { id } } query B { user(id: "1") { manager { id } } }';
    expect(pointsOf(directory, query, {}, 'A')).toBe(1);
    expect(pointsOf(directory, query, {}, 'B')).toBe(2);
    for (const operationName of [undefined, 'C']) {
      const graphqlJs = execute({ schema: directory.apiSchema, document: parse(query), operationName });
      const expected = 'errors' in graphqlJs ? graphqlJs.errors?.[0]?.message : undefined;
      expect(expected).toBeDefined();
      expect(() => pointsOf(directory, query, {}, operationName)).toThrow(new GraphQLError(expected ?? ''));
    }
  });

  test('variables graphql-js cannot coerce are read as sent, without throwing', () => {
    // "lots" is no size, and first was set (to it): no slicing value, no assumedSize, so the default
    // list size: users (1) + 10 edges × 1 = 11
    expect(pointsOf(directory, 'query($n: Int) { users(first: $n) { edges { cursor } } }', { n: 'lots' })).toBe(11);
  });

  test('a fragment spread many times is walked once per sizing (no exponential walk)', () => {
    // F0 spreads F1 twice, …, F39 spreads F40 twice: 2^40 manager objects, each 1 point
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }`);
    const query = `{ user(id: "1") { ...F0 } } ${fragments.join(' ')} fragment F40 on User { manager { id } }`;
    const started = Date.now();
    expect(pointsOf(directory, query)).toBe(1 + 2 ** 40);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('@requires', () => {
  // Team.activity needs every member's id from the people subgraph before stats can resolve it.
  const teams = compose({
    people: `
      ${federation('"@key"')}
      type Query { team(id: ID!): Team }
      type Team @key(fields: "id") { id: ID!, members: [Person!]! }
      type Person @key(fields: "id") { id: ID!, name: String }
    `,
    stats: `
      ${federation('"@key", "@external", "@requires"')}
      type Team @key(fields: "id") { id: ID!, members: [Person!]! @external, activity: Int @requires(fields: "members { id }") }
      type Person @key(fields: "id") { id: ID! }
    `,
  });

  test.each([
    // team (1) + activity (0) + its requirement: 10 members × 1 = 11 (1 without it: 10× low here, 100× at the Router's list size)
    ['the required selection is costed', '{ team(id: "1") { activity } }', 11],
    // team (1) + 10 members + activity's requirement (10 members again: the Router does not deduplicate) = 21
    ['selected as well, it counts twice', '{ team(id: "1") { members { id } activity } }', 21],
  ])('%s', (_name, query, points) => {
    expect(pointsOf(teams, query)).toBe(points);
  });
});

describe('indexDemandControl', () => {
  const query = '{ books { title } }'; // 2 books (assumedSize) × (book (1) + title (3)) = 8

  test.each([
    ['imported under aliases', '{ name: "@cost", as: "@weight" }, { name: "@listSize", as: "@size" }', '@size(assumedSize: 2)', '@weight(weight: 3)'],
    ['not imported', '', '@federation__listSize(assumedSize: 2)', '@federation__cost(weight: 3)'],
  ])('directives %s keep their names through composition', (_name, imports, listSize, cost) => {
    const supergraph = compose({
      books: `
        ${federation(imports)}
        type Query { books: [Book] ${listSize} }
        type Book { title: String ${cost} }
      `,
    });
    expect(supergraph.sdl).toContain(listSize);
    expect(supergraph.sdl).toContain(cost);
    expect(pointsOf(supergraph, query)).toBe(8);
  });

  test.each([
    // Not imported: the directive named like the namespace is @cost itself, the other is prefixed.
    ['@link(url: "https://specs.apollo.dev/cost/v0.1")', 'cost', 'cost__listSize'],
    ['@link(url: "https://specs.apollo.dev/cost/v0.1", as: "dc")', 'dc', 'dc__listSize'],
    ['@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])', 'cost', 'listSize'],
  ])('%s names them @%s and @%s', (link, cost, listSize) => {
    const sdl = `
      schema @link(url: "https://specs.apollo.dev/link/v1.0") ${link} { query: Query }
      directive @link(url: String, as: String, import: [String]) repeatable on SCHEMA
      directive @${cost}(weight: Int!) on FIELD_DEFINITION | OBJECT
      directive @${listSize}(assumedSize: Int) on FIELD_DEFINITION
      type Query { books: [Book] @${listSize}(assumedSize: 2) }
      type Book { title: String @${cost}(weight: 3) }
    `;
    expect(operationPoints(buildSchema(sdl), indexDemandControl(sdl), parse(query), {}, null)).toBe(8);
  });

  test('a supergraph without the cost spec has an empty index: default weights and list size', () => {
    const supergraph = compose({ books: `${federation('"@key"')} type Query { books: [Book] } type Book { title: String }` });
    expect(supergraph.index.typeWeights).toEqual(new Map());
    const directed = [...supergraph.index.fields.values()].flatMap((fields) => [...fields.values()]).filter((f) => f.weight !== undefined || f.listSize || f.argumentWeights);
    expect(directed).toEqual([]);
    expect(pointsOf(supergraph, query)).toBe(10); // 10 books × book (1)
  });
});
