/**
 * Rotating SUBGRAPH_SECRET without downtime: subgraphs given the new key with the old one as
 * SUBGRAPH_SECRET_PREVIOUS accept identities signed with either, so gateways still on the old key and
 * gateways already on the new one both answer while replicas roll; a subgraph without the old key
 * refuses what the old key signs. Real subgraphs and gateways over HTTP, in this process.
 */
import { SUBGRAPH_NAMES, type SubgraphName, loadConfig } from '../../common/config';
import type { ServedEndpoint } from '../../common/http/graphqlHttpServer';
import { createFileStore } from '../../budgets/fileStore';
import { createMemoryLedger } from '../../budgets/memoryLedger';
import { signDevToken } from '../../gateway/auth/devToken';
import { startGateway } from '../../gateway';
import { bytegateSubgraphs, composeSupergraph } from '../../gateway/supergraph';
import { startSubgraph } from '../../subgraphs';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { seedDataDir } from '../support/system';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const OLD = 'o'.repeat(32);
const NEW = 'n'.repeat(32);
const JWT_SECRET = 'j'.repeat(32);

let dataDir: string;
let remove: () => void;
const running: ServedEndpoint[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => ({ dataDir, remove } = await seedDataDir([{ tenant: 'acme', users: 4, days: 1, eventsPerUser: 2, start: '2025-03-03', seed: 1 }])));
afterAll(async () => {
  await Promise.all(running.map((endpoint) => endpoint.close()));
  for (const close of closers) await close();
  remove();
});

/** The three subgraphs verifying with `env`'s keys; their URLs. */
async function subgraphs(env: NodeJS.ProcessEnv): Promise<Record<SubgraphName, string>> {
  const config = loadConfig({ ...env, DATA_DIR: dataDir, PORT: '0', JWT_SECRET });
  const warehouse = createDuckDbWarehouse({ dataDir });
  closers.push(() => warehouse.close());
  const served = await Promise.all(SUBGRAPH_NAMES.map((name) => startSubgraph(name, { warehouse, config, port: 0 })));
  running.push(...served);
  return Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [name, served[i].url])) as Record<SubgraphName, string>;
}

/** A gateway signing with `secret` over `urls`: asks `query` (default `{ me { id displayName } }`: priced, so statistics are fetched too) and answers the body. */
async function gatewaySigningWith(secret: string, urls: Record<SubgraphName, string>): Promise<(query?: string) => Promise<any>> {
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', JWT_SECRET, SUBGRAPH_SECRET: secret });
  const budgetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-rotation-'));
  const budgets = { store: await createFileStore({ dir: budgetsDir }), ledger: createMemoryLedger() };
  closers.push(async () => {
    await Promise.all([budgets.store.close(), budgets.ledger.close()]);
    fs.rmSync(budgetsDir, { recursive: true, force: true });
  });
  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const gateway = await startGateway(config, { supergraphSdl: composeSupergraph(bytegateSubgraphs(urls)), budgets, logger: quiet });
  running.push(gateway);
  const token = await signDevToken({ tenant: 'acme', user: 'u1', roles: ['viewer'], secret: JWT_SECRET, ttlSeconds: 600 });
  return async (query = '{ me { id displayName } }') => {
    const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
    return response.json();
  };
}

test('mid-rotation, subgraphs accept the old key and the new: gateways on either answer', async () => {
  const urls = await subgraphs({ SUBGRAPH_SECRET: NEW, SUBGRAPH_SECRET_PREVIOUS: OLD });
  const [notYetRolled, rolled] = await Promise.all([gatewaySigningWith(OLD, urls), gatewaySigningWith(NEW, urls)]);
  for (const ask of [notYetRolled, rolled]) {
    const body = await ask();
    expect(body.errors).toBeUndefined();
    expect(body.data.me.id).toBe('u1');
  }
});

test('once the old key is dropped, what it signs is refused, and the new key still works', async () => {
  const urls = await subgraphs({ SUBGRAPH_SECRET: NEW });
  const notRolled = await gatewaySigningWith(OLD, urls);
  // `me { id }` reads no warehouse data, so no statistics are fetched first: the users subgraph itself refuses.
  const refused = await notRolled('{ me { id } }');
  expect(refused.data?.me ?? null).toBeNull();
  expect(refused.errors[0].extensions.code).toBe('INVALID_SIGNATURE');
  // A priced operation fails earlier, on the statistics the gateway cannot read with the old key.
  expect((await notRolled()).errors[0]).toMatchObject({ extensions: { code: 'WAREHOUSE_UNAVAILABLE' }, message: expect.stringContaining('cannot be estimated') });
  expect((await (await gatewaySigningWith(NEW, urls))()).data.me.id).toBe('u1');
});
