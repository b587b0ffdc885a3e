/**
 * What the gateway tells operators (gateway/observability.ts), through the real gateway and
 * subgraphs: the Prometheus metrics on /metrics agree with the responses' own `extensions.cost`
 * (operations by outcome, bytes and USD per tenant, rejections by code, the tenant's remaining
 * budget, estimate accuracy per operation name, cache lookups, warehouse and subgraph latency), and
 * one request id ties the gateway's log line, the response header and every subgraph's log line.
 */
import { Writable } from 'node:stream';
import { createLog } from '../../common/log';
import type { Principal } from '../../common/principal';
import { generateDirectory } from '../../okta/generator';
import { openAggregateCache } from '../../subgraphs/common/aggregateCache';
import { createGatewayObservability } from '../../gateway/observability';
import { type System, seedDataDir, startSystem } from '../support/system';

const tenant = { tenant: 'acme', users: 20, days: 5, eventsPerUser: 10, start: '2025-07-07', seed: 4 };
const ceo = generateDirectory(tenant).find((u) => u.managerId === null)!;
const executive: Principal = { tenant: 'acme', userId: ceo.id, roles: ['executive'] };
const DASHBOARD = `query CeoDashboard { tenant {
  topTimeWasters(from: "2025-07-07", to: "2025-07-11", first: 3) { totalWasteHours user { displayName } }
  appUsage(from: "2025-07-07", to: "2025-07-11", first: 3) { events } } }`;

/** Lines a pino logger wrote, parsed. */
function capture(): { stream: Writable; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { stream, lines };
}

