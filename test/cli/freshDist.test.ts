/**
 * scripts/freshDist.js, the check before every npm script that starts a process: dist/ missing or older
 * than a source is built first (one line on stderr says so), a fresh one is run as it is. Run for real —
 * node, the preload, tsc — on a small repository of its own with the same layout (scripts/, a
 * tsconfig.build.json extending tsconfig.json, dist/), so that no test rebuilds the project's dist/.
 * The tests run in order on that one repository, each from the state the one before left.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');
/** The notice's shape: one line, then nothing but tsc's own errors. */
const NOTICE = /^bytegate: dist\/ is (missing|older than (\S+)); building it \(npm run build, about 15 s\)…\n/;

let repo: string;

beforeAll(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-fresh-dist-'));
  fs.mkdirSync(path.join(repo, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts/freshDist.js'), path.join(repo, 'scripts/freshDist.js'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(repo, 'node_modules'));
  // No @types: tsc takes a second, not five.
  write('tsconfig.json', JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2022'], module: 'commonjs', strict: true, types: [], noEmit: true } }));
  write('tsconfig.build.json', JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: false, outDir: 'dist', rootDir: '.' }, include: ['src'], exclude: ['src/browser'] }));
  write('src/hello.ts', hello(1));
  write('src/extra.ts', 'export const extra = 1;\n');
  write('src/browser/page.ts', 'export const page = 1;\n');
});

afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

test('no dist/: the first run builds it, says so in one line on stderr, then runs the entry', async () => {
  const run = await launch();
  expect(run).toEqual({ code: 0, stdout: 'hello 1\n', stderr: expect.stringMatching(NOTICE) });
  expect(NOTICE.exec(run.stderr)?.[1]).toBe('missing');
  expect(run.stderr.split('\n')).toHaveLength(2); // the notice alone
  expect(fs.existsSync(path.join(repo, 'dist/src/browser'))).toBe(false); // tsconfig.build.json's exclude
});

test('fresh: run as it is, nothing built, nothing said', async () => {
  const builtMs = fs.statSync(path.join(repo, 'dist/src/hello.js')).mtimeMs;
  expect(await launch()).toEqual({ code: 0, stdout: 'hello 1\n', stderr: '' });
  expect(fs.statSync(path.join(repo, 'dist/src/hello.js')).mtimeMs).toBe(builtMs);
});

test('a source changed since the build (a git pull without npm install): rebuilt first, the new code runs', async () => {
  write('src/hello.ts', hello(2));
  const run = await launch();
  expect(run).toEqual({ code: 0, stdout: 'hello 2\n', stderr: expect.stringMatching(NOTICE) });
  expect(NOTICE.exec(run.stderr)?.[2]).toBe('src/hello.ts');
});

test('a change in an excluded folder (the console\'s browser code, bundled at run time) builds nothing', async () => {
  write('src/browser/page.ts', 'export const page = 2;\n');
  expect(await launch()).toEqual({ code: 0, stdout: 'hello 2\n', stderr: '' });
});

test('a source removed: its folder changed, so dist/ is rebuilt clean, without the removed file\'s output', async () => {
  expect(fs.existsSync(path.join(repo, 'dist/src/extra.js'))).toBe(true);
  fs.rmSync(path.join(repo, 'src/extra.ts'));
  const run = await launch();
  expect(NOTICE.exec(run.stderr)?.[2]).toBe('src');
  expect(fs.existsSync(path.join(repo, 'dist/src/extra.js'))).toBe(false);
});

test('processes started together on a stale dist/ build it once, and each then runs the new code', async () => {
  write('src/hello.ts', hello(3));
  const runs = await Promise.all([launch(), launch(), launch()]);
  expect(runs.map((run) => [run.code, run.stdout])).toEqual([[0, 'hello 3\n'], [0, 'hello 3\n'], [0, 'hello 3\n']]);
  expect(runs.filter((run) => NOTICE.test(run.stderr))).toHaveLength(1);
  expect(runs.filter((run) => run.stderr === '')).toHaveLength(2);
});

