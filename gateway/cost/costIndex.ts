/**
 * The supergraph's cost declarations, indexed once per schema load from one parse of the supergraph
 * SDL — the only place they survive composition (the API schema Apollo Server hands plugins drops
 * them), with `@join__type` / `@join__field` telling which subgraph resolves what:
 *
 * - bytegate's `@scan` / `@noScan` (common/graphql/costSpec.ts): the warehouse jobs a field runs;
 * - Apollo's demand-control `@cost` / `@listSize` (https://specs.apollo.dev/cost/v0.1), under the
 *   names the cost spec's `@link` gives them (it can rename them: `import: [{ name: "@cost", as:
 *   "@price" }]`, or `@federation__cost` when a subgraph used it unimported).
 *
 * Start-up contract: every field a subgraph resolves on Query, Mutation or an entity type (other
 * than its keys) declares its warehouse cost; a missing or malformed declaration is a
 * CostDeclarationError naming every offender, so a new warehouse-backed field cannot ship unpriced
 * (`requireScans: false` lifts the first rule, for supergraphs scored for points only).
 */
import {
  type ConstDirectiveNode,
  type ConstValueNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  isTypeDefinitionNode,
  isTypeExtensionNode,
  parse,
} from 'graphql';
import { TABLES, leafColumns } from '../../pricing/tables';

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
  /** Not read when the field's selection in its subgraph asks for nothing but these (and `__typename`). */
  readonly unlessOnly?: readonly string[];
}

/** `@responseCache`: what an answer selecting the field depends on beyond its scans (common/graphql/costSpec.ts). */
export interface ResponseCacheHint {
  /** CALLER: kept per caller; NONE: never cached. Absent: shared by the caller's scope. */
  readonly scope?: 'CALLER' | 'NONE';
  /** ALL_DAYS: on which days hold data, so every ingest changes it. */
  readonly versionedBy?: 'ALL_DAYS';
}

/** `@listSize`. Its `requireOneSlicingArgument` is not kept: see planOperation.ts. */
export interface ListSize {
  readonly assumedSize?: number;
  /** Arguments, or paths into input-object arguments (`input.pagination.first`), whose value sizes the list. */
  readonly slicingArguments?: readonly string[];
  readonly sizedFields?: SizedFields;
}

/**
 * `@listSize(sizedFields:)` as the Router reads it: each entry a field set on the field's type,
 * `edges` or `results { page }`, whose leaves are the lists the slicing argument sizes.
 */
export interface SizedFields {
  /**
   * Lists sized at this level: every leaf of the entries from here down, less the names that lead
   * deeper here — so `results { page }` sizes a `page` beside `results` too, as the Router does.
   */
  readonly leaves: ReadonlySet<string>;
  /** The entries' continuations, by the field they go through (`results` → `{ page }`). */
  readonly nested: ReadonlyMap<string, SizedFields>;
}

/** What the supergraph declares of one field (of an object, interface or input object type). */
export interface FieldCost {
  /** Subgraphs that resolve the field (`@join__field`); empty: every subgraph defining the type. */
  readonly owners: readonly string[];
  readonly scans: readonly ScanDeclaration[];
  /** `@cost(weight:)` on the field (or input field). */
  readonly weight?: number;
  /** `@cost(weight:)` on its arguments, by argument name. */
  readonly argumentWeights?: ReadonlyMap<string, number>;
  readonly listSize?: ListSize;
  /** The selection its `@requires` needs from its parent (`@join__field(requires:)`): the gateway fetches it first. */
  readonly requires?: SelectionSetNode;
  readonly responseCache?: ResponseCacheHint;
}

export interface CostIndex {
  /** Type → field → what it declares. Object types list every field; others only those with a directive. */
  readonly fields: ReadonlyMap<string, ReadonlyMap<string, FieldCost>>;
  /** Type → subgraphs defining it (`@join__type`). */
  readonly typeGraphs: ReadonlyMap<string, readonly string[]>;
  /** `Type` → subgraph → scans its entity resolution runs. */
  readonly entityScans: ReadonlyMap<string, ReadonlyMap<string, readonly ScanDeclaration[]>>;
  /** `@cost(weight:)` on object, scalar and enum types: the weight of each instance of the type, and of an argument of the type without its own. */
  readonly typeWeights: ReadonlyMap<string, number>;
  /** Subgraph name → URL (`@join__graph`). */
  readonly subgraphUrls: ReadonlyMap<string, string>;
  /** The subgraph serving the internal `_scanStatistics` field, if any. */
  readonly statisticsSubgraph?: string;
}

