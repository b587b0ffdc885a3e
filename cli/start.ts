/**
 * npm start — the whole system on its embedded defaults, as production runs it: one process per
 * subgraph and one for the gateway, supervised (a process that dies is restarted; the others keep
 * serving). On an empty DATA_DIR it first seeds the demo tenants `acme` and `globex`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SUBGRAPH_NAMES, loadConfig } from '../common/config';
import { addDays } from '../common/dates';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import { tenantsDir } from '../warehouse/duckdb/datasetFiles';
import { runMain } from '../common/runMain';
import { progress } from './progress';
import { seedTenant } from './seedTenant';
import { duckDbDatasetWriter } from '../warehouse/duckdb/tenantDataset';
import { terminate, waitForHealth } from './childProcesses';

const ROOT = path.resolve(__dirname, '..');
/** Demo tenants: acme ~300 users × 30 days (≈1.8M events), globex smaller. */
const DEMO_TENANTS = [
  { tenant: 'acme', name: 'Acme Corporation', users: 300, days: 30, eventsPerUser: 200, seed: 1 },
  { tenant: 'globex', name: 'Globex', users: 60, days: 30, eventsPerUser: 150, seed: 2 },
];
const RESTART_DELAY_MS = 1000;

runMain('npm start', async () => {
  const config = loadConfig(process.env);
  for (const warning of config.warnings) console.warn(`warning: ${warning}`);
  // The demo tenants are embedded datasets; on BigQuery the tenants' datasets are already there.
  if (config.warehouse === 'duckdb') await seedDemoTenantsIfEmpty(config.dataDir);

  const processes = [
    ...SUBGRAPH_NAMES.map((name) => ({ name, args: [path.join(ROOT, 'subgraphs/main.ts'), name], port: config.subgraphPorts[name] })),
    { name: 'gateway', args: [path.join(ROOT, 'gateway/main.ts')], port: config.port },
  ];
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const launch = (proc: (typeof processes)[number]) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...proc.args], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(proc.name, child);
    prefixOutput(proc.name, child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`[start] ${proc.name} exited (${signal ?? code}); restarting in ${RESTART_DELAY_MS} ms`);
      setTimeout(() => !stopping && launch(proc), RESTART_DELAY_MS);
    });
  };

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.error('[start] shutting down…');
    await Promise.all([...children.values()].map((child) => terminate(child)));
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  for (const proc of processes) {
    launch(proc);
    await waitForHealth(`http://127.0.0.1:${proc.port}/healthz`, 60_000);
  }
  const ceo = config.warehouse === 'duckdb' ? await acmeExecutiveId(config.dataDir) : undefined;
  console.log(`
bytegate is up: http://127.0.0.1:${config.port}/graphql   (subgraphs on ${SUBGRAPH_NAMES.map((n) => config.subgraphPorts[n]).join(', ')})

  TOKEN=$(npm run --silent token -- --tenant acme --user ${ceo ?? '<okta user id>'} --role executive)
  curl -s http://127.0.0.1:${config.port}/graphql -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"{ tenant { name dataRange { from to } } me { displayName } }"}'
`);
  await new Promise(() => {}); // serve until a signal arrives
});

// Private:

async function seedDemoTenantsIfEmpty(dataDir: string): Promise<void> {
  const dir = tenantsDir(dataDir);
  if (fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.duckdb'))) return;
  const start = addDays(new Date().toISOString().slice(0, 10), -30);
  for (const demo of DEMO_TENANTS) {
    const started = Date.now();
    const shown = progress();
    const report = await seedTenant(duckDbDatasetWriter(dataDir), { ...demo, start }, (p) => {
      shown.update(`[start] seeding ${demo.tenant}: day ${p.daysDone}/${p.days}, ${p.events.toLocaleString('en-US')} events`);
    });
    shown.done(`[start] seeded ${demo.tenant}: ${report.accepted.toLocaleString('en-US')} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

async function acmeExecutiveId(dataDir: string): Promise<string | undefined> {
  const warehouse = createDuckDbWarehouse({ dataDir });
  try {
    const result = await warehouse.query<{ id: string }>('acme', {
      name: 'demoExecutive', params: {}, sql: (d) => `SELECT u.id FROM ${d.table('users')} AS u WHERE u.manager_id IS NULL ORDER BY u.id LIMIT 1`,
    });
    return result.rows[0]?.id;
  } catch {
    return undefined;
  } finally {
    await warehouse.close();
  }
}

function prefixOutput(name: string, child: ChildProcess): void {
  for (const [stream, target] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) target.write(`[${name}] ${line}\n`);
    });
  }
}


