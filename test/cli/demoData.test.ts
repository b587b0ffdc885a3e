/**
 * The first start's demo plan (cli/demoData.ts) on real DuckDB files: made once on an empty DATA_DIR
 * with the tenants and their directories, found again by a restart, never made over existing data;
 * a tenant whose dataset was deleted since loads again from its first day.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDemoLoading, writeDemoLoading } from '../../common/demoLoading';
import { loadDemoEvents, planDemoData } from '../../cli/demoData';
import { rangeDays } from '../../okta/generator';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { datasetPath } from '../../warehouse/duckdb/datasetFiles';
import { duckDbDatasetWriter } from '../../warehouse/duckdb/tenantDataset';

let dataDir: string;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-demo-'));
});

afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

test('an empty DATA_DIR gets a plan of the 30 days before today, its tenants and their directories; a restart finds the same plan', async () => {
  const writer = duckDbDatasetWriter(dataDir);
  const plan = await planDemoData(dataDir, writer, '2026-03-01');
  expect(plan?.tenants.map((t) => [t.tenant, t.start, t.days, t.loadedDays.length])).toEqual([['acme', '2026-01-30', 30, 0], ['globex', '2026-01-30', 30, 0]]);
  expect(readDemoLoading(dataDir)).toEqual(plan);
  const warehouse = createDuckDbWarehouse({ dataDir });
  try {
    for (const [tenant, people] of [['acme', 300], ['globex', 60]] as const) {
      const counted = await warehouse.query<{ n: number }>(tenant, { name: 'people', params: {}, sql: (d) => `SELECT count(*)::INTEGER AS n FROM ${d.table('users')}` });
      expect(counted.rows[0].n).toBe(people);
    }
  } finally {
    await warehouse.close();
  }
  // A day later, the stopped first run resumes with its own range, not a new one.
  expect(await planDemoData(dataDir, writer, '2026-03-02')).toEqual(plan);
}, 30_000);

test('data already there (seeded by hand): no plan; a tenant whose dataset was deleted since its days were recorded loads again', async () => {
  const writer = duckDbDatasetWriter(dataDir);
  const plan = (await planDemoData(dataDir, writer, '2026-03-01'))!;
  const recorded = { tenants: plan.tenants.map((t) => ({ ...t, loadedDays: ['2026-02-28'], events: 100 })) };
  writeDemoLoading(dataDir, recorded);
  fs.rmSync(datasetPath(dataDir, 'acme'));
  const resumed = await planDemoData(dataDir, writer, '2026-03-01');
  expect(resumed?.tenants.map((t) => [t.tenant, t.loadedDays, t.events])).toEqual([['acme', [], 0], ['globex', ['2026-02-28'], 100]]);

  writeDemoLoading(dataDir, undefined); // as after a finished load
  expect(await planDemoData(dataDir, writer, '2026-03-01')).toBeUndefined();
}, 30_000);

test('a load stores every day not loaded yet, each once, reporting each tenant done once; the record goes at the end', async () => {
  const writer = duckDbDatasetWriter(dataDir);
  const small = { users: 8, days: 4, eventsPerUser: 20, start: '2026-02-01', events: 0 };
  const plan = { tenants: [
    { ...small, tenant: 'acme', name: 'Acme', seed: 1, loadedDays: [] },
    { ...small, tenant: 'globex', name: 'Globex', seed: 2, loadedDays: ['2026-02-04'] }, // one day already in
  ] };
  writeDemoLoading(dataDir, plan);
  const progress: { tenant: string; daysLoaded: number; done: boolean }[] = [];
  await loadDemoEvents(dataDir, writer, plan, ({ tenant, daysLoaded, done }) => progress.push({ tenant, daysLoaded, done }));
  expect(progress.filter((p) => p.done)).toEqual([{ tenant: 'acme', daysLoaded: 4, done: true }, { tenant: 'globex', daysLoaded: 4, done: true }]);
  expect(readDemoLoading(dataDir)).toBeUndefined();
  const warehouse = createDuckDbWarehouse({ dataDir });
  try {
    const days = async (tenant: string) => (await warehouse.query<{ day: string }>(tenant, {
      name: 'days', params: {}, sql: (d) => `SELECT DISTINCT strftime(CAST(published AS DATE), '%Y-%m-%d') AS day FROM ${d.table('sso_events')} ORDER BY day`,
    })).rows.map((r) => r.day);
    expect(await days('acme')).toEqual(['2026-02-01', '2026-02-02', '2026-02-03', '2026-02-04']);
    expect(await days('globex')).toEqual(['2026-02-01', '2026-02-02', '2026-02-03']); // the day recorded as loaded was not stored again
  } finally {
    await warehouse.close();
  }
}, 60_000);

test('a finished load removes its record', async () => {
  const writer = duckDbDatasetWriter(dataDir);
  const plan = (await planDemoData(dataDir, writer, '2026-03-01'))!;
  // Every day recorded as loaded: nothing left to store, and the record goes.
  const done = { tenants: plan.tenants.map((t) => ({ ...t, loadedDays: rangeDays(t) })) };
  await loadDemoEvents(dataDir, writer, done);
  expect(readDemoLoading(dataDir)).toBeUndefined();
}, 30_000);

test.each([
  ['not JSON', '{"tenants": [', /is unreadable \(.*JSON/],
  ['JSON of another shape', '{"tenants": [{"tenant": "acme"}]}', /is unreadable \(not a demo-loading record\)/],
])('a record that is %s stops the start with the file named and the way out, writing nothing', async (_case, text, why) => {
  fs.writeFileSync(path.join(dataDir, 'demo-loading.json'), text);
  await expect(planDemoData(dataDir, duckDbDatasetWriter(dataDir), '2026-03-01')).rejects.toThrow(why);
  await expect(planDemoData(dataDir, duckDbDatasetWriter(dataDir), '2026-03-01')).rejects.toThrow('demo-loading.json is unreadable');
  expect(fs.existsSync(path.join(dataDir, 'tenants'))).toBe(false);
  expect(fs.readFileSync(path.join(dataDir, 'demo-loading.json'), 'utf8')).toBe(text);
});
