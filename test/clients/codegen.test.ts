/**
 * GraphQL Code Generator with the README's own `codegen.ts`, run as its CLI against the live gateway:
 * the custom scalars come out as the types the README maps them to (not `unknown`), and code using
 * the generated types type-checks.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { clientSystem } from './clientSystem';

const run = promisify(execFile);
/** The CLI as a user runs it: outside a test environment (under NODE_ENV=test it reports nothing). */
const codegenEnv = (token: string) => ({ ...process.env, NODE_ENV: 'development', TOKEN: token });
const system = clientSystem();
const ROOT = path.resolve(__dirname, '../..');
/** Under the repository, so the CLI and its presets resolve from its node_modules. */
const WORK_DIR = path.join(ROOT, 'test-output', `codegen-${process.pid}`);

afterAll(() => fs.rmSync(WORK_DIR, { recursive: true, force: true }));

/** The README's codegen.ts, pointed at the test's gateway. */
function readmeCodegenConfig(url: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const snippet = /```ts\n(import type \{ CodegenConfig \} from '@graphql-codegen\/cli';[\s\S]*?)```/.exec(readme)?.[1];
  if (!snippet) throw new Error('README.md has no codegen.ts snippet');
  return snippet.replace('http://127.0.0.1:4000/graphql', url);
}

test("the README's codegen.ts maps Date, DateTime and Bytes; generated types check against real use", async () => {
  const { token } = await system().caller('quota-admin');
  fs.mkdirSync(path.join(WORK_DIR, 'src'), { recursive: true });
  fs.writeFileSync(path.join(WORK_DIR, 'codegen.ts'), readmeCodegenConfig(system().url));
  fs.writeFileSync(path.join(WORK_DIR, 'src', 'usage.graphql'), 'query Usage { myBudget { usedBytes resetsAt } tenant { dataRange { from to } } }\n');
  await run(path.join(ROOT, 'node_modules', '.bin', 'graphql-codegen'), ['--config', 'codegen.ts'], { cwd: WORK_DIR, env: codegenEnv(token) });

  const generated = fs.readFileSync(path.join(WORK_DIR, 'src', 'gql', 'graphql.ts'), 'utf8');
  expect(generated).toMatch(/Date: \{ input: string; output: string; \}/);
  expect(generated).toMatch(/DateTime: \{ input: string; output: string; \}/);
  expect(generated).toMatch(/Bytes: \{ input: number; output: number; \}/);
  expect(generated).not.toMatch(/\{ input: (unknown|any); output: (unknown|any); \}/);

  // Code a frontend would write: wrong scalar types would fail here.
  fs.writeFileSync(path.join(WORK_DIR, 'src', 'use.ts'), [
    "import type { UsageQuery } from './gql/graphql';",
    'declare const result: UsageQuery;',
    'export const used: number = result.myBudget.usedBytes;',
    'export const resets: string = result.myBudget.resetsAt;',
    'export const from: string = result.tenant.dataRange?.from ?? "";',
    '',
  ].join('\n'));
  await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', path.join(WORK_DIR, 'src', 'use.ts')], { cwd: WORK_DIR });
}, 120_000);

test('with strictScalars, a scalar left out of the mapping fails the build instead of typing as unknown', async () => {
  const { token } = await system().caller();
  const dir = path.join(WORK_DIR, 'unmapped');
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'codegen.ts'), readmeCodegenConfig(system().url).replace(", Bytes: 'number'", ''));
  fs.writeFileSync(path.join(dir, 'src', 'usage.graphql'), 'query Usage { myBudget { usedBytes } }\n');
  const failure = await run(path.join(ROOT, 'node_modules', '.bin', 'graphql-codegen'), ['--config', 'codegen.ts'], { cwd: dir, env: codegenEnv(token) }).catch((error: { stdout: string; stderr: string }) => error);
  expect('code' in failure && failure.code).toBe(1);
  expect(`${failure.stdout}${failure.stderr}`).toContain('Unknown scalar type Bytes');
}, 120_000);
