/**
 * The dependency rules of ARCHITECTURE.md, checked on every relative import of the source tree (read
 * with TypeScript's own import scanner, so type-only and dynamic imports count too): each folder
 * imports only what its row allows, the gateway reaches no warehouse code even through another
 * module, warehouse adapters are chosen only at the edges, no module imports itself through others,
 * and no import reaches a library's `dist/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '../..');
const SOURCE_FOLDERS = ['common', 'pricing', 'okta', 'warehouse', 'budgets', 'subgraphs', 'gateway', 'cli', 'bench'];

/**
 * What each folder may import besides itself (the longest matching folder's row applies; an entry
 * names a folder, or a file without `.ts`). Layers from the ground up: common → pricing, okta →
 * warehouse, budgets → subgraphs, gateway → cli, bench. Inside the gateway, its stages in request
 * order: auth, limits, cost, responseCache, admission, execute; admin serves the budgets admin subgraph.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  common: [],
  pricing: ['common'],
  okta: ['common'],
  warehouse: ['common', 'pricing', 'okta'],
  budgets: ['common'],
  subgraphs: ['common', 'pricing', 'warehouse'],
  // The gateway composes its supergraph from the subgraphs' schemas only, never their code.
  gateway: ['common', 'pricing', 'budgets', 'subgraphs/typeDefs', 'subgraphs/users/typeDefs', 'subgraphs/tenants/typeDefs', 'subgraphs/metrics/typeDefs', 'subgraphs/common/sharedScans'],
  'gateway/auth': ['common'],
  'gateway/limits': ['common'],
  'gateway/cost': ['common', 'pricing'],
  'gateway/responseCache': ['common', 'pricing', 'gateway/cost'],
  'gateway/admission': ['common', 'pricing', 'budgets', 'gateway/cost', 'gateway/responseCache'],
  'gateway/execute': ['common', 'pricing', 'gateway/cost', 'gateway/responseCache', 'gateway/context', 'gateway/observability'],
  'gateway/admin': ['common', 'budgets', 'gateway/admission'],
  // The console's server signs development tokens as auth/ does; its browser code shares only pure helpers.
  'gateway/console': ['common', 'gateway/auth/devToken'],
  'gateway/console/app': ['common/units'],
  cli: ['common', 'pricing', 'okta', 'warehouse', 'budgets', 'subgraphs', 'gateway'],
  // The capacity benchmark drives the real processes against the recording BigQuery fake.
  bench: ['common', 'pricing', 'okta', 'warehouse', 'budgets', 'subgraphs', 'gateway', 'cli', 'test/warehouse/bigQueryFake'],
};

/** Warehouse adapters (and the factory that picks one): chosen only by process entries, CLIs, benchmarks and the warehouse itself. */
const ADAPTERS = ['warehouse/duckdb', 'warehouse/bigquery', 'warehouse/openWarehouse'];

interface Import {
  readonly from: string;
  readonly to: string;
}

const files = SOURCE_FOLDERS.flatMap((folder) => sourceFiles(path.join(ROOT, folder)));
const imports: Import[] = files.flatMap((file) => importsOf(file));

test('the scanner sees the tree (a broken scanner would pass every rule)', () => {
  expect(files.length).toBeGreaterThan(100);
  expect(imports).toContainEqual({ from: 'gateway/buildGateway.ts', to: 'gateway/cost/pricer.ts' });
  expect(imports).toContainEqual({ from: 'subgraphs/main.ts', to: 'warehouse/openWarehouse.ts' });
});

test('every import runs downward: each folder imports only what its row in MAY_IMPORT allows', () => {
  const crossings = imports.filter(({ from, to }) => {
    const rule = ruleOf(from);
    return !within(to, rule) && !MAY_IMPORT[rule].some((allowed) => within(to, allowed));
  });
  expect(crossings.map(({ from, to }) => `${from} → ${to}`)).toEqual([]);
});

