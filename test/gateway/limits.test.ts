import { type GraphQLError, buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import { ErrorCode } from '../../common/errors';
import { MaxAliasesRule } from '../../gateway/limits/MaxAliasesRule';
import { INTROSPECTION_DEPTH, MaxDepthRule } from '../../gateway/limits/MaxDepthRule';

const schema = buildSchema(`
  type Query { me: User, user(id: ID!): User }
  type User { id: ID!, name: String, manager: User, reports: [User!]! }
`);

function errorsOf(query: string, ...rules: Parameters<typeof validate>[2] & object): GraphQLError[] {
  return [...validate(schema, parse(query), [...specifiedRules, ...rules])];
}

function limitErrors(query: string, rule: ReturnType<typeof MaxDepthRule>) {
  return errorsOf(query, rule).map((e) => ({ code: e.extensions.code, message: e.message }));
}

describe('MaxDepthRule', () => {
  test.each([
    // depth = fields on the longest path
    ['{ me { id } }', 2],
    ['{ me { manager { manager { id } } } }', 4],
    ['{ me { __typename } }', 2], // __typename counts like any field
    ['{ me { ...F } } fragment F on User { manager { id } }', 3], // 1 me + 2 inside F
    ['{ ...Q } fragment Q on Query { me { ...F } } fragment F on User { reports { manager { id } } }', 4],
    ['{ me { ... on User { manager { id } } } }', 3], // inline fragments add no depth
  ])('%s has depth %d', (query, depth) => {
    expect(limitErrors(query, MaxDepthRule(depth))).toEqual([]);
    expect(limitErrors(query, MaxDepthRule(depth - 1))).toEqual([
      { code: ErrorCode.MAX_DEPTH_EXCEEDED, message: `The operation has depth ${depth}, over the maximum of ${depth - 1}.` },
    ]);
  });

  test('the deepest of several operations and fields is reported per operation, by name', () => {
    const errors = limitErrors('query A { me { id } user(id: 1) { manager { manager { id } } } } query B { me { id } }', MaxDepthRule(3));
    expect(errors).toEqual([{ code: ErrorCode.MAX_DEPTH_EXCEEDED, message: 'Operation "A" has depth 4, over the maximum of 3.' }]);
  });

  test('fragment cycles terminate; the standard rule reports them', () => {
    const errors = errorsOf('{ me { ...A } } fragment A on User { manager { ...B } } fragment B on User { manager { ...A } }', MaxDepthRule(12));
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^Cannot spread fragment "A" within itself via "B"/)]);
  });

  test('a fragment spread many times is measured once (no exponential walk)', () => {
    // F0 spreads F1 twice, F1 spreads F2 twice, … : 2^40 paths, depth 1 + 40 + 1
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on User { manager { ...F${i + 1} } reports { ...F${i + 1} } }`);
    const query = `{ me { ...F0 } } ${fragments.join(' ')} fragment F40 on User { id }`;
    const started = Date.now();
    expect(limitErrors(query, MaxDepthRule(42))).toEqual([]);
    expect(limitErrors(query, MaxDepthRule(41))[0]?.code).toBe(ErrorCode.MAX_DEPTH_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('getIntrospectionQuery() passes the default depth 12, with every option on', () => {
    const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    expect(limitErrors(query, MaxDepthRule(12))).toEqual([]);
    // One more level of ofType is refused: the allowance is exactly what the standard query needs.
    const deeper = getIntrospectionQuery().replace('name\n                        kind\n', 'name\n kind\n ofType { name }\n');
    expect(limitErrors(deeper, MaxDepthRule(12))).toEqual([
      { code: ErrorCode.MAX_DEPTH_EXCEEDED, message: `Operation "IntrospectionQuery" has depth ${INTROSPECTION_DEPTH + 1}, over the maximum of ${INTROSPECTION_DEPTH}.` },
    ]);
  });

  test('a hand-nested introspection query is refused: by depth, and by graphql-js for its nested lists', () => {
    const nested = `{ __type(name: "User") { ${'fields { type { '.repeat(7)}name${' } }'.repeat(7)} } }`; // 1 + 14 + 1 = 16
    expect(limitErrors(nested, MaxDepthRule(12))).toEqual([
      { code: ErrorCode.MAX_DEPTH_EXCEEDED, message: `The operation has depth 16, over the maximum of ${INTROSPECTION_DEPTH}.` },
      { code: undefined, message: 'Maximum introspection depth exceeded' },
    ]);
  });
});

describe('MaxAliasesRule', () => {
  test.each([
    ['{ a: me { id } b: me { id } }', 2],
    ['{ a: me { x: id y: id } }', 3],
    ['{ me { id } }', 0],
    // F has 2 aliases and is spread in two places: 2 × 2 + 1 (`u`)
    ['{ me { ...F } u: user(id: 1) { ...F } } fragment F on User { a: id b: name }', 5],
    // G spreads F twice: (2 + 2) + the alias `g` in G, spread once
    ['{ me { ...G } } fragment G on User { g: manager { ...F } ...F } fragment F on User { a: id b: name }', 5],
  ])('%s has %d aliases', (query, aliases) => {
    expect(limitErrors(query, MaxAliasesRule(aliases))).toEqual([]);
    if (aliases === 0) return;
    expect(limitErrors(query, MaxAliasesRule(aliases - 1))).toEqual([
      { code: ErrorCode.MAX_ALIASES_EXCEEDED, message: `The operation uses ${aliases} aliases, over the maximum of ${aliases - 1}.` },
    ]);
  });

  test('fragment cycles terminate', () => {
    const errors = errorsOf('{ me { ...A } } fragment A on User { x: manager { ...A } }', MaxAliasesRule(0));
    expect(errors.map((e) => e.extensions.code ?? e.message)).toEqual([ErrorCode.MAX_ALIASES_EXCEEDED, 'Cannot spread fragment "A" within itself.']);
  });
});
