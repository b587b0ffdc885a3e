/**
 * Cost declarations live next to the fields they price. Every subgraph's typeDefs start with
 * `schemaHeader(...)`, which links Federation 2.9 and bytegate's cost spec and composes `@scan` and
 * `@noScan` into the supergraph, where the gateway indexes them (gateway/cost/costIndex.ts). The gateway's
 * own admin subgraph uses it too, so it lives below both.
 *
 * `@scan` declares one warehouse job a field runs — the same job the resolver's WarehouseQuery runs
 * (`query` is its name): the table, the leaf columns its SQL references, the arguments bounding the
 * day partitions it reads, and how often it runs:
 * - `FIELD`: once per occurrence of the field (per parent object);
 * - `BATCH`: once per distinct partition arguments, per nesting level, per subgraph request — a
 *   DataLoader batch, however many entities ask;
 * - `REQUEST`: once per subgraph request (a memoized per-request lookup).
 * Several `@scan`s naming the same `query` on one field are one job: `roles` / `exceptRoles` /
 * `ifArgument` say when a declaration's columns are read (e.g. the scope filter's column only for
 * callers whose scope is restricted). On an entity type, `subgraph` names the subgraph whose entity
 * resolution runs the job. `unlessOnly` names fields the job is not needed for: it does not run when
 * the field's selection in its subgraph asks for nothing else (`me`'s id comes from the token, so
 * `me { id }` reads no directory row).
 * `@noScan(reason:)` marks a field on Query or an entity that reads no billed warehouse data: the
 * gateway refuses to start when such a field carries neither directive.
 *
 * `@responseCache` tells the gateway's response cache what an answer selecting the field depends on
 * beyond the data its `@scan`s read (by default an answer is shared by every caller who sees the same
 * data — one tenant, one scope — and keyed by the versions of the partitions it reads):
 * - `scope: "CALLER"`: on who asks (`me`): kept per caller;
 * - `scope: "NONE"`: on something every operation changes (budgets, usage): never cached;
 * - `versionedBy: "ALL_DAYS"`: on which days hold data (a data range): any ingest changes it.
 */
export const COST_SPEC_URL = 'https://bytegate.dev/cost/v1.0';

/** The `extend schema` line and the cost directives' definitions, importing `federation` names too. */
export function schemaHeader(federation: readonly string[]): string {
  const imports = ['@composeDirective', ...federation].map((name) => `"${name}"`).join(', ');
  return `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])
    @link(url: "${COST_SPEC_URL}", import: ["@scan", "@noScan", "@responseCache"])
    @composeDirective(name: "@scan")
    @composeDirective(name: "@noScan")
    @composeDirective(name: "@responseCache")

  directive @scan(
    query: String!
    table: String!
    columns: [String!]!
    partitionedBy: [String!]
    per: String = "BATCH"
    roles: [String!]
    exceptRoles: [String!]
    ifArgument: String
    subgraph: String
    unlessOnly: [String!]
  ) repeatable on FIELD_DEFINITION | OBJECT

  directive @noScan(reason: String!) on FIELD_DEFINITION

  directive @responseCache(scope: String, versionedBy: String) on FIELD_DEFINITION
`;
}
