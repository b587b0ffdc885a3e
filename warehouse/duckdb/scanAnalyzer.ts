/**
 * Derives what a SQL statement scans — tables, leaf columns, day partitions — from DuckDB's own
 * parse tree (`json_serialize_sql`) and the bound parameter values, following BigQuery's rules:
 * - every referenced column counts, wherever it appears (select list, WHERE, JOIN, GROUP BY, …),
 *   and only its referenced leaves (`e.actor.id` is `actor.id`, not all of `actor`);
 *   https://cloud.google.com/bigquery/docs/best-practices-costs#avoid_select_
 * - partitions are pruned only by top-level AND-ed comparisons of the partitioning column with
 *   constants or parameters; anything else (OR, functions, joins) scans every partition.
 *   https://cloud.google.com/bigquery/docs/querying-partitioned-tables#use_a_constant_filter_expression
 * This is an independent measurement: it never looks at the gateway's cost declarations.
 */
import { addDays } from '../../common/dates';
import type { DayRange, TableScan } from '../../pricing/scanBytes';
import { TABLES, type TableSchema, leafColumns } from '../../pricing/tables';
import type { QueryParam } from '../warehouse';

type Node = Record<string, any>; // DuckDB's serialized parse tree

/** The scans of one statement, one per distinct table (columns and day ranges merged). */
export function analyzeScans(parseTree: Node, params: Readonly<Record<string, QueryParam>>): TableScan[] {
  if (parseTree.error) throw new Error(`Cannot analyse SQL: ${parseTree.error_message ?? 'parse error'}`);
  const statements: Node[] = parseTree.statements ?? [];
  const refs: TableRef[] = [];
  const selects: Node[] = [];
  for (const statement of statements) collect(statement.node, refs, selects);

  const bindings = new Map<string, { ref: TableRef; path: string[] }>();
  for (const ref of refs) {
    bindings.set(ref.alias, { ref, path: [] });
    if (ref.alias !== ref.schema.name) bindings.set(ref.schema.name, { ref, path: [] });
  }
  const columnsByRef = new Map<TableRef, Set<string>>(refs.map((ref) => [ref, new Set<string>()]));
  const unnestSources = bindElementAliases(statements, bindings);
  const selectAliases = selectListAliases(selects);

  forEachNode(statements, (node) => {
    // A bare name that some select list defines (`ORDER BY actor_id`, a subquery's output) is that alias, not a column.
    if (node.class === 'COLUMN_REF' && node.column_names.length === 1 && selectAliases.has(node.column_names[0]) && !bindings.has(node.column_names[0])) return;
    if (node.class === 'COLUMN_REF' && !unnestSources.has(node)) {
      for (const { ref, path } of resolve(node.column_names, bindings, refs)) addLeaves(ref, path, columnsByRef);
    } else if (node.class === 'STAR') {
      const scoped = node.relation_name ? refs.filter((r) => r.alias === node.relation_name || r.schema.name === node.relation_name) : refs;
      for (const ref of scoped) addLeaves(ref, [], columnsByRef);
    }
  });

  const dayRangesByRef = new Map<TableRef, DayRange>();
  for (const select of selects) {
    const directRefs = refs.filter((ref) => ref.select === select);
    for (const ref of directRefs) {
      if (ref.schema.partitionBy) dayRangesByRef.set(ref, partitionRange(ref, select.where_clause, bindings, refs, params));
    }
  }

  const byTable = new Map<string, { columns: Set<string>; days: DayRange[] | null }>();
  for (const ref of refs) {
    const entry = byTable.get(ref.schema.name) ?? { columns: new Set<string>(), days: ref.schema.partitionBy ? [] : null };
    for (const column of columnsByRef.get(ref)!) entry.columns.add(column);
    const range = dayRangesByRef.get(ref);
    if (entry.days && range && !isEmpty(range)) entry.days.push(range);
    byTable.set(ref.schema.name, entry);
  }
  return [...byTable].map(([table, { columns, days }]) => ({ table, columns: [...columns].sort(), days }));
}

// Private:

interface TableRef {
  schema: TableSchema;
  alias: string;
  /** The SELECT whose FROM clause holds this reference: its WHERE prunes the partitions. */
  select: Node;
}

/** Walks query nodes, recording warehouse table references with the SELECT that owns them. */
function collect(node: Node | null | undefined, refs: TableRef[], selects: Node[]): void {
  if (!node || typeof node !== 'object') return;
  if (node.type === 'SELECT_NODE') {
    selects.push(node);
    collectFrom(node.from_table, node, refs, selects);
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'from_table' && node.type === 'SELECT_NODE') continue;
    if (Array.isArray(value)) value.forEach((item) => collect(item, refs, selects));
    else if (value && typeof value === 'object') collect(value, refs, selects);
  }
}

