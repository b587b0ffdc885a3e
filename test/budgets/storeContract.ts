/**
 * The BudgetStore port's contract (budgets/store.ts): the PostgreSQL and the file store run this same
 * suite. A suite owns one persisted state (a Postgres schema, a directory) that `open` opens a new
 * store on each time; every test uses tenants no other test uses, so tests do not share budgets.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEntry, BudgetStore, TenantBudgetSettings } from '../../budgets/store';
import { GiB, MiB, TiB } from '../../common/units';

export interface StoreHarness {
  /** A new store on the suite's persisted state. */
  open(): Promise<BudgetStore>;
  /** Removes the persisted state. */
  cleanup(): Promise<void>;
}

/** Lowercase letters, digits and underscores, like real tenant ids; unique per call. */
export const newTenant = () => `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

/** Each entry's old is the previous entry's new, and no entry is older than the one before (`log` newest first, as auditLog returns it). */
export function expectOneChain(log: readonly AuditEntry[]): void {
  const chronological = [...log].reverse();
  expect(chronological[0].old).toBeNull();
  for (let i = 1; i < chronological.length; i++) {
    expect(chronological[i].old).toEqual(chronological[i - 1].new);
    expect(Date.parse(chronological[i].at)).toBeGreaterThanOrEqual(Date.parse(chronological[i - 1].at));
  }
}

const admin = { actor: '00uadmin', reason: 'quarterly review' };

export function storeContract(name: string, setup: () => Promise<StoreHarness>): void {
  describe(`BudgetStore contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: BudgetStore;
    beforeAll(async () => {
      harness = await setup();
      store = await harness.open();
    });
    afterAll(async () => {
      await store?.close();
      await harness?.cleanup();
    });

    test('nothing stored: null budgets and an empty audit log', async () => {
      const tenant = newTenant();
      expect(await store.tenantBudget(tenant)).toBeNull();
      expect(await store.userBudget(tenant, 'ana')).toBeNull();
      expect(await store.auditLog(tenant, { limit: 10 })).toEqual([]);
    });

    test("a tenant's budget: set, read back, absent fields left, null clears", async () => {
      const tenant = newTenant();
      const first = await store.setTenantBudget(tenant, { dailyLimitBytes: TiB, timezone: 'Europe/Berlin' }, admin);
      expect(first).toEqual({ old: null, new: { dailyLimitBytes: TiB, maxQueryBytes: null, timezone: 'Europe/Berlin' } });
      expect(await store.tenantBudget(tenant)).toEqual(first.new);

      const second = await store.setTenantBudget(tenant, { maxQueryBytes: GiB }, admin);
      expect(second).toEqual({ old: first.new, new: { dailyLimitBytes: TiB, maxQueryBytes: GiB, timezone: 'Europe/Berlin' } });

      const third = await store.setTenantBudget(tenant, { dailyLimitBytes: null, timezone: null }, admin);
      expect(third.new).toEqual({ dailyLimitBytes: null, maxQueryBytes: GiB, timezone: null });
      expect(await store.tenantBudget(tenant)).toEqual(third.new);
      // A limit of 0 is a freeze, not "unset".
      expect((await store.setTenantBudget(tenant, { dailyLimitBytes: 0 }, admin)).new.dailyLimitBytes).toBe(0);
    });

    test("users' budgets: per user, absent fields left, null clears", async () => {
      const tenant = newTenant();
      expect(await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 5 * GiB, maxQueryBytes: GiB }, admin))
        .toEqual({ old: null, new: { dailyLimitBytes: 5 * GiB, maxQueryBytes: GiB } });
      await store.setUserBudget(tenant, 'ben', { maxQueryBytes: 100 * MiB }, admin);
      expect(await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: null }, admin))
        .toEqual({ old: { dailyLimitBytes: 5 * GiB, maxQueryBytes: GiB }, new: { dailyLimitBytes: null, maxQueryBytes: GiB } });
      expect(await store.userBudget(tenant, 'ana')).toEqual({ dailyLimitBytes: null, maxQueryBytes: GiB });
      expect(await store.userBudget(tenant, 'ben')).toEqual({ dailyLimitBytes: null, maxQueryBytes: 100 * MiB });
      expect(await store.userBudget(tenant, 'cy')).toBeNull();
      expect(await store.tenantBudget(tenant)).toBeNull();
    });

    test('userOverrides: the users with a setting stored, in user id order, at most `limit`; a cleared one is no override', async () => {
      const tenant = newTenant();
      expect(await store.userOverrides(tenant, 10)).toEqual([]);
      await store.setUserBudget(tenant, 'ben', { maxQueryBytes: 100 * MiB }, admin);
      await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 5 * GiB }, admin);
      await store.setUserBudget(tenant, 'Zoë', { dailyLimitBytes: 0 }, admin); // a freeze is an override
      await store.setUserBudget(tenant, 'cy', { dailyLimitBytes: GiB }, admin);
      await store.setUserBudget(tenant, 'cy', { dailyLimitBytes: null }, admin); // cleared: the default applies again
      await store.setUserBudget(newTenant(), 'eve', { dailyLimitBytes: GiB }, admin); // another tenant's
      // By UTF-8 bytes: 'Z' (0x5A) before 'a' (0x61)
      expect(await store.userOverrides(tenant, 10)).toEqual([
        { userId: 'Zoë', dailyLimitBytes: 0, maxQueryBytes: null },
        { userId: 'ana', dailyLimitBytes: 5 * GiB, maxQueryBytes: null },
        { userId: 'ben', dailyLimitBytes: null, maxQueryBytes: 100 * MiB },
      ]);
      expect((await store.userOverrides(tenant, 2)).map((o) => o.userId)).toEqual(['Zoë', 'ana']);
      expect(await store.userOverrides(tenant, 0)).toEqual([]);
    });

    test('every change is audited: who, when, what, old → new, why; newest first', async () => {
      const tenant = newTenant();
      const before = Date.now();
      await store.setTenantBudget(tenant, { dailyLimitBytes: TiB }, admin);
      await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 5 * GiB }, { actor: 'cli:ops' });
      await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 6 * GiB }, { actor: 'cli:ops', reason: null });
      const reset = await store.recordAudit({
        tenant, actor: '00uadmin', target: { kind: 'user', userId: 'ana' }, action: 'resetUsage', old: { usedBytes: 42 }, new: { usedBytes: 0 }, reason: 'new quarter',
      });
      const log = await store.auditLog(tenant, { limit: 10 });
      expect(log).toEqual([
        { id: reset.id, at: reset.at, tenant, actor: '00uadmin', target: { kind: 'user', userId: 'ana' }, action: 'resetUsage', old: { usedBytes: 42 }, new: { usedBytes: 0 }, reason: 'new quarter' },
        {
          id: expect.any(String), at: expect.any(String), tenant, actor: 'cli:ops', target: { kind: 'user', userId: 'ana' }, action: 'setBudget',
          old: { dailyLimitBytes: 5 * GiB, maxQueryBytes: null }, new: { dailyLimitBytes: 6 * GiB, maxQueryBytes: null }, reason: null,
        },
        {
          id: expect.any(String), at: expect.any(String), tenant, actor: 'cli:ops', target: { kind: 'user', userId: 'ana' }, action: 'setBudget',
          old: null, new: { dailyLimitBytes: 5 * GiB, maxQueryBytes: null }, reason: null,
        },
        {
          id: expect.any(String), at: expect.any(String), tenant, actor: '00uadmin', target: { kind: 'tenant' }, action: 'setBudget',
          old: null, new: { dailyLimitBytes: TiB, maxQueryBytes: null, timezone: null }, reason: 'quarterly review',
        },
      ]);
      expect(new Set(log.map((entry) => entry.id)).size).toBe(4);
      for (const entry of log) {
        expect(new Date(entry.at).toISOString()).toBe(entry.at);
        expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(before - 1000);
        expect(Date.parse(entry.at)).toBeLessThanOrEqual(Date.now() + 1000);
      }
      // Recording a usage reset changes no setting.
      expect(await store.userBudget(tenant, 'ana')).toEqual({ dailyLimitBytes: 6 * GiB, maxQueryBytes: null });
    });

    test('the audit log of one user, and limited to the newest', async () => {
      const tenant = newTenant();
      await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 1 }, { actor: 'a', reason: 'one' });
      await store.setUserBudget(tenant, 'ben', { dailyLimitBytes: 2 }, { actor: 'a', reason: 'two' });
      await store.setTenantBudget(tenant, { dailyLimitBytes: 3 }, { actor: 'a', reason: 'three' });
      await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 4 }, { actor: 'a', reason: 'four' });
      const reasons = (log: AuditEntry[]) => log.map((entry) => entry.reason);
      expect(reasons(await store.auditLog(tenant, { limit: 10, userId: 'ana' }))).toEqual(['four', 'one']);
      expect(reasons(await store.auditLog(tenant, { limit: 10, userId: 'ben' }))).toEqual(['two']);
      expect(await store.auditLog(tenant, { limit: 10, userId: 'nobody' })).toEqual([]);
      expect(reasons(await store.auditLog(tenant, { limit: 2 }))).toEqual(['four', 'three']);
      expect(reasons(await store.auditLog(tenant, { limit: 1, userId: 'ana' }))).toEqual(['four']);
    });

    test('tenants are isolated: the same user id in two tenants, separate budgets and audit logs', async () => {
      const [one, two] = [newTenant(), newTenant()];
      await store.setUserBudget(one, 'ana', { dailyLimitBytes: GiB }, admin);
      await store.setUserBudget(two, 'ana', { dailyLimitBytes: 2 * GiB }, admin);
      await store.setTenantBudget(one, { timezone: 'Asia/Tokyo' }, admin);
      expect((await store.userBudget(one, 'ana'))?.dailyLimitBytes).toBe(GiB);
      expect((await store.userBudget(two, 'ana'))?.dailyLimitBytes).toBe(2 * GiB);
      expect(await store.tenantBudget(two)).toBeNull();
      expect((await store.auditLog(one, { limit: 10 })).map((entry) => entry.tenant)).toEqual([one, one]);
      expect((await store.auditLog(two, { limit: 10, userId: 'ana' })).map((entry) => entry.new)).toEqual([{ dailyLimitBytes: 2 * GiB, maxQueryBytes: null }]);
    });

    test('hostile strings round-trip as user ids, actors and reasons', async () => {
      const tenant = newTenant();
      const hostile = [
        "'; DROP TABLE user_budgets; --", '"quoted" \\back\\slash\\', 'ünïcødé 日本語 🚀 עברית \u202e', 'line\nbreak\ttab\r\n',
        'x'.repeat(1024), '{"target":{"kind":"tenant"}}', '$1 %s ? :name', ' ',
      ];
      for (const [i, text] of hostile.entries()) {
        const result = await store.setUserBudget(tenant, text, { dailyLimitBytes: i }, { actor: text, reason: text });
        expect(result.new.dailyLimitBytes).toBe(i);
      }
      for (const [i, text] of hostile.entries()) {
        expect(await store.userBudget(tenant, text)).toEqual({ dailyLimitBytes: i, maxQueryBytes: null });
        const [entry] = await store.auditLog(tenant, { limit: 5, userId: text });
        expect([entry.target, entry.actor, entry.reason]).toEqual([{ kind: 'user', userId: text }, text, text]);
      }
      expect(await store.auditLog(tenant, { limit: 100 })).toHaveLength(hostile.length);
    });

    test.each<[string, TenantBudgetSettings]>([
      ['negative', { dailyLimitBytes: -1 }],
      ['fractional', { maxQueryBytes: 1.5 }],
      ['over 1 PiB', { dailyLimitBytes: 2 ** 50 + 1 }],
      ['not a number', { dailyLimitBytes: Number.NaN }],
      ['an unknown timezone', { timezone: 'Mars/Olympus_Mons' }],
      ['nothing', {}],
    ])('refuses a change that is %s, and records nothing', async (_, change) => {
      const tenant = newTenant();
      await expect(store.setTenantBudget(tenant, change, admin)).rejects.toThrow(Error);
      if (change.timezone === undefined) await expect(store.setUserBudget(tenant, 'ana', change, admin)).rejects.toThrow(Error);
      expect(await store.tenantBudget(tenant)).toBeNull();
      expect(await store.userBudget(tenant, 'ana')).toBeNull();
      expect(await store.auditLog(tenant, { limit: 10 })).toEqual([]);
    });

    test('50 concurrent changes to one user: 50 audit entries, each old the previous new', async () => {
      const tenant = newTenant();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
        store.setUserBudget(tenant, 'ana', { dailyLimitBytes: (i + 1) * MiB }, { actor: `admin-${i}`, reason: `change ${i}` })));
      const log = await store.auditLog(tenant, { limit: 100 });
      expect(log).toHaveLength(50);
      expectOneChain(log);
      expect(new Set(log.map((entry) => entry.new?.dailyLimitBytes))).toEqual(new Set(results.map((result) => result.new.dailyLimitBytes)));
      // What each call returned is what its audit entry says.
      for (const [i, result] of results.entries()) {
        const entry = log.find((e) => e.actor === `admin-${i}`)!;
        expect([entry.old, entry.new]).toEqual([result.old, result.new]);
      }
      expect(await store.userBudget(tenant, 'ana')).toEqual(log[0].new);
    });

    test("two stores on the same state (two gateway replicas) see each other's changes and keep one chain", async () => {
      const tenant = newTenant();
      const other = await harness.open();
      try {
        await other.setUserBudget(tenant, 'ana', { dailyLimitBytes: GiB }, admin);
        expect(await store.userBudget(tenant, 'ana')).toEqual({ dailyLimitBytes: GiB, maxQueryBytes: null });
        await store.setTenantBudget(tenant, { timezone: 'America/New_York' }, admin);
        expect((await other.tenantBudget(tenant))?.timezone).toBe('America/New_York');

        await Promise.all(Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? store : other).setUserBudget(tenant, 'ben', { maxQueryBytes: (i + 1) * MiB }, { actor: `replica-${i % 2}` })));
        const log = await other.auditLog(tenant, { limit: 100, userId: 'ben' });
        expect(log).toHaveLength(40);
        expectOneChain(log);
        expect(await store.auditLog(tenant, { limit: 100, userId: 'ben' })).toEqual(log);
        expect(await store.userBudget(tenant, 'ben')).toEqual(log[0].new);
      } finally {
        await other.close();
      }
    });

    test('everything is still there after closing and opening again', async () => {
      const tenant = newTenant();
      await store.setTenantBudget(tenant, { dailyLimitBytes: 2 * TiB, maxQueryBytes: 10 * GiB, timezone: 'Australia/Sydney' }, admin);
      await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 7 * GiB }, admin);
      await store.recordAudit({ tenant, actor: 'ops', target: { kind: 'tenant' }, action: 'resetUsage', old: { usedBytes: 5 }, new: { usedBytes: 0 }, reason: null });
      const before = { tenant: await store.tenantBudget(tenant), ana: await store.userBudget(tenant, 'ana'), log: await store.auditLog(tenant, { limit: 10 }) };
      await store.close();
      store = await harness.open();
      expect({ tenant: await store.tenantBudget(tenant), ana: await store.userBudget(tenant, 'ana'), log: await store.auditLog(tenant, { limit: 10 }) }).toEqual(before);
      expect(before.log).toHaveLength(3);
    });
  });
}
