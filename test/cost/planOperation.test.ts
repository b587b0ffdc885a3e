/**
 * The pure core of pricing, table by table: the jobs planOperation plans for an operation (each row
 * says why, in the comment above it), what priceJobs makes of them by BigQuery's rules, and the
 * walk's points checked against an independent walker — graphql-query-complexity — where the two
 * agree on what an operation costs. Points by Apollo Router's rules are in points.test.ts and
 * routerFixtures.test.ts.
 */
import { composeServices } from '@apollo/composition';
import fc from 'fast-check';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { type GraphQLSchema, buildSchema, getNamedType, getNullableType, isCompositeType, isListType, parse, validate } from 'graphql';
import { MiB } from '../../common/units';
import { schemaHeader } from '../../common/graphql/costSpec';
import { type CostIndex, indexCostDirectives } from '../../gateway/cost/costIndex';
import { priceJobs } from '../../gateway/cost/estimate';
import { type PlannedJob, planOperation } from '../../gateway/cost/planOperation';
import { PartitionStatistics } from '../../pricing/scanBytes';

/**
 * Two subgraphs like bytegate's: `people` reads the unpartitioned users table, `stats` the rollup
 * (partitioned by day) and raw events; `Person` is an entity of both.
 */
const PEOPLE = `${schemaHeader(['@key'])}
  type Query {
    person(id: ID!): Person @scan(query: "peopleById", table: "users", columns: ["id", "display_name"])
    people(first: Int): [Person!]! @scan(query: "peoplePage", table: "users", columns: ["id", "display_name"], per: "FIELD")
      @scan(query: "team", table: "users", columns: ["id", "manager_id"], per: "REQUEST", roles: ["manager"], exceptRoles: ["executive"])
  }
  type Person @key(fields: "id") @scan(subgraph: "people", query: "peopleById", table: "users", columns: ["id", "display_name"]) {
    id: ID!
    name: String @noScan(reason: "read with the person")
    manager: Person @scan(query: "peopleById", table: "users", columns: ["id", "display_name"])
  }`;
const STATS = `${schemaHeader(['@key'])}
  scalar Date
  type Query {
    topActive(from: Date!, to: Date!, first: Int): [Person!]! @scan(query: "topActive", table: "productivity_daily", columns: ["actor_id", "day", "total_events"], partitionedBy: ["from", "to"], per: "FIELD")
    _scanStatistics: Int @noScan(reason: "statistics")
  }
  type Person @key(fields: "id") {
    id: ID!
    activity(from: Date!, to: Date!): Int @scan(query: "activity", table: "productivity_daily", columns: ["actor_id", "day", "total_events"], partitionedBy: ["from", "to"])
    events(from: Date!, to: Date!, type: String): Int
      @scan(query: "events", table: "sso_events", columns: ["published"], partitionedBy: ["from", "to"], per: "FIELD")
      @scan(query: "events", table: "sso_events", columns: ["eventType"], partitionedBy: ["from", "to"], per: "FIELD", ifArgument: "type")
  }`;

const supergraph = (() => {
  const result = composeServices([
    { name: 'people', url: 'http://people.test/graphql', typeDefs: parse(PEOPLE) },
    { name: 'stats', url: 'http://stats.test/graphql', typeDefs: parse(STATS) },
  ]);
  if (result.errors) throw new Error(result.errors.map(String).join('\n'));
  return { schema: result.schema.toAPISchema().toGraphQLJSSchema(), index: indexCostDirectives(result.supergraphSdl) };
})();

const EXECUTIVE = { roles: ['executive'], maxRangeDays: 31, maxPageSize: 100 };
const USERS = ['display_name', 'id'];
const ROLLUP = ['actor_id', 'day', 'total_events'];
const jan = (day: number) => `2025-01-${String(day).padStart(2, '0')}`;
const job = (subgraph: string, query: string, path: string, times: number, table: string, columns: string[], days: PlannedJob['tables'][number]['days'] = null): PlannedJob =>
  ({ subgraph, query, path, times, tables: [{ table, columns, days }] });

