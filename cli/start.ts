/**
 * npm start — the whole system on its embedded defaults, as production runs it: one process per
 * subgraph and one for the gateway, supervised (cli/childProcesses.ts: one that dies is restarted with
 * growing backoff while the others keep serving; one that keeps failing stops everything, exit 1).
 * On an empty DATA_DIR it creates the demo tenants `acme` and `globex` with their directories, starts
 * the servers, and loads the tenants' events behind them (cli/demoData.ts).
 *
 * Public contract v2: stdout carries JSON log lines only (every process's, and this supervisor's as
 * `"name":"supervisor"`); people read stderr (progress, the banner, errors). SIGINT, SIGTERM or SIGHUP
 * — or the parent process (npm) going away — stops every process; a port in use stops it before
 * anything is seeded or started.
 */
import { type Config, DEV_JWT_SECRET, SUBGRAPH_NAMES, SUPERVISED_ENV, loadConfig } from '../common/config';
import type { DemoLoading } from '../common/demoLoading';
import { type Logger, createLog, logConfigWarnings } from '../common/log';
import type { Role } from '../common/principal';
import { urlHostOf } from '../common/http/graphqlHttpServer';
import { runMain } from '../common/runMain';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import type { DatasetWriter } from '../warehouse/datasetWriter';
import { duckDbDatasetWriter } from '../warehouse/duckdb/tenantDataset';
import { type Usage, parseFlags, usageText } from '../common/args';
import { type ProcessSpec, type Supervisor, onParentExit, portInUse, supervise } from './childProcesses';
import { loadDemoEvents, planDemoData } from './demoData';
import { progress } from './progress';

/** The banner's token commands, one per role, in this order. */
const BANNER_ROLES: readonly Role[] = ['executive', 'manager', 'viewer', 'quota-admin'];
const START_TIMEOUT_MS = 60_000;

const USAGE = {
  command: 'npm start',
  synopsis: [],
  summary: 'The whole system: the users, tenants and metrics subgraphs and the gateway, each its own process under one supervisor; on a DATA_DIR with no tenant it creates the demo tenants acme and globex and loads their events behind the servers. stdout: JSON log lines; stderr: progress, the banner, errors. Ctrl-C stops every process.',
  flags: {},
  notes: ['Configured by the environment (README "Configuration"), e.g. PORT (4000, the gateway), USERS_PORT, TENANTS_PORT, METRICS_PORT (PORT+1, +2, +3), DATA_DIR (./.data), WAREHOUSE (duckdb), JWT_SECRET, REDIS_URL, DATABASE_URL.'],
  examples: ['PORT=4100 DATA_DIR=/tmp/bytegate npm start'],
} satisfies Usage;

