/**
 * The supergraph's cost declarations, indexed once per schema load. `@scan` / `@noScan`
 * (subgraphs/common/costDirectives.ts) survive composition only in the supergraph SDL — the API
 * schema Apollo Server hands plugins drops them — so this reads the SDL, with `@join__type` /
 * `@join__field` telling which subgraph resolves what.
 *
 * Start-up contract: every field a subgraph resolves on Query, Mutation or an entity type (other
 * than its keys) declares its cost; a missing or malformed declaration is a CostDeclarationError
 * naming every offender, so a new warehouse-backed field cannot ship unpriced.
 */
import { type ConstDirectiveNode, type ConstValueNode, type FieldDefinitionNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { TABLES, leafColumns } from '../../warehouse/tables';

export type ScanPer = 'FIELD' | 'BATCH' | 'REQUEST';

/** One `@scan`: a warehouse job (or part of one: declarations naming the same query merge). */
export interface ScanDeclaration {
  readonly query: string;
  readonly table: string;
  readonly columns: readonly string[];
  /** The field's arguments bounding the day partitions read: [from, to]. Absent: unpartitioned table. */
  readonly partitionedBy?: readonly [string, string];
  readonly per: ScanPer;
  /** Read only for callers with one of these roles. */
  readonly roles?: readonly string[];
  /** Read only for callers with none of these roles. */
  readonly exceptRoles?: readonly string[];
  /** Read only when this argument is given (non-null). */
  readonly ifArgument?: string;
}

export interface FieldCost {
  /** Subgraphs that resolve the field (`@join__field`); empty: every subgraph defining the type. */
  readonly owners: readonly string[];
  readonly scans: readonly ScanDeclaration[];
}

export interface CostIndex {
  /** `Type.field` → its owners and declared scans. */
  readonly fields: ReadonlyMap<string, FieldCost>;
  /** Type → subgraphs defining it (`@join__type`). */
  readonly typeGraphs: ReadonlyMap<string, readonly string[]>;
  /** `Type` → subgraph → scans its entity resolution runs. */
  readonly entityScans: ReadonlyMap<string, ReadonlyMap<string, readonly ScanDeclaration[]>>;
  /** Subgraph name → URL (`@join__graph`). */
  readonly subgraphUrls: ReadonlyMap<string, string>;
  /** The subgraph serving the internal `_scanStatistics` field, if any. */
  readonly statisticsSubgraph?: string;
}

export class CostDeclarationError extends Error {}

export const STATISTICS_FIELD = '_scanStatistics';

export function indexCostDeclarations(supergraphSdl: string): CostIndex {
  const document = parse(supergraphSdl);
  const problems: string[] = [];
  const graphNames = new Map<string, string>(); // join__Graph enum value → subgraph name
  const subgraphUrls = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const graph = directiveArgs(directives(value.directives, 'join__graph')[0]);
      graphNames.set(value.name.value, String(graph.name));
      subgraphUrls.set(String(graph.name), String(graph.url));
    }
  }
  const graphOf = (enumValue: unknown) => graphNames.get(String(enumValue)) ?? String(enumValue);

  const fields = new Map<string, FieldCost>();
  const typeGraphs = new Map<string, string[]>();
  const entityScans = new Map<string, Map<string, ScanDeclaration[]>>();
  let statisticsSubgraph: string | undefined;
  const roots = rootTypeNames(document);

  for (const type of document.definitions) {
    if (type.kind !== Kind.OBJECT_TYPE_DEFINITION && type.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const typeName = type.name.value;
    const joins = directives(type.directives, 'join__type').map(directiveArgs);
    typeGraphs.set(typeName, [...new Set(joins.map((j) => graphOf(j.graph)))]);
    const keyFields = new Set(joins.flatMap((j) => (typeof j.key === 'string' ? topLevelFields(j.key) : [])));
    const isEntity = joins.some((j) => typeof j.key === 'string');

    for (const scan of directives(type.directives, 'scan')) {
      const args = directiveArgs(scan);
      const graph = typeof args.subgraph === 'string' ? args.subgraph : undefined;
      if (!graph || !subgraphUrls.has(graph)) {
        problems.push(`${typeName}: @scan on a type needs subgraph: one of ${[...subgraphUrls.keys()].join(', ')}.`);
        continue;
      }
      const declaration = scanDeclaration(args, `${typeName} (entity in ${graph})`, undefined, problems);
      if (!declaration) continue;
      const byGraph = entityScans.get(typeName) ?? new Map<string, ScanDeclaration[]>();
      byGraph.set(graph, [...(byGraph.get(graph) ?? []), declaration]);
      entityScans.set(typeName, byGraph);
    }

    for (const field of type.fields ?? []) {
      const coordinate = `${typeName}.${field.name.value}`;
      const owners = directives(field.directives, 'join__field').map(directiveArgs)
        .filter((j) => j.external !== true && j.graph !== undefined)
        .map((j) => graphOf(j.graph));
      const scans = directives(field.directives, 'scan')
        .map((d) => scanDeclaration(directiveArgs(d), coordinate, field, problems))
        .filter((d): d is ScanDeclaration => d !== undefined);
      for (const scan of scans) {
        const first = scans.find((s) => s.query === scan.query)!;
        if (first.per !== scan.per || String(first.partitionedBy) !== String(scan.partitionedBy)) {
          problems.push(`${coordinate}: the @scan declarations of query ${scan.query} must agree on per and partitionedBy (they are one job).`);
        }
      }
      const free = directives(field.directives, 'noScan').length > 0;
      fields.set(coordinate, { owners, scans });
      if (field.name.value === STATISTICS_FIELD) statisticsSubgraph = owners[0];
      const mustDeclare = (roots.has(typeName) || isEntity) && !keyFields.has(field.name.value);
      if (mustDeclare && scans.length === 0 && !free) problems.push(`${coordinate} declares no cost: add @scan(...) or @noScan(reason: ...).`);
    }
  }
  if (problems.length > 0) throw new CostDeclarationError(`Cost declarations are incomplete:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return { fields, typeGraphs, entityScans, subgraphUrls, statisticsSubgraph };
}

// Private:

const PER: readonly ScanPer[] = ['FIELD', 'BATCH', 'REQUEST'];

function scanDeclaration(args: Record<string, unknown>, where: string, field: FieldDefinitionNode | undefined, problems: string[]): ScanDeclaration | undefined {
  const before = problems.length;
  const table = TABLES[String(args.table)];
  if (!table) problems.push(`${where}: @scan table "${String(args.table)}" is not a warehouse table (warehouse/tables.ts).`);
  // No columns is legitimate: `SELECT count(*)` reads none, and BigQuery bills it nothing.
  const columns = Array.isArray(args.columns) ? args.columns.map(String) : [];
  if (table) {
    const known = new Set(leafColumns(table).map((leaf) => leaf.path));
    for (const column of columns) if (!known.has(column)) problems.push(`${where}: ${table.name} has no leaf column "${column}".`);
  }
  const per = (args.per ?? 'BATCH') as ScanPer;
  if (!PER.includes(per)) problems.push(`${where}: @scan per must be one of ${PER.join(', ')}, not "${String(args.per)}".`);
  const argumentNames = new Set(field?.arguments?.map((a) => a.name.value) ?? []);
  let partitionedBy: [string, string] | undefined;
  if (args.partitionedBy !== undefined && args.partitionedBy !== null) {
    const names = (args.partitionedBy as unknown[]).map(String);
    if (names.length !== 2 || names.some((n) => !argumentNames.has(n))) problems.push(`${where}: partitionedBy must name the field's from and to arguments.`);
    else partitionedBy = [names[0], names[1]];
    if (table && !table.partitionBy) problems.push(`${where}: ${table.name} is not partitioned.`);
  } else if (table?.partitionBy && field) {
    problems.push(`${where}: ${table.name} is partitioned; say which arguments bound it with partitionedBy.`);
  }
  const ifArgument = typeof args.ifArgument === 'string' ? args.ifArgument : undefined;
  if (ifArgument !== undefined && !argumentNames.has(ifArgument)) problems.push(`${where}: ifArgument "${ifArgument}" is not an argument of the field.`);
  if (problems.length > before) return undefined;
  return {
    query: String(args.query),
    table: table!.name,
    columns,
    ...(partitionedBy ? { partitionedBy } : {}),
    per,
    ...(Array.isArray(args.roles) ? { roles: args.roles.map(String) } : {}),
    ...(Array.isArray(args.exceptRoles) ? { exceptRoles: args.exceptRoles.map(String) } : {}),
    ...(ifArgument ? { ifArgument } : {}),
  };
}

function rootTypeNames(document: ReturnType<typeof parse>): Set<string> {
  const names = new Set(['Query', 'Mutation']);
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION) continue;
    for (const operation of definition.operationTypes) names.add(operation.type.name.value);
  }
  return names;
}

function directives(nodes: readonly ConstDirectiveNode[] | undefined, name: string): ConstDirectiveNode[] {
  return (nodes ?? []).filter((d) => d.name.value === name);
}

function directiveArgs(directive: ConstDirectiveNode | undefined): Record<string, unknown> {
  return Object.fromEntries((directive?.arguments ?? []).map((a) => [a.name.value, constValue(a.value)]));
}

function constValue(node: ConstValueNode): unknown {
  switch (node.kind) {
    case Kind.LIST:
      return node.values.map(constValue);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, constValue(f.value)]));
    case Kind.NULL:
      return null;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.BOOLEAN:
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
  }
}

/** Top-level field names of a key field set, e.g. `id` or `id org { id }` → id, org. */
function topLevelFields(fieldSet: string): string[] {
  const operation = parse(`{ ${fieldSet} }`).definitions[0] as OperationDefinitionNode;
  return operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
}
