/**
 * Demand-control points on Apollo Router's own fixtures: the schemas and operations its static cost
 * calculator is tested with (apollo-router/src/plugins/demand_control/cost_calculator/static_cost.rs),
 * copied under fixtures/router/ with their source paths and commits, and the numbers its tests expect
 * from `estimated_cost` / `basic_estimated_cost` — the estimate of the client's operation, with the
 * Router's test list size of 100 — as of the calculator with clamped field costs and per-instance type
 * costs (apollographql/router PR #9852). Each row states its arithmetic.
 *
 * Not here: the Router's `planned_cost_*` numbers, which sum the subgraph fetches of its query plan
 * (no query plan is built here: see planOperation.ts); `actual_cost`, which scores responses; and
 * federated_ships_required_query.graphql and the current custom_cost_query.graphql, of which no copy
 * could be had (the one found predates scalarWithCost and objectWithCost, so it no longer adds up to
 * the Router's 127); the deferred query and the variable query carry the same numbers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type GraphQLSchema, buildSchema, parse } from 'graphql';
import { type CostIndex, indexCostDirectives } from '../../gateway/cost/costIndex';
import { planOperation } from '../../gateway/cost/planOperation';

interface Scored {
  readonly schema: GraphQLSchema;
  readonly index: CostIndex;
}

const FIXTURES = path.join(__dirname, 'fixtures/router');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

/** A schema fixture, scored as the Router's tests score it: against the schema itself (a supergraph's join types and all). */
function scored(name: string): Scored {
  const sdl = fixture(name);
  return { schema: buildSchema(sdl), index: indexCostDirectives(sdl, { requireScans: false }) };
}

/** The Router's tests size lists without @listSize at 100 (`StaticCostCalculator::new(…, 100)`). */
function pointsOf({ schema, index }: Scored, query: string, variables: Record<string, unknown> = {}, listSize = 100): number {
  return planOperation(schema, index, parse(query), variables, undefined, { roles: [], maxRangeDays: 366, maxPageSize: 500, defaultListSize: listSize }).points;
}

describe('static_cost.rs: basic schemas', () => {
  const basic = scored('basic_schema.graphql');
  const basicSupergraph = scored('basic_supergraph_schema.graphql');

  test.each([
    // query_cost: query (0) + two scalars (0) = 0
    ['basic_query', basic, 0],
    // mutation_cost: mutation (10) + a scalar (0) = 10
    ['basic_mutation', basic, 10],
    // object_cost: object1 (1) = 1
    ['basic_object_query', basic, 1],
    // interface_cost: interfaceInstance1 (1) = 1
    ['basic_interface_query', basic, 1],
    // union_cost: someUnion (1) = 1
    ['basic_union_query', basic, 1],
    // list_cost: 100 someObjects × 1 = 100
    ['basic_object_list_query', basic, 100],
    // scalar_list_cost: 100 ints × 0 = 0
    ['basic_scalar_list_query', basic, 0],
    // nested_object_lists: 100 someObjects × (1 + 100 innerList × 1) = 10100
    ['basic_nested_list_query', basic, 10100],
    // input_object_cost: args (1) + inner (1) + listOfInner ([] 0 + 2 objects × 1) = 4
    ['basic_input_object_query', basic, 4],
    // skip_directive_excludes_cost: someObjects skipped = 0
    ['basic_skipped_query', basic, 0],
    // include_directive_excludes_cost: anotherScalar (0), someObjects not included = 0
    ['basic_excluded_query', basic, 0],
    // input_object_cost_with_returned_objects: 100 × 1 + the arguments (4) = 104. The Router runs it
    // on basic_schema.graphql; the copy here predates getObjectsByObject, which this schema has.
    ['basic_input_object_query_2', basicSupergraph, 104],
    // fragments_cost: interfaceInstance1 (1) + someUnion (1) + 100 innerList × 1 = 102
    ['basic_fragments_query', basicSupergraph, 102],
  ])('%s: %d', (query, scored, points) => {
    expect(pointsOf(scored, fixture(`${query}.graphql`))).toBe(points);
  });
});

describe('static_cost.rs: federated ships (@requires)', () => {
  const ships = scored('federated_ships_schema.graphql');

  test.each([
    // federated_query_with_name: 100 users × 1 = 100
    ['federated_ships_named_query', 100, 100],
    // federated_query_with_fragments: 100 ships × (1 + owner 1) + 100 users × 1 = 300
    ['federated_ships_fragment_query', 100, 300],
    // federated_query_with_inline_fragments: the same, with inline fragments = 300
    ['federated_ships_inline_fragment_query', 100, 300],
    // federated_query_with_defer: 100 ships × (1 + registrationFee (0) + its @requires
    // "owner { addresses { zipCode } }": owner (1) + 100 addresses × 1) = 100 × 102 = 10200
    ['federated_ships_deferred_query', 100, 10200],
    // federated_query_with_adjustable_list_cost: at list size 5, 5 × (1 + 1 + 5 × 1) = 35
    ['federated_ships_deferred_query', 5, 35],
  ])('%s at list size %d: %d', (query, listSize, points) => {
    expect(pointsOf(ships, fixture(`${query}.graphql`), {}, listSize)).toBe(points);
  });
});

