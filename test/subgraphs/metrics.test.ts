/**
 * The metrics subgraph: batched productivity, role scoping, raw-event analytics, bad input.
 * Expected figures follow warehouse/rollup.ts; each derivation is in a comment.
 */
import { DAYS, STAFF_IDS } from './fixture';
import { codes, entitiesQuery, executive, manager, principal, useHarness, viewer } from './harness';

const harness = useHarness();

const [D1, D2, D3] = DAYS;
const APP = 5 / 60; // context switch: five minutes per distinct app per day

const users = (...ids: string[]) => ({ representations: ids.map((id) => ({ __typename: 'User', id })) });
const tenant = (id = 'acme') => ({ representations: [{ __typename: 'Tenant', id }] });
const TOTALS = 'totalEvents uniqueApps authWasteHours contextSwitchWasteHours totalWasteHours';

describe('User.productivity and User.daily', () => {
  test('100 users\' productivity is one warehouse query', async () => {
    const query = entitiesQuery('User', `id productivity(from: "${D1}", to: "${D3}") { ${TOTALS} }`);
    const response = await harness().request('metrics', query, { as: executive, variables: users(...STAFF_IDS) });
    expect(response.errors).toBeUndefined();
    // Each staff member: one sso event to Wiki on D3 → 1 event, 1 app, step 1 (no auth waste).
    expect(response.data._entities).toEqual(STAFF_IDS.map((id) => ({
      id, productivity: { totalEvents: 1, uniqueApps: 1, authWasteHours: 0, contextSwitchWasteHours: APP, totalWasteHours: APP },
    })));
    expect(harness().queries).toEqual(['productivityByUser']);
  });

  test('one query per distinct range, however many users ask', async () => {
    const query = entitiesQuery('User', `all: productivity(from: "${D1}", to: "${D3}") { totalEvents } last: productivity(from: "${D3}", to: "${D3}") { totalEvents } daily(from: "${D1}", to: "${D3}") { date }`);
    await harness().request('metrics', query, { as: executive, variables: users(...STAFF_IDS.slice(0, 50)) });
    expect([...harness().queries].sort()).toEqual(['dailyByUser', 'productivityByUser', 'productivityByUser']);
  });

  test('sums the rollup over the range', async () => {
    const query = entitiesQuery('User', `productivity(from: "${D1}", to: "${D3}") { ${TOTALS} } daily(from: "${D1}", to: "${D3}") { date ${TOTALS} }`);
    const response = await harness().request('metrics', query, { as: viewer, variables: users('00uic1') });
    // 00uic1 on D2: sso Mail (step 3), sso CRM (step 1), auth_via_mfa (2 steps) → avg step 2,
    // auth waste (2 − 1) × 0.5 min × 3 events / 60 = 0.025 h; 2 apps → 2 × 5 / 60 h.
    const d2 = { totalEvents: 3, uniqueApps: 2, authWasteHours: 0.025, contextSwitchWasteHours: 2 * APP, totalWasteHours: 0.025 + 2 * APP };
    expect(response.data._entities).toEqual([{ productivity: d2, daily: [{ date: D2, ...d2 }] }]);
  });

  test('a user without activity has zero totals and no days', async () => {
    const query = entitiesQuery('User', `productivity(from: "${D1}", to: "${D3}") { totalEvents totalWasteHours } daily(from: "${D1}", to: "${D3}") { date }`);
    const response = await harness().request('metrics', query, { as: executive, variables: users('00uvp') });
    expect(response.data._entities).toEqual([{ productivity: { totalEvents: 0, totalWasteHours: 0 }, daily: [] }]);
  });

  test.each([
    ['a viewer', viewer, ['00uic1'], ['00uic2', '00umgr']],
    ['a manager', manager, ['00umgr', '00uic1', '00uic2'], ['00uvp', '00usales']],
    ['an executive', executive, ['00uceo', '00usales', '00uic1'], []],
  ])('%s reads only their scope; others are FORBIDDEN', async (_role, who, allowed, denied) => {
    const query = entitiesQuery('User', `id productivity(from: "${D1}", to: "${D3}") { totalEvents }`);
    const response = await harness().request('metrics', query, { as: who, variables: users(...allowed, ...denied) });
    expect(response.data._entities.slice(0, allowed.length).map((u: any) => u.id)).toEqual(allowed);
    expect(response.data._entities.slice(allowed.length)).toEqual(denied.map(() => null));
    expect(codes(response)).toEqual(denied.map(() => 'FORBIDDEN'));
  });
});