export class CostDeclarationError extends Error {}

export const STATISTICS_FIELD = '_scanStatistics';

export interface IndexOptions {
  /** Every field resolved on Query, Mutation or an entity must declare `@scan` or `@noScan`; default true. */
  readonly requireScans?: boolean;
}

export function indexCostDirectives(supergraphSdl: string, options: IndexOptions = {}): CostIndex {
  const document = parse(supergraphSdl, { noLocation: true });
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
  const demand = demandControlNames(document);
  const weightOf = (nodes: readonly ConstDirectiveNode[] | undefined): number | undefined => {
    const cost = demand && nodes?.find((directive) => directive.name.value === demand.cost);
    return cost ? numberOf(directiveArgs(cost).weight) : undefined;
  };

  const fields = new Map<string, Map<string, FieldCost>>();
  const typeGraphs = new Map<string, string[]>();
  const entityScans = new Map<string, Map<string, ScanDeclaration[]>>();
  const typeWeights = new Map<string, number>();
  let statisticsSubgraph: string | undefined;
  const roots = rootTypeNames(document);

  for (const type of document.definitions) {
    if (!isTypeDefinitionNode(type) && !isTypeExtensionNode(type)) continue;
    const typeName = type.name.value;
    const typeWeight = weightOf(type.directives);
    if (typeWeight !== undefined) typeWeights.set(typeName, typeWeight);
    const isObject = type.kind === Kind.OBJECT_TYPE_DEFINITION || type.kind === Kind.OBJECT_TYPE_EXTENSION;
    const joins = directives(type.directives, 'join__type').map(directiveArgs);
    if (isObject) typeGraphs.set(typeName, [...new Set(joins.map((j) => graphOf(j.graph)))]);
    const keyFields = new Set(joins.flatMap((j) => (typeof j.key === 'string' ? topLevelFields(j.key) : [])));
    const isEntity = joins.some((j) => typeof j.key === 'string');

    for (const scan of isObject ? directives(type.directives, 'scan') : []) {
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

    const typeFields = fields.get(typeName) ?? new Map<string, FieldCost>();
    for (const field of 'fields' in type ? ((type.fields ?? []) as readonly (FieldDefinitionNode | InputValueDefinitionNode)[]) : []) {
      const demandControl = demandControlOf(field, demand, weightOf, `${typeName}.${field.name.value}`, problems);
      if (!isObject) {
        if (Object.keys(demandControl).length > 0) typeFields.set(field.name.value, { owners: [], scans: [], ...demandControl });
        continue;
      }
      const coordinate = `${typeName}.${field.name.value}`;
      const definition = field as FieldDefinitionNode;
      const joins = directives(field.directives, 'join__field').map(directiveArgs);
      const owners = joins.filter((j) => j.external !== true && j.graph !== undefined).map((j) => graphOf(j.graph));
      const requiredFields = joins.find((j) => typeof j.requires === 'string')?.requires as string | undefined;
      const requires = requiredFields === undefined ? undefined : fieldSet(requiredFields, `${coordinate} @requires`, problems);
      const scans = directives(field.directives, 'scan')
        .map((d) => scanDeclaration(directiveArgs(d), coordinate, definition, problems))
        .filter((d): d is ScanDeclaration => d !== undefined);
      for (const scan of scans) {
        const first = scans.find((s) => s.query === scan.query)!;
        if (first.per !== scan.per || String(first.partitionedBy) !== String(scan.partitionedBy)) {
          problems.push(`${coordinate}: the @scan declarations of query ${scan.query} must agree on per and partitionedBy (they are one job).`);
        }
      }
      const free = directives(field.directives, 'noScan').length > 0;
      const responseCache = responseCacheHint(directives(field.directives, 'responseCache')[0], coordinate, problems);
      typeFields.set(field.name.value, { owners, scans, ...demandControl, ...(requires && { requires }), ...(responseCache && { responseCache }) });
      if (field.name.value === STATISTICS_FIELD) statisticsSubgraph = owners[0];
      const mustDeclare = options.requireScans !== false && (roots.has(typeName) || isEntity) && !keyFields.has(field.name.value);
      if (mustDeclare && scans.length === 0 && !free) problems.push(`${coordinate} declares no cost: add @scan(...) or @noScan(reason: ...).`);
    }
    if (typeFields.size > 0) fields.set(typeName, typeFields);
  }
  if (problems.length > 0) throw new CostDeclarationError(`Cost declarations are incomplete:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return { fields, typeGraphs, entityScans, typeWeights, subgraphUrls, statisticsSubgraph };
}

// Private:

const PER: readonly ScanPer[] = ['FIELD', 'BATCH', 'REQUEST'];
/** Any version of the cost spec: https://specs.apollo.dev/cost/v0.1 is the one Federation 2.9 links. */
const COST_SPEC_URL = /^https:\/\/specs\.apollo\.dev\/cost\/v\d+\.\d+$/;

function scanDeclaration(args: Record<string, unknown>, where: string, field: FieldDefinitionNode | undefined, problems: string[]): ScanDeclaration | undefined {
  const before = problems.length;
  const table = TABLES[String(args.table)];
  if (!table) problems.push(`${where}: @scan table "${String(args.table)}" is not a warehouse table (pricing/tables.ts).`);
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
  const unlessOnly = Array.isArray(args.unlessOnly) ? args.unlessOnly.map(String) : undefined;
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
    ...(unlessOnly ? { unlessOnly } : {}),
  };
}

const CACHE_SCOPES: readonly string[] = ['CALLER', 'NONE'];

function responseCacheHint(directive: ConstDirectiveNode | undefined, where: string, problems: string[]): ResponseCacheHint | undefined {
  if (!directive) return undefined;
  const { scope, versionedBy } = directiveArgs(directive);
  if (scope !== undefined && !CACHE_SCOPES.includes(String(scope))) problems.push(`${where}: @responseCache scope must be one of ${CACHE_SCOPES.join(', ')}, not "${String(scope)}".`);
  if (versionedBy !== undefined && versionedBy !== 'ALL_DAYS') problems.push(`${where}: @responseCache versionedBy must be ALL_DAYS, not "${String(versionedBy)}".`);
  return {
    ...(scope !== undefined && { scope: scope as ResponseCacheHint['scope'] }),
    ...(versionedBy !== undefined && { versionedBy: 'ALL_DAYS' as const }),
  };
}

/** A field's `@cost` / `@listSize` (and its arguments' `@cost`); empty when it carries none. */
function demandControlOf(
  field: FieldDefinitionNode | InputValueDefinitionNode,
  names: DemandControlNames | undefined,
  weightOf: (nodes: readonly ConstDirectiveNode[] | undefined) => number | undefined,
  coordinate: string,
  problems: string[],
): Pick<FieldCost, 'weight' | 'argumentWeights' | 'listSize'> {
  const weight = weightOf(field.directives);
  const argumentWeights = new Map<string, number>();
  for (const argument of field.kind === Kind.FIELD_DEFINITION ? (field.arguments ?? []) : []) {
    const argumentWeight = weightOf(argument.directives);
    if (argumentWeight !== undefined) argumentWeights.set(argument.name.value, argumentWeight);
  }
  const listSize = names && field.directives?.find((directive) => directive.name.value === names.listSize);
  return {
    ...(weight !== undefined && { weight }),
    ...(argumentWeights.size > 0 && { argumentWeights }),
    ...(listSize && { listSize: listSizeOf(listSize, coordinate, problems) }),
  };
}

interface DemandControlNames {
  readonly cost: string;
  readonly listSize: string;
}

/**
 * The names `@cost` and `@listSize` go by in the supergraph, from the cost spec's `@link`
 * (https://specs.apollo.dev/link/v1.0/#@link.import): an imported directive by its import (or its
 * alias), the rest prefixed by the namespace (`as:`, else `cost`) — `@cost__listSize` — except the
 * directive named like the namespace, which is `@cost` itself (as `@link` is in the link spec).
 * Undefined without that link: nothing is weighted or sized.
 */
function demandControlNames(document: DocumentNode): DemandControlNames | undefined {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of directives(definition.directives, 'link').map(directiveArgs)) {
      if (typeof link.url !== 'string' || !COST_SPEC_URL.test(link.url)) continue;
      const namespace = typeof link.as === 'string' ? link.as : 'cost';
      const names = { cost: namespace, listSize: `${namespace}__listSize` };
      for (const imported of Array.isArray(link.import) ? link.import : []) {
        // "@cost", or { name: "@cost", as: "@price" }
        const { name, as = name } = (typeof imported === 'string' ? { name: imported } : imported) as { name?: unknown; as?: unknown };
        if (name === '@cost') names.cost = String(as).slice(1);
        if (name === '@listSize') names.listSize = String(as).slice(1);
      }
      return names;
    }
  }
  return undefined;
}

function listSizeOf(directive: ConstDirectiveNode, coordinate: string, problems: string[]): ListSize {
  const args = directiveArgs(directive);
  const assumedSize = numberOf(args.assumedSize);
  const slicingArguments = stringsOf(args.slicingArguments);
  const entries = stringsOf(args.sizedFields);
  const sizedFields = entries && sizedFieldsOf(entries.flatMap((entry) => {
    const selectionSet = fieldSet(entry, `${coordinate} @listSize sizedFields "${entry}"`, problems);
    if (selectionSet && !oneListPerPath(selectionSet)) problems.push(`${coordinate}: @listSize sizedFields "${entry}" must name at most one list per level (the Router refuses the schema).`);
    return selectionSet ? [selectionSet] : [];
  }));
  return {
    ...(assumedSize !== undefined && { assumedSize }),
    ...(slicingArguments && { slicingArguments }),
    ...(sizedFields && { sizedFields }),
  };
}

/** The sizedFields tree of some entries' selection sets (the Router's SizedFields). */
function sizedFieldsOf(selectionSets: readonly SelectionSetNode[]): SizedFields {
  const continuations = new Map<string, SelectionSetNode[]>();
  const leaves = new Set<string>();
  const collectLeaves = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      if (selection.selectionSet) collectLeaves(selection.selectionSet);
      else leaves.add(selection.name.value);
    }
  };
  for (const selectionSet of selectionSets) {
    collectLeaves(selectionSet);
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD || !selection.selectionSet) continue;
      continuations.set(selection.name.value, [...(continuations.get(selection.name.value) ?? []), selection.selectionSet]);
    }
  }
  for (const name of continuations.keys()) leaves.delete(name);
  return { leaves, nested: new Map([...continuations].map(([name, nested]) => [name, sizedFieldsOf(nested)])) };
}

/** At most one leaf in each selection set of the entry. */
function oneListPerPath(selectionSet: SelectionSetNode): boolean {
  const fields = selectionSet.selections.filter((s) => s.kind === Kind.FIELD);
  return fields.filter((f) => !f.selectionSet).length <= 1 && fields.every((f) => !f.selectionSet || oneListPerPath(f.selectionSet));
}

/** A field set (`id`, `owner { addresses { zipCode } }`) as a selection set; a problem when it does not parse. */
function fieldSet(fields: string, where: string, problems: string[]): SelectionSetNode | undefined {
  try {
    return (parse(`{ ${fields} }`, { noLocation: true }).definitions[0] as OperationDefinitionNode).selectionSet;
  } catch {
    problems.push(`${where}: "${fields}" is not a field set.`);
    return undefined;
  }
}

/** A number, or a string holding one: cost/v0.1 types `weight` Int!, the Router also reads strings. */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'string' && value.trim() === '') return undefined;
  const number = typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : undefined;
}

function stringsOf(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}

function rootTypeNames(document: DocumentNode): Set<string> {
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
function topLevelFields(fields: string): string[] {
  const operation = parse(`{ ${fields} }`).definitions[0] as OperationDefinitionNode;
  return operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
}
