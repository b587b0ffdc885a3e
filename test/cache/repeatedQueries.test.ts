/**
 * Issue 14, "A repeated query costs nothing": after its first run, an operation of any shape runs no
 * warehouse query and bills 0 bytes — directory and tenant reads included, not only metrics — on
 * every subgraph replica sharing the Redis aggregate cache. Two instances of the three subgraphs
 * (each its own DuckDB handles and its own cache client with its own local level) over one fixture
 * directory and the real Redis; every request is the one the gateway's query plan sends, signed.
 * Writes show at once: an upsert of users changes directory answers on the next request, while
 * metrics over days it did not touch stay cached.
 */
import { randomUUID } from 'node:crypto';
import type { SubgraphName } from '../../common/config';
import type { Principal } from '../../common/principal';
import { type AggregateCache, CACHE_KEY_PREFIX, openAggregateCache } from '../../subgraphs/common/aggregateCache';
import { upsertUsers } from '../../warehouse/duckdb/tenantDataset';
import { ACME_USERS, DAYS, MANAGER_TEAM, createFixtureDataDir } from '../subgraphs/fixture';
import { type GraphqlResponse, type Harness, entitiesQuery, executive, manager, principal, startHarness, viewer } from '../subgraphs/harness';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const [D1, , D3] = DAYS;

/** One subgraph request of an operation's query plan. */
interface Fetch {
  readonly subgraph: SubgraphName;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
}

interface Replica {
  readonly harness: Harness;
  readonly cache: AggregateCache;
}

/** Two replicas of the subgraphs over `dataDir`, sharing Redis under a namespace of this run. */
async function startReplicas(dataDir: string): Promise<[Replica, Replica]> {
  const namespace = `${CACHE_KEY_PREFIX}:test:${randomUUID()}`;
  const start = async (): Promise<Replica> => {
    const cache = await openAggregateCache({ redisUrl: REDIS_URL, ttlMs: 600_000, namespace, log: () => {} });
    return { cache, harness: await startHarness({ dataDir, aggregates: cache }) };
  };
  return [await start(), await start()];
}

/** Two replicas over a fresh fixture DATA_DIR, for the enclosing describe. */
function replicasOverFixture(): { readonly replicas: [Replica, Replica]; readonly dataDir: string } {
  const fixture = {} as { replicas: [Replica, Replica]; dataDir: string; remove?: () => void };
  beforeAll(async () => {
    ({ dataDir: fixture.dataDir, remove: fixture.remove } = await createFixtureDataDir());
    fixture.replicas = await startReplicas(fixture.dataDir);
  });
  afterAll(async () => {
    await stopReplicas(fixture.replicas ?? []);
    fixture.remove?.();
  });
  return fixture;
}

async function stopReplicas(replicas: Replica[]): Promise<void> {
  for (const { harness, cache } of replicas) {
    await harness.close();
    await cache.close();
  }
}

/** What running `fetches` (in order) on `replica` answered and cost. */
async function run(replica: Replica, as: Principal, fetches: readonly Fetch[]) {
  replica.harness.resetQueries();
  const responses: GraphqlResponse[] = [];
  for (const { subgraph, query, variables } of fetches) responses.push(await replica.harness.request(subgraph, query, { as, variables }));
  for (const response of responses) expect(response.errors).toBeUndefined();
  const usage = responses.map((r) => r.extensions!.warehouse);
  return {
    data: responses.map((r) => r.data),
    queries: [...replica.harness.queries].sort(),
    billedBytes: usage.reduce((sum, u) => sum + u.billedBytes, 0),
    cacheHits: usage.reduce((sum, u) => sum + u.cacheHits, 0),
    cacheMisses: usage.reduce((sum, u) => sum + u.cacheMisses, 0),
  };
}

const tenantRef = (id = 'acme') => ({ representations: [{ __typename: 'Tenant', id }] });
const userRefs = (ids: readonly string[]) => ({ representations: ids.map((id) => ({ __typename: 'User', id })) });
const TOP = `topTimeWasters(from: "${D1}", to: "${D3}", first: 5) { user { id } totalWasteHours }`;

