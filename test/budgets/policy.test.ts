/**
 * Budget policy: which limits apply to a caller (a table over stored settings, roles and
 * configuration; each row derives its expectation in a comment), the same through a real store, the
 * bounds on changes, and which store the configuration opens.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../../common/config';
import type { Role } from '../../common/principal';
import { createFileStore } from '../../budgets/fileStore';
import { openBudgetStore } from '../../budgets/openStore';
import { MAX_BUDGET_BYTES, effectiveLimits, limitDefaults, resolveLimits, validateBudgetChange } from '../../budgets/policy';
import type { StoredTenantBudget, StoredUserBudget, TenantBudgetSettings } from '../../budgets/store';
import { GiB, MiB, TiB } from '../../common/units';

// Defaults: viewer 1 GiB, manager 5 GiB, executive 20 GiB, quota-admin 1 GiB, tenant 1 TiB; MAX_QUERY_BYTES 1 GiB.
const config = loadConfig({});
const tenantOf = (fields: Partial<StoredTenantBudget>): StoredTenantBudget => ({ dailyLimitBytes: null, maxQueryBytes: null, timezone: null, ...fields });
const userOf = (fields: Partial<StoredUserBudget>): StoredUserBudget => ({ dailyLimitBytes: null, maxQueryBytes: null, ...fields });

describe('effectiveLimits', () => {
  test.each<[string, StoredTenantBudget | null, StoredUserBudget | null, Role[], { userDailyBytes: number; tenantDailyBytes: number; maxQueryBytes: number; timezone: string }]>([
    // Nothing stored: viewer default 1 GiB, tenant default 1 TiB, MAX_QUERY_BYTES 1 GiB, UTC.
    ['nothing stored', null, null, ['viewer'], { userDailyBytes: GiB, tenantDailyBytes: TiB, maxQueryBytes: GiB, timezone: 'UTC' }],
    // The most generous role: max(viewer 1, executive 20, quota-admin 1) = 20 GiB.
    ['several roles', null, null, ['viewer', 'executive', 'quota-admin'], { userDailyBytes: 20 * GiB, tenantDailyBytes: TiB, maxQueryBytes: GiB, timezone: 'UTC' }],
    // No role at all: the least generous default, min(1, 5, 20, 1) = 1 GiB.
    ['no role', null, null, [], { userDailyBytes: GiB, tenantDailyBytes: TiB, maxQueryBytes: GiB, timezone: 'UTC' }],
    // The user's override wins over the role default, even below it: 100 MiB < executive's 20 GiB.
    ['user override', null, userOf({ dailyLimitBytes: 100 * MiB }), ['executive'], { userDailyBytes: 100 * MiB, tenantDailyBytes: TiB, maxQueryBytes: GiB, timezone: 'UTC' }],
    // …and above it: 50 GiB > viewer's 1 GiB.
    ['generous override', null, userOf({ dailyLimitBytes: 50 * GiB }), ['viewer'], { userDailyBytes: 50 * GiB, tenantDailyBytes: TiB, maxQueryBytes: GiB, timezone: 'UTC' }],
    // A cleared override (null) falls back to the role default: manager 5 GiB.
    ['cleared override', null, userOf({}), ['manager'], { userDailyBytes: 5 * GiB, tenantDailyBytes: TiB, maxQueryBytes: GiB, timezone: 'UTC' }],
    // 0 is a freeze, not "unset".
    ['zero', tenantOf({ dailyLimitBytes: 0 }), userOf({ dailyLimitBytes: 0 }), ['executive'], { userDailyBytes: 0, tenantDailyBytes: 0, maxQueryBytes: GiB, timezone: 'UTC' }],
    // Tenant settings: daily 2 TiB, timezone its own; its cap 200 MiB < MAX_QUERY_BYTES 1 GiB.
    ['tenant settings', tenantOf({ dailyLimitBytes: 2 * TiB, maxQueryBytes: 200 * MiB, timezone: 'Asia/Kolkata' }), null, ['viewer'], { userDailyBytes: GiB, tenantDailyBytes: 2 * TiB, maxQueryBytes: 200 * MiB, timezone: 'Asia/Kolkata' }],
    // Caps only lower: min(1 GiB, tenant 5 GiB, user 300 MiB) = 300 MiB.
    ['user cap lowest', tenantOf({ maxQueryBytes: 5 * GiB }), userOf({ maxQueryBytes: 300 * MiB }), ['viewer'], { userDailyBytes: GiB, tenantDailyBytes: TiB, maxQueryBytes: 300 * MiB, timezone: 'UTC' }],
    // min(1 GiB, tenant 400 MiB, user 800 MiB) = 400 MiB.
    ['tenant cap lowest', tenantOf({ maxQueryBytes: 400 * MiB }), userOf({ maxQueryBytes: 800 * MiB }), ['viewer'], { userDailyBytes: GiB, tenantDailyBytes: TiB, maxQueryBytes: 400 * MiB, timezone: 'UTC' }],
    // Caps above MAX_QUERY_BYTES do not raise it: min(1 GiB, 10 GiB, 20 GiB) = 1 GiB.
    ['caps above the maximum', tenantOf({ maxQueryBytes: 10 * GiB }), userOf({ maxQueryBytes: 20 * GiB }), ['viewer'], { userDailyBytes: GiB, tenantDailyBytes: TiB, maxQueryBytes: GiB, timezone: 'UTC' }],
  ])('%s', (_, tenant, user, roles, expected) => {
    expect(effectiveLimits(limitDefaults(config), tenant, user, roles)).toEqual(expected);
  });

  test('configured defaults and MAX_QUERY_BYTES are what falls back', () => {
    const custom = loadConfig({ BUDGET_DEFAULTS: 'viewer=2GiB,tenant=3TiB', MAX_QUERY_BYTES: String(512 * MiB) });
    // viewer 2 GiB (configured), tenant 3 TiB, cap min(512 MiB, tenant 1 GiB) = 512 MiB.
    expect(effectiveLimits(limitDefaults(custom), tenantOf({ maxQueryBytes: GiB }), null, ['viewer'])).toEqual({ userDailyBytes: 2 * GiB, tenantDailyBytes: 3 * TiB, maxQueryBytes: 512 * MiB, timezone: 'UTC' });
  });
});

describe('resolveLimits', () => {
  test('reads the tenant and the user from the store', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-policy-'));
    const store = await createFileStore({ dir });
    try {
      const by = { actor: 'test' };
      await store.setTenantBudget('acme', { dailyLimitBytes: 2 * TiB, timezone: 'Europe/Berlin' }, by);
      await store.setUserBudget('acme', 'ana', { dailyLimitBytes: 3 * GiB, maxQueryBytes: 100 * MiB }, by);
      await store.setUserBudget('globex', 'ben', { dailyLimitBytes: 9 * GiB }, by);
      expect(await resolveLimits(limitDefaults(config), store, { tenant: 'acme', userId: 'ana', roles: ['viewer'] }))
        .toEqual({ userDailyBytes: 3 * GiB, tenantDailyBytes: 2 * TiB, maxQueryBytes: 100 * MiB, timezone: 'Europe/Berlin' });
      // ben's override is globex's: in acme he gets the manager default, 5 GiB.
      expect(await resolveLimits(limitDefaults(config), store, { tenant: 'acme', userId: 'ben', roles: ['manager'] }))
        .toEqual({ userDailyBytes: 5 * GiB, tenantDailyBytes: 2 * TiB, maxQueryBytes: GiB, timezone: 'Europe/Berlin' });
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('validateBudgetChange', () => {
  test.each<TenantBudgetSettings>([
    { dailyLimitBytes: 0 },
    { dailyLimitBytes: MAX_BUDGET_BYTES, maxQueryBytes: MAX_BUDGET_BYTES },
    { dailyLimitBytes: null, maxQueryBytes: null, timezone: null },
    { timezone: 'America/Argentina/Buenos_Aires' },
    { timezone: 'UTC' },
  ])('accepts %j', (change) => {
    expect(() => validateBudgetChange(change)).not.toThrow();
  });

  test.each<[string, TenantBudgetSettings, RegExp]>([
    ['nothing', {}, /Nothing to change/],
    ['only absent fields', { dailyLimitBytes: undefined }, /Nothing to change/],
    ['a negative amount', { dailyLimitBytes: -1 }, /dailyLimitBytes must not be negative/],
    ['a fraction of a byte', { maxQueryBytes: 1.5 }, /maxQueryBytes must be a whole number of bytes/],
    ['infinity', { dailyLimitBytes: Number.POSITIVE_INFINITY }, /whole number/],
    ['a string', { dailyLimitBytes: '5GiB' as unknown as number }, /whole number/],
    ['1 PiB and 1 byte', { dailyLimitBytes: MAX_BUDGET_BYTES + 1 }, /over 1 PiB/],
    ['2^52 bytes (4 PiB)', { maxQueryBytes: 2 ** 52 }, /maxQueryBytes of 4503599627370496 bytes is over 1 PiB/],
    ['an unknown timezone', { timezone: 'Mars/Olympus_Mons' }, /"Mars\/Olympus_Mons" is not an IANA timezone/],
    ['an empty timezone', { timezone: '' }, /not an IANA timezone/],
    ['an offset for a timezone', { timezone: '+01:00' }, /not an IANA timezone/],
  ])('refuses %s', (_, change, message) => {
    expect(() => validateBudgetChange(change)).toThrow(message);
  });
});

describe('openBudgetStore', () => {
  test('without DATABASE_URL: the file log in DATA_DIR/budgets', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-open-store-'));
    try {
      const store = await openBudgetStore(loadConfig({ DATA_DIR: dataDir }));
      await store.setUserBudget('acme', 'ana', { dailyLimitBytes: 1 }, { actor: 'test' });
      await store.close();
      expect(fs.readFileSync(path.join(dataDir, 'budgets', 'budgets.jsonl'), 'utf8')).toContain('"userId":"ana"');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('with DATABASE_URL: PostgreSQL, in the bytegate schema', async () => {
    // A database of its own, so the default schema name touches nothing else.
    const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
    const database = `bytegate_open_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      const store = await openBudgetStore(loadConfig({ DATABASE_URL: url.toString() }));
      await store.setUserBudget('acme', 'ana', { dailyLimitBytes: 1 }, { actor: 'test' });
      await store.close();
      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      const { rows } = await client.query('SELECT tenant, user_id, daily_limit_bytes FROM bytegate.user_budgets');
      await client.end();
      expect(rows).toEqual([{ tenant: 'acme', user_id: 'ana', daily_limit_bytes: '1' }]);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    }
  });
});