describe('static_cost.rs: custom cost schema', () => {
  const custom = scored('custom_cost_schema.graphql');
  const renamed = scored('custom_cost_schema_with_renamed_directives.graphql');
  const variableQuery = fixture('custom_cost_query_with_variable_slicing_argument.graphql');
  const variables = (fieldCountVar: number) => ({ costlyInput: { somethingWithCost: 10 }, fieldCountVar });

  // fieldWithCost (5) + argWithCost (arg 10) + enumWithCost (AorB 15) + inputWithCost (object 1 +
  // somethingWithCost 20) + scalarWithCost (ExpensiveInt 30) + objectWithCost (ExpensiveObject 40) +
  // fieldWithListSize (2000 × 0) + fieldWithDynamicListSize (1 + n items × 1) = 122 + n
  test('custom_cost_query_with_default_slicing_argument: first defaults to 10, 132', () => {
    expect(pointsOf(custom, fixture('custom_cost_query_with_default_slicing_argument.graphql'))).toBe(132);
  });

  test('custom_cost_query_with_variable_slicing_argument: $fieldCountVar = 5, 127', () => {
    expect(pointsOf(custom, variableQuery, variables(5))).toBe(127);
  });

  test('custom_cost_query_with_renamed_directives: the same points under @renamedCost / @renamedListSize, 127', () => {
    // The Router pairs this schema with custom_cost_query.graphql (127); see the module comment.
    expect(pointsOf(renamed, variableQuery, variables(5))).toBe(127);
  });

  test('negative_slicing_argument_is_clamped_and_never_reduces_cost: -10 items cost what 0 do', () => {
    expect(pointsOf(custom, variableQuery, variables(-10))).toBe(pointsOf(custom, variableQuery, variables(0)));
    expect(pointsOf(custom, variableQuery, variables(0))).toBe(122);
  });

  test.each([
    // backward_compatibility_tests
    // no_directive: AorB (15)
    ['query { enumWithCost }', {}, 15],
    // single_slicing_argument_with_array: 2 ids → 2 × 1
    ['query { itemsByIds(ids: ["a", "b"]) { id } }', {}, 2],
    // slicing_argument_with_variable: 3 ids → 3 × 1
    ['query Q($ids: [ID!]!) { itemsByIds(ids: $ids) { id } }', { ids: ['x', 'y', 'z'] }, 3],
    // nested_sized_fields: ResultContainer (1) + 5 page × 1
    ['query { containerWithNestedList(first: 5) { page { id } } }', {}, 6],
    // assumed_size_fallback: ids null → assumedSize 50 × 1
    ['query Q($ids: [ID!]) { itemsByIdsWithAssumedSize(ids: $ids) { id } }', { ids: null }, 50],
    // sized_fields_propagate_to_nested_lists: SizedField (1) + 10 items (first's default) × 1
    ['query { fieldWithDynamicListSize { items { id } } }', {}, 11],

    // array_slicing_argument_tests: a list-typed slicing argument is sized by its length
    ['query { itemsByIds(ids: ["a", "b", "c"]) { id } }', {}, 3],
    ['query { itemsByIds(ids: []) { id } }', {}, 0],
    ['query Q($ids: [ID!]!) { itemsByIds(ids: $ids) { id } }', { ids: ['a', 'b', 'c', 'd', 'e'] }, 5],
    ['query Q($ids: [ID!]!) { itemsByIds(ids: $ids) { id } }', { ids: [] }, 0],
    // null_or_missing_array_falls_back_to_assumed_size
    ['query Q($ids: [ID!]) { itemsByIdsWithAssumedSize(ids: $ids) { id } }', { ids: null }, 50],
    ['query Q($ids: [ID!]) { itemsByIdsWithAssumedSize(ids: $ids) { id } }', {}, 50],

    // nested_input_path_tests: slicingArguments "input.pagination.first"; SearchInput (1) + PaginationInput (1)
    ['query { search(input: {pagination: {first: 10}}) { id } }', {}, 12],
    ['query { search(input: {pagination: {first: 5}, query: "test"}) { id } }', {}, 7],
    ['query Q($input: SearchInput!) { search(input: $input) { id } }', { input: { pagination: { first: 7 }, query: 'test' } }, 9],
    ['query Q($input: SearchInput!) { search(input: $input) { id } }', { input: { pagination: { first: 3 } } }, 5],
    // missing_nested_path_falls_back_to_assumed_size: 25 + the input objects sent
    ['query Q($input: SearchInput) { searchWithAssumedSize(input: $input) { id } }', { input: { pagination: {} } }, 27],
    ['query Q($input: SearchInput) { searchWithAssumedSize(input: $input) { id } }', { input: {} }, 26],
    ['query Q($input: SearchInput) { searchWithAssumedSize(input: $input) { id } }', { input: null }, 25],
    // deeply_nested_path_inline / _variable: 15 or 12 + three input objects
    ['query { deeplyNested(input: {level1: {level2: {count: 15}}}) { id } }', {}, 18],
    ['query Q($input: DeeplyNestedInput!) { deeplyNested(input: $input) { id } }', { input: { level1: { level2: { count: 12 } } } }, 15],
    // inline_nested_object_with_other_fields: 8 + 2
    ['query { search(input: {pagination: {first: 8, after: "cursor"}, query: "search term"}) { id } }', {}, 10],

    // nested_sized_fields_tests: sizedFields ["results { page }"] and ["page", "results { page }"]
    // simple_sized_fields_on_nested_type: ResultContainer (1) + 5 page × 1 + metadata (0)
    ['query { containerWithNestedList(first: 5) { page { id } metadata } }', {}, 6],
    // nested_sized_fields_two_levels: DeepContainer (1) + results (1) + 7 page × 1
    ['query { deepContainerWithNestedList(first: 7) { results { page { id } } } }', {}, 9],
    ['query Q($n: Int!) { deepContainerWithNestedList(first: $n) { results { page { id } } } }', { n: 3 }, 5],
    // nested_sized_fields_with_default_value: first defaults to 10
    ['query { deepContainerWithNestedList { results { page { id } } } }', {}, 12],
    // nested_sized_fields_not_selected / intermediate_container_without_sized_field
    ['query { deepContainerWithNestedList(first: 100) { total } }', {}, 1],
    ['query { deepContainerWithNestedList(first: 100) { results { metadata } } }', {}, 2],
    // mixed_sized_fields_single_and_nested: 1 + 5 page + results (1) + 5 page
    ['query { deepContainerWithMixedSizedFields(first: 5) { page { id } results { page { id } } } }', {}, 12],
  ])('%s %j: %d', (query, vars, points) => {
    expect(pointsOf(custom, query, vars)).toBe(points);
  });
});