function jobsOf(query: string, variables: Record<string, unknown> = {}, options = EXECUTIVE): readonly PlannedJob[] {
  const document = parse(query);
  expect(validate(supergraph.schema, document)).toEqual([]);
  return planOperation(supergraph.schema, supergraph.index, document, variables, undefined, options).jobs;
}

describe('planOperation: the jobs an operation runs', () => {
  test.each<[string, string, PlannedJob[]]>([
    // person: one BATCH job in the people root fetch; `name` is read with it.
    ['a root field', '{ person(id: "1") { name } }', [job('people', 'peopleById', 'person', 1, 'users', USERS)]],
    // people is a FIELD job: once for its one occurrence, whatever the page size.
    ['a list field', '{ people(first: 50) { name } }', [job('people', 'peoplePage', 'people', 1, 'users', USERS)]],
    // Two occurrences under aliases: two FIELD jobs.
    ['a list field twice', '{ a: people(first: 5) { id } b: people(first: 7) { id } }', [job('people', 'peoplePage', 'a', 1, 'users', USERS), job('people', 'peoplePage', 'b', 1, 'users', USERS)]],
    // 50 people's managers: one DataLoader batch (BATCH, level 2 of the people fetch), not 50 jobs.
    ['a batch under a list', '{ people(first: 50) { manager { name } } }', [
      job('people', 'peoplePage', 'people', 1, 'users', USERS),
      job('people', 'peopleById', 'people.manager', 1, 'users', USERS),
    ]],
    // activity lives in stats: an entity fetch of the 50 people, one BATCH job for all of them, days 1..7.
    ['a batch in an entity fetch', `{ people(first: 50) { activity(from: "${jan(1)}", to: "${jan(7)}") } }`, [
      job('people', 'peoplePage', 'people', 1, 'users', USERS),
      job('stats', 'activity', 'people.activity', 1, 'productivity_daily', ROLLUP, { from: jan(1), to: jan(7) }),
    ]],
    // events is a FIELD job: it runs once per person, 50 times.
    ['a per-field job under a list', `{ people(first: 50) { events(from: "${jan(1)}", to: "${jan(2)}") } }`, [
      job('people', 'peoplePage', 'people', 1, 'users', USERS),
      job('stats', 'events', 'people.events', 50, 'sso_events', ['published'], { from: jan(1), to: jan(2) }),
    ]],
    // The declaration with ifArgument: "type" adds its column only when type is given.
    ['a column read only with an argument', `{ people(first: 2) { events(from: "${jan(1)}", to: "${jan(2)}", type: "user.session.start") } }`, [
      job('people', 'peoplePage', 'people', 1, 'users', USERS),
      job('stats', 'events', 'people.events', 2, 'sso_events', ['eventType', 'published'], { from: jan(1), to: jan(2) }),
    ]],
    // Same arguments under two aliases: one batch. Other days: a batch of their own.
    ['batches by partition arguments', `{ person(id: "1") { a: activity(from: "${jan(1)}", to: "${jan(7)}") b: activity(from: "${jan(1)}", to: "${jan(7)}") c: activity(from: "${jan(8)}", to: "${jan(9)}") } }`, [
      job('people', 'peopleById', 'person', 1, 'users', USERS),
      job('stats', 'activity', 'person.a', 1, 'productivity_daily', ROLLUP, { from: jan(1), to: jan(7) }),
      job('stats', 'activity', 'person.c', 1, 'productivity_daily', ROLLUP, { from: jan(8), to: jan(9) }),
    ]],
    // topActive (stats root, FIELD) returns people without `first`: MAX_PAGE_SIZE (100) of them; `name`
    // needs an entity fetch into people, whose resolution itself runs the entity's peopleById once (BATCH).
    ['entity resolution on the way back', `{ topActive(from: "${jan(1)}", to: "${jan(3)}") { name } }`, [
      job('stats', 'topActive', 'topActive', 1, 'productivity_daily', ROLLUP, { from: jan(1), to: jan(3) }),
      job('people', 'peopleById', 'topActive', 1, 'users', USERS),
    ]],
    // to before from, or longer than MAX_RANGE_DAYS (31): the subgraph refuses it, so nothing runs — nor anything below it.
    ['a range the subgraph refuses', `{ topActive(from: "${jan(9)}", to: "${jan(1)}") { events(from: "${jan(1)}", to: "${jan(1)}") } }`, []],
    ['a range over the maximum', `{ person(id: "1") { activity(from: "2025-01-01", to: "2025-03-01") } }`, [job('people', 'peopleById', 'person', 1, 'users', USERS)]],
    // Fragments add their fields where they are spread; @skip leaves its field out.
    ['fragments and @skip', `{ person(id: "1") { ...Active manager @skip(if: true) { id } } } fragment Active on Person { activity(from: "${jan(1)}", to: "${jan(1)}") }`, [
      job('people', 'peopleById', 'person', 1, 'users', USERS),
      job('stats', 'activity', 'person.activity', 1, 'productivity_daily', ROLLUP, { from: jan(1), to: jan(1) }),
    ]],
  ])('%s', (_name, query, expected) => {
    expect(jobsOf(query)).toEqual(expected);
  });

  test('roles: a REQUEST job declared for managers who are not executives', () => {
    const query = '{ people(first: 3) { id } }';
    const team = job('people', 'team', 'people', 1, 'users', ['id', 'manager_id']);
    expect(jobsOf(query, {}, { ...EXECUTIVE, roles: ['manager'] })).toContainEqual(team);
    expect(jobsOf(query, {}, { ...EXECUTIVE, roles: ['manager', 'executive'] })).not.toContainEqual(team);
    expect(jobsOf(query, {}, { ...EXECUTIVE, roles: ['viewer'] })).not.toContainEqual(team);
  });

  test('variables: coerced with their defaults; variables execution refuses plan no job', () => {
    const query = 'query($from: Date!, $to: Date! = "2025-01-02") { person(id: "1") { activity(from: $from, to: $to) } }';
    expect(jobsOf(query, { from: jan(1) })).toContainEqual(job('stats', 'activity', 'person.activity', 1, 'productivity_daily', ROLLUP, { from: jan(1), to: jan(2) }));
    expect(jobsOf(query, {})).toEqual([]); // $from missing: execution refuses the request
  });
});

