/** The users subgraph: directory lookups scoped by role, Relay pagination, batched entity references. */
import { ACME_USERS, MANAGER_TEAM, STAFF_IDS } from './fixture';
import { codes, entitiesQuery, executive, manager, principal, useHarness, viewer } from './harness';

const harness = useHarness();

const allIds = ACME_USERS.map((u) => u.id).sort();

describe('me', () => {
  test('is the caller, with the whole management chain visible (even to a viewer)', async () => {
    const response = await harness().request('users', '{ me { id email displayName department manager { displayName manager { displayName manager { id } } } } }', { as: viewer });
    expect(response.errors).toBeUndefined();
    expect(response.data.me).toEqual({
      id: '00uic1', email: 'ic1@example.com', displayName: 'Ivan Engineer', department: 'Engineering',
      manager: { displayName: 'Mia Manager', manager: { displayName: 'Victor VP', manager: { id: '00uceo' } } },
    });
  });

  test('is the caller even without a directory entry: the id from the identity, directory fields null', async () => {
    const nobody = principal('00unobody', ['viewer']);
    const response = await harness().request('users', '{ me { id displayName email department manager { id } } }', { as: nobody });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ me: { id: '00unobody', displayName: null, email: null, department: null, manager: null } });
    expect(harness().queries).toEqual(['usersById']);
  });

  test('asking for nothing but the id (and __typename), however spelled, reads no directory row', async () => {
    const idOnly = [
      '{ me { id } }',
      '{ me { __typename id } }',
      '{ me { ... on User { id } } }',
      '{ me { ...Caller } } fragment Caller on User { id __typename }',
      '{ me { ...A ...B } } fragment A on User { id ...B } fragment B on User { __typename }',
      '{ me { id displayName @skip(if: true) } }',
      'query($more: Boolean!) { me { id manager @include(if: $more) { id } } }',
    ];
    for (const query of idOnly) {
      harness().resetQueries();
      const response = await harness().request('users', query, { as: viewer, variables: { more: false } });
      expect({ query, errors: response.errors, me: response.data?.me?.id, queries: harness().queries }).toEqual({ query, errors: undefined, me: '00uic1', queries: [] });
    }
    // Without a directory entry too: the id comes from the verified identity.
    const nobody = await harness().request('users', '{ me { id } }', { as: principal('00unobody', ['viewer']) });
    expect(nobody.data).toEqual({ me: { id: '00unobody' } });
    expect(harness().queries).toEqual([]);
  });

  test('anything more than the id reads the row, also in a fragment or an included field', async () => {
    const more = [
      '{ me { id displayName } }',
      '{ me { ... on User { email } } }',
      '{ me { ...A } } fragment A on User { id ...B } fragment B on User { department }',
      'query($more: Boolean!) { me { id department @include(if: $more) } }',
    ];
    for (const query of more) {
      harness().resetQueries();
      const response = await harness().request('users', query, { as: viewer, variables: { more: true } });
      expect({ query, errors: response.errors, queries: harness().queries }).toEqual({ query, errors: undefined, queries: ['usersById'] });
    }
  });

  test('an unknown tenant is still BAD_USER_INPUT for me { id }', async () => {
    const response = await harness().request('users', '{ me { id } }', { as: principal('00uceo', ['viewer'], 'nosuchtenant') });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('user(id)', () => {
  const byId = 'query($id: ID!) { user(id: $id) { id displayName } }';
  test.each([
    ['viewer', '00uic1', viewer, true],
    ['viewer', '00uic2', viewer, false],
    ['viewer', '00umgr', viewer, false], // their manager's profile is visible through `manager`, not as a lookup
    ['manager', '00uic2', manager, true],
    ['manager', '00umgr', manager, true],
    ['manager', '00usales', manager, false],
    ['executive', '00ustaff042', executive, true],
  ])('a %s asking for %s', async (_role, id, who, allowed) => {
    const response = await harness().request('users', byId, { as: who, variables: { id } });
    if (allowed) {
      expect(response.data.user.id).toBe(id);
    } else {
      expect(response.data.user).toBeNull();
      expect(codes(response)).toEqual(['FORBIDDEN']);
    }
  });

  test('an unknown id is null for an executive', async () => {
    const response = await harness().request('users', byId, { as: executive, variables: { id: '00unobody' } });
    expect(response).toMatchObject({ data: { user: null } });
    expect(response.errors).toBeUndefined();
  });
});

describe('users', () => {
  const ids = '{ users(first: 200) { totalCount edges { node { id } } } }';
  test.each([
    ['a viewer', viewer, ['00uic1']],
    ['a manager', manager, MANAGER_TEAM],
    ['an executive', executive, allIds],
  ])('%s lists exactly their scope', async (_role, who, expected) => {
    const response = await harness().request('users', ids, { as: who });
    expect(response.data.users.edges.map((e: any) => e.node.id)).toEqual(expected);
    expect(response.data.users.totalCount).toBe(expected.length);
  });

  test('pages cover every user exactly once, in id order', async () => {
    const page = 'query($after: String) { users(first: 25, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }';
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const response: any = await harness().request('users', page, { as: executive, variables: { after } });
      const { edges, pageInfo, totalCount } = response.data.users;
      expect(totalCount).toBe(allIds.length);
      expect(pageInfo.endCursor).toBe(edges[edges.length - 1].cursor);
      seen.push(...edges.map((e: any) => e.node.id));
      pages++;
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(pages).toBe(Math.ceil(allIds.length / 25)); // 106 users: 4 pages of 25 and one of 6
    expect(seen).toEqual(allIds);
  });

  test('a page after the last user is empty', async () => {
    const last = Buffer.from(allIds[allIds.length - 1]).toString('base64');
    const response = await harness().request('users', 'query($after: String) { users(after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }', { as: executive, variables: { after: last } });
    expect(response.data.users).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  test.each([
    ['first: 0', '{ users(first: 0) { totalCount } }', '"first" must be between 1 and 200, got 0.'],
    ['first over the page limit', '{ users(first: 201) { totalCount } }', '"first" must be between 1 and 200, got 201.'],
    ['a cursor that is not ours', '{ users(after: "not a cursor!") { totalCount } }', '"after" is not a cursor of this connection: "not a cursor!".'],
  ])('%s is BAD_USER_INPUT, before any warehouse call', async (_name, query, message) => {
    const response = await harness().request('users', query, { as: executive });
    expect(response.errors).toMatchObject([{ message, extensions: { code: 'BAD_USER_INPUT' } }]);
    expect(harness().queries).toEqual([]);
  });

  test('the tenant is the caller\'s: globex lists its own two people', async () => {
    const response = await harness().request('users', ids, { as: principal('00uceo', ['executive'], 'globex') });
    expect(response.data.users).toEqual({ totalCount: 2, edges: [{ node: { id: '00uceo' } }, { node: { id: '00uglx' } }] });
  });
});

describe('batching', () => {
  const representations = STAFF_IDS.map((id) => ({ __typename: 'User', id }));

  test('100 entity references are one warehouse query', async () => {
    const response = await harness().request('users', entitiesQuery('User', 'id displayName'), { as: executive, variables: { representations } });
    expect(response.data._entities).toEqual(STAFF_IDS.map((id, i) => ({ id, displayName: `Staff ${i}` })));
    expect(harness().queries).toEqual(['usersById']);
  });

  test('their managers are one more query', async () => {
    const response = await harness().request('users', entitiesQuery('User', 'manager { id }'), { as: executive, variables: { representations } });
    expect(response.data._entities.every((u: any) => u.manager.id === '00usales')).toBe(true);
    expect(harness().queries).toEqual(['usersById', 'usersById']);
  });

  test('a page of users primes the loader: managers on the page cost nothing, others one batch', async () => {
    const response = await harness().request('users', '{ users(first: 200) { edges { node { manager { displayName } } } } }', { as: executive });
    expect(response.data.users.edges).toHaveLength(ACME_USERS.length);
    expect(harness().queries).toEqual(['usersPage']);
    harness().resetQueries();
    const staffPage = Buffer.from('00usales').toString('base64');
    await harness().request('users', `{ users(first: 50, after: "${staffPage}") { edges { node { manager { displayName } } } } }`, { as: executive });
    expect(harness().queries).toEqual(['usersPage', 'usersById']);
  });
});

describe('entity references (profiles asked for by other subgraphs)', () => {
  test('a viewer sees themselves and their management chain, nobody else', async () => {
    const representations = ['00uic1', '00umgr', '00uceo', '00uic2'].map((id) => ({ __typename: 'User', id }));
    const response = await harness().request('users', entitiesQuery('User', 'id displayName'), { as: viewer, variables: { representations } });
    expect(response.data._entities).toEqual([
      { id: '00uic1', displayName: 'Ivan Engineer' },
      { id: '00umgr', displayName: 'Mia Manager' },
      { id: '00uceo', displayName: 'Ada Chief' },
      null,
    ]);
    expect(response.errors).toMatchObject([{ path: ['_entities', 3], extensions: { code: 'FORBIDDEN' } }]);
  });

  test('a manager sees their team and chain, not another department', async () => {
    const representations = ['00uic2', '00uvp', '00usales'].map((id) => ({ __typename: 'User', id }));
    const response = await harness().request('users', entitiesQuery('User', 'id'), { as: manager, variables: { representations } });
    expect(response.data._entities).toEqual([{ id: '00uic2' }, { id: '00uvp' }, null]);
    expect(codes(response)).toEqual(['FORBIDDEN']);
  });
});

describe('_knownUsers (internal, for the gateway: its own principal, without a role)', () => {
  const gateway = (tenant: string) => principal('bytegate-gateway', [], tenant);
  const query = 'query($ids: [ID!]!) { _knownUsers(ids: $ids) }';

  test("the ids the signed tenant's directory holds, in the order asked, in one warehouse query", async () => {
    const ids = ['00ustaff042', 'nobody', '00uglx', '00uic1', '00uceo'];
    const response = await harness().request('users', query, { as: gateway('acme'), variables: { ids } });
    expect(response.errors).toBeUndefined();
    // 00uglx is globex's: another tenant's directory is never asked.
    expect(response.data._knownUsers).toEqual(['00ustaff042', '00uic1', '00uceo']);
    expect(harness().queries).toEqual(['usersById']);
    const globex = await harness().request('users', query, { as: gateway('globex'), variables: { ids } });
    expect(globex.data._knownUsers).toEqual(['00uglx', '00uceo']);
    const empty = await harness().request('users', query, { as: gateway('empty'), variables: { ids } });
    expect(empty.data._knownUsers).toEqual([]);
  });

  test('refuses an unsigned request (401 INVALID_SIGNATURE); an unknown tenant is BAD_USER_INPUT', async () => {
    const unsigned = await harness().request('users', query, { variables: { ids: ['00uic1'] } });
    expect([unsigned.status, codes(unsigned), unsigned.data]).toEqual([401, ['INVALID_SIGNATURE'], undefined]);
    const unknown = await harness().request('users', query, { as: gateway('nosuchtenant'), variables: { ids: ['00uic1'] } });
    expect(codes(unknown)).toEqual(['BAD_USER_INPUT']);
  });
});