describe('Tenant.topTimeWasters', () => {
  // Waste over D1..D3 (hours): 00uic1 0.025 + 2×APP ≈ 0.1917 (above); 00uceo D1: steps 1,2,1,1 → avg 1.25,
  // 0.25 × 0.5 × 4 / 60 ≈ 0.0083 + 2 apps ≈ 0.1750; 00uic2 one app on D2 and one on D3 = 2×APP ≈ 0.1667;
  // 00umgr steps 1,2,1 → (1/3) × 0.5 × 3 / 60 ≈ 0.0083 + 1 app ≈ 0.0917; 00usales and each staff member 1 app ≈ 0.0833.
  const top = `topTimeWasters(from: "${D1}", to: "${D3}", first: 3) { user { id } totalWasteHours authWasteHours contextSwitchWasteHours }`;
  test.each([
    ['an executive ranks the whole tenant', executive, ['00uic1', '00uceo', '00uic2']],
    ['a manager ranks their team', manager, ['00uic1', '00uic2', '00umgr']],
    ['a viewer ranks only themselves', viewer, ['00uic1']],
  ])('%s', async (_name, who, expected) => {
    const response = await harness().request('metrics', entitiesQuery('Tenant', top), { as: who, variables: tenant() });
    const rows = response.data._entities[0].topTimeWasters;
    expect(rows.map((r: any) => r.user.id)).toEqual(expected);
    for (const row of rows) expect(row.totalWasteHours).toBeCloseTo(row.authWasteHours + row.contextSwitchWasteHours, 12);
    expect(rows[0].totalWasteHours).toBeCloseTo(0.025 + 2 * APP, 12);
  });
});

