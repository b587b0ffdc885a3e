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

test('a finished load removes its record', async () => {
  const writer = duckDbDatasetWriter(dataDir);
  const plan = (await planDemoData(dataDir, writer, '2026-03-01'))!;
  // Every day recorded as loaded: nothing left to store, and the record goes.
  const done = { tenants: plan.tenants.map((t) => ({ ...t, loadedDays: rangeDays(t) })) };
  await loadDemoEvents(dataDir, writer, done);
  expect(readDemoLoading(dataDir)).toBeUndefined();
}, 30_000);