describe('priceJobs: BigQuery bytes of the planned jobs', () => {
  // users: id 3 MiB, display_name 5 MiB (unpartitioned). Rollup: 4 MiB a day in each of its columns, days 1..10.
  const statistics = new PartitionStatistics([
    { table: 'users', day: null, column: 'id', rows: 1000, logicalBytes: 3 * MiB },
    { table: 'users', day: null, column: 'display_name', rows: 1000, logicalBytes: 5 * MiB },
    ...Array.from({ length: 10 }, (_, i) => ROLLUP.map((column) => ({ table: 'productivity_daily', day: jan(i + 1), column, rows: 100, logicalBytes: 4 * MiB }))).flat(),
  ]);

  test.each<[string, PlannedJob[], { processedBytes: number; billedBytes: number; maxJobBilledBytes: number }]>([
    // 3 + 5 = 8 MiB processed; billed at the 10 MiB minimum.
    ['a small job bills 10 MiB', [job('people', 'peopleById', 'person', 1, 'users', USERS)], { processedBytes: 8 * MiB, billedBytes: 10 * MiB, maxJobBilledBytes: 10 * MiB }],
    // 3 columns × 4 MiB × days 1..7 = 84 MiB.
    ['a week of the rollup', [job('stats', 'activity', 'a', 1, 'productivity_daily', ROLLUP, { from: jan(1), to: jan(7) })], { processedBytes: 84 * MiB, billedBytes: 84 * MiB, maxJobBilledBytes: 84 * MiB }],
    // Days 8..20: only 8, 9, 10 have data: 3 × 4 × 3 = 36 MiB.
    ['days outside the data cost nothing', [job('stats', 'activity', 'a', 1, 'productivity_daily', ROLLUP, { from: jan(8), to: jan(20) })], { processedBytes: 36 * MiB, billedBytes: 36 * MiB, maxJobBilledBytes: 36 * MiB }],
    // One day of id only: 3 × 4 = 12 MiB per run, 5 runs: 60 MiB; the cap per job is one run's 12 MiB.
    ['a job run per object', [job('stats', 'events', 'p.e', 5, 'productivity_daily', ['actor_id', 'day', 'total_events'], { from: jan(1), to: jan(1) })], { processedBytes: 60 * MiB, billedBytes: 60 * MiB, maxJobBilledBytes: 12 * MiB }],
    // Two tables in one job: each billed at least 10 MiB: users 8 → 10, rollup day 1 12 → 12: 22 MiB.
    ['each table bills its own minimum', [{ subgraph: 's', query: 'q', path: 'p', times: 1, tables: [{ table: 'users', columns: USERS, days: null }, { table: 'productivity_daily', columns: ROLLUP, days: { from: jan(1), to: jan(1) } }] }],
      { processedBytes: 20 * MiB, billedBytes: 22 * MiB, maxJobBilledBytes: 22 * MiB }],
    // Nothing read (every partition pruned): nothing billed, not even the minimum.
    ['a job that reads nothing bills nothing', [job('stats', 'activity', 'a', 1, 'productivity_daily', ROLLUP, { from: '2026-01-01', to: '2026-01-02' })], { processedBytes: 0, billedBytes: 0, maxJobBilledBytes: 0 }],
    // 10 + 84 + 36: the estimate is the sum, the cap per job the largest one.
    ['several jobs', [
      job('people', 'peopleById', 'person', 1, 'users', USERS),
      job('stats', 'activity', 'a', 1, 'productivity_daily', ROLLUP, { from: jan(1), to: jan(7) }),
      job('stats', 'activity', 'b', 1, 'productivity_daily', ROLLUP, { from: jan(8), to: jan(20) }),
    ], { processedBytes: 128 * MiB, billedBytes: 130 * MiB, maxJobBilledBytes: 84 * MiB }],
  ])('%s', (_name, jobs, expected) => {
    expect(priceJobs(jobs, statistics)).toMatchObject(expected);
  });
});

