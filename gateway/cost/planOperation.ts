/**
 * The one walk of an operation. Pure and synchronous — no I/O — it yields both halves of its price:
 *
 * - **jobs**: the warehouse jobs the subgraphs will run for it. The walk follows the query planner's
 *   fetches — a new subgraph fetch wherever a field's owner differs from its parent's — and each
 *   `@scan` becomes a job keyed the way the subgraph runs it: per field occurrence, per DataLoader
 *   batch (same partition arguments, same nesting level, same fetch) or once per fetch. So a list of
 *   100 users costs one batched job, and aliases with other arguments cost one job each. A job the
 *   subgraph might skip (a memoized lookup it does not need) is still counted: an upper bound.
 * - **points**: Apollo Router's demand-control estimate, from the Federation 2.9 `@cost` /
 *   `@listSize` directives (https://specs.apollo.dev/cost/v0.1), for what the warehouse does not serve.
 *
 * Points, by the Router's rules — its docs
 * (https://www.apollographql.com/docs/graphos/routing/security/demand-control#calculating-cost) and,
 * where they are silent, its static cost calculator
 * (https://github.com/apollographql/router/blob/dev/apollo-router/src/plugins/demand_control/cost_calculator/static_cost.rs),
 * checked on its own fixtures in test/cost/routerFixtures.test.ts:
 * - an operation costs its base — mutation 10, query and subscription 0 — plus its fields;
 * - a field costs `call + count × (instance + its selection) + its requirements`:
 *   - `call`, paid once per field, is its `@cost` (else 0) plus its arguments' points, clamped at 0 —
 *     so negative argument weights can cancel a field's own cost, never take points from the rest
 *     of the operation (aliases repeating a discounted field add 0 each)
 *     (https://ibm.github.io/graphql-specs/cost-spec.html#sec-Field-Cost.Example-Negative-Weights);
 *   - `instance`, paid per object, is its type's `@cost` (an interface's or union's: the largest of
 *     its possible types', when one has any), else 1 for an object, interface or union and 0 for a
 *     scalar or enum; never below 0;
 *   - `count` is 1 unless the field returns a list, and for a list (never below 0): the size an
 *     ancestor's `sizedFields` gives it, else the largest of its `slicingArguments` — each an
 *     argument or a dotted path into an input object (`input.pagination.first`), an integer or a
 *     list (sized by its length), given as a literal, a variable or the argument's default — else
 *     its `assumedSize`, else `defaultListSize`;
 *   - `sizedFields` entries are field sets: `edges` sizes the `edges` list below the field,
 *     `results { page }` the `page` lists inside `results` (and, as the Router reads it, beside it);
 *   - its requirements are the points of its `@requires` selection, walked on its parent type (so
 *     a list the requirement reaches is sized like any other);
 * - an argument (or input field) costs its `@cost`, else its type's, else 0; an input object 1 (or its
 *   `@cost`) plus its fields; a list its `@cost` plus its items; null 0;
 * - fragments add their selections, every branch of an abstract type included (the Router sums the
 *   branches); `__typename` and introspection cost 0, and so does whatever `@skip` / `@include` leave out.
 * Where this differs from the Router, on purpose:
 * - variables are read as graphql-js coerces them (the operation's defaults applied), and a slicing
 *   argument bound to a variable nobody set falls back to the argument's default, as execution does;
 *   variables that cannot be coerced are read as sent (execution refuses the request before any
 *   resolver runs, and no job is planned for it);
 * - `@skip` / `@include` exclude fragments too, and their variables are resolved; the Router's
 *   estimate only honours literal conditions on fields;
 * - `requireOneSlicingArgument` is not enforced (the Router refuses the operation): with no slicing
 *   argument the field falls back to `assumedSize`, with several the largest counts;
 * - the Router costs requirements only when estimating the client's operation, not per planned
 *   subgraph fetch; there is no query plan here, so they are always costed.
 *
 * How the walk goes: selection by selection, as written (the Router scores the document as written,
 * so a field selected twice counts twice). Jobs need execution's view — the runtime object types a
 * selection applies to, and where in which subgraph fetch their objects are — so the walk carries
 * those as `branches`: one per possible object type, narrowed by type conditions as graphql-js's
 * collectFields narrows them. A field selected twice plans the same job keys twice, which merge; a
 * fragment spread twice in one selection is walked once (its points are added again), so fragments
 * spreading fragments stay linear.
 *
 * Why not graphql-query-complexity's walk (its visitor with field estimators, the usual tool for
 * points): its semantics differ from what both halves need. It scores an abstract type's selection
 * as its dearest possible type where the Router sums the branches; it calls an estimator after the
 * field's children, with no parent field, so a parent's `sizedFields` cannot size a child and a job
 * cannot know the subgraph fetch it is in; an estimator returns a number, where a job is keyed per
 * fetch, batch and level so that a batched lookup is counted once; and it re-walks a fragment at
 * every spread, which is exponential in fragments spreading fragments (it gives up at 10,000 nodes).
 * test/cost/planOperation.test.ts checks this walk's points against it where the two agree.
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLType,
  GraphQLError,
  GraphQLInputObjectType,
  GraphQLInterfaceType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLSchema,
  GraphQLUnionType,
  type InlineFragmentNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  getVariableValues,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import { dateRange } from '../../common/dates';
import type { DayRange } from '../../pricing/scanBytes';
import type { CostIndex, FieldCost, ListSize, ResponseCacheHint, ScanDeclaration, SizedFields } from './costIndex';

/** A warehouse job the operation will run, as the subgraph runs it. */
export interface PlannedJob {
  /** The subgraph that runs it. */
  readonly subgraph: string;
  /** The WarehouseQuery name. */
  readonly query: string;
  /** Response path of the first field in the document asking for it, e.g. `tenant.topTimeWasters`. */
  readonly path: string;
  readonly tables: readonly { table: string; columns: readonly string[]; days: DayRange | null }[];
  /** How many times it runs: 1, or the parent list's size for a per-field job under a list. */
  readonly times: number;
}