test('a lock left by a build that was interrupted (its process gone) is taken over', async () => {
  const gone = await node(['-e', 'process.stdout.write(String(process.pid))']);
  fs.writeFileSync(path.join(repo, 'dist.lock'), gone.stdout);
  write('src/hello.ts', hello(4));
  expect(await launch()).toEqual({ code: 0, stdout: 'hello 4\n', stderr: expect.stringMatching(NOTICE) });
  expect(fs.existsSync(path.join(repo, 'dist.lock'))).toBe(false);
});

test('a source that does not compile: exit 1 with tsc\'s error and why, nothing run, the last build kept whole; fixed, the next run builds', async () => {
  write('src/hello.ts', 'const broken: number = "four";\n');
  const failed = await launch();
  expect({ code: failed.code, stdout: failed.stdout }).toEqual({ code: 1, stdout: '' });
  expect(failed.stderr).toMatch(NOTICE);
  expect(failed.stderr).toContain('error TS2322');
  expect(failed.stderr).toMatch(/\nerror: the build failed \(tsc -p tsconfig\.build\.json, its errors above\); dist\/ is unchanged, and is built again at the next run\.\n$/);
  // The last good build is still there, whole: it was never emptied, only to be swapped for a finished one.
  expect((await node(['dist/src/hello.js'])).stdout).toBe('hello 4\n');
  expect(fs.existsSync(path.join(repo, 'dist.next'))).toBe(false);
  write('src/hello.ts', hello(5));
  expect(await launch()).toEqual({ code: 0, stdout: 'hello 5\n', stderr: expect.stringMatching(NOTICE) });
});

test('npm run build (npm install\'s prepare) builds even a fresh dist/', async () => {
  const builtMs = fs.statSync(path.join(repo, 'dist/src/hello.js')).mtimeMs;
  expect(await node(['scripts/freshDist.js'])).toEqual({ code: 0, stdout: '', stderr: '' });
  expect(fs.statSync(path.join(repo, 'dist/src/hello.js')).mtimeMs).toBeGreaterThan(builtMs);
});

test('without tsconfig.build.json (an image holding dist/ and no sources to build), dist/ is run as built', async () => {
  fs.rmSync(path.join(repo, 'tsconfig.build.json'));
  write('src/hello.ts', hello(6));
  expect(await launch()).toEqual({ code: 0, stdout: 'hello 5\n', stderr: '' });
});

test('the project: every npm script that starts a process runs dist/ through the check, and builds what it runs', () => {
  const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;
  const build: { include: string[] } = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8'));
  const starting = Object.entries(scripts).filter(([, command]) => /\bdist\//.test(command));
  expect(starting.map(([name]) => name).sort()).toEqual(['bq:provision', 'budget', 'gateway', 'ingest', 'schema', 'seed', 'start', 'subgraph', 'token']);
  for (const [name, command] of starting) {
    const entry = /^(?:exec )?node (?:--\S+ )*-r \.\/scripts\/freshDist\.js dist\/(\S+)\.js$/.exec(command)?.[1];
    expect({ name, source: entry && fs.existsSync(path.join(ROOT, `${entry}.ts`)), built: entry && build.include.includes(entry.split('/')[0]) })
      .toEqual({ name, source: true, built: true });
  }
  expect(Object.keys(scripts).filter((name) => /\btsx\b/.test(scripts[name]))).toEqual(['bench']); // a development tool
  expect(scripts.prepare).toBe('npm run build');
  expect(scripts.build).toBe('node scripts/freshDist.js');
});

// Private:

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  fs.writeFileSync(path.join(repo, file), text);
}

function hello(version: number): string {
  return `declare const process: { stdout: { write(text: string): void } };\nprocess.stdout.write('hello ${version}\\n');\n`;
}

/** The fixture's entry as npm's scripts start the project's: `node -r ./scripts/freshDist.js dist/….js`. */
function launch(): Promise<Run> {
  return node(['-r', './scripts/freshDist.js', 'dist/src/hello.js']);
}

function node(args: string[]): Promise<Run> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: repo, env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}