function collectFrom(table: Node | null | undefined, select: Node, refs: TableRef[], selects: Node[]): void {
  if (!table) return;
  switch (table.type) {
    case 'BASE_TABLE': {
      const schema = TABLES[table.table_name];
      if (schema) refs.push({ schema, alias: table.alias || table.table_name, select });
      return;
    }
    case 'JOIN':
      collectFrom(table.left, select, refs, selects);
      collectFrom(table.right, select, refs, selects);
      collect(table.condition, refs, selects);
      return;
    default:
      collect(table, refs, selects); // subqueries and table functions: their own SELECTs
  }
}

/**
 * Names that stand for elements of an array column: `UNNEST(e.target) AS u(app)` binds `app`
 * (and `u`) to `target`, as does `unnest(e.target) AS app` in a select list (referenced as
 * `app.field` outside its subquery); a lambda `list_transform(e.target, t -> t.id)` binds `t` likewise.
 * Returns the column references that are UNNEST sources: flattening an array reads only the
 * element fields used later (`app.id` bills `target.id`), not the whole array.
 */
function bindElementAliases(statements: Node[], bindings: Map<string, { ref: TableRef; path: string[] }>): Set<Node> {
  const refs = [...new Set([...bindings.values()].map((b) => b.ref))];
  const unnestSources = new Set<Node>();
  forEachNode(statements, (node) => {
    if (node.type === 'TABLE_FUNCTION' && node.function?.function_name === 'unnest') {
      const source = node.function.children?.[0];
      const target = source?.class === 'COLUMN_REF' ? resolve(source.column_names, bindings, refs)[0] : undefined;
      if (!target) return;
      unnestSources.add(source);
      for (const name of [node.alias, ...(node.column_name_alias ?? [])]) if (name) bindings.set(name, target);
    }
    if (node.class === 'FUNCTION' && node.function_name === 'unnest' && node.alias) {
      const source = node.children?.[0];
      const target = source?.class === 'COLUMN_REF' ? resolve(source.column_names, bindings, refs)[0] : undefined;
      if (!target) return;
      unnestSources.add(source);
      bindings.set(node.alias, target);
      return;
    }
    if (node.class === 'FUNCTION' && Array.isArray(node.children)) {
      const source = node.children[0];
      const lambda = node.children.find((child: Node) => child?.class === 'LAMBDA');
      if (!lambda || source?.class !== 'COLUMN_REF') return;
      const target = resolve(source.column_names, bindings, refs)[0];
      const params = lambda.lhs?.class === 'COLUMN_REF' ? [lambda.lhs] : (lambda.lhs?.children ?? []);
      for (const param of params) if (target && param.column_names?.length === 1) bindings.set(param.column_names[0], target);
    }
  });
  return unnestSources;
}

/** Names the select lists give their expressions (`expr AS name`), other than plain column references to the same name. */
function selectListAliases(selects: Node[]): Set<string> {
  const aliases = new Set<string>();
  for (const select of selects) {
    for (const item of select.select_list ?? []) {
      const own = item.class === 'COLUMN_REF' && item.column_names?.at(-1) === item.alias;
      if (item.alias && !own) aliases.add(item.alias);
    }
  }
  return aliases;
}

function resolve(names: string[], bindings: Map<string, { ref: TableRef; path: string[] }>, refs: TableRef[]): { ref: TableRef; path: string[] }[] {
  const bound = bindings.get(names[0]);
  if (bound && names.length > 1) return [{ ref: bound.ref, path: [...bound.path, ...names.slice(1)] }];
  if (bound && bound.path.length > 0) return [bound];
  // Unqualified: every referenced table that has such a top-level column (an upper bound when ambiguous).
  return refs.filter((ref) => ref.schema.fields.some((f) => f.name === names[0])).map((ref) => ({ ref, path: names }));
}

function addLeaves(ref: TableRef, path: string[], columnsByRef: Map<TableRef, Set<string>>): void {
  const dotted = path.join('.');
  const set = columnsByRef.get(ref)!;
  for (const leaf of leafColumns(ref.schema)) {
    if (dotted === '' || leaf.path === dotted || leaf.path.startsWith(`${dotted}.`) || dotted.startsWith(`${leaf.path}.`)) set.add(leaf.path);
  }
}

