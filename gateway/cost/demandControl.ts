/**
 * Demand-control points: Apollo Router's static cost estimate of an operation, from the Federation 2.9
 * `@cost` / `@listSize` directives (https://specs.apollo.dev/cost/v0.1). Pure and synchronous.
 * https://www.apollographql.com/docs/graphos/routing/security/demand-control#calculating-cost
 *
 * The rules, from the docs and, where they are silent, the Router's own calculator
 * (https://github.com/apollographql/router/blob/dev/apollo-router/src/plugins/demand_control/cost_calculator/static_cost.rs):
 * - an operation costs its base — mutation 10, query and subscription 0 — plus its fields;
 * - a field costs `count × (weight + its selection) + its arguments`, where `weight` is the field's
 *   `@cost`, else its type's, else 1 for an object, interface or union and 0 for a scalar or enum;
 *   `count` is 1 unless the field returns a list, and for a list the size its parent's `sizedFields`
 *   gives it, else the largest of its `slicingArguments` (a literal, a variable, or the argument's
 *   default), else its `assumedSize`, else `defaultListSize`;
 * - an argument (or input field) costs its `@cost`, else its type's, else 0; an input object 1 (or its
 *   `@cost`) plus its fields; a list its `@cost` plus its items; null 0;
 * - fragments add their selections, every branch of an abstract type included (the Router sums the
 *   branches, it does not take the dearest possible type); `__typename` and introspection cost 0, and
 *   so does whatever `@skip` / `@include` leave out.
 *
 * The walk is our own, not graphql-query-complexity's: that library scores an abstract type's selection
 * as its dearest possible type (the Router sums the branches), gives an estimator no parent field (which
 * `sizedFields` needs), and without an operationName sums every operation in the document.
 *
 * The directives survive composition only in the supergraph SDL, under the cost spec's `@link`, which
 * can rename them (`import: [{ name: "@cost", as: "@price" }]`, or `@federation__cost` when a subgraph
 * used it unimported): `indexDemandControl` reads that link for their names.
 */
import {
  type ConstDirectiveNode,
  type ConstValueNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  isTypeDefinitionNode,
  isTypeExtensionNode,
  parse,
} from 'graphql';

/** Index of cost directives from a supergraph SDL: per type, per field, per argument. */
export interface DemandControlIndex {
  /** `@cost(weight:)` on object, scalar and enum types: the weight of a field or argument of that type without its own. */
  readonly typeWeights: ReadonlyMap<string, number>;
  /** Type (object, interface or input object) → field → its directives; only fields carrying one. */
  readonly fields: ReadonlyMap<string, ReadonlyMap<string, FieldDirectives>>;
}

export interface FieldDirectives {
  /** `@cost(weight:)` on the field (or input field). */
  readonly weight?: number;
  /** `@cost(weight:)` on its arguments, by argument name. */
  readonly argumentWeights?: ReadonlyMap<string, number>;
  readonly listSize?: ListSize;
}

/** `@listSize`. Its `requireOneSlicingArgument` is not kept: see `operationPoints`. */
export interface ListSize {
  readonly assumedSize?: number;
  readonly slicingArguments?: readonly string[];
  readonly sizedFields?: readonly string[];
}

export interface PointsOptions {
  /** Size of a list field with no `@listSize` that applies (the Router's `static_estimated.list_size`). Default 10. */
  defaultListSize?: number;
}