/** The manager's top time wasters (metrics), then their profiles (users): ids as the first fetch answers them. */
const MANAGER_TOP_IDS = ['00uic1', '00uic2', '00umgr'];

/** Each shape: who asks, the fetches, and the warehouse queries its first run takes. */
const SHAPES: [string, Principal, Fetch[], string[]][] = [
  ['a users page with totalCount (executive)', executive,
    [{ subgraph: 'users', query: '{ users(first: 5) { edges { node { id displayName } } pageInfo { hasNextPage endCursor } totalCount } }' }],
    ['countUsers', 'usersPage']],
  ['a users page with totalCount (manager: teamScope)', manager,
    [{ subgraph: 'users', query: '{ users(first: 2) { edges { node { id email } } totalCount } }' }],
    ['countUsers', 'teamScope', 'usersPage']],
  ['user(id) (manager)', manager,
    [{ subgraph: 'users', query: 'query($id: ID!) { user(id: $id) { id displayName department } }', variables: { id: '00uic2' } }],
    ['teamScope', 'usersById']],
  ['me with displayName and manager (viewer)', viewer,
    [{ subgraph: 'users', query: '{ me { id displayName manager { displayName manager { id displayName } } } }' }],
    ['managementChain', 'usersById', 'usersById', 'usersById']],
  ["a manager's topTimeWasters", manager,
    [{ subgraph: 'metrics', query: entitiesQuery('Tenant', TOP), variables: tenantRef() }],
    ['teamScope', 'topTimeWasters']],
  ['tenant { name dataRange }', viewer,
    [{ subgraph: 'tenants', query: '{ tenant { id name dataRange { from to } } }' }],
    ['tenantName']],
  ['profiles reached through topTimeWasters { user { displayName } }', manager,
    [
      { subgraph: 'tenants', query: '{ tenant { __typename id } }' },
      { subgraph: 'metrics', query: entitiesQuery('Tenant', TOP), variables: tenantRef() },
      { subgraph: 'users', query: entitiesQuery('User', 'displayName'), variables: userRefs(MANAGER_TOP_IDS) },
    ],
    // The users subgraph finds the manager's team the metrics subgraph stored: one teamScope for both.
    ['teamScope', 'topTimeWasters', 'usersById']],
];