function partitionRange(ref: TableRef, where: Node | null, bindings: Map<string, { ref: TableRef; path: string[] }>, refs: TableRef[], params: Readonly<Record<string, QueryParam>>): DayRange {
  const column = ref.schema.partitionBy!.column;
  const isTimestamp = ref.schema.fields.find((f) => f.name === column)?.type === 'TIMESTAMP';
  let range: DayRange = {};
  const narrow = (bound: DayRange) => {
    range = {
      from: maxDay(range.from, bound.from),
      to: minDay(range.to, bound.to),
    };
  };
  /** Whether `node` is the partitioning column of `ref`, and with which semantics. */
  const partitionColumn = (node: Node): 'timestamp' | 'date' | undefined => {
    if (node?.class === 'CAST' && node.cast_type?.id === 'DATE' && partitionColumn(node.child)) return 'date';
    if (node?.class !== 'COLUMN_REF') return undefined;
    const resolved = resolve(node.column_names, bindings, refs);
    if (resolved.length !== 1 || resolved[0].ref !== ref || resolved[0].path.join('.') !== column) return undefined;
    return isTimestamp ? 'timestamp' : 'date';
  };
  for (const conjunct of conjuncts(where)) {
    if (conjunct.class === 'BETWEEN') {
      const kind = partitionColumn(conjunct.input);
      if (kind) {
        narrow(bound(kind, 'COMPARE_GREATERTHANOREQUALTO', value(conjunct.lower, params)));
        narrow(bound(kind, 'COMPARE_LESSTHANOREQUALTO', value(conjunct.upper, params)));
      }
    } else if (conjunct.class === 'COMPARISON') {
      const leftKind = partitionColumn(conjunct.left);
      const rightKind = partitionColumn(conjunct.right);
      if (leftKind) narrow(bound(leftKind, conjunct.type, value(conjunct.right, params)));
      else if (rightKind) narrow(bound(rightKind, MIRRORED[conjunct.type] ?? '', value(conjunct.left, params)));
    } else if (conjunct.type === 'COMPARE_IN') {
      const [input, ...options] = conjunct.children ?? [];
      const kind = partitionColumn(input);
      const days = options.map((option: Node) => bound(kind ?? 'date', 'COMPARE_EQUAL', value(option, params)));
      if (kind && days.every((d: DayRange) => d.from)) {
        const sorted = days.map((d: DayRange) => d.from!).sort();
        narrow({ from: sorted[0], to: sorted[sorted.length - 1] });
      }
    }
  }
  return range;
}

const MIRRORED: Record<string, string> = {
  COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO',
  COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO',
  COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN',
  COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN',
  COMPARE_EQUAL: 'COMPARE_EQUAL',
};

/** The day bound implied by `column <op> value`; an unknown value or operator bounds nothing. */
function bound(kind: 'timestamp' | 'date', op: string, raw: string | undefined): DayRange {
  if (raw === undefined) return {};
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(raw) ? raw : `${raw.replace(' ', 'T')}Z`);
  if (Number.isNaN(ms)) return {};
  const day = new Date(ms).toISOString().slice(0, 10);
  const atMidnight = ms % 86_400_000 === 0;
  switch (op) {
    case 'COMPARE_EQUAL': return { from: day, to: day };
    case 'COMPARE_GREATERTHANOREQUALTO': return { from: day };
    case 'COMPARE_GREATERTHAN': return { from: kind === 'date' ? addDays(day, 1) : day };
    case 'COMPARE_LESSTHANOREQUALTO': return { to: day };
    case 'COMPARE_LESSTHAN': return { to: kind === 'date' || atMidnight ? addDays(day, -1) : day };
    default: return {};
  }
}

/** A constant or parameter value as text, through casts; undefined for anything computed. */
function value(node: Node, params: Readonly<Record<string, QueryParam>>): string | undefined {
  if (!node) return undefined;
  if (node.class === 'CAST') return value(node.child, params);
  if (node.class === 'CONSTANT') return node.value?.is_null ? undefined : String(node.value?.value);
  if (node.class === 'PARAMETER') {
    const param = params[node.identifier];
    return param && (param.type === 'DATE' || param.type === 'TIMESTAMP' || param.type === 'STRING') && param.value !== null ? String(param.value) : undefined;
  }
  return undefined;
}

function conjuncts(node: Node | null): Node[] {
  if (!node) return [];
  if (node.class === 'CONJUNCTION' && node.type === 'CONJUNCTION_AND') return node.children.flatMap(conjuncts);
  return [node];
}

function forEachNode(root: unknown, visit: (node: Node) => void): void {
  if (Array.isArray(root)) return root.forEach((item) => forEachNode(item, visit));
  if (!root || typeof root !== 'object') return;
  visit(root as Node);
  for (const value of Object.values(root)) if (value && typeof value === 'object') forEachNode(value, visit);
}

function isEmpty(range: DayRange): boolean {
  return range.from !== undefined && range.to !== undefined && range.from > range.to;
}

function maxDay(a: string | undefined, b: string | undefined) {
  return a === undefined ? b : b === undefined ? a : a > b ? a : b;
}

function minDay(a: string | undefined, b: string | undefined) {
  return a === undefined ? b : b === undefined ? a : a < b ? a : b;
}
