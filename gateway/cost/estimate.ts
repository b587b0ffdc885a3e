/**
 * The byte estimate of an operation: which warehouse jobs the subgraphs will run for it, and what
 * they will process and bill by BigQuery's rules. Pure and synchronous — no I/O — in two steps:
 *
 * 1. `planJobs` walks the operation as graphql-js executes it (its own collectFields: fragments,
 *    variables, @skip/@include, the selected operation) and follows the query planner's fetches:
 *    a new subgraph fetch wherever a field's owner differs from its parent's. Each `@scan` becomes a
 *    job keyed the way the subgraph runs it — per field occurrence, per DataLoader batch (same
 *    partition arguments, same nesting level, same fetch) or once per fetch — so a list of 100 users
 *    costs one batched job, and aliases with other arguments cost one job each.
 * 2. `priceJobs` prices each job's tables from the tenant's recorded statistics (days outside the
 *    data cost nothing, so ranges are clamped to the data the tenant has).
 *
 * The estimate is an upper bound of what the warehouse then reports as processed: a job the subgraph
 * might skip (a memoized lookup it does not need) is still counted.
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLInterfaceType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLSchema,
  GraphQLUnionType,
  Kind,
  getOperationAST,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields';
import { getArgumentValues, getVariableValues } from 'graphql/execution/values';
import { dateRange } from '../../common/dates';
import { billedBytes } from '../../warehouse/billing';
import type { DayRange, PartitionStatistics } from '../../warehouse/scanBytes';
import type { CostIndex, ScanDeclaration } from './costIndex';

export interface PlannedJob {
  /** The subgraph that runs it. */
  readonly subgraph: string;
  /** The WarehouseQuery name. */
  readonly query: string;
  /** Response path of the first field asking for it, e.g. `tenant.topTimeWasters`. */
  readonly path: string;
  readonly tables: readonly { table: string; columns: readonly string[]; days: DayRange | null }[];
  /** How many times it runs: 1, or the parent list's size for a per-field job under a list. */
  readonly times: number;
}

export interface EstimatedJob extends PlannedJob {
  /** Processed bytes of one run. */
  readonly processedBytes: number;
  /** Billed bytes of one run (MiB rounding, 10 MiB minimum per table and per job). */
  readonly billedBytes: number;
}

export interface Estimate {
  readonly jobs: readonly EstimatedJob[];
  readonly processedBytes: number;
  readonly billedBytes: number;
  /** The largest single job's billed bytes: the cap each job runs under. */
  readonly maxJobBilledBytes: number;
}

export interface PlanOptions {
  /** The caller's roles: declarations with `roles` / `exceptRoles` apply accordingly. */
  readonly roles: readonly string[];
  /** As the subgraphs enforce it: a longer range is refused there, so it runs nothing. */
  readonly maxRangeDays: number;
  /** Size assumed for a list without a `first` argument. */
  readonly defaultListSize: number;
}

/** The jobs an operation will run; none for an operation that cannot execute (unknown operation, bad variables). */
export function planJobs(
  schema: GraphQLSchema,
  index: CostIndex,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  options: PlanOptions,
): PlannedJob[] {
  const operation = getOperationAST(document, operationName);
  const rootType = operation && schema.getRootType(operation.operation);
  if (!operation || !rootType) return [];
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return [];
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;

  const walker = new Walker(schema, index, fragments, coerced.coerced, options);
  walker.selection(rootType, collectFields(schema, fragments, coerced.coerced, rootType, operation.selectionSet), ROOT);
  return walker.jobs();
}

export function priceJobs(jobs: readonly PlannedJob[], statistics: PartitionStatistics): Estimate {
  const estimated = jobs.map((job): EstimatedJob => {
    const perTable = job.tables.map((t) => statistics.bytes({ table: t.table, columns: t.columns, days: t.days === null ? null : [t.days] }));
    return { ...job, processedBytes: perTable.reduce((sum, b) => sum + b, 0), billedBytes: billedBytes(perTable) };
  });
  return {
    jobs: estimated,
    processedBytes: estimated.reduce((sum, job) => sum + job.processedBytes * job.times, 0),
    billedBytes: estimated.reduce((sum, job) => sum + job.billedBytes * job.times, 0),
    maxJobBilledBytes: estimated.reduce((max, job) => Math.max(max, job.billedBytes), 0),
  };
}

// Private:

/** Where the walk is: the current subgraph fetch and the position inside it. */
interface Position {
  /** Identifies the subgraph request: `root:<subgraph>` or `<entity path>:<subgraph>`. */
  readonly fetch: string;
  readonly subgraph: string | null;
  /** Nesting level inside the fetch: DataLoader batches form per level. */
  readonly depth: number;
  readonly path: string;
  /** Objects at this position: the product of the enclosing lists' sizes. */
  readonly times: number;
}

const ROOT: Position = { fetch: '', subgraph: null, depth: 0, path: '', times: 1 };
const NO_ARGS: Record<string, unknown> = Object.freeze({});
const NO_SCANS: readonly ScanDeclaration[] = [];
const NO_TYPES: readonly GraphQLObjectType[] = [];

interface JobBuilder {
  subgraph: string;
  query: string;
  path: string;
  times: number;
  tables: Map<string, { columns: Set<string>; days: DayRange | null }>;
}

