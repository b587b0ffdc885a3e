/**
 * HTTP batches (a JSON array of operations in one POST, as Apollo Client's BatchHttpLink sends) through
 * the real gateway and subgraphs: each operation authenticated with the request, limited, priced and
 * admitted or refused on its own, answered in its own slot in order; MAX_BATCH_OPERATIONS bounds a
 * batch; concurrent batches never overspend a budget.
 */
import { addDays } from '../../common/dates';
import type { Principal } from '../../common/principal';
import { MiB } from '../../common/units';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { useSystem } from './smallSystem';

const tenant: GeneratorOptions = { tenant: 'acme', users: 30, days: 10, eventsPerUser: 20, start: '2025-05-05', seed: 4 };
const directory = generateDirectory(tenant);
const ceo = directory.find((u) => u.managerId === null)!;
const staff = directory.filter((u) => u.managerId !== null);
const as = (userId: string, ...roles: Principal['roles']): Principal => ({ tenant: 'acme', userId, roles });
const admin = as(ceo.id, 'executive', 'quota-admin');
/** One job over one day of the rollup (day `n` of the data): bills the 10 MiB minimum. */
const oneJob = (n: number) => ({ query: `{ tenant { topTimeWasters(from: "${addDays(tenant.start, n)}", to: "${addDays(tenant.start, n)}", first: 3) { totalWasteHours } } }` });
const JOB_BYTES = 10 * MiB;

const system = useSystem(tenant);

async function postBatch(principal: Principal | undefined, operations: unknown): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(system().gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(principal ? { authorization: `Bearer ${await system().tokenOf(principal)}` } : {}) },
    body: JSON.stringify(operations),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function setDaily(userId: string, bytes: number | null) {
  const { body } = await system().query(admin, 'mutation($u: ID!, $d: Bytes) { setUserBudget(userId: $u, dailyLimitBytes: $d, reason: "test") { dailyLimitBytes } }', { u: userId, d: bytes });
  expect(body.errors).toBeUndefined();
}

const codeOf = (slot: any): string | undefined => slot.errors?.[0]?.extensions?.code;

test('each operation answers in its own slot, in order, priced and billed on its own', async () => {
  const user = staff[0];
  const { status, body } = await postBatch(as(user.id, 'executive'), [oneJob(1), { query: '{ me { id } }' }, { query: '{ nope }' }, oneJob(2), 42]);
  expect(status).toBe(200);
  expect(body).toHaveLength(5);
  const [first, me, invalid, second, notAnOperation] = body;
  for (const job of [first, second]) {
    expect(job.errors).toBeUndefined();
    expect(job.data.tenant.topTimeWasters.length).toBeGreaterThan(0);
    expect(job.extensions.cost).toMatchObject({ estimatedBilledBytes: JOB_BYTES, billedBytes: JOB_BYTES });
  }
  expect(me.data.me.id).toBe(user.id);
  expect(me.extensions.cost.billedBytes).toBe(0);
  expect(codeOf(invalid)).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(codeOf(notAnOperation)).toBe('BAD_REQUEST');
  // Both jobs were charged: the budget seen after the batch counts them.
  const after = await system().query(as(user.id, 'executive'), '{ me { id } }');
  expect(after.body.extensions.cost.budget.user.usedBytes).toBe(2 * JOB_BYTES);
});

test('a refused operation answers its coded error in its slot while the others run', async () => {
  const user = staff[1];
  await setDaily(user.id, JOB_BYTES);
  const { status, body } = await postBatch(as(user.id, 'executive'), [oneJob(3), oneJob(4), { query: '{ me { id } }' }]);
  expect(status).toBe(200); // mixed outcomes: each slot carries its own
  const codes = body.map(codeOf);
  expect(codes.filter((code: unknown) => code === 'BUDGET_EXCEEDED')).toHaveLength(1);
  expect(body.filter((slot: any) => slot.data?.tenant)).toHaveLength(1);
  expect(body[2].data.me.id).toBe(user.id);
});