export interface OperationPlan {
  /** None for an operation that cannot execute (variables that cannot be coerced). */
  readonly jobs: readonly PlannedJob[];
  /** Demand-control points (Apollo Router semantics). */
  readonly points: number;
  /** What its answer depends on beyond the partitions its jobs read, from the fields' `@responseCache`. */
  readonly cache: CachePlan;
}

export interface CachePlan {
  /**
   * Whom an answer may be shared with: VIEW, every caller who sees the same data (one tenant, one
   * scope); CALLER, the caller only; NONE, nobody (a mutation, or a field that changes with every operation).
   */
  readonly scope: 'VIEW' | 'CALLER' | 'NONE';
  /** The answer depends on which days hold data: every ingest changes it. */
  readonly allDays: boolean;
}

export interface PlanOptions {
  /** The caller's roles: `@scan` declarations with `roles` / `exceptRoles` apply accordingly. */
  readonly roles: readonly string[];
  /** Longest from..to range, as the subgraphs enforce it: a longer range is refused there, so it runs nothing. */
  readonly maxRangeDays: number;
  /** Jobs: objects assumed under a list without a `first` argument (the largest page a subgraph serves). */
  readonly maxPageSize: number;
  /** Points: size of a list field with no `@listSize` that applies (the Router's `static_estimated.list_size`). Default 10. */
  readonly defaultListSize?: number;
}

/**
 * The jobs and points of the operation `operationName` selects. Throws GraphQLError for an unknown or
 * ambiguous operationName, as graphql-js would; never throws on a validated document.
 */
