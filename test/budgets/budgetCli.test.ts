/**
 * `npm run budget`, run as a process (node --import tsx cli/budget.ts, through test/e2e/processes.ts) on a temporary DATA_DIR
 * with two small seeded tenants (their directories in DuckDB), so on the file store: what it prints, what it stores, its
 * audit trail, usage from the real Redis ledger, exit code 2 with a message for every kind of bad input and for a user the
 * tenant's directory lacks, and the warning for a per-query cap above MAX_QUERY_BYTES.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { BUDGET_CHANGES_CHANNEL } from '../../budgets/changeFeed';
import { createFileStore } from '../../budgets/fileStore';
import { createRedisLedger } from '../../budgets/redisLedger';
import { GiB, MiB } from '../../common/units';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import { runMain } from '../e2e/processes';
import { seedDataDir } from '../support/system';

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const actor = `cli:${os.userInfo().username}`;

const ACME: GeneratorOptions = { tenant: 'acme', users: 3, days: 1, eventsPerUser: 2, start: '2025-03-03', seed: 1 };
const INITECH: GeneratorOptions = { ...ACME, tenant: 'initech' };
/** Users of each tenant's directory. */
const ana = generateDirectory(ACME)[1];
const bob = generateDirectory(INITECH)[1];

let dataDir: string;
let remove = () => {};
beforeAll(async () => {
  ({ dataDir, remove } = await seedDataDir([ACME, INITECH]));
}, 60_000);
afterAll(() => remove());

function budget(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runMain('budget', args, { DATA_DIR: dataDir, ...env });
}