runMain(usageText(USAGE), async () => {
  parseFlags(process.argv.slice(2), USAGE);
  let supervisor: Supervisor | undefined;
  // Before the servers start there is nothing to stop but this process (and a seed it may be writing).
  const stop = (reason: string) => (supervisor ? void supervisor.stop(reason) : process.exit(0));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  onParentExit(() => stop('its parent process exited'));
  // A reader that goes away (`npm start | head`) ends the system, as SIGPIPE ends other programs.
  process.stdout.on('error', () => stop('stdout closed'));

  const config = loadConfig(process.env);
  const log = createLog('supervisor', config.logLevel, process.stdout);
  logConfigWarnings(log, config.warnings);
  const ports = neededPorts(config, process.env);
  await assertPortsFree(ports, config.host);
  // The demo tenants are embedded datasets; on BigQuery the tenants' datasets are already there.
  const writer = duckDbDatasetWriter(config.dataDir, config.duckDb);
  const demo = config.warehouse === 'duckdb' ? await planDemoData(config.dataDir, writer, new Date().toISOString().slice(0, 10)) : undefined;
  const demoUsers = config.warehouse === 'duckdb' ? await acmeDemoUsers(config.dataDir) : undefined;

  const health = (port: number) => `http://${urlHostOf(config.host)}:${port}/healthz`;
  const subgraphs: ProcessSpec[] = SUBGRAPH_NAMES.map((name) => ({ name, args: ['subgraphs/main', name], healthUrl: health(config.subgraphPorts[name]) }));
  const gateway: ProcessSpec = { name: 'gateway', args: ['gateway/main'], healthUrl: health(config.port) };
  const started = Date.now();
  const shown = progress();
  const up: string[] = [];
  shown.update('starting users, tenants, metrics, then the gateway…');
  supervisor = supervise([subgraphs, [gateway]], {
    log,
    logLevel: config.logLevel,
    // The supervisor printed the configuration's warnings once, for all of them.
    env: { ...process.env, [SUPERVISED_ENV]: '1' },
    startTimeoutMs: START_TIMEOUT_MS,
    onUp(spec) {
      up.push(spec.name);
      log.info({ process: spec.name, url: spec.healthUrl }, `${spec.name} is up`);
      shown.update(`starting: ${up.join(', ')} up`);
    },
  });

  if (await supervisor.up) {
    shown.done(`started ${up.join(', ')} in ${seconds(started)}`);
    process.stderr.write(banner(config, demoUsers, demo));
    log.info({ url: `http://${urlHostOf(config.host)}:${config.port}/graphql` }, 'bytegate is up');
    if (demo) void loadDemo(config.dataDir, writer, demo, log);
  } else {
    shown.done();
  }
  const stopped = await supervisor.stopped;
  if (stopped.kind === 'failed') throw new Error(stopped.message);
});

// Private:

interface NeededPort {
  readonly port: number;
  /** The variable that sets it, and its default when unset. */
  readonly setting: string;
}

/** The gateway's port and the subgraphs' (`<NAME>_PORT`, as common/config.ts reads them). */
function neededPorts(config: Config, env: NodeJS.ProcessEnv): NeededPort[] {
  return [
    { port: config.port, setting: env.PORT ? 'PORT' : 'PORT, unset: 4000' },
    ...SUBGRAPH_NAMES.map((name, i) => {
      const variable = `${name.toUpperCase()}_PORT`;
      return { port: config.subgraphPorts[name], setting: env[variable] ? variable : `${variable}, unset: PORT+${i + 1}` };
    }),
  ];
}

/** Refuses at once a port another process holds, rather than crash-looping servers or health-checking someone else's. */
async function assertPortsFree(ports: readonly NeededPort[], host: string): Promise<void> {
  for (const [i, { port, setting }] of ports.entries()) {
    if (port === 0) throw new Error(`npm start needs fixed ports, and ${setting} is 0.`);
    const twin = ports.slice(0, i).find((other) => other.port === port);
    if (twin) throw new Error(`${setting} and ${twin.setting} are both port ${port}; each process needs its own.`);
    if (await portInUse(port, host)) {
      throw new Error(`port ${port} (${setting}) is already in use by another process: stop it, or choose free ports with PORT, USERS_PORT, TENANTS_PORT, METRICS_PORT.`);
    }
  }
}

/** The demo tenants' events, behind the running servers (cli/demoData.ts): a line per tenant, and one at the end. */
async function loadDemo(dataDir: string, writer: DatasetWriter, plan: DemoLoading, log: Logger): Promise<void> {
  const started = Date.now();
  try {
    await loadDemoEvents(dataDir, writer, plan, (p) => {
      if (!p.done) return;
      process.stderr.write(`seeded ${p.tenant}: ${p.events.toLocaleString('en-US')} events (${p.days} days) in ${seconds(started)}\n`);
      log.info({ tenant: p.tenant, events: p.events, durationMs: Date.now() - started }, `seeded ${p.tenant}`);
    });
    process.stderr.write(`demo data loaded in ${seconds(started)}\n`);
    log.info({ durationMs: Date.now() - started }, 'demo data loaded');
  } catch (error) {
    process.stderr.write(`loading the demo data failed: ${(error as Error).message}\n  the servers keep serving what is loaded; the next npm start resumes the load\n`);
    log.error({ err: error }, 'loading the demo data failed');
  }
}

