/**
 * Proves: a gateway told to stop (SIGTERM, as npm start's supervisor and any orchestrator do) exits 0
 * promptly even while the Redis under it is frozen — its ledger, change feed and limits never hold it
 * up; and one with a request in flight, or under steady keep-alive load, answers what was in flight
 * and exits within the 5 s npm start allows.
 */
import type { SubgraphName } from '../../common/config';
import { seedDataDir } from '../support/system';
import { type RedisServer, type RunningCli, freePorts, startRedisServer } from '../e2e/processes';
import { type Load, baseEnv, crash, describe, dumpOutputs, expectData, post, sleep, startGatewayProcess, startLoad, startSubgraphProcesses, tokenFor } from './harness';

const tenant = { tenant: 'faults', users: 12, days: 4, eventsPerUser: 20, start: '2025-03-03', seed: 5 };
/** How long a stopping gateway may take: its in-flight requests are short. */
const EXIT_BOUND_MS = 5000;

let remove: () => void;
let env: NodeJS.ProcessEnv;
let redis: RedisServer;
let subgraphs: Record<SubgraphName, RunningCli>;
let gateway: RunningCli | undefined;
let load: Load | undefined;

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  const [users, tenants, metrics, redisPort] = await freePorts(4);
  redis = await startRedisServer(redisPort);
  env = baseEnv({ dataDir: seeded.dataDir, ports: { users, tenants, metrics }, redisUrl: redis.url });
  subgraphs = await startSubgraphProcesses(env);
}, 120_000);

afterEach(async () => {
  await load?.stop();
  load = undefined;
  redis.child.kill('SIGCONT');
  if (gateway) await crash(gateway.child);
  gateway = undefined;
});

afterAll(async () => {
  dumpOutputs(subgraphs ?? {});
  await Promise.all(Object.values(subgraphs ?? {}).map((s) => s.stop()));
  await redis?.stop();
  remove?.();
});

test('SIGTERM while its Redis is frozen: the gateway exits 0 promptly — ledger, change feed and limits never hold it up', async () => {
  const [port] = await freePorts(1);
  const started = await startGatewayProcess(port, env);
  gateway = started.process;
  const token = await tokenFor(tenant.tenant, 'stopping', 'executive');
  expectData(await post(started.origin, token, '{ tenant { name } }'));
  // A request that waits on the frozen ledger (1 s), then is admitted unrecorded (allow-up-to-cap, the
  // default): the ledger is left with a timed-out call pending when the signal comes.
  redis.child.kill('SIGSTOP');
  expectData(await post(started.origin, token, '{ tenant { name } }'));

  const stopAt = Date.now();
  const code = await Promise.race([gateway.stop('SIGTERM'), sleep(EXIT_BOUND_MS).then(() => 'still running')]);
  expect({ code, withinMs: Date.now() - stopAt < EXIT_BOUND_MS }).toEqual({ code: 0, withinMs: true });
  expect(gateway.output()).toMatch(/SIGTERM, draining/);
}, 60_000);

// README: "SIGINT/SIGTERM shut everything down cleanly", and npm start's terminate() (cli/childProcesses.ts)
// SIGKILLs a process still running 5 s after SIGTERM. (Found here as a regression of b4a7fec: with the
// servers keeping idle connections 65 s, a connection busy at SIGTERM kept the process 63 s; fixed in
// e285af9 — idle connections close as they become idle, all of them after a 3 s drain.)
test('SIGTERM with a request in flight: it is answered, and the gateway exits within 5 s', async () => {
  const [port] = await freePorts(1);
  const started = await startGatewayProcess(port, env);
  gateway = started.process;
  const token = await tokenFor(tenant.tenant, 'in-flight', 'executive');
  expectData(await post(started.origin, token, '{ tenant { name } }'));
  // In flight when the signal comes: it waits on the frozen ledger for 1 s.
  redis.child.kill('SIGSTOP');
  const inFlight = post(started.origin, token, '{ tenant { name } }');
  await sleep(200);
  const stopAt = Date.now();
  const code = await Promise.race([gateway.stop('SIGTERM'), sleep(EXIT_BOUND_MS).then(() => 'still running')]);
  const answer = await inFlight;
  expectData(answer); // answered (admitted unrecorded, allow-up-to-cap), not dropped
  expect({ code, withinMs: Date.now() - stopAt < EXIT_BOUND_MS }).toEqual({ code: 0, withinMs: true });
}, 60_000);

test('SIGTERM under steady keep-alive load: what was in flight is answered, and the gateway exits within 5 s', async () => {
  const [port] = await freePorts(1);
  const started = await startGatewayProcess(port, env);
  gateway = started.process;
  const token = await tokenFor(tenant.tenant, 'busy', 'executive');
  // Free operations (no warehouse data, never charged): ten clients keep their connections busy.
  load = startLoad(10, (client) => ({ label: 'free', origin: started.origin, user: `busy-${client}`, token, query: '{ tenant { dataRange { from to } } }' }), { run: 'busy' });
  await sleep(1000);
  const stopAt = Date.now();
  const code = await Promise.race([gateway.stop('SIGTERM'), sleep(EXIT_BOUND_MS).then(() => 'still running')]);
  const exitedAfter = Date.now() - stopAt;
  const outcomes = await load.stop();
  load = undefined;
  expect({ code, withinBound: exitedAfter < EXIT_BOUND_MS }).toEqual({ code: 0, withinBound: true });
  expect(outcomes.filter((o) => o.startedAt < stopAt && o.endedAt >= stopAt && o.status !== 200).map(describe)).toEqual([]);
}, 60_000);