/** The sum of a metric's samples over every label set. */
function total(text: string, name: string): number {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)).reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** The value of one sample of the Prometheus text, e.g. `bytegate_operations_total{tenant="acme",outcome="ok"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  return undefined;
}

let system: System;
let remove: () => void;
let dataDir: string;
const gatewayLog = capture();
const subgraphLog = capture();
let aggregates: Awaited<ReturnType<typeof openAggregateCache>>;

beforeAll(async () => {
  const seeded = await seedDataDir([tenant]);
  remove = seeded.remove;
  dataDir = seeded.dataDir;
  aggregates = await openAggregateCache({ ttlMs: 60_000 });
  system = await startSystem(dataDir, {
    aggregates,
    gateway: { observability: createGatewayObservability(createLog('gateway', 'info', gatewayLog.stream)) },
    subgraphLog: createLog('subgraph', 'info', subgraphLog.stream),
  });
}, 120_000);

afterAll(async () => {
  await system?.close();
  await aggregates?.close();
  remove?.();
});

const metrics = async () => (await fetch(new URL('/metrics', system.gatewayUrl))).text();

test('metrics agree with the responses: outcomes, bytes and USD, remaining budget, accuracy, cache, latency', async () => {
  const first = await system.query(executive, DASHBOARD);
  const second = await system.query(executive, DASHBOARD); // the aggregates now come from the cache
  expect(first.body.errors).toBeUndefined();
  const [a, b] = [first.body.extensions.cost, second.body.extensions.cost];
  expect(a.billedBytes).toBeGreaterThan(0);
  expect(b.cacheHits).toBeGreaterThan(0);

  const text = await metrics();
  expect(sample(text, 'bytegate_operations_total', { tenant: 'acme', outcome: 'ok' })).toBe(2);
  expect(sample(text, 'bytegate_billed_bytes_total', { tenant: 'acme' })).toBe(a.billedBytes + b.billedBytes);
  expect(sample(text, 'bytegate_estimated_bytes_total', { tenant: 'acme' })).toBe(a.estimatedBilledBytes + b.estimatedBilledBytes);
  expect(sample(text, 'bytegate_billed_usd_total', { tenant: 'acme' })).toBeCloseTo(a.billedUsd + b.billedUsd, 12);
  expect(sample(text, 'bytegate_budget_remaining_bytes', { tenant: 'acme' })).toBe(b.budget.tenant.remainingBytes);
  expect(sample(text, 'bytegate_estimate_accuracy_ratio_count', { operation: 'CeoDashboard' })).toBe(2);
  expect(sample(text, 'bytegate_estimate_accuracy_ratio_sum', { operation: 'CeoDashboard' }))
    .toBeCloseTo(a.billedBytes / a.estimatedBilledBytes + b.billedBytes / b.estimatedBilledBytes, 9);
  expect(sample(text, 'bytegate_operation_billed_bytes_count', { tenant: 'acme' })).toBe(2);
  expect(sample(text, 'bytegate_aggregate_cache_lookups_total', { result: 'hit' })).toBe(b.cacheHits);
  expect(sample(text, 'bytegate_aggregate_cache_lookups_total', { result: 'miss' })).toBeGreaterThan(0);
  expect(total(text, 'bytegate_warehouse_query_duration_seconds_count')).toBe(a.warehouseQueries + b.warehouseQueries);
  expect(sample(text, 'bytegate_subgraph_fetch_duration_seconds_count', { subgraph: 'metrics' })).toBeGreaterThanOrEqual(2);
  expect(total(text, 'bytegate_subgraph_errors_total')).toBe(0);
  expect(text).toContain('bytegate_process_resident_memory_bytes'); // process metrics are on by default
});

test('rejections are counted by code, before execution and charging nothing; authentication failures too', async () => {
  const observability = createGatewayObservability(createLog('gateway', 'silent'));
  const strict = await startSystem(dataDir, { env: { MAX_QUERY_BYTES: String(2 ** 20) }, gateway: { observability } });
  try {
    const refused = await strict.query(executive, DASHBOARD);
    expect(refused.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['QUERY_TOO_EXPENSIVE']);
    const response = await fetch(strict.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer forged' }, body: '{"query":"{ __typename }"}' });
    expect(response.status).toBe(401);
    const text = await observability.registry.metrics();
    expect(sample(text, 'bytegate_rejections_total', { tenant: 'acme', code: 'QUERY_TOO_EXPENSIVE' })).toBe(1);
    expect(sample(text, 'bytegate_operations_total', { tenant: 'acme', outcome: 'rejected' })).toBe(1);
    expect(sample(text, 'bytegate_rejections_total', { tenant: '', code: 'UNAUTHENTICATED' })).toBe(1);
    expect(sample(text, 'bytegate_billed_bytes_total', { tenant: 'acme' })).toBeUndefined(); // nothing executed, nothing billed
    expect(sample(text, 'bytegate_estimate_accuracy_ratio_count', { operation: 'CeoDashboard' })).toBeUndefined();
    expect(strict.warehouseQueries).toEqual([]);
  } finally {
    await strict.close();
  }
});

test('one request id: the client\'s x-request-id answers in the header, the gateway logs it and every subgraph fetch carries it', async () => {
  const id = 'req-7f3a9c';
  const { headers } = await system.query(executive, DASHBOARD, undefined, { 'x-request-id': id });
  expect(headers.get('x-request-id')).toBe(id);
  const gatewayLine = gatewayLog.lines.find((l) => l.reqId === id)!;
  expect(gatewayLine).toMatchObject({ msg: 'operation', tenant: 'acme', user: ceo.id, operation: 'CeoDashboard', outcome: 'ok', errors: [] });
  const subgraphLines = subgraphLog.lines.filter((l) => l.reqId === id);
  expect(subgraphLines.length).toBeGreaterThanOrEqual(2); // tenants/metrics and users
  for (const line of subgraphLines) expect(line).toMatchObject({ msg: 'request', tenant: 'acme', user: ceo.id });

  // A hostile one is replaced by the gateway's own.
  const { headers: fresh } = await system.query(executive, DASHBOARD, undefined, { 'x-request-id': 'a b;c<script>' });
  expect(fresh.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});