export function planOperation(
  schema: GraphQLSchema,
  index: CostIndex,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  options: PlanOptions,
): OperationPlan {
  const { operation, fragments } = selectOperation(document, operationName);
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  const walk = new Walk(schema, index, fragments, coerced.coerced ?? variables ?? {}, options);
  const base = operation.operation === 'mutation' ? MUTATION_POINTS : 0;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return { jobs: [], points: base, cache: UNCACHEABLE };
  // Execution refuses variables it cannot coerce before any resolver runs: no job, points as sent.
  const branches = coerced.errors ? NO_BRANCHES : [{ type: rootType, at: ROOT }];
  const points = base + walk.selectionSet(operation.selectionSet, rootType, walk.level(UNSIZED, branches));
  return { jobs: walk.jobs(), points, cache: operation.operation === 'query' ? walk.cache : UNCACHEABLE };
}

// Private:

const DEFAULT_LIST_SIZE = 10;
const MUTATION_POINTS = 10;
const UNCACHEABLE: CachePlan = { scope: 'NONE', allDays: false };
/** Narrowest first: a field's scope narrows the operation's, never widens it. */
const SCOPES: readonly CachePlan['scope'][] = ['NONE', 'CALLER', 'VIEW'];

/** Where objects are in the planned execution: the current subgraph fetch and the position inside it. */
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

/** A runtime object type a selection applies to, and where its objects are. */
interface Branch {
  readonly type: GraphQLObjectType;
  readonly at: Position;
}

/** A `@listSize` in force in a selection set: the size it gives, and its sizedFields from this level down. */
interface SizedBy {
  readonly size: number | undefined;
  readonly fields: SizedFields | undefined;
}

/** The Router's list sizing in a selection set: the `@listSize` of the field owning it, and ancestors' reaching into it. */
interface Sizing {
  readonly own: readonly SizedBy[];
  readonly inherited: readonly SizedBy[];
}

/**
 * One selection set's context: its sizing and branches, and the points of each fragment already
 * spread in it — a fragment spread again here adds those points without another walk (its jobs,
 * at the same positions, are planned already).
 */
interface Level {
  readonly sizing: Sizing;
  readonly branches: readonly Branch[];
  /** Created on the first fragment spread of the level. */
  fragmentPoints?: Map<string, number>;
}

/** An argument or input field: its type, and its weight — its own `@cost`, else its type's. */
interface InputSlot {
  readonly type: GraphQLNamedType;
  readonly weight: number | undefined;
}

interface JobBuilder {
  subgraph: string;
  query: string;
  path: string;
  times: number;
  tables: Map<string, { columns: Set<string>; days: DayRange | null }>;
}

const ROOT: Position = { fetch: '', subgraph: null, depth: 0, path: '', times: 1 };
const UNSIZED: Sizing = { own: [], inherited: [] };
const NO_BRANCHES: readonly Branch[] = [];
const NO_ARGS: Record<string, unknown> = Object.freeze({});
const NO_SCANS: readonly ScanDeclaration[] = [];
const NO_FIELDS: ReadonlyMap<string, FieldCost> = new Map();