/** Reads the cost directives of a supergraph SDL; without the cost spec's `@link` the index is empty. Once per schema load. */
export function indexDemandControl(supergraphSdl: string): DemandControlIndex {
  const document = parse(supergraphSdl, { noLocation: true });
  const names = costDirectiveNames(document);
  const typeWeights = new Map<string, number>();
  const fields = new Map<string, Map<string, FieldDirectives>>();
  if (!names) return { typeWeights, fields };

  const weightOf = (directives: readonly ConstDirectiveNode[] | undefined): number | undefined => {
    const cost = directives?.find((directive) => directive.name.value === names.cost);
    return cost ? numberOf(argumentOf(cost, 'weight')) : undefined;
  };
  for (const definition of document.definitions) {
    if (!isTypeDefinitionNode(definition) && !isTypeExtensionNode(definition)) continue;
    const typeName = definition.name.value;
    const typeWeight = weightOf(definition.directives);
    if (typeWeight !== undefined) typeWeights.set(typeName, typeWeight);
    for (const field of 'fields' in definition ? (definition.fields ?? []) : []) {
      const weight = weightOf(field.directives);
      const argumentWeights = new Map<string, number>();
      for (const argument of 'arguments' in field ? (field.arguments ?? []) : []) {
        const argumentWeight = weightOf(argument.directives);
        if (argumentWeight !== undefined) argumentWeights.set(argument.name.value, argumentWeight);
      }
      const listSizeDirective = field.directives?.find((directive) => directive.name.value === names.listSize);
      if (weight === undefined && argumentWeights.size === 0 && !listSizeDirective) continue;
      let typeFields = fields.get(typeName);
      if (!typeFields) fields.set(typeName, (typeFields = new Map()));
      typeFields.set(field.name.value, {
        ...(weight !== undefined && { weight }),
        ...(argumentWeights.size > 0 && { argumentWeights }),
        ...(listSizeDirective && { listSize: listSizeOf(listSizeDirective) }),
      });
    }
  }
  return { typeWeights, fields };
}

/**
 * Points of the operation (Apollo Router semantics). Throws GraphQLError for an unknown operationName
 * as graphql-js would; never throws on well-validated documents.
 *
 * Where this differs from the Router, on purpose:
 * - variables are read as graphql-js coerces them (the operation's defaults applied), where the Router
 *   reads the request's JSON; variables that cannot be coerced are read as sent (execution will
 *   refuse the request before any resolver runs, so their points do not matter);
 * - `@skip` / `@include` exclude fragments too, and their variables are resolved; the Router's
 *   estimate only honours literal conditions on fields;
 * - a negative slicing argument sizes a list 0: the Router multiplies by it, so `first: -1000`
 *   would lower an operation's points;
 * - `requireOneSlicingArgument` is not enforced (the Router refuses the operation): with no slicing
 *   argument the field falls back to `assumedSize`, with several the largest counts;
 * - `@requires` selections are not added (the Router adds their points to the requiring field).
 */
export function operationPoints(
  apiSchema: GraphQLSchema,
  index: DemandControlIndex,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  options: PointsOptions = {},
): number {
  const { operation, fragments } = selectOperation(document, operationName);
  const coerced = getVariableValues(apiSchema, operation.variableDefinitions ?? [], variables ?? {});
  const walk = new OperationWalk(apiSchema, index, fragments, coerced.coerced ?? variables ?? {}, options.defaultListSize ?? DEFAULT_LIST_SIZE);
  const rootType = apiSchema.getRootType(operation.operation);
  const base = operation.operation === 'mutation' ? MUTATION_POINTS : 0;
  return base + (rootType ? walk.selectionSet(operation.selectionSet, rootType, walk.unsized) : 0);
}

// Private:

const DEFAULT_LIST_SIZE = 10;
const MUTATION_POINTS = 10;
/** Any version of the cost spec: https://specs.apollo.dev/cost/v0.1 is the one Federation 2.9 links. */
const COST_SPEC_URL = /^https:\/\/specs\.apollo\.dev\/cost\/v\d+\.\d+$/;

/**
 * The names `@cost` and `@listSize` go by in the supergraph, from the cost spec's `@link`
 * (https://specs.apollo.dev/link/v1.0/#@link.import): an imported directive by its import (or its
 * alias), the rest prefixed by the namespace (`as:`, else `cost`) — `@cost__listSize` — except the
 * directive named like the namespace, which is `@cost` itself (as `@link` is in the link spec).
 */
