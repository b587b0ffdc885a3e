/**
 * Every CLI answers `--help` (common/args.ts): each package.json script that runs a file in cli/ or bench/, or a server alone, run as
 * npm runs it, prints on stdout its usage — a synopsis, each of its flags with its meaning, an example —
 * and exits 0; budget's commands print their own. An unknown flag exits 2 with the same usage on stderr.
 * Every process starts at once, in parallel.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');
const SCRIPTS: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;

/** Each CLI's flags, as its usage must list them; `budget set` & co.: the command's own. */
const FLAGS: Readonly<Record<string, readonly string[]>> = {
  start: [],
  seed: ['--tenant', '--users', '--days', '--events-per-user', '--start', '--seed', '--name'],
  ingest: ['--tenant', '--file', '--okta-url', '--token-env', '--since', '--follow', '--poll-interval'],
  token: ['--tenant', '--user', '--role', '--ttl'],
  budget: ['--tenant', '--user', '--daily', '--max-query', '--timezone', '--reason', '--role', '--limit'],
  'budget set': ['--tenant', '--user', '--daily', '--max-query', '--timezone', '--reason'],
  'budget get': ['--tenant', '--user', '--role'],
  'budget audit': ['--tenant', '--user', '--limit'],
  'budget usage': ['--tenant', '--user', '--role'],
  schema: [],
  'bq:provision': ['--tenant', '--kms-key', '--apply'],
  bench: [],
  gateway: [],
  subgraph: [],
};
const CLIS = Object.keys(FLAGS).filter((cli) => !cli.includes(' '));

interface Run {
  code: number | string | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run -s <script> -- args…` to its end, without npm's own start-up: the script's command line run by
 * `sh -c` with node_modules/.bin on the PATH, as npm runs it. PORT=0 makes an `npm start` that ignored
 * --help exit 1 at once (it needs fixed ports) rather than start the system; the timeout ends any other.
 */
function npmRun(script: string, args: string[]): Promise<Run> {
  const env = { ...process.env, PATH: `${path.join(ROOT, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}`, PORT: '0' };
  return new Promise((resolve) => {
    execFile('sh', ['-c', `${SCRIPTS[script]} "$@"`, script, ...args], { cwd: ROOT, timeout: 30_000, env }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code ?? error.signal ?? null : 0, stdout, stderr });
    });
  });
}

const help = new Map<string, Promise<Run>>();
const unknownFlag = new Map<string, Promise<Run>>();

beforeAll(() => {
  for (const cli of Object.keys(FLAGS)) {
    const [script, ...command] = cli.split(' ');
    // -h is --help: budget's commands are asked with it.
    help.set(cli, npmRun(script, [...command, command.length > 0 ? '-h' : '--help']));
  }
  for (const cli of CLIS) unknownFlag.set(cli, npmRun(cli, ['--bogus']));
});

test('the table names every package.json script that runs a file in cli/ or bench/, or a server alone', () => {
  const scripts = Object.keys(SCRIPTS).filter((name) => /\b(dist\/(cli|gateway|subgraphs)\/\w+\.js|bench\/\w+\.ts)\b/.test(SCRIPTS[name]));
  expect([...CLIS].sort()).toEqual(scripts.sort());
});

test.each(Object.keys(FLAGS))('npm run %s -- --help (-h): its usage on stdout, each flag with its meaning, an example; exit 0', async (cli) => {
  const { code, stdout, stderr } = await help.get(cli)!;
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const [script, command] = cli.split(' ');
  expect(stdout).toMatch(new RegExp(`^usage: npm (start|run (--silent )?${script}( --)?)${command ? ` ${command} ` : '\\b'}`));
  // A flag's line: two spaces, the flag (its value's placeholder), its meaning.
  const listed = [...stdout.matchAll(/^ {2}(?:-h, )?(--[a-z-]+)(?: \S+)? +\S/gm)].map((match) => match[1]);
  expect(listed.sort()).toEqual([...FLAGS[cli], '--help'].sort());
  expect(stdout).toMatch(/^examples?:\n {2}\S/m);
}, 60_000);

test.each(CLIS)('npm run %s -- --bogus: exit 2, the reason and the same usage on stderr, nothing on stdout', async (cli) => {
  const [bogus, asked] = await Promise.all([unknownFlag.get(cli)!, help.get(cli)!]);
  expect({ code: bogus.code, stdout: bogus.stdout }).toEqual({ code: 2, stdout: '' });
  expect(bogus.stderr).toMatch(/^error: Unknown option '--bogus'/);
  expect(bogus.stderr.endsWith(`\n\n${asked.stdout}`)).toBe(true);
}, 60_000);