class Walk {
  cache: CachePlan = { scope: 'VIEW', allDays: false };
  private readonly builders = new Map<string, JobBuilder>();
  /** Fragments being walked on the current path: a spread closing a cycle adds nothing. */
  private readonly activeFragments = new Set<string>();
  /** Above 0 while walking a `@requires` selection: points only, no jobs, no cache hints. */
  private requiring = 0;
  private readonly defaultListSize: number;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly index: CostIndex,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    private readonly options: PlanOptions,
  ) {
    this.defaultListSize = options.defaultListSize ?? DEFAULT_LIST_SIZE;
  }

  jobs(): PlannedJob[] {
    return [...this.builders.values()].map((b) => ({
      subgraph: b.subgraph,
      query: b.query,
      path: b.path,
      times: b.times,
      tables: [...b.tables].map(([table, t]) => ({ table, columns: [...t.columns].sort(), days: t.days })),
    }));
  }

  level(sizing: Sizing, branches: readonly Branch[]): Level {
    return { sizing, branches };
  }

  /** Points of a selection set; its jobs are planned on the way. */
  selectionSet(selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, level: Level): number {
    let points = 0;
    for (const selection of selectionSet.selections) {
      if (!this.included(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        points += this.field(selection, parentType, level);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parentType;
        if (isComposite(type)) points += this.selectionSet(selection.selectionSet, type, this.narrowed(level, type));
      } else {
        points += this.fragment(selection.name.value, level);
      }
    }
    return points;
  }

  private fragment(name: string, level: Level): number {
    const known = level.fragmentPoints?.get(name);
    if (known !== undefined) return known;
    const fragment = this.fragments.get(name);
    const type = fragment && this.schema.getType(fragment.typeCondition.name.value);
    if (!fragment || !isComposite(type) || this.activeFragments.has(name)) return 0;
    this.activeFragments.add(name);
    const points = this.selectionSet(fragment.selectionSet, type, this.narrowed(level, type));
    this.activeFragments.delete(name);
    (level.fragmentPoints ??= new Map()).set(name, points);
    return points;
  }

  /** The level inside a type condition: only the branches whose object type satisfies it (graphql-js's doesFragmentConditionMatch). */
  private narrowed(level: Level, condition: GraphQLCompositeType): Level {
    const branches = level.branches.filter((b) => b.type === condition || (!(condition instanceof GraphQLObjectType) && this.schema.isSubType(condition, b.type)));
    return branches.length === level.branches.length ? level : this.level(level.sizing, branches);
  }

  private field(node: FieldNode, parentType: GraphQLCompositeType, level: Level): number {
    const name = node.name.value;
    if (name.startsWith('__')) return 0; // __typename, __schema, __type: no warehouse, no points
    const definition = parentType instanceof GraphQLObjectType || parentType instanceof GraphQLInterfaceType ? parentType.getFields()[name] : undefined;
    if (!definition) return 0;
    const cost = this.index.fields.get(parentType.name)?.get(name);
    if (cost?.responseCache && this.requiring === 0) this.narrowCache(cost.responseCache);
    const type = namedOf(definition.type);
    const own: readonly SizedBy[] = cost?.listSize ? [{ size: this.expectedSize(cost.listSize, node, definition), fields: cost.listSize.sizedFields }] : [];
    const descended = [...level.sizing.own, ...level.sizing.inherited].flatMap(({ size, fields }) => {
      const nested = fields?.nested.get(name);
      return nested ? [{ size, fields: nested }] : [];
    });
    let count = 1;
    if (nullableOf(definition.type) instanceof GraphQLList) {
      const upstream = largest(level.sizing.own, name) ?? largest(level.sizing.inherited, name);
      count = Math.max(0, upstream ?? largest([...own, ...descended]) ?? this.defaultListSize);
    }
    const children: Branch[] = [];
    for (const branch of level.branches) this.fieldJobs(branch, node, children);
    let selectionPoints = 0;
    if (node.selectionSet && isComposite(type)) {
      selectionPoints = this.selectionSet(node.selectionSet, type, this.level({ own, inherited: descended }, children));
    }
    let requirementPoints = 0;
    if (cost?.requires) {
      this.requiring++;
      requirementPoints = this.selectionSet(cost.requires, parentType, this.level({ own, inherited: [] }, NO_BRANCHES));
      this.requiring--;
    }
    const call = Math.max(0, (cost?.weight ?? 0) + this.arguments(node, definition, cost));
    return call + count * (this.instanceWeight(type) + selectionPoints) + requirementPoints;
  }

  /** The points of each object of `type`: its `@cost`, an abstract type's dearest possible type's, else 1 (0 for a leaf). */
  private instanceWeight(type: GraphQLNamedType): number {
    if (type instanceof GraphQLInterfaceType || type instanceof GraphQLUnionType) {
      const weights = this.schema.getPossibleTypes(type).flatMap((possible) => this.index.typeWeights.get(possible.name) ?? []);
      return weights.length > 0 ? Math.max(0, ...weights) : 1;
    }
    return Math.max(0, this.index.typeWeights.get(type.name) ?? (type instanceof GraphQLObjectType ? 1 : 0));
  }

  /**
   * Plans the jobs of the field for objects of one branch; adds the branches of its selection to
   * `children` — none when execution runs nothing below it (arguments it refuses, a range the subgraph refuses).
   */
  private fieldJobs({ type: parentType, at }: Branch, node: FieldNode, children: Branch[]): void {
    const name = node.name.value;
    const definition = parentType.getFields()[name];
    if (!definition) return;
    let args: Record<string, unknown> = NO_ARGS;
    try {
      if (definition.args.length > 0) args = getArgumentValues(definition, node, this.variables);
    } catch {
      return; // execution refuses the field's arguments: it runs nothing
    }
    const cost = (this.index.fields.get(parentType.name) ?? NO_FIELDS).get(name);
    const owners = cost?.owners.length ? cost.owners : (this.index.typeGraphs.get(parentType.name) ?? []);
    const responseKey = node.alias?.value ?? name;
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
          this.add(scan, NO_ARGS, { fetch, subgraph, depth: 0, path: at.path, times: at.times }, `${parentType.name}@entity`);
        }
      }
      here = { fetch, subgraph, depth: 1, path, times: at.times };
    }

    const scans = cost?.scans ?? NO_SCANS;
    if (scans.length > 0) {
      const partitioned = scans.find((s) => s.partitionedBy);
      const days = partitioned ? this.partitionDays(partitioned, args) : null;
      if (days === undefined) return; // the subgraph refuses the range: no job, and nothing below it runs
      for (const scan of scans) {
        if (scan.unlessOnly && !this.asksBeyond(node.selectionSet, namedOf(definition.type), here.subgraph!, scan.unlessOnly, new Set())) continue;
        this.add(scan, args, here, `${parentType.name}.${name}`, days);
      }
    }

    const size = nullableOf(definition.type) instanceof GraphQLList ? pageSize(args, this.options.maxPageSize) : 1;
    const type = namedOf(definition.type);
    if (type instanceof GraphQLObjectType) {
      children.push({ type, at: size === 1 ? here : { ...here, times: here.times * size } });
    } else if (type instanceof GraphQLInterfaceType || type instanceof GraphQLUnionType) {
      const below = { ...here, times: here.times * size };
      for (const objectType of this.schema.getPossibleTypes(type)) children.push({ type: objectType, at: below });
    }
  }

  private narrowCache({ scope, versionedBy }: ResponseCacheHint): void {
    const narrowest = SCOPES[Math.min(SCOPES.indexOf(this.cache.scope), SCOPES.indexOf(scope ?? 'VIEW'))];
    this.cache = { scope: narrowest, allDays: this.cache.allDays || versionedBy === 'ALL_DAYS' };
  }

  /**
   * Whether `selectionSet` (on `type`) asks `subgraph` for a field other than `allowed` and `__typename`
   * — what a `@scan(unlessOnly:)` job is needed for. Fields other subgraphs resolve do not count: the
   * subgraph's fetch leaves them out (`me { id budget }` asks the users subgraph for the id only).
   */
  private asksBeyond(selectionSet: SelectionSetNode | undefined, type: GraphQLNamedType, subgraph: string, allowed: readonly string[], fragments: Set<string>): boolean {
    if (!selectionSet || !(type instanceof GraphQLObjectType || type instanceof GraphQLInterfaceType)) return true;
    return selectionSet.selections.some((selection) => {
      if (!this.included(selection)) return false;
      if (selection.kind === Kind.INLINE_FRAGMENT) return this.asksBeyond(selection.selectionSet, type, subgraph, allowed, fragments);
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = this.fragments.get(selection.name.value);
        if (!fragment || fragments.has(selection.name.value)) return false;
        fragments.add(selection.name.value);
        return this.asksBeyond(fragment.selectionSet, type, subgraph, allowed, fragments);
      }
      const name = selection.name.value;
      if (name === '__typename' || allowed.includes(name)) return false;
      const owners = this.index.fields.get(type.name)?.get(name)?.owners;
      return !owners?.length ? (this.index.typeGraphs.get(type.name) ?? [subgraph]).includes(subgraph) : owners.includes(subgraph);
    });
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

  /** Points: the largest size among the slicing arguments, else `assumedSize`. */
  private expectedSize(listSize: ListSize, node: FieldNode, definition: GraphQLField<unknown, unknown>): number | undefined {
    let size: number | undefined;
    for (const slicingArgument of listSize.slicingArguments ?? []) {
      const [name, ...path] = slicingArgument.split('.');
      const given = node.arguments?.find((argument) => argument.name.value === name)?.value;
      const unset = !given || (given.kind === Kind.VARIABLE && !Object.hasOwn(this.variables, given.name.value));
      const value = unset ? sizeOf(at(definition.args.find((argument) => argument.name === name)?.defaultValue, path)) : this.sizeIn(given, path);
      if (value !== undefined) size = Math.max(size ?? value, value);
    }
    return size ?? listSize.assumedSize;
  }

  /** The size at `path` inside a literal: an integer, or a list's length; a variable's value where one stands. */
  private sizeIn(value: ValueNode, path: readonly string[]): number | undefined {
    if (value.kind === Kind.VARIABLE) return sizeOf(at(this.variables[value.name.value], path));
    if (path.length > 0) {
      const field = value.kind === Kind.OBJECT ? value.fields.find((f) => f.name.value === path[0]) : undefined;
      return field && this.sizeIn(field.value, path.slice(1));
    }
    if (value.kind === Kind.INT) return Number(value.value);
    return value.kind === Kind.LIST ? value.values.length : undefined;
  }

  private arguments(node: FieldNode, definition: GraphQLField<unknown, unknown>, cost: FieldCost | undefined): number {
    let points = 0;
    for (const argument of node.arguments ?? []) {
      const name = argument.name.value;
      const argumentDefinition = definition.args.find((arg) => arg.name === name);
      if (argumentDefinition) points += this.literalPoints(argument.value, this.slot(argumentDefinition.type, cost?.argumentWeights?.get(name)));
    }
    return points;
  }

  /** A literal value's points (the Router's score_argument). */
  private literalPoints(value: ValueNode, slot: InputSlot): number {
    switch (value.kind) {
      case Kind.NULL:
        return 0;
      case Kind.VARIABLE:
        return this.variablePoints(this.variables[value.name.value], slot);
      case Kind.LIST:
        return value.values.reduce((sum, item) => sum + this.literalPoints(item, slot), slot.weight ?? 0);
      case Kind.OBJECT: {
        const { type } = slot;
        if (!(type instanceof GraphQLInputObjectType)) return slot.weight ?? 0;
        return value.fields.reduce((sum, field) => {
          const fieldSlot = this.inputFieldSlot(type, field.name.value);
          return sum + (fieldSlot ? this.literalPoints(field.value, fieldSlot) : 0);
        }, slot.weight ?? 1);
      }
      default:
        return slot.weight ?? 0;
    }
  }

  /** A variable's value's points, by the same rules (the Router's score_variable). */
  private variablePoints(value: unknown, slot: InputSlot): number {
    if (value === null || value === undefined) return 0;
    if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + this.variablePoints(item, slot), slot.weight ?? 0);
    const { type } = slot;
    if (typeof value !== 'object' || !(type instanceof GraphQLInputObjectType)) return slot.weight ?? 0;
    return Object.entries(value).reduce((sum, [name, item]) => {
      const fieldSlot = this.inputFieldSlot(type, name);
      return sum + (fieldSlot ? this.variablePoints(item, fieldSlot) : 0);
    }, slot.weight ?? 1);
  }

  private slot(type: GraphQLInputType, ownWeight: number | undefined): InputSlot {
    const named = namedOf(type);
    return { type: named, weight: ownWeight ?? this.index.typeWeights.get(named.name) };
  }

  private inputFieldSlot(type: GraphQLInputObjectType, name: string): InputSlot | undefined {
    const field = type.getFields()[name];
    return field && this.slot(field.type, this.index.fields.get(type.name)?.get(name)?.weight);
  }

  /** graphql-js's shouldIncludeNode, reading a condition that is neither a Boolean nor a Boolean variable as absent. */
  private included(selection: FieldNode | InlineFragmentNode | FragmentSpreadNode): boolean {
    for (const directive of selection.directives ?? []) {
      const name = directive.name.value;
      if (name !== 'skip' && name !== 'include') continue;
      const condition = directive.arguments?.find((argument) => argument.name.value === 'if')?.value;
      const value = condition?.kind === Kind.BOOLEAN ? condition.value : condition?.kind === Kind.VARIABLE ? this.variables[condition.name.value] : undefined;
      if (value === (name === 'skip')) return false;
    }
    return true;
  }
}