describe('static_cost.rs: type costs and negative weights', () => {
  const types = scored('type_cost_schema.graphql');
  const negative = scored('negative_cost_schema.graphql');

  test.each([
    // object_with_cost_directive: CostlyObject (7)
    ['query { objectWithCost { id } }', 7],
    // object_without_cost_directive_defaults_to_one
    ['query { objectNoCost { id } }', 1],
    // interface_uses_max_cost_from_implementations: Cat (3), Dog (5) → 5
    ['query { cheapAnimal { name } }', 5],
    // interface_without_cost_on_implementations_defaults_to_one
    ['query { noCostInterface { name } }', 1],
    // union_uses_max_cost_from_members: Article (2), Video (8) → 8
    ['query { searchResult { ... on Article { title } ... on Video { url } } }', 8],
    // union_with_mixed_cost_uses_max: CostlyMember (10), PlainMember (none) → 10
    ['query { mixedUnion { ... on CostlyMember { value } ... on PlainMember { value } } }', 10],
    // union_without_cost_on_members_defaults_to_one
    ['query { noCostUnion { ... on PlainA { id } ... on PlainB { id } } }', 1],
  ])('type_cost_tests %s: %d', (query, points) => {
    expect(pointsOf(types, query)).toBe(points);
  });

  test.each([
    // negative_arg_clamps_to_zero: field (5) + argument (-20) = -15 → 0
    ['query { fieldWithNegativeArgCost(discount: 1) }', 0],
    // exact_zero_stays_zero: 10 - 10 = 0
    ['query { fieldWithExactZeroCost(offset: 1) }', 0],
    // positive_result_not_clamped: 10 - 3 = 7
    ['query { fieldWithPartialNegativeArg(offset: 1) }', 7],
    // mixed_args_net_negative_clamps_to_zero: 10 - 30 + 5 = -15 → 0
    ['query { fieldWithMixedArgs(a: 1, b: 1) }', 0],
    // object_field_with_negative_arg_clamps_to_zero: max(0, 5 - 50) + 1 × NegCostObject (1) = 1
    ['query { objectWithNegativeArgCost(discount: 1) { id } }', 1],
    // child_cost_preserved_when_field_cost_clamps: 0 + 1 × (1 + inner 1) = 2
    ['query { nestedObjectWithNegativeArgCost(discount: 1) { inner { value } } }', 2],
    // Not a Router case: aliases repeating a discounted field add 0 each, never less.
    ['query { objectWithNegativeArgCost(discount: 1) { id } a: fieldWithNegativeArgCost(discount: 1) b: fieldWithMixedArgs(a: 1) }', 1],
  ])('negative_cost_tests %s: %d', (query, points) => {
    expect(pointsOf(negative, query)).toBe(points);
  });
});

describe('static_cost.rs: other schemas', () => {
  test('arbitrary_json_as_custom_scalar_in_variables: MyInput (1) + a custom scalar (0) = 1', () => {
    const query = 'query FetchData($myJsonValue: ArbitraryJson) { fetch(args: { json: $myJsonValue }) }';
    expect(pointsOf(scored('arbitrary_json_schema.graphql'), query, { myJsonValue: { 'field.with.dots': 1 } })).toBe(1);
  });

  test('subscription_request: subscription (0) + messages (1) = 1', () => {
    expect(pointsOf(scored('subscription_schema.graphql'), fixture('subscription_query.graphql'))).toBe(1);
  });
});