function costDirectiveNames(document: DocumentNode): { cost: string; listSize: string } | undefined {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      const url = argumentOf(link, 'url');
      if (link.name.value !== 'link' || url?.kind !== Kind.STRING || !COST_SPEC_URL.test(url.value)) continue;
      const as = argumentOf(link, 'as');
      const namespace = as?.kind === Kind.STRING ? as.value : 'cost';
      const names = { cost: namespace, listSize: `${namespace}__listSize` };
      const imports = argumentOf(link, 'import');
      for (const imported of imports?.kind === Kind.LIST ? imports.values : []) {
        const [name, alias] = importOf(imported);
        if (name === '@cost') names.cost = alias.slice(1);
        if (name === '@listSize') names.listSize = alias.slice(1);
      }
      return names;
    }
  }
  return undefined;
}

/** `"@cost"` or `{ name: "@cost", as: "@price" }` → [name, name in this schema]. */
function importOf(value: ConstValueNode): [string, string] {
  if (value.kind === Kind.STRING) return [value.value, value.value];
  if (value.kind !== Kind.OBJECT) return ['', ''];
  const field = (name: string) => value.fields.find((f) => f.name.value === name)?.value;
  const name = field('name');
  const as = field('as');
  const nameValue = name?.kind === Kind.STRING ? name.value : '';
  return [nameValue, as?.kind === Kind.STRING ? as.value : nameValue];
}

function listSizeOf(directive: ConstDirectiveNode): ListSize {
  const assumedSize = numberOf(argumentOf(directive, 'assumedSize'));
  const slicingArguments = stringsOf(argumentOf(directive, 'slicingArguments'));
  const sizedFields = stringsOf(argumentOf(directive, 'sizedFields'));
  return {
    ...(assumedSize !== undefined && { assumedSize }),
    ...(slicingArguments && { slicingArguments }),
    ...(sizedFields && { sizedFields }),
  };
}

function argumentOf(directive: ConstDirectiveNode, name: string): ConstValueNode | undefined {
  return directive.arguments?.find((argument) => argument.name.value === name)?.value;
}

/** An Int, or a Float or String holding a number: cost/v0.1 types `weight` Int!, the Router also reads strings. */
function numberOf(value: ConstValueNode | undefined): number | undefined {
  if (value?.kind !== Kind.INT && value?.kind !== Kind.FLOAT && value?.kind !== Kind.STRING) return undefined;
  const number = Number(value.value);
  return value.value.trim() !== '' && Number.isFinite(number) ? number : undefined;
}