/** graphql-js's choice of operation (buildExecutionContext), with its messages. */
function selectOperation(
  document: DocumentNode,
  operationName: string | undefined | null,
): { operation: OperationDefinitionNode; fragments: Map<string, FragmentDefinitionNode> } {
  let operation: OperationDefinitionNode | undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    } else if (definition.kind === Kind.OPERATION_DEFINITION) {
      if (operationName == null) {
        if (operation) throw new GraphQLError('Must provide operation name if query contains multiple operations.');
        operation = definition;
      } else if (definition.name?.value === operationName) {
        operation = definition;
      }
    }
  }
  if (!operation) throw new GraphQLError(operationName != null ? `Unknown operation named "${operationName}".` : 'Must provide an operation.');
  return { operation, fragments };
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

/** The largest size the `@listSize`s give a list named `name` (a leaf of their sizedFields), or, without a name, at all. */
function largest(sizedBy: readonly SizedBy[], name?: string): number | undefined {
  let size: number | undefined;
  for (const by of sizedBy) {
    if (by.size === undefined || (name !== undefined && !by.fields?.leaves.has(name))) continue;
    size = Math.max(size ?? by.size, by.size);
  }
  return size;
}

/** A JSON value's member at `path`, if every step is an object's field. */
function at(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((current, key) => (current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>)[key] : undefined), value);
}

/** A value as a list size: an integer, or a list's length. */
function sizeOf(value: unknown): number | undefined {
  if (Array.isArray(value)) return value.length;
  return Number.isInteger(value) ? (value as number) : undefined;
}

/** Jobs: a list's size is its `first` argument, else the largest page a subgraph serves. */
function pageSize(args: Record<string, unknown>, fallback: number): number {
  const first = args.first;
  return typeof first === 'number' && Number.isInteger(first) && first >= 0 ? first : fallback;
}

// Plain `instanceof` rather than graphql's is*Type helpers and getNamedType: in development builds
// (NODE_ENV other than production) those re-check every miss, a tenth of this walk's time.

function nullableOf(type: GraphQLOutputType): GraphQLOutputType {
  return type instanceof GraphQLNonNull ? type.ofType : type;
}

function namedOf(type: GraphQLType): GraphQLNamedType {
  let named = type;
  while (named instanceof GraphQLList || named instanceof GraphQLNonNull) named = named.ofType;
  return named as GraphQLNamedType;
}

function isComposite(type: unknown): type is GraphQLCompositeType {
  return type instanceof GraphQLObjectType || type instanceof GraphQLInterfaceType || type instanceof GraphQLUnionType;
}