test('concurrent batches never overspend: 20 batches of 5 operations against a budget of 7 jobs', async () => {
  const user = staff[2];
  await setDaily(user.id, 7 * JOB_BYTES);
  const batches = await Promise.all(Array.from({ length: 20 }, (_, b) => postBatch(as(user.id, 'executive'), Array.from({ length: 5 }, (_, i) => oneJob((b * 5 + i) % tenant.days)))));
  const slots = batches.flatMap((batch) => batch.body);
  expect(slots).toHaveLength(100);
  expect(slots.filter((slot) => slot.data?.tenant && !slot.errors)).toHaveLength(7);
  expect(slots.filter((slot) => codeOf(slot) === 'BUDGET_EXCEEDED')).toHaveLength(93);
  const after = await system().query(as(user.id, 'executive'), '{ me { id } }');
  expect(after.body.extensions.cost.budget.user).toMatchObject({ usedBytes: 7 * JOB_BYTES, remainingBytes: 0 });
});

test('a batch whose every operation is refused for the same reason carries that status: 429 with Retry-After', async () => {
  const user = staff[3];
  await setDaily(user.id, 0);
  const { status, headers, body } = await postBatch(as(user.id, 'executive'), [oneJob(5), oneJob(6)]);
  expect(status).toBe(429);
  expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
  expect(body.map(codeOf)).toEqual(['BUDGET_EXCEEDED', 'BUDGET_EXCEEDED']);
});

test('a batch without a token is 401 in every slot, and the token is checked once per request', async () => {
  const metricsUrl = system().gatewayUrl.replace(/\/graphql$/, '/metrics');
  const refusals = async () => Number(/rejections_total\{tenant="",code="UNAUTHENTICATED"\} (\d+)/.exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
  const before = await refusals();
  const { status, body } = await postBatch(undefined, [oneJob(1), oneJob(2), { query: '{ me { id } }' }]);
  expect(status).toBe(401);
  expect(body.map(codeOf)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
  expect(await refusals()).toBe(before + 1);
});

test('MAX_BATCH_OPERATIONS (default 10) bounds a batch; an empty batch is refused', async () => {
  const user = as(staff[4].id, 'viewer');
  const ten = await postBatch(user, Array.from({ length: 10 }, () => ({ query: '{ me { id } }' })));
  expect(ten.status).toBe(200);
  expect(ten.body).toHaveLength(10);
  const eleven = await postBatch(user, Array.from({ length: 11 }, () => ({ query: '{ me { id } }' })));
  expect(eleven.status).toBe(400);
  expect(eleven.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' }, message: expect.stringContaining('MAX_BATCH_OPERATIONS') });
  const empty = await postBatch(user, []);
  expect(empty.status).toBe(400);
  expect(empty.body.errors[0].extensions.code).toBe('BAD_REQUEST');
});

test("a batch's operations share lookups: five users' productivity asked by five operations is one job, billed once", async () => {
  const users = staff.slice(5, 10).map((u) => u.id);
  const range = `from: "${tenant.start}", to: "${addDays(tenant.start, tenant.days - 1)}"`;
  const operations = users.map((id) => ({ query: `{ user(id: "${id}") { id displayName productivity(${range}) { totalEvents } } }` }));
  const executive = as(ceo.id, 'executive');
  const queriesDuring = async (send: () => Promise<any[]>) => {
    const start = system().warehouseQueries.length;
    const answers = await send();
    const counts: Record<string, number> = {};
    for (const name of system().warehouseQueries.slice(start)) counts[name] = (counts[name] ?? 0) + 1;
    return { answers, counts };
  };
  const alone = await queriesDuring(() => Promise.all(operations.map(async ({ query }) => (await system().query(executive, query)).body)));
  const batched = await queriesDuring(async () => (await postBatch(executive, operations)).body);

  expect(alone.counts).toEqual({ usersById: 5, productivityByUser: 5 });
  expect(batched.counts).toEqual({ usersById: 1, productivityByUser: 1 });
  // The same answers, and the shared jobs charged once: to the operation whose request ran them.
  expect(batched.answers.map((answer) => answer.data)).toEqual(alone.answers.map((answer) => answer.data));
  const billed = (answers: any[]) => answers.reduce((sum, answer) => sum + answer.extensions.cost.billedBytes, 0);
  expect(billed(alone.answers)).toBe(10 * JOB_BYTES);
  expect(billed(batched.answers)).toBe(2 * JOB_BYTES);
});
