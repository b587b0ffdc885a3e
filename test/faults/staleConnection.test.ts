/**
 * Proves: a healthy subgraph whose pooled keep-alive connection was closed by the far end while idle
 * (a proxy's or load balancer's idle timeout; before b4a7fec, the subgraph's own 5 s keepAliveTimeout,
 * met by the load tests after a lull) does not fail the next operation: the gateway resends the fetch
 * once. With several pooled connections gone stale, the reset drops them all, so neither the resend
 * nor the next operation takes another stale one. A connection idle past the pool's own idle timeout
 * is closed by the gateway first and never reset. Made deterministic with a TCP relay in front of the
 * metrics subgraph that resets a connection reused after 1 s of idleness, exactly as a server or proxy
 * closing it at that moment does. (FAULTS_DEBUG's probe logs each such reset as
 * `ECONNRESET … (reused socket: true)`.)
 */
import net from 'node:net';
import type { SubgraphName } from '../../common/config';
import { addDays } from '../../common/dates';
import { ErrorCode } from '../../common/errors';
import { POOL_IDLE_TIMEOUT_MS } from '../../gateway/execute/subgraphDataSource';
import { seedDataDir } from '../support/system';
import { type RunningCli, freePorts } from '../e2e/processes';
import { baseEnv, codesOf, dumpOutputs, expectData, post, sleep, startGatewayProcess, startSubgraphProcesses, tokenFor } from './harness';

const tenant = { tenant: 'faults', users: 12, days: 4, eventsPerUser: 20, start: '2025-03-03', seed: 5 };
const LAST = addDays(tenant.start, tenant.days - 1);
const DASHBOARD = `{ tenant { topTimeWasters(from: "${tenant.start}", to: "${LAST}", first: 3) { totalWasteHours } } }`;
const IDLE_MS = 1000;

let remove: () => void;
let subgraphs: Record<SubgraphName, RunningCli>;
let gateway: { process: RunningCli; origin: string };
let relay: { port: number; resets: number; close(): Promise<void> };

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  const [users, tenants, metrics, relayPort, gatewayPort] = await freePorts(5);
  relay = await startIdleResettingRelay(relayPort, metrics, IDLE_MS);
  // No Redis: the in-memory ledger, and no aggregate cache, so every operation goes to metrics.
  const env = baseEnv({ dataDir: seeded.dataDir, ports: { users, tenants, metrics } }, { CACHE_TTL_MS: '0', COST_STATS_TTL_MS: '600000' });
  subgraphs = await startSubgraphProcesses(env);
  gateway = await startGatewayProcess(gatewayPort, { ...env, METRICS_URL: `http://127.0.0.1:${relayPort}/graphql` });
}, 120_000);

afterAll(async () => {
  dumpOutputs({ gateway: gateway?.process, ...subgraphs });
  await Promise.all([gateway?.process.stop(), ...Object.values(subgraphs ?? {}).map((s) => s.stop())]);
  await relay?.close();
  remove?.();
});

test('the relay itself: back-to-back operations through it answer, on reused connections', async () => {
  const token = await tokenFor(tenant.tenant, 'relay-check', 'executive');
  for (let i = 0; i < 3; i++) expectData(await post(gateway.origin, token, DASHBOARD));
  expect(relay.resets).toBe(0);
});

test('an operation whose pooled connection to a healthy subgraph was closed while idle still answers (resent once)', async () => {
  const token = await tokenFor(tenant.tenant, 'stale', 'executive');
  expectData(await post(gateway.origin, token, DASHBOARD));
  await sleep(IDLE_MS + 500);
  const after = await post(gateway.origin, token, DASHBOARD);
  expect(relay.resets).toBeGreaterThan(0); // the stale connection was reused, and reset
  expect(codesOf(after)).not.toContain(ErrorCode.SUBGRAPH_UNAVAILABLE);
  expectData(after);
}, 30_000);

// The resend does not take another pooled connection, stale as well: the first reset drops the
// pool's idle connections, so the resend and the next operation go out on new ones.
test('several pooled connections closed while idle: this operation and the next answer (the idle pool is dropped)', async () => {
  const token = await tokenFor(tenant.tenant, 'stale-pool', 'executive');
  // Five connections in the pool (five operations at once)...
  for (const answer of await Promise.all(Array.from({ length: 5 }, () => post(gateway.origin, token, DASHBOARD)))) expectData(answer);
  await sleep(IDLE_MS + 500);
  const resetsBefore = relay.resets;
  // ...all closed by the far end while idle; one operation, then another.
  const first = await post(gateway.origin, token, DASHBOARD);
  const second = await post(gateway.origin, token, DASHBOARD);
  expect(relay.resets).toBeGreaterThan(resetsBefore);
  expect([first, second].map((a) => codesOf(a).join() || 'data')).toEqual(['data', 'data']);
}, 30_000);

test('a connection idle past the pool idle timeout is closed by the gateway before the far end closes it: no reset', async () => {
  const token = await tokenFor(tenant.tenant, 'idle-pool', 'executive');
  expectData(await post(gateway.origin, token, DASHBOARD));
  await sleep(POOL_IDLE_TIMEOUT_MS + 500);
  const resetsBefore = relay.resets;
  expectData(await post(gateway.origin, token, DASHBOARD));
  expect(relay.resets).toBe(resetsBefore);
}, 30_000);

// Private:

/**
 * A TCP relay to 127.0.0.1:`target` that behaves like a server closing idle keep-alive connections:
 * bytes arriving on a connection that carried a request before and then sat idle for `idleMs` are
 * answered with a TCP reset instead of being relayed.
 */
async function startIdleResettingRelay(port: number, target: number, idleMs: number): Promise<{ port: number; resets: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { resets: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let lastActivity = 0;
    client.on('data', (chunk) => {
      const now = Date.now();
      if (lastActivity > 0 && now - lastActivity >= idleMs) {
        state.resets++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      lastActivity = now;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      lastActivity = Date.now();
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    get resets() {
      return state.resets;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