class Walker {
  private readonly builders = new Map<string, JobBuilder>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly index: CostIndex,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    private readonly options: PlanOptions,
  ) {}

  jobs(): PlannedJob[] {
    return [...this.builders.values()].map((b) => ({
      subgraph: b.subgraph,
      query: b.query,
      path: b.path,
      times: b.times,
      tables: [...b.tables].map(([table, t]) => ({ table, columns: [...t.columns].sort(), days: t.days })),
    }));
  }

  selection(type: GraphQLObjectType, fields: Map<string, readonly FieldNode[]>, at: Position): void {
    for (const [responseKey, nodes] of fields) this.field(type, responseKey, nodes, at);
  }

  private field(parentType: GraphQLObjectType, responseKey: string, nodes: readonly FieldNode[], at: Position): void {
    const name = nodes[0].name.value;
    if (name.startsWith('__')) return; // introspection and __typename: no warehouse
    const definition = parentType.getFields()[name];
    if (!definition) return;
    let args: Record<string, unknown> = NO_ARGS;
    try {
      if (definition.args.length > 0) args = getArgumentValues(definition, nodes[0], this.variables);
    } catch {
      return; // execution refuses the field's arguments: it runs nothing
    }
    const cost = this.index.fields.get(`${parentType.name}.${name}`);
    const owners = cost?.owners.length ? cost.owners : (this.index.typeGraphs.get(parentType.name) ?? []);
    const path = at.path ? `${at.path}.${responseKey}` : responseKey;

    let here: Position;
    if (at.subgraph !== null && (owners.length === 0 || owners.includes(at.subgraph))) {
      here = { fetch: at.fetch, subgraph: at.subgraph, depth: at.depth + 1, path, times: at.times };
    } else {
      const subgraph = owners[0] ?? at.subgraph ?? 'unknown';
      const fetch = at.subgraph === null ? `root:${subgraph}` : `${at.path}:${subgraph}`;
      if (at.subgraph !== null) {
        // An entity fetch: the subgraph first resolves the parent objects themselves.
        for (const scan of this.index.entityScans.get(parentType.name)?.get(subgraph) ?? []) {
          this.add(scan, {}, { fetch, subgraph, depth: 0, path: at.path, times: at.times }, `${parentType.name}@entity`);
        }
      }
      here = { fetch, subgraph, depth: 1, path, times: at.times };
    }

    const scans = cost?.scans ?? NO_SCANS;
    if (scans.length > 0) {
      const partitioned = scans.find((s) => s.partitionedBy);
      const days = partitioned ? this.partitionDays(partitioned, args) : null;
      if (days === undefined) return; // the subgraph refuses the range: no job, and nothing below it runs
      for (const scan of scans) this.add(scan, args, here, `${parentType.name}.${name}`, days);
    }

    // Plain `instanceof` rather than graphql's is*Type: those re-check every miss in development builds.
    let type = definition.type;
    if (type instanceof GraphQLNonNull) type = type.ofType;
    const size = type instanceof GraphQLList ? listSize(args, this.options.defaultListSize) : 1;
    while (type instanceof GraphQLList || type instanceof GraphQLNonNull) type = type.ofType;
    const objectTypes = type instanceof GraphQLObjectType ? [type]
      : type instanceof GraphQLInterfaceType || type instanceof GraphQLUnionType ? this.schema.getPossibleTypes(type) : NO_TYPES;
    const below: Position = { fetch: here.fetch, subgraph: here.subgraph, depth: here.depth, path: here.path, times: here.times * size };
    for (const objectType of objectTypes) {
      this.selection(objectType, collectSubfields(this.schema, this.fragments, this.variables, objectType, nodes), below);
    }
  }

  /** Adds `scan` to its job; declarations naming the same query at the same key merge their columns. */
  private add(scan: ScanDeclaration, args: Record<string, unknown>, at: Position, coordinate: string, days: DayRange | null = null): void {
    if (!this.applies(scan, args)) return;
    const key = jobKey(scan, at, coordinate, days);
    let builder = this.builders.get(key);
    if (!builder) {
      builder = { subgraph: at.subgraph ?? 'unknown', query: scan.query, path: at.path, times: scan.per === 'FIELD' ? at.times : 1, tables: new Map() };
      this.builders.set(key, builder);
    }
    const table = builder.tables.get(scan.table) ?? { columns: new Set<string>(), days: scan.partitionedBy ? days : null };
    for (const column of scan.columns) table.columns.add(column);
    builder.tables.set(scan.table, table);
  }

  private applies(scan: ScanDeclaration, args: Record<string, unknown>): boolean {
    const roles = this.options.roles;
    if (scan.roles && !scan.roles.some((r) => roles.includes(r))) return false;
    if (scan.exceptRoles && scan.exceptRoles.some((r) => roles.includes(r))) return false;
    if (scan.ifArgument && (args[scan.ifArgument] === undefined || args[scan.ifArgument] === null)) return false;
    return true;
  }

  /** The days the field's partition arguments select, or undefined when the subgraph will refuse them. */
  private partitionDays(scan: ScanDeclaration, args: Record<string, unknown>): DayRange | undefined {
    const [from, to] = scan.partitionedBy!.map((name) => args[name]);
    if (typeof from !== 'string' || typeof to !== 'string') return undefined;
    try {
      return dateRange(from, to, this.options.maxRangeDays);
    } catch {
      return undefined;
    }
  }
}

/** Jobs that are one warehouse query share a key: see the module comment. */
function jobKey(scan: ScanDeclaration, at: Position, coordinate: string, days: DayRange | null): string {
  switch (scan.per) {
    case 'REQUEST':
      return `${at.fetch}|${scan.query}`;
    case 'BATCH':
      return `${at.fetch}|${scan.query}|${coordinate}|${at.depth}|${days?.from ?? ''}..${days?.to ?? ''}`;
    case 'FIELD':
      return `${at.fetch}|${scan.query}|${at.path}`;
  }
}

function listSize(args: Record<string, unknown>, fallback: number): number {
  const first = args.first;
  return typeof first === 'number' && Number.isInteger(first) && first >= 0 ? first : fallback;
}