describe("points against graphql-query-complexity's walk, where the two agree", () => {
  // graphql-query-complexity differs from Apollo Router on abstract types (it takes the dearest branch,
  // the Router sums them) and cannot size a child by its parent's sizedFields (planOperation.ts says why
  // it is not our walker); on object types without sizedFields both walks must agree, every time.
  const sdl = `
    schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"]) { query: Query }
    directive @link(url: String, as: String, import: [String]) repeatable on SCHEMA
    directive @cost(weight: Int!) on FIELD_DEFINITION | OBJECT | SCALAR
    directive @listSize(assumedSize: Int, slicingArguments: [String!]) on FIELD_DEFINITION
    type Query { book(id: ID): Book  books(first: Int = 4): [Book] @listSize(slicingArguments: ["first"])  shelves: [Shelf] @listSize(assumedSize: 3) }
    type Shelf @cost(weight: 2) { label: String  books(first: Int): [Book] @listSize(slicingArguments: ["first"]) }
    type Book { title: String  pages: Int @cost(weight: 3)  author: Author  related: [Book]  cover: Image }
    type Author { name: String  books: [Book] @listSize(assumedSize: 2) }
    scalar Image @cost(weight: 5)
  `;
  const schema = buildSchema(sdl);
  const index = indexCostDirectives(sdl, { requireScans: false });

  test('random operations: the same points from both walks', () => {
    fc.assert(fc.property(operationArbitrary(schema), ({ query, variables }) => {
      const document = parse(query);
      if (validate(schema, document).length > 0) return; // the generator can overlap fields; validation refuses those
      const ours = planOperation(schema, index, document, variables, undefined, { roles: [], maxRangeDays: 1, maxPageSize: 1 }).points;
      const theirs = getComplexity({ schema, query: document, variables, estimators: [routerEstimator(index)] });
      expect(ours).toBe(theirs);
    }), { numRuns: 500, seed: 42 });
  });
});