describe('Tenant.appUsage (the app-usage rollup) and Tenant.eventCounts (raw events)', () => {
  const analytics = `appUsage(from: "${D1}", to: "${D3}") { app { id name } events users }
    eventCounts(from: "${D1}", to: "${D3}") { date eventType count }
    mfa: eventCounts(from: "${D1}", to: "${D3}", eventType: "user.authentication.auth_via_mfa") { date eventType count }`;

  test('an executive sees the whole tenant', async () => {
    const response = await harness().request('metrics', entitiesQuery('Tenant', analytics), { as: executive, variables: tenant() });
    expect(response.data._entities[0]).toEqual({
      // Wiki: 00umgr twice + 100 staff once; CRM: ceo, ic1, ic2, sales ×2; Mail: ceo, ic1, ic2.
      appUsage: [
        { app: { id: '0oawiki', name: 'Wiki' }, events: 102, users: 101 },
        { app: { id: '0oacrm', name: 'CRM' }, events: 5, users: 4 },
        { app: { id: '0oamail', name: 'Mail' }, events: 3, users: 3 },
      ],
      eventCounts: [
        { date: D1, eventType: null, count: 7 },
        { date: D2, eventType: null, count: 4 },
        { date: D3, eventType: null, count: 103 },
      ],
      mfa: [
        { date: D1, eventType: 'user.authentication.auth_via_mfa', count: 1 },
        { date: D2, eventType: 'user.authentication.auth_via_mfa', count: 1 },
      ],
    });
  });

  test('a viewer sees only their own events', async () => {
    const response = await harness().request('metrics', entitiesQuery('Tenant', analytics), { as: viewer, variables: tenant() });
    expect(response.data._entities[0]).toEqual({
      appUsage: [
        { app: { id: '0oacrm', name: 'CRM' }, events: 1, users: 1 },
        { app: { id: '0oamail', name: 'Mail' }, events: 1, users: 1 },
      ],
      eventCounts: [{ date: D2, eventType: null, count: 3 }],
      mfa: [{ date: D2, eventType: 'user.authentication.auth_via_mfa', count: 1 }],
    });
  });

  test('another tenant\'s executive sees only their tenant\'s events', async () => {
    const globex = principal('00uceo', ['executive'], 'globex');
    const response = await harness().request('metrics', entitiesQuery('Tenant', analytics), { as: globex, variables: tenant('globex') });
    expect(response.data._entities[0].appUsage).toEqual([{ app: { id: '0oaglobex', name: 'Globex Portal' }, events: 6, users: 2 }]);
  });

  test('a narrower range scans fewer partitions', async () => {
    const bytesOf = async (from: string, to: string) => {
      const response = await harness().request('metrics', entitiesQuery('Tenant', `eventCounts(from: "${from}", to: "${to}") { count }`), { as: executive, variables: tenant() });
      return response.extensions?.warehouse.processedBytes as number;
    };
    const [oneDay, threeDays] = [await bytesOf(D1, D1), await bytesOf(D1, D3)];
    expect(oneDay).toBeGreaterThan(0);
    expect(oneDay).toBeLessThan(threeDays);
  });

  test('the tenant is always the caller\'s: another tenant\'s entity is FORBIDDEN', async () => {
    const response = await harness().request('metrics', entitiesQuery('Tenant', `eventCounts(from: "${D1}", to: "${D3}") { count }`), { as: executive, variables: tenant('globex') });
    expect(response.data._entities).toEqual([null]);
    expect(codes(response)).toEqual(['FORBIDDEN']);
    expect(harness().queries).toEqual([]);
  });
});

describe('bad input is BAD_USER_INPUT, before any warehouse call', () => {
  test.each([
    ['from after to', `eventCounts(from: "${D3}", to: "${D1}") { count }`, `"from" (${D3}) is after "to" (${D1}).`],
    ['a range over the limit', 'appUsage(from: "2025-01-01", to: "2025-02-01") { events }', 'The range 2025-01-01..2025-02-01 spans 32 days; at most 31 are allowed.'],
    ['first: 0', `topTimeWasters(from: "${D1}", to: "${D3}", first: 0) { totalWasteHours }`, '"first" must be between 1 and 200, got 0.'],
    ['first over the page limit', `appUsage(from: "${D1}", to: "${D3}", first: 1000) { events }`, '"first" must be between 1 and 200, got 1000.'],
    ['an impossible date', `eventCounts(from: "2025-02-30", to: "${D1}") { count }`, 'Date must be a calendar date as YYYY-MM-DD, got "2025-02-30".'],
    ['a date in another format', `eventCounts(from: "03/01/2025", to: "${D1}") { count }`, 'Date must be a calendar date as YYYY-MM-DD, got "03/01/2025".'],
  ])('%s', async (_name, field, message) => {
    const response = await harness().request('metrics', entitiesQuery('Tenant', field), { as: executive, variables: tenant() });
    expect(response.errors).toMatchObject([{ message, extensions: { code: 'BAD_USER_INPUT' } }]);
    expect(harness().queries).toEqual([]);
  });

  test('an invalid date in a variable', async () => {
    const query = `query($representations: [_Any!]!, $from: Date!) { _entities(representations: $representations) { ... on User { productivity(from: $from, to: "${D1}") { totalEvents } } } }`;
    const response = await harness().request('metrics', query, { as: executive, variables: { ...users('00uic1'), from: '2025-13-01' } });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].message).toContain('Date must be a calendar date as YYYY-MM-DD, got "2025-13-01".');
  });
});