test('the gateway never reaches warehouse code, not even through another module', () => {
  const reached = new Map<string, string>(); // file → the gateway file it was reached from
  const queue = files.filter((file) => within(file, 'gateway'));
  for (const file of queue) reached.set(file, file);
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const { to } of imports.filter((i) => i.from === file)) {
      if (reached.has(to)) continue;
      reached.set(to, reached.get(file)!);
      queue.push(to);
    }
  }
  const warehouse = [...reached].filter(([file]) => within(file, 'warehouse'));
  expect(warehouse.map(([file, origin]) => `${origin} ⇢ ${file}`)).toEqual([]);
});

test('subgraphs never import the gateway; common imports nothing above it', () => {
  expect(imports.filter(({ from, to }) => within(from, 'subgraphs') && within(to, 'gateway'))).toEqual([]);
  expect(imports.filter(({ from, to }) => within(from, 'common') && !within(to, 'common'))).toEqual([]);
});

test('warehouse adapters are chosen only at the edges: process entries, CLIs, benchmarks', () => {
  const edge = (file: string) => /(^|\/)main\.ts$/.test(file) || within(file, 'cli') || within(file, 'bench') || within(file, 'warehouse');
  const offenders = imports.filter(({ from, to }) => !edge(from) && ADAPTERS.some((adapter) => within(to, adapter)));
  expect(offenders.map(({ from, to }) => `${from} → ${to}`)).toEqual([]);
});

test('no import cycles: every module can be read before the ones that import it', () => {
  const next = new Map<string, string[]>();
  for (const { from, to } of imports) next.set(from, [...(next.get(from) ?? []), to]);
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    state.set(file, 'open');
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') cycles.push([...trail.slice(trail.indexOf(to)), to].join(' → '));
      else if (!state.has(to)) visit(to, [...trail, to]);
    }
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file, [file]);
  expect(cycles).toEqual([]);
});

test("no import reaches into a library's dist/ (public entry points only; a stylesheet a package ships only there is its public asset)", () => {
  const internal = files.flatMap((file) => ts.preProcessFile(read(file), true, true).importedFiles
    .filter((i) => !i.fileName.startsWith('.') && /\/dist\//.test(i.fileName) && !i.fileName.endsWith('.css'))
    .map((i) => `${file} → ${i.fileName}`));
  expect(internal).toEqual([]);
});

// Private:

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path.relative(ROOT, full)] : [];
  });
}

function read(file: string): string {
  return fs.readFileSync(path.join(ROOT, file), 'utf8');
}

/** The file's relative imports of code, resolved to repository paths (a folder import to its index.ts); package.json is data, a stylesheet is not code. */
function importsOf(file: string): Import[] {
  return ts.preProcessFile(read(file), true, true).importedFiles
    .filter((i) => i.fileName.startsWith('.') && !/\.(json|css)$/.test(i.fileName))
    .map((i) => {
      const target = path.normalize(path.join(path.dirname(file), i.fileName));
      const resolved = [`${target}.ts`, `${target}.tsx`, path.join(target, 'index.ts')].find((candidate) => fs.existsSync(path.join(ROOT, candidate)));
      if (!resolved) throw new Error(`${file}: cannot resolve ${i.fileName}`);
      return { from: file, to: resolved };
    });
}

/** The MAY_IMPORT row of a file: its longest enclosing folder that has one. */
function ruleOf(file: string): string {
  const rules = Object.keys(MAY_IMPORT).filter((folder) => within(file, folder)).sort((a, b) => b.length - a.length);
  if (!rules[0]) throw new Error(`${file} is in no folder of MAY_IMPORT`);
  return rules[0];
}

/** `file` is `entry` (a file named without .ts) or inside the folder `entry`. */
function within(file: string, entry: string): boolean {
  return file === `${entry}.ts` || file.startsWith(`${entry}/`);
}