// Private:

/** Apollo Router's field cost as a graphql-query-complexity estimator (no argument weights here): its @cost + count × (its type's weight + children). */
function routerEstimator(index: CostIndex): ComplexityEstimator {
  return ({ field, type, args, childComplexity }) => {
    if (field.name.startsWith('__')) return 0;
    const cost = index.fields.get(type.name)?.get(field.name);
    const named = getNamedType(field.type);
    const instance = index.typeWeights.get(named.name) ?? (isCompositeType(named) ? 1 : 0);
    let count = 1;
    if (isListType(getNullableType(field.type))) {
      const sliced = (cost?.listSize?.slicingArguments ?? []).map((name) => args[name]).filter((v): v is number => Number.isInteger(v));
      count = sliced.length > 0 ? Math.max(0, ...sliced) : (cost?.listSize?.assumedSize ?? 10);
    }
    return (cost?.weight ?? 0) + count * (instance + childComplexity);
  };
}

/** Operations over the schema's object types: aliases, repeats, fragments, @skip/@include on literals and variables. */
function operationArbitrary(schema: GraphQLSchema) {
  return fc.gen().map((g) => {
    const fragments: string[] = [];
    const variables: Record<string, unknown> = {};
    const definitions: string[] = [];
    let n = 0;
    const select = (typeName: string, depth: number): string => {
      const type = schema.getType(typeName) as import('graphql').GraphQLObjectType;
      const fields = Object.values(type.getFields());
      const parts: string[] = [];
      for (let i = g(fc.integer, { min: 1, max: 4 }); i > 0; i--) {
        const kind = g(fc.integer, { min: 0, max: 7 });
        if (kind === 0 && depth < 3) {
          const name = `F${n++}`;
          fragments.push(`fragment ${name} on ${typeName} { ${select(typeName, depth + 1)} }`);
          parts.push(`...${name}`, g(fc.boolean) ? `...${name}` : '');
          continue;
        }
        if (kind === 1 && depth < 3) {
          parts.push(`... on ${typeName} @include(if: ${g(fc.boolean)}) { ${select(typeName, depth + 1)} }`);
          continue;
        }
        const field = fields[g(fc.integer, { min: 0, max: fields.length - 1 })];
        const named = getNamedType(field.type);
        if (isCompositeType(named) && depth >= 3) continue;
        let args = '';
        if (field.args.some((a) => a.name === 'first') && g(fc.boolean)) {
          if (g(fc.boolean)) args = `(first: ${g(fc.integer, { min: -2, max: 6 })})`;
          else {
            const name = `v${n++}`;
            definitions.push(`$${name}: Int`);
            variables[name] = g(fc.integer, { min: 0, max: 6 });
            args = `(first: $${name})`;
          }
        }
        let directive = '';
        const condition = g(fc.integer, { min: 0, max: 5 });
        if (condition === 0) directive = ` @skip(if: ${g(fc.boolean)})`;
        if (condition === 1) {
          const name = `b${n++}`;
          definitions.push(`$${name}: Boolean!`);
          variables[name] = g(fc.boolean);
          directive = ` @include(if: $${name})`;
        }
        const alias = g(fc.integer, { min: 0, max: 3 }) === 0 ? `a${n++}: ` : '';
        parts.push(`${alias}${field.name}${args}${directive}${isCompositeType(named) ? ` { ${select(named.name, depth + 1)} }` : ''}`);
      }
      return parts.filter(Boolean).join(' ') || '__typename';
    };
    const body = select('Query', 0);
    return { query: `query${definitions.length ? `(${definitions.join(', ')})` : ''} { ${body} } ${fragments.join(' ')}`, variables };
  });
}