/**
 * A person of acme's directory for each banner role: the executive has no manager, the manager
 * has reports and a manager, the viewer has no reports, the quota admin is the head of IT (else the
 * executive). Undefined without an acme dataset.
 */
async function acmeDemoUsers(dataDir: string): Promise<Readonly<Record<Role, string>> | undefined> {
  const warehouse = createDuckDbWarehouse({ dataDir });
  try {
    const result = await warehouse.query<Record<'executive' | 'manager' | 'viewer' | 'quota_admin', string | null>>('acme', {
      name: 'demoUsers', params: {}, sql: (d) => `
        WITH people AS (SELECT id, department, manager_id FROM ${d.table('users')}),
          managers AS (SELECT DISTINCT manager_id AS id FROM people WHERE manager_id IS NOT NULL),
          ceo AS (SELECT min(id) AS id FROM people WHERE manager_id IS NULL)
        SELECT
          (SELECT id FROM ceo) AS executive,
          (SELECT min(id) FROM people WHERE manager_id IS NOT NULL AND id IN (SELECT id FROM managers)) AS manager,
          (SELECT min(id) FROM people WHERE id NOT IN (SELECT id FROM managers)) AS viewer,
          (SELECT min(id) FROM people WHERE department = 'IT' AND manager_id = (SELECT id FROM ceo)) AS quota_admin`,
    });
    const row = result.rows[0];
    if (!row?.executive || !row.manager || !row.viewer) return undefined;
    return { executive: row.executive, manager: row.manager, viewer: row.viewer, 'quota-admin': row.quota_admin ?? row.executive };
  } catch {
    return undefined; // no acme dataset: the banner shows placeholders
  } finally {
    await warehouse.close();
  }
}

/** What a person needs to use the running system; on stderr. */
function banner(config: Config, demoUsers: Readonly<Record<Role, string>> | undefined, demo: DemoLoading | undefined): string {
  const url = `http://${urlHostOf(config.host)}:${config.port}/graphql`;
  const ownSecret = config.auth.kind === 'hs256' && config.auth.secret !== DEV_JWT_SECRET;
  const consoleUrl = url.replace('/graphql', '/console/');
  // Per role, its token command and, on the public development secret only (HS256 here, so not ownSecret), its console sign-in link.
  const roles = config.auth.kind === 'jwks'
    ? [`  tokens come from your identity provider (AUTH_JWKS_URL): the gateway refuses dev tokens; console: ${consoleUrl}`]
    : BANNER_ROLES.flatMap((role) => {
      const user = demoUsers?.[role] ?? '<okta user id>';
      return [
        ...(!ownSecret && demoUsers ? [`  ${role.padEnd(12)} console: ${consoleUrl}?sign-in=${role}&tenant=acme&user=${user}`] : []),
        `  ${role.padEnd(12)} TOKEN=$(npm run --silent token -- --tenant acme --user ${user} --role ${role})`,
      ];
    });
  return `
bytegate is up: ${url}   (subgraphs on ${SUBGRAPH_NAMES.map((n) => config.subgraphPorts[n]).join(', ')}; JSON logs on stdout)
stop: Ctrl-C, or kill ${process.pid} — every process stops
${demo ? `demo data: ${demo.tenants.map((t) => t.tenant).join(' and ')} are loading behind the servers, newest day first (a minute or two);
  queries answer from the days loaded so far, in seconds (each waits for the write in progress);
  ${url.replace('/graphql', '/readyz')} shows the progress, a line here says when it is done
` : ''}
sign in as a demo user of acme, one per role (a token lasts an hour${ownSecret ? '; run it with the same JWT_SECRET' : ''}):
${roles.join('\n')}
then:
  curl -s ${url} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"{ tenant { name dataRange { from to } } me { displayName } }"}'

`;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