function stringsOf(value: ConstValueNode | undefined): string[] | undefined {
  if (value?.kind !== Kind.LIST) return undefined;
  return value.values.flatMap((item) => (item.kind === Kind.STRING ? [item.value] : []));
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

/**
 * The sizes a field's `sizedFields` give its children, with the points of each fragment spread under
 * it: a fragment's points depend only on the sizing it is spread under, so each is walked once per
 * sizing, however many times it is spread (no exponential walk through fragments spreading fragments).
 */
interface Sizing {
  readonly sizedFields: readonly string[];
  readonly size: number;
  readonly fragmentPoints: Map<string, number>;
}

/** An argument or input field: its type, and its weight — its own `@cost`, else its type's. */
interface InputSlot {
  readonly type: GraphQLNamedType;
  readonly weight: number | undefined;
}

/** One operation's walk: the selected operation's variables and fragments. */
class OperationWalk {
  /** Under a field without `sizedFields`. */
  readonly unsized: Sizing = { sizedFields: [], size: 0, fragmentPoints: new Map() };

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly index: DemandControlIndex,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    private readonly defaultListSize: number,
  ) {}

  selectionSet(selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, sizing: Sizing): number {
    let points = 0;
    for (const selection of selectionSet.selections) {
      if (!this.included(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        points += this.field(selection, parentType, sizing);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parentType;
        if (isCompositeType(type)) points += this.selectionSet(selection.selectionSet, type, sizing);
      } else {
        points += this.fragment(selection.name.value, sizing);
      }
    }
    return points;
  }

  private fragment(name: string, sizing: Sizing): number {
    const known = sizing.fragmentPoints.get(name);
    if (known !== undefined) return known;
    sizing.fragmentPoints.set(name, 0); // in progress: a cycle back here adds nothing
    const fragment = this.fragments.get(name);
    const type = fragment && this.schema.getType(fragment.typeCondition.name.value);
    const points = fragment && isCompositeType(type) ? this.selectionSet(fragment.selectionSet, type, sizing) : 0;
    sizing.fragmentPoints.set(name, points);
    return points;
  }

  private field(node: FieldNode, parentType: GraphQLCompositeType, sizing: Sizing): number {
    const name = node.name.value;
    if (name.startsWith('__')) return 0; // __typename, __schema, __type
    const definition = isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[name] : undefined;
    if (!definition) return 0;
    const directives = this.index.fields.get(parentType.name)?.get(name);
    const type = getNamedType(definition.type);
    const listSize = directives?.listSize;
    const expectedSize = listSize && this.expectedSize(listSize, node, definition);
    let count = 1;
    if (isListType(getNullableType(definition.type))) {
      count = sizing.sizedFields.includes(name) ? sizing.size : (expectedSize ?? this.defaultListSize);
    }
    const weight = directives?.weight ?? this.index.typeWeights.get(type.name) ?? (isCompositeType(type) ? 1 : 0);
    let selectionPoints = 0;
    if (node.selectionSet && isCompositeType(type)) {
      const childSizing = listSize?.sizedFields && expectedSize !== undefined
        ? { sizedFields: listSize.sizedFields, size: expectedSize, fragmentPoints: new Map<string, number>() }
        : this.unsized;
      selectionPoints = this.selectionSet(node.selectionSet, type, childSizing);
    }
    return count * (weight + selectionPoints) + this.arguments(node, definition, directives);
  }

  /** The largest slicing argument (given, else defaulted), else `assumedSize`; a negative size counts 0. */
  private expectedSize(listSize: ListSize, node: FieldNode, definition: GraphQLField<unknown, unknown>): number | undefined {
    let size: number | undefined;
    for (const name of listSize.slicingArguments ?? []) {
      const given = node.arguments?.find((argument) => argument.name.value === name)?.value;
      let value = given?.kind === Kind.INT ? Number(given.value) : given?.kind === Kind.VARIABLE ? this.variables[given.name.value] : undefined;
      if (!Number.isInteger(value)) value = definition.args.find((argument) => argument.name === name)?.defaultValue;
      if (Number.isInteger(value)) size = Math.max(size ?? 0, value as number);
    }
    return size ?? listSize.assumedSize;
  }

  private arguments(node: FieldNode, definition: GraphQLField<unknown, unknown>, directives: FieldDirectives | undefined): number {
    let points = 0;
    for (const argument of node.arguments ?? []) {
      const name = argument.name.value;
      const argumentDefinition = definition.args.find((arg) => arg.name === name);
      if (argumentDefinition) points += this.literalPoints(argument.value, this.slot(argumentDefinition.type, directives?.argumentWeights?.get(name)));
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
        if (!isInputObjectType(type)) return slot.weight ?? 0;
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
    if (typeof value !== 'object' || !isInputObjectType(type)) return slot.weight ?? 0;
    return Object.entries(value).reduce((sum, [name, item]) => {
      const fieldSlot = this.inputFieldSlot(type, name);
      return sum + (fieldSlot ? this.variablePoints(item, fieldSlot) : 0);
    }, slot.weight ?? 1);
  }

  private slot(type: GraphQLInputType, ownWeight: number | undefined): InputSlot {
    const named = getNamedType(type);
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
