/**
 * Automatic persisted queries across gateway replicas (gateway/persistedQueries.ts): with Redis, a hash
 * registered through one gateway is answered by another; in memory, each gateway knows only its own.
 * Apollo's protocol: a hash alone is PERSISTED_QUERY_NOT_FOUND until the text is sent with it once.
 */
import crypto from 'node:crypto';
import { signDevToken } from '../../gateway/auth/devToken';
import { type PersistedQueryStore, openPersistedQueries } from '../../gateway/persistedQueries';
import { type System, seedDataDir, startSystem } from '../support/system';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let remove: () => void;
let dataDir: string;

beforeAll(async () => ({ dataDir, remove } = await seedDataDir([{ tenant: 'acme', users: 4, days: 1, eventsPerUser: 2, start: '2025-03-03', seed: 1 }])));
afterAll(() => remove());

/** Two gateways (each with its subgraphs) over the same data, each with its own persisted query store. */
async function twoReplicas(redisUrl: string | undefined): Promise<{ replicas: System[]; close(): Promise<void> }> {
  const stores: PersistedQueryStore[] = [await openPersistedQueries({ redisUrl }), await openPersistedQueries({ redisUrl })];
  const replicas = await Promise.all(stores.map((persistedQueries) => startSystem(dataDir, { gateway: { persistedQueries } })));
  return {
    replicas,
    async close() {
      await Promise.all(replicas.map((r) => r.close()));
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

async function post(system: System, body: unknown): Promise<any> {
  if (system.config.auth.kind !== 'hs256') throw new Error('needs HS256');
  const token = await signDevToken({ tenant: 'acme', user: 'u1', roles: ['viewer'], secret: system.config.auth.secret, ttlSeconds: 60 });
  const response = await fetch(system.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return response.json();
}

/** A query no earlier run registered (its text, so its hash, is new), and its APQ extension. */
function freshQuery(): { query: string; extensions: { persistedQuery: { version: 1; sha256Hash: string } } } {
  const query = `{ me { id } } # ${crypto.randomUUID()}`;
  return { query, extensions: { persistedQuery: { version: 1, sha256Hash: crypto.createHash('sha256').update(query).digest('hex') } } };
}

test('with Redis, a hash registered through one gateway is answered by another', async () => {
  const { replicas: [a, b], close } = await twoReplicas(REDIS_URL);
  try {
    const { query, extensions } = freshQuery();
    expect((await post(a, { extensions })).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post(a, { query, extensions })).data.me.id).toBe('u1');
    expect((await post(b, { extensions })).data.me.id).toBe('u1');
  } finally {
    await close();
  }
});

test('in memory, each gateway knows only the hashes registered through it', async () => {
  const { replicas: [a, b], close } = await twoReplicas(undefined);
  try {
    const { query, extensions } = freshQuery();
    expect((await post(a, { query, extensions })).data.me.id).toBe('u1');
    expect((await post(a, { extensions })).data.me.id).toBe('u1');
    expect((await post(b, { extensions })).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  } finally {
    await close();
  }
});
