/**
 * The file budget store on real files in a temporary directory: the shared contract, then the log
 * itself — one line per change, a line cut short by a crash, garbage, another process writing, and
 * a lock left behind by a process that died.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUDGET_LOG_FILE, createFileStore } from '../../budgets/fileStore';
import type { BudgetStore } from '../../budgets/store';
import { GiB } from '../../common/units';
import { newTenant, storeContract } from './storeContract';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-file-store-'));
const admin = { actor: '00uadmin', reason: 'test' };

storeContract('file', async () => {
  const dir = tempDir();
  return { open: () => createFileStore({ dir, warn: () => undefined }), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
});

describe('file budget store', () => {
  let dir: string;
  const opened: BudgetStore[] = [];
  const warnings: string[] = [];
  const open = async () => {
    const store = await createFileStore({ dir, warn: (message) => warnings.push(message) });
    opened.push(store);
    return store;
  };
  const log = () => path.join(dir, BUDGET_LOG_FILE);
  beforeEach(() => {
    dir = tempDir();
    warnings.length = 0;
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the log is one JSON line per change, each the audit entry itself', async () => {
    const store = await open();
    const tenant = newTenant();
    await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: GiB }, admin);
    await store.setTenantBudget(tenant, { timezone: 'Europe/Paris' }, admin);
    const lines = fs.readFileSync(log(), 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual((await store.auditLog(tenant, { limit: 10 })).reverse());
  });

  test('a last line cut short by a crash is skipped with a warning; the entries before and after it count', async () => {
    const store = await open();
    const tenant = newTenant();
    await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: GiB }, admin);
    fs.appendFileSync(log(), '{"id":"torn","at":"2025-05-05T10:00:00.000Z","tenant":"');
    await store.close();

    const reopened = await open();
    expect(await reopened.userBudget(tenant, 'ana')).toEqual({ dailyLimitBytes: GiB, maxQueryBytes: null });
    const next = await reopened.setUserBudget(tenant, 'ana', { dailyLimitBytes: 2 * GiB }, admin);
    expect(next.old).toEqual({ dailyLimitBytes: GiB, maxQueryBytes: null });
    expect(warnings).toEqual([expect.stringMatching(/budgets\.jsonl:2: skipped a line that is not a budget entry/)]);

    const third = await open();
    expect(await third.userBudget(tenant, 'ana')).toEqual({ dailyLimitBytes: 2 * GiB, maxQueryBytes: null });
    expect(await third.auditLog(tenant, { limit: 10 })).toHaveLength(2);
    expect(warnings).toHaveLength(2);
  });

  test('a line that parses but is not an entry, or does not parse, is skipped; the others all count', async () => {
    const tenant = newTenant();
    const store = await open();
    await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 1 }, admin);
    fs.appendFileSync(log(), 'not json at all\n{"id":"1","tenant":"x"}\n\n');
    await store.setUserBudget(tenant, 'ana', { dailyLimitBytes: 2 }, admin);
    expect(warnings).toHaveLength(2);
    const reopened = await open();
    expect(await reopened.userBudget(tenant, 'ana')).toEqual({ dailyLimitBytes: 2, maxQueryBytes: null });
    expect((await reopened.auditLog(tenant, { limit: 10 })).map((entry) => entry.new)).toEqual([
      { dailyLimitBytes: 2, maxQueryBytes: null }, { dailyLimitBytes: 1, maxQueryBytes: null },
    ]);
  });

  test("another process's appends are read on the next call", async () => {
    const store = await open();
    const tenant = newTenant();
    expect(await store.userBudget(tenant, 'ana')).toBeNull();
    const child = `
      const { createFileStore } = require('./budgets/fileStore');
      createFileStore({ dir: ${JSON.stringify(dir)} })
        .then(async (store) => { await store.setUserBudget(${JSON.stringify(tenant)}, 'ana', { dailyLimitBytes: 3 }, { actor: 'cli:ops' }); await store.close(); });
    `;
    execFileSync(process.execPath, ['--import', 'tsx', '-e', child], { cwd: path.join(__dirname, '../..') });
    expect(await store.userBudget(tenant, 'ana')).toEqual({ dailyLimitBytes: 3, maxQueryBytes: null });
    expect((await store.auditLog(tenant, { limit: 1 }))[0].actor).toBe('cli:ops');
  });

  test('a lock left by a process that died is broken', async () => {
    const store = await open();
    const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(path.join(dir, 'budgets.lock'), `${dead} leftover`);
    const started = Date.now();
    await store.setUserBudget(newTenant(), 'ana', { dailyLimitBytes: 1 }, admin);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fs.existsSync(path.join(dir, 'budgets.lock'))).toBe(false);
  });
});