describe('a repeated operation of any shape bills 0 bytes, on every replica sharing Redis', () => {
  const fixture = replicasOverFixture();

  test.each(SHAPES)('%s', async (_shape, as, fetches, firstQueries) => {
    // Replicas of their own (a namespace of their own in Redis), so the shapes before do not warm this one.
    const [a, b] = await startReplicas(fixture.dataDir);
    try {
      const cold = await run(a, as, fetches);
      expect(cold.queries).toEqual(firstQueries);
      expect(cold.billedBytes).toBeGreaterThan(0);
      expect(cold.cacheMisses).toBeGreaterThanOrEqual(firstQueries.length);

      // Every lookup of the first run is a hit now.
      const warm = await run(a, as, fetches);
      expect(warm).toEqual({ data: cold.data, queries: [], billedBytes: 0, cacheHits: cold.cacheHits + cold.cacheMisses, cacheMisses: 0 });

      // Another replica: its local level is empty, Redis has every entry.
      expect(await run(b, as, fetches)).toEqual(warm);
    } finally {
      await stopReplicas([a, b]);
    }
  });

  test('the profiles reached through topTimeWasters are the ids it answered', async () => {
    const top = await run(fixture.replicas[0], manager, [{ subgraph: 'metrics', query: entitiesQuery('Tenant', TOP), variables: tenantRef() }]);
    expect(top.data[0]._entities[0].topTimeWasters.map((w: { user: { id: string } }) => w.user.id).sort()).toEqual(MANAGER_TOP_IDS);
    expect(MANAGER_TOP_IDS).toEqual([...MANAGER_TEAM].sort());
  });

  test('me { id } reads nothing: no warehouse query, no cache lookup', async () => {
    for (const replica of fixture.replicas) {
      for (const who of [viewer, manager, executive, principal('00unobody', ['viewer'])]) {
        const answer = await run(replica, who, [{ subgraph: 'users', query: '{ me { __typename id } }' }]);
        expect(answer).toEqual({ data: [{ me: { __typename: 'User', id: who.userId } }], queries: [], billedBytes: 0, cacheHits: 0, cacheMisses: 0 });
      }
    }
  });

  test('me { displayName } for a caller the directory lacks: the id, displayName null — and the absence is cached too', async () => {
    const nobody = principal('00unobody', ['viewer']);
    const fetches: Fetch[] = [{ subgraph: 'users', query: '{ me { id displayName } }' }];
    const cold = await run(fixture.replicas[0], nobody, fetches);
    expect(cold).toMatchObject({ data: [{ me: { id: '00unobody', displayName: null } }], queries: ['usersById'] });
    expect(await run(fixture.replicas[1], nobody, fetches)).toEqual({ data: cold.data, queries: [], billedBytes: 0, cacheHits: 1, cacheMisses: 0 });
  });

  test("tenants never see each other's entries: the same user id in two tenants is two people", async () => {
    const acmeCeo = principal('00uceo', ['executive'], 'acme');
    const globexCeo = principal('00uceo', ['executive'], 'globex');
    const fetches: Fetch[] = [
      { subgraph: 'users', query: '{ me { id displayName } users(first: 3) { edges { node { id displayName } } totalCount } }' },
      { subgraph: 'users', query: 'query($id: ID!) { user(id: $id) { displayName } }', variables: { id: '00uceo' } },
      { subgraph: 'tenants', query: '{ tenant { name } }' },
    ];
    const acme = await run(fixture.replicas[0], acmeCeo, fetches);
    expect((await run(fixture.replicas[0], acmeCeo, fetches)).queries).toEqual([]);
    const globex = await run(fixture.replicas[0], globexCeo, fetches);
    // Every read anew; the one hit is globex's own: user(id) finds the row `me` stored.
    expect(globex.queries).toEqual(['countUsers', 'tenantName', 'usersById', 'usersPage']);
    expect(globex.cacheHits).toBe(1);
    expect(acme.data[0].me.displayName).toBe('Ada Chief');
    expect(globex.data[0].me.displayName).toBe('Globex Boss');
    expect(globex.data[0].users.totalCount).toBe(2);
    expect(globex.data[1].user.displayName).toBe('Globex Boss');
    expect(globex.data[2].tenant.name).toBe('Globex');
    // And the other way round, on the other replica.
    expect((await run(fixture.replicas[1], globexCeo, fetches)).data).toEqual(globex.data);
    expect((await run(fixture.replicas[1], acmeCeo, fetches)).data).toEqual(acme.data);
  });

  test('scope checks run on cached rows as before: a viewer is still FORBIDDEN a profile a manager had cached', async () => {
    const profile: Fetch = { subgraph: 'users', query: 'query($id: ID!) { user(id: $id) { displayName } }', variables: { id: '00uic2' } };
    await run(fixture.replicas[0], manager, [profile]);
    const denied = await fixture.replicas[1].harness.request('users', profile.query, { as: viewer, variables: profile.variables });
    expect(denied.data).toEqual({ user: null });
    expect(denied.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const entity = await fixture.replicas[1].harness.request('users', entitiesQuery('User', 'displayName'), { as: viewer, variables: userRefs(['00uic2']) });
    expect(entity.data).toEqual({ _entities: [null] });
    expect(entity.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});

describe('after users are upserted, directory answers change at once; metrics over untouched days stay cached', () => {
  const fixture = replicasOverFixture();

  test('renames, a new report and a new manager show on the next request, on both replicas', async () => {
    const [a, b] = fixture.replicas;
    const profile: Fetch = { subgraph: 'users', query: 'query($id: ID!) { user(id: $id) { displayName manager { id } } }', variables: { id: '00uic1' } };
    const team: Fetch = { subgraph: 'users', query: '{ users(first: 10) { edges { node { id } } totalCount } }' };
    const productivity: Fetch = { subgraph: 'metrics', query: entitiesQuery('User', `productivity(from: "${D1}", to: "${D3}") { totalEvents }`), variables: userRefs(['00uic1']) };
    const tenantName: Fetch = { subgraph: 'tenants', query: '{ tenant { name } }' };
    const ivan = ACME_USERS.find((u) => u.id === '00uic1')!;
    const staff = ACME_USERS.find((u) => u.id === '00ustaff000')!;

    // Warm on both replicas.
    const before = {
      profile: await run(a, executive, [profile]), team: await run(a, manager, [team]),
      productivity: await run(a, executive, [productivity]), tenantName: await run(a, executive, [tenantName]),
    };
    expect(before.profile.data).toEqual([{ user: { displayName: 'Ivan Engineer', manager: { id: '00umgr' } } }]);
    expect(before.team.data[0].users.totalCount).toBe(3);
    for (const replica of fixture.replicas) {
      for (const [as, fetch] of [[executive, profile], [manager, team], [executive, productivity], [executive, tenantName]] as const) {
        expect((await run(replica, as, [fetch])).queries).toEqual([]);
      }
    }

    // Ivan renamed and moved under Sara; a staff member moved under Mia.
    await upsertUsers(fixture.dataDir, 'acme', [{ ...ivan, displayName: 'Ivan Renamed', managerId: '00usales' }, { ...staff, managerId: '00umgr' }]);

    const renamed = await run(a, executive, [profile]);
    expect(renamed.data).toEqual([{ user: { displayName: 'Ivan Renamed', manager: { id: '00usales' } } }]);
    expect(renamed.queries).toEqual(['usersById', 'usersById']); // Ivan, then Sara: both read anew
    // The other replica gets what the first stored under the new version: fresh, and free.
    expect(await run(b, executive, [profile])).toEqual({ ...renamed, queries: [], billedBytes: 0, cacheHits: 2, cacheMisses: 0 });

    const newTeam = await run(b, manager, [team]);
    expect(newTeam.queries).toEqual(['countUsers', 'teamScope', 'usersPage']);
    expect(newTeam.data[0].users.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(['00uic2', '00umgr', '00ustaff000']);
    expect(newTeam.data[0].users.totalCount).toBe(3);

    // Metrics over days the upsert did not touch, and the tenant's name: still cached, on both replicas.
    for (const replica of fixture.replicas) {
      const cached = await run(replica, executive, [productivity]);
      expect(cached).toEqual({ ...before.productivity, queries: [], billedBytes: 0, cacheHits: 1, cacheMisses: 0 });
      expect(await run(replica, executive, [tenantName])).toEqual({ ...before.tenantName, queries: [], billedBytes: 0, cacheHits: 1, cacheMisses: 0 });
    }
  });
});

describe('_dataVersions (internal, for the gateway)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness?.close());

  const query = '{ _dataVersions { day table version } }';

  test('one entry per day partition and per unpartitioned table, read without a warehouse job', async () => {
    const response = await harness.request('metrics', query, { as: viewer });
    expect(response.errors).toBeUndefined();
    const versions = response.data._dataVersions as { day: string | null; table: string | null; version: string }[];
    expect(versions.map(({ day, table }) => ({ day, table }))).toEqual([
      ...DAYS.map((day) => ({ day, table: null })),
      { day: null, table: 'tenant_info' },
      { day: null, table: 'users' },
    ]);
    for (const { version } of versions) expect(version).toMatch(/\S/);
    expect(harness.queries).toEqual([]);
    expect(response.extensions?.warehouse).toMatchObject({ queries: 0, billedBytes: 0 });
    // The caller's tenant only.
    const globex = await harness.request('metrics', query, { as: principal('00uceo', ['executive'], 'globex') });
    expect(globex.data._dataVersions.filter((v: { day: string | null }) => v.day !== null).map((v: { day: string }) => v.day)).toEqual([DAYS[0], DAYS[1]]);
  });

  test('refuses an unsigned request: 401 INVALID_SIGNATURE', async () => {
    const response = await harness.request('metrics', query);
    expect(response.status).toBe(401);
    expect(response.errors?.[0].extensions?.code).toBe('INVALID_SIGNATURE');
    expect(response.data).toBeUndefined();
  });

  test('an unknown tenant is BAD_USER_INPUT', async () => {
    const response = await harness.request('metrics', query, { as: principal('00uceo', ['executive'], 'nosuchtenant') });
    expect(response.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});