test('with REDIS_URL, a change is announced to the running gateways on the budget-changes channel', async () => {
  const subscriber = createClient({ url: redisUrl });
  await subscriber.connect();
  const announced: string[] = [];
  await subscriber.subscribe(BUDGET_CHANGES_CHANNEL, (tenant) => announced.push(tenant));
  try {
    const tenant = `t${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const { code } = await budget(['set', '--tenant', tenant, '--daily', '1GiB'], { REDIS_URL: redisUrl });
    expect(code).toBe(0);
    for (let i = 0; i < 40 && !announced.includes(tenant); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(announced).toContain(tenant);
  } finally {
    subscriber.destroy();
  }
});

test("set a user's budget: prints old → new in units and bytes, stores it audited as the OS user", async () => {
  const { code, stdout, stderr } = await budget(['set', '--tenant', 'acme', '--user', ana.id, '--daily', '5GiB', '--max-query', '1GiB', '--reason', 'Q3 "launch"']);
  expect([code, stderr]).toEqual([0, '']);
  expect(stdout).toBe([
    `acme user ${ana.id}: changed by ${actor}, reason "Q3 \\"launch\\""`,
    '  daily limit     not set → 5 GiB (5368709120 bytes)',
    '  per-query cap   not set → 1 GiB (1073741824 bytes)',
    '',
  ].join('\n'));
  const store = await createFileStore({ dir: path.join(dataDir, 'budgets') });
  try {
    expect(await store.userBudget('acme', ana.id)).toEqual({ dailyLimitBytes: 5 * GiB, maxQueryBytes: GiB });
    expect(await store.auditLog('acme', { limit: 1 })).toMatchObject([{ actor, reason: 'Q3 "launch"', target: { kind: 'user', userId: ana.id } }]);
  } finally {
    await store.close();
  }
});

test('set the tenant, clear an override with none, and get stored and effective limits', async () => {
  expect((await budget(['set', '--tenant', 'acme', '--daily', '1TiB', '--timezone', 'Europe/Berlin'])).code).toBe(0);
  const cleared = await budget(['set', '--tenant', 'acme', '--user', ana.id, '--daily', 'none']);
  expect(cleared.stdout).toContain('daily limit     5 GiB (5368709120 bytes) → not set');
  expect(cleared.stdout).toContain('per-query cap   1 GiB (1073741824 bytes) (unchanged)');

  const { code, stdout } = await budget(['get', '--tenant', 'acme', '--user', ana.id, '--role', 'viewer,executive']);
  expect(code).toBe(0);
  // In effect: executive's 20 GiB (the override is cleared), the tenant's 1 TiB, min(MAX_QUERY_BYTES 1 GiB, user 1 GiB).
  expect(stdout).toBe([
    'tenant acme',
    '  daily limit     1 TiB (1099511627776 bytes)',
    '  per-query cap   not set',
    '  timezone        Europe/Berlin',
    `user ${ana.id}`,
    '  daily limit     not set',
    '  per-query cap   1 GiB (1073741824 bytes)',
    `in effect for user ${ana.id} as viewer, executive`,
    '  user daily      20 GiB (21474836480 bytes)',
    '  tenant daily    1 TiB (1099511627776 bytes)',
    '  per-query cap   1 GiB (1073741824 bytes)',
    '  timezone        Europe/Berlin',
    '',
  ].join('\n'));

  const fresh = await budget(['get', '--tenant', 'globex']);
  expect(fresh.stdout).toBe([
    'tenant globex: nothing stored, defaults apply',
    'in effect for a user without an override as viewer',
    '  user daily      1 GiB (1073741824 bytes)',
    '  tenant daily    1 TiB (1099511627776 bytes)',
    '  per-query cap   1 GiB (1073741824 bytes)',
    '  timezone        UTC',
    '',
  ].join('\n'));
});

test('audit: newest first, per user, limited', async () => {
  await budget(['set', '--tenant', 'initech', '--user', bob.id, '--daily', '100MiB', '--reason', 'trial']);
  await budget(['set', '--tenant', 'initech', '--daily', '2TiB']);
  await budget(['set', '--tenant', 'initech', '--user', bob.id, '--daily', '200MiB']);
  const all = await budget(['audit', '--tenant', 'initech']);
  expect(all.code).toBe(0);
  const headers = all.stdout.split('\n').filter((line) => /^\d{4}-/.test(line)).map((line) => line.split('  ').slice(1));
  expect(headers).toEqual([[actor, `user ${bob.id}`, 'setBudget'], [actor, 'tenant', 'setBudget'], [actor, `user ${bob.id}`, 'setBudget']]);
  expect(all.stdout).toContain('daily limit     100 MiB (104857600 bytes) → 200 MiB (209715200 bytes)');
  expect(all.stdout).toContain('  reason: "trial"');

  const one = await budget(['audit', '--tenant', 'initech', '--user', bob.id, '--limit', '1']);
  expect(one.stdout.split('\n').filter((line) => /^\d{4}-/.test(line))).toHaveLength(1);
  expect(one.stdout).toContain('→ 200 MiB');
  expect((await budget(['audit', '--tenant', 'initech', '--user', 'nobody'])).stdout).toBe('no budget changes recorded for initech user nobody\n');
});

test("set --user of an id the tenant's directory lacks: exit 2 naming it, nothing stored; clearing needs no entry", async () => {
  const typo = `${ana.id}x`;
  const refused = await budget(['set', '--tenant', 'acme', '--user', typo, '--daily', '5GiB', '--max-query', 'none']);
  expect(refused).toEqual({ code: 2, stdout: '', stderr: `error: no user ${typo} in tenant acme's directory; check the id (--daily none and --max-query none clear a setting of any id).\n` });
  const noDataset = await budget(['set', '--tenant', 'hooli', '--user', ana.id, '--daily', '5GiB']);
  expect(noDataset).toEqual({ code: 2, stdout: '', stderr: `error: tenant hooli has no dataset (seed or ingest it first), so its directory holds no user ${ana.id}.\n` });

  const store = await createFileStore({ dir: path.join(dataDir, 'budgets') });
  try {
    expect(await store.userBudget('acme', typo)).toBeNull();
    expect(await store.auditLog('acme', { userId: typo, limit: 10 })).toEqual([]);
    // A typo's setting stored before the check existed can still be cleared.
    await store.setUserBudget('acme', typo, { dailyLimitBytes: GiB }, { actor: 'before the check', reason: null });
  } finally {
    await store.close();
  }
  const cleared = await budget(['set', '--tenant', 'acme', '--user', typo, '--daily', 'none', '--reason', 'typo']);
  expect([cleared.code, cleared.stderr]).toEqual([0, '']);
  expect(cleared.stdout).toContain('daily limit     1 GiB (1073741824 bytes) → not set');
});

test('--max-query above MAX_QUERY_BYTES: stored, with a warning on stderr that the lower global cap still applies', async () => {
  const above = await budget(['set', '--tenant', 'hooli', '--max-query', '2GiB'], { MAX_QUERY_BYTES: String(GiB) });
  expect([above.code, above.stderr]).toEqual([0, 'warning: --max-query 2 GiB (2,147,483,648 bytes) is above MAX_QUERY_BYTES, 1 GiB (1,073,741,824 bytes): the lower global cap still applies.\n']);
  expect(above.stdout).toContain('per-query cap   not set → 2 GiB (2147483648 bytes)');
  const atCap = await budget(['set', '--tenant', 'hooli', '--max-query', '1GiB'], { MAX_QUERY_BYTES: String(GiB) });
  expect([atCap.code, atCap.stderr]).toEqual([0, '']);
});

test('usage without REDIS_URL: explains where usage lives and exits 2', async () => {
  const { code, stdout, stderr } = await budget(['usage', '--tenant', 'acme']);
  expect([code, stdout]).toEqual([2, '']);
  expect(stderr).toMatch(/REDIS_URL is not set, so today's usage lives in the gateway's memory/);
  expect(stderr).toContain('budgetUsage');
});

test("usage with REDIS_URL: today's counters from the Redis ledger", async () => {
  const tenant = `cli_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const ledger = await createRedisLedger({ url: redisUrl });
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  try {
    const limits = { userDailyBytes: GiB, tenantDailyBytes: null, timezone: 'UTC' };
    const reserved = await ledger.reserve({ tenant, userId: 'ana' }, 300 * MiB, limits);
    if (!reserved.admitted) throw new Error('not admitted');
    await ledger.settle(reserved.reservation, 300 * MiB);

    const { code, stdout, stderr } = await budget(['usage', '--tenant', tenant, '--user', 'ana'], { REDIS_URL: redisUrl });
    expect([code, stderr]).toEqual([0, '']);
    // Viewer default 1 GiB − 300 MiB = 724 MiB; the tenant default 1 TiB − 300 MiB = 1023.71 GiB.
    expect(stdout).toMatch(new RegExp(`^usage today in ${tenant} \\(budget day in UTC, resets at \\d{4}-\\d\\d-\\d\\dT00:00:00\\.000Z\\)\n`));
    expect(stdout).toContain('  tenant          used 300 MiB (314572800 bytes) · reserved 0 B · remaining 1023.71 GiB (1099197054976 bytes) of 1 TiB (1099511627776 bytes)\n');
    expect(stdout).toContain('  user ana        used 300 MiB (314572800 bytes) · reserved 0 B · remaining 724 MiB (759169024 bytes) of 1 GiB (1073741824 bytes)\n');
  } finally {
    await ledger.close();
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `bytegate:budget:{${tenant}}*` })) keys.push(...batch);
    if (keys.length > 0) await redis.del(keys);
    redis.destroy();
  }
});

test.each([
  [['set', '--tenant', 'acme', '--user', 'u', '--daily', '5GB'], /--daily: "GB" is not a unit/],
  [['set', '--tenant', 'acme', '--user', 'u', '--daily=-5GiB'], /--daily: "-5GiB" is not a byte amount/],
  [['set', '--tenant', 'acme', '--user', 'u', '--daily', '-5GiB'], /argument is ambiguous/],
  [['set', '--tenant', 'acme', '--daily', '2PiB'], /over 1 PiB/],
  [['set', '--tenant', 'Acme', '--daily', '1GiB'], /--tenant must be lowercase letters/],
  [['set', '--tenant', 'acme; rm -rf', '--daily', '1GiB'], /--tenant must be lowercase letters/],
  [['set', '--user', 'u', '--daily', '1GiB'], /--tenant is required/],
  [['set', '--tenant', 'acme', '--user', 'u'], /give --daily, --max-query or --timezone/],
  [['set', '--tenant', 'acme', '--user', '', '--daily', '1GiB'], /--user must not be empty/],
  [['set', '--tenant', 'acme', '--user', 'u', '--timezone', 'UTC'], /--timezone is the tenant's budget day/],
  [['set', '--tenant', 'acme', '--timezone', 'Mars/Olympus_Mons'], /not an IANA timezone/],
  [['get', '--tenant', 'acme', '--role', 'viewer,wizard'], /unknown role\(s\) wizard/],
  [['audit', '--tenant', 'acme', '--limit', '0'], /--limit must be a positive integer/],
  [['audit', '--tenant', 'acme', '--daily', '1GiB'], /--daily does not apply to audit/],
  [['set', '--tenant', 'acme', '--daily', '1GiB', '--bogus'], /Unknown option '--bogus'/],
  [['grant', '--tenant', 'acme'], /unknown command "grant"/],
  [['get', 'acme'], /unexpected argument "acme"/],
  [[], /give a command/],
])('%j: a message and the usage on stderr, exit 2, nothing stored', async (args, message) => {
  const before = fs.readdirSync(dataDir);
  const { code, stdout, stderr } = await budget(args);
  expect([code, stdout]).toEqual([2, '']);
  expect(stderr).toMatch(message);
  expect(stderr).toContain('usage: npm run budget -- COMMAND');
  expect(fs.readdirSync(dataDir)).toEqual(before);
});
