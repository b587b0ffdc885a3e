/**
 * The app_usage_daily rollup (warehouse/rollup.ts) against the raw events it rolls up, on the embedded
 * warehouse and on BigQuery (the loader into the REST fake, read through the BigQuery adapter):
 * appUsage read from the rollup gives what flattening the raw events' targets gives, over ranges and
 * scopes; an ingest recomputes the days it touched and no others; a dataset written before the rollup
 * existed is backfilled — on DuckDB before anything reads it, on BigQuery by the loader's next write.
 */
import { OAuth2Client } from 'google-auth-library';
import type { DateRange } from '../../common/dates';
import type { LogEvent, LogTarget } from '../../okta/logEvent';
import { type Scope, scopeFilter, where } from '../../subgraphs/common/scope';
import { type AppUsageRow, appUsage } from '../../subgraphs/metrics/queries';
import { createBigQueryLoader } from '../../warehouse/bigquery/bigQueryLoader';
import { createBigQueryWarehouse } from '../../warehouse/bigquery/bigQueryWarehouse';
import { bigQueryClient } from '../../warehouse/bigquery/jobs';
import type { DatasetWriter } from '../../warehouse/datasetWriter';
import { withDatasetWriter } from '../../warehouse/duckdb/datasetFiles';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { duckDbDatasetWriter, ingestEvents } from '../../warehouse/duckdb/tenantDataset';
import type { Warehouse, WarehouseQuery } from '../../warehouse/warehouse';
import { type BigQueryFake, startBigQueryFake } from './bigQueryFake';
import { DAYS, event, fixture, ndjson, people, tempDataDir } from './fixture';

process.env.METADATA_SERVER_DETECTION = 'none';

const [D1, D2, D3] = DAYS;
const TENANT = fixture().tenant;

const app = (id: string, displayName: string | undefined): LogTarget => ({ id, type: 'AppInstance', displayName });
const withTargets = (e: LogEvent, target: LogTarget[]): LogEvent => ({ ...e, target });

/**
 * The fixture's events, and targets the fixture lacks: several apps on one event, the same app twice
 * on one event, an app renamed from one day to the next, multi-byte and missing names, and events
 * whose targets are no AppInstance at all.
 */
function events(): LogEvent[] {
  const base = fixture().events;
  return [
    ...base,
    withTargets({ ...event('00uceo', `${D1}T11:00:00.000Z`, 'user.authentication.sso'), uuid: 'multi-1' }, [
      app('0oamail', 'Mail'), app('0oa日本', '日本語ワークス'), { id: '0uaceo', type: 'AppUser', displayName: 'Ada' },
    ]),
    withTargets({ ...event('00uic1', `${D2}T12:00:00.000Z`, 'user.authentication.sso'), uuid: 'twice-1' }, [app('0oacrm', 'CRM ✓'), app('0oacrm', 'CRM ✓')]),
    withTargets({ ...event('00umgr', `${D2}T13:00:00.000Z`, 'user.authentication.sso'), uuid: 'renamed-1' }, [app('0oacrm', 'CRM ✓ Zoë 📊')]),
    withTargets({ ...event('00uic2', `${D3}T09:00:00.000Z`, 'user.authentication.sso'), uuid: 'unnamed-1' }, [app('0oa日本', undefined)]),
    withTargets({ ...event('00uic2', `${D3}T10:00:00.000Z`, 'group.user_membership.add'), uuid: 'group-1' }, [
      { id: '00gsales', type: 'UserGroup', displayName: 'Sales' }, { id: '00uic2', type: 'User', displayName: 'Sam' },
    ]),
  ];
}

/** Late events for day 2 only: a new app, a new name for a known one, and an actor the directory lacks. */
function lateEvents(): LogEvent[] {
  return [
    withTargets({ ...event('00uic1', `${D2}T20:00:00.000Z`, 'user.authentication.sso'), uuid: 'late-1' }, [app('0oanew', 'Nouvelle Äpp')]),
    withTargets({ ...event('00uic1', `${D2}T21:00:00.000Z`, 'user.authentication.sso'), uuid: 'late-2' }, [app('0oacrm', 'ZZ CRM renamed')]),
    withTargets({ ...event('00uic2', `${D2}T22:00:00.000Z`, 'user.authentication.sso'), uuid: 'late-3', actor: { id: '00ulate', type: 'User' } }, [app('0oamail', 'Mail')]),
  ];
}

/** What appUsage was before the rollup, and the reference it must match: the raw events' targets flattened. */
function rawAppUsage(range: DateRange, scope: Scope, first: number): WarehouseQuery {
  const inScope = scopeFilter(scope, 'e.actor.id');
  return {
    name: 'rawAppUsage',
    sql: (d) => {
      const targets = d.flatten('e.target', 'app');
      return `SELECT app.id AS app_id, max(app.displayName) AS app_name, count(*) AS events, count(DISTINCT actor_id) AS users
        FROM (SELECT e.actor.id AS actor_id, ${targets.select} FROM ${d.table('sso_events')} AS e ${targets.from}
              ${where(`e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')}`, inScope.predicate(d))}) AS flattened
        WHERE app.type = 'AppInstance'
        GROUP BY app.id
        ORDER BY events DESC, app_id
        LIMIT ${d.param('first', 'INT64')}`;
    },
    params: {
      fromTs: { type: 'TIMESTAMP', value: `${range.from}T00:00:00Z` },
      toTs: { type: 'TIMESTAMP', value: `${nextDay(range.to)}T00:00:00Z` },
      ...inScope.params,
      first: { type: 'INT64', value: first },
    },
  };
}

/** The same figures computed in JavaScript from the events (names compared as UTF-8 bytes, as the warehouses compare them). */
function expectedAppUsage(all: readonly LogEvent[], range: DateRange): AppUsageRow[] {
  const apps = new Map<string, { name: string | null; events: number; users: Set<string> }>();
  for (const e of all.filter((x) => x.published.slice(0, 10) >= range.from && x.published.slice(0, 10) <= range.to)) {
    for (const target of (e.target ?? []).filter((t) => t.type === 'AppInstance')) {
      const entry = apps.get(target.id) ?? { name: null, events: 0, users: new Set<string>() };
      const name = target.displayName ?? null;
      if (name !== null && (entry.name === null || Buffer.compare(Buffer.from(name), Buffer.from(entry.name)) > 0)) entry.name = name;
      entry.events++;
      entry.users.add(e.actor.id);
      apps.set(target.id, entry);
    }
  }
  return [...apps].map(([id, a]) => ({ app_id: id, app_name: a.name, events: a.events, users: a.users.size }))
    .sort((a, b) => b.events - a.events || Buffer.compare(Buffer.from(a.app_id), Buffer.from(b.app_id)));
}

const RANGES: DateRange[] = [
  { from: D1, to: D1 }, { from: D2, to: D2 }, { from: D3, to: D3 }, { from: D1, to: D2 }, { from: D1, to: D3 }, { from: '2025-02-01', to: '2025-02-28' },
];
const SCOPES: [string, Scope][] = [
  ['tenant', { kind: 'tenant' }],
  ['a manager and their report', { kind: 'users', userIds: new Set(['00umgr', '00uic1']) }],
  ['a viewer', { kind: 'users', userIds: new Set(['00uic2']) }],
  ['nobody with events', { kind: 'users', userIds: new Set(['00unone']) }],
];

interface Setup {
  readonly name: string;
  readonly writer: DatasetWriter;
  readonly warehouse: Warehouse;
  /** Where the DuckDB files lie (the fake keeps its datasets as DuckDB files too): for writing behind the adapter's back. */
  readonly dataDir: string;
  readonly fake?: BigQueryFake;
  close(): Promise<void>;
}

async function embedded(): Promise<Setup> {
  const { dataDir, remove } = tempDataDir();
  const warehouse = createDuckDbWarehouse({ dataDir });
  return { name: 'DuckDB', writer: duckDbDatasetWriter(dataDir), warehouse, dataDir, close: async () => { await warehouse.close(); remove(); } };
}

async function onBigQuery(): Promise<Setup> {
  const { dataDir, remove } = tempDataDir();
  const fake = await startBigQueryFake({ dataDir, projectId: 'test-project', datasetPrefix: 'bytegate' });
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test' });
  const connection = { projectId: 'test-project', apiEndpoint: fake.url, authClient };
  const writer = loaderOn(fake);
  const warehouse = createBigQueryWarehouse({ ...connection, datasetPrefix: 'bytegate', metadata: { checkIntervalMs: 0 } });
  return { name: 'BigQuery (loader into the REST fake)', writer, warehouse, dataDir, fake, close: async () => { await warehouse.close(); await fake.close(); remove(); } };
}

/** A loader as a new process would make it (it provisions each dataset once). */
function loaderOn(fake: BigQueryFake): DatasetWriter {
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test' });
  return createBigQueryLoader({
    client: bigQueryClient({ projectId: 'test-project', location: 'US', apiEndpoint: fake.url, authClient }),
    projectId: 'test-project', location: 'US', datasetPrefix: 'bytegate', version: '0.1.0',
  });
}

async function load(setup: Setup, tenant: string, all: LogEvent[]): Promise<void> {
  await setup.writer.createTenant({ id: tenant, name: tenant });
  await setup.writer.upsertUsers(tenant, people);
  expect((await setup.writer.ingestEvents(tenant, ndjson(all))).rejected).toEqual([]);
}

/** Runs `sql` on the tenant's DuckDB file under the writer protocol (readers let go, then reopen). */
async function writeBehind(dataDir: string, tenant: string, sql: string): Promise<void> {
  await withDatasetWriter(dataDir, tenant, async (instance) => {
    const connection = await instance.connect();
    try {
      await connection.run(sql);
    } finally {
      connection.closeSync();
    }
  });
}

async function expectRollupMatchesRaw(warehouse: Warehouse, tenant: string, ranges: DateRange[]): Promise<void> {
  for (const range of ranges) {
    for (const [who, scope] of SCOPES) {
      for (const first of [10, 2]) {
        const [fromRollup, fromRaw] = await Promise.all([warehouse.query(tenant, appUsage(range, scope, first)), warehouse.query(tenant, rawAppUsage(range, scope, first))]);
        expect({ range, who, first, rows: fromRollup.rows }).toEqual({ range, who, first, rows: fromRaw.rows });
      }
    }
  }
}

describe.each([['DuckDB', embedded], ['BigQuery', onBigQuery]] as const)('app_usage_daily on %s', (_name, start) => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await start();
  });
  afterAll(() => setup.close());

  test('appUsage from the rollup gives what the raw events give, over every range and scope, and what JavaScript counts', async () => {
    const all = events();
    await load(setup, 'acme', all);
    await expectRollupMatchesRaw(setup.warehouse, 'acme', RANGES);
    const whole = await setup.warehouse.query<AppUsageRow>('acme', appUsage({ from: D1, to: D3 }, { kind: 'tenant' }, 10));
    expect(whole.rows).toEqual(expectedAppUsage(all, { from: D1, to: D3 }));
    // The rows the edge cases make: two apps on one event, an app named twice, a rename, a missing name.
    expect(whole.rows.find((r) => r.app_id === '0oa日本')).toEqual({ app_id: '0oa日本', app_name: '日本語ワークス', events: 2, users: 2 });
    expect(whole.rows.find((r) => r.app_id === '0oacrm')?.app_name).toBe('CRM ✓ Zoë 📊');
    // Rows of a table with no AppInstance target count nowhere.
    expect(whole.rows.map((r) => r.app_id)).not.toContain('00gsales');
  });

  test('an ingest recomputes the days it touched, and only those', async () => {
    await load(setup, 'globex', events());
    // Marks on the rows of days 1 and 3: an ingest of day 2 alone must leave them as they are.
    await writeBehind(setup.dataDir, 'globex', `UPDATE app_usage_daily SET events = events + 1000 WHERE day <> DATE '${D2}'`);
    const marked = await setup.warehouse.query<AppUsageRow>('globex', appUsage({ from: D1, to: D1 }, { kind: 'tenant' }, 10));

    const report = await setup.writer.ingestEvents('globex', ndjson(lateEvents()));
    expect(report).toMatchObject({ accepted: 3, days: [D2] });
    await expectRollupMatchesRaw(setup.warehouse, 'globex', [{ from: D2, to: D2 }]);
    expect((await setup.warehouse.query<AppUsageRow>('globex', appUsage({ from: D2, to: D2 }, { kind: 'tenant' }, 10))).rows)
      .toEqual(expectedAppUsage([...events(), ...lateEvents()], { from: D2, to: D2 }));
    expect((await setup.warehouse.query('globex', appUsage({ from: D1, to: D1 }, { kind: 'tenant' }, 10))).rows).toEqual(marked.rows);
    expect(marked.rows.every((r) => r.events > 1000)).toBe(true);
  });
});

describe('a DuckDB dataset written before app_usage_daily existed', () => {
  /** The fixture ingested, then the rollup and its statistics dropped: as an earlier version left the file. */
  async function oldDataset(): Promise<{ dataDir: string; remove(): void }> {
    const dir = tempDataDir();
    await ingestEvents(dir.dataDir, TENANT.id, ndjson(events()));
    await writeBehind(dir.dataDir, TENANT.id, `DROP TABLE app_usage_daily; DELETE FROM _partition_stats WHERE table_name = 'app_usage_daily'`);
    return dir;
  }

  /** Statistics of app_usage_daily, as comparable rows. */
  const rollupStats = async (warehouse: Warehouse) => (await warehouse.partitionStats(TENANT.id))
    .filter((s) => s.table === 'app_usage_daily').map((s) => `${s.day} ${s.column} ${s.rows} ${s.logicalBytes}`).sort();

  test('is backfilled before its first read, by whichever of two readers comes first: every answer and statistic as if ingested now', async () => {
    const old = await oldDataset();
    const fresh = tempDataDir();
    await ingestEvents(fresh.dataDir, TENANT.id, ndjson(events()));
    // Two readers at once, as two subgraph processes would open the file.
    const [first, second, reference] = [createDuckDbWarehouse({ dataDir: old.dataDir }), createDuckDbWarehouse({ dataDir: old.dataDir }), createDuckDbWarehouse({ dataDir: fresh.dataDir })];
    try {
      const range = { from: D1, to: D3 };
      const [a, b] = await Promise.all([first, second].map((w) => w.query<AppUsageRow>(TENANT.id, appUsage(range, { kind: 'tenant' }, 10))));
      expect(a.rows).toEqual(expectedAppUsage(events(), range));
      expect(b.rows).toEqual(a.rows);
      await expectRollupMatchesRaw(first, TENANT.id, RANGES);
      // Priced as a fresh ingest prices it, and measured the same.
      expect(await rollupStats(first)).toEqual(await rollupStats(reference));
      expect((await rollupStats(first)).length).toBeGreaterThan(0);
      expect(a.processedBytes).toBe((await reference.query(TENANT.id, appUsage(range, { kind: 'tenant' }, 10))).processedBytes);
    } finally {
      await Promise.all([first.close(), second.close(), reference.close()]);
      old.remove();
      fresh.remove();
    }
  });

  test('or by its next ingest, when that comes first: the old days and the new one', async () => {
    const old = await oldDataset();
    const warehouse = createDuckDbWarehouse({ dataDir: old.dataDir });
    try {
      const later = lateEvents().map((e) => ({ ...e, published: e.published.replace(D2, '2025-03-06') }));
      expect((await ingestEvents(old.dataDir, TENANT.id, ndjson(later))).accepted).toBe(later.length);
      const range = { from: D1, to: '2025-03-06' };
      expect((await warehouse.query<AppUsageRow>(TENANT.id, appUsage(range, { kind: 'tenant' }, 10))).rows).toEqual(expectedAppUsage([...events(), ...later], range));
      await expectRollupMatchesRaw(warehouse, TENANT.id, [range]);
    } finally {
      await warehouse.close();
      old.remove();
    }
  });
});

describe('a BigQuery dataset loaded before app_usage_daily existed', () => {
  test('the loader\'s next write backfills it (events present, the rollup empty), with its statistics; an up-to-date dataset costs no backfill', async () => {
    const setup = await onBigQuery();
    try {
      await load(setup, 'acme', events());
      const loaded = await setup.warehouse.partitionStats('acme');
      // As provisioning leaves a dataset loaded before the table was declared: the table there, empty.
      await writeBehind(setup.dataDir, 'acme', `DELETE FROM app_usage_daily; DELETE FROM _partition_stats WHERE table_name = 'app_usage_daily'`);
      // What readers get until then (README: BigQuery, migration): nothing.
      expect((await setup.warehouse.query('acme', appUsage({ from: D1, to: D3 }, { kind: 'tenant' }, 10))).rows).toEqual([]);

      const backfills = () => setup.fake!.jobInserts().filter((r) => r.body.configuration.labels?.query === 'backfillappusagedaily');
      await loaderOn(setup.fake!).createTenant(TENANT); // any write: the first of a new process provisions
      expect(backfills()).toHaveLength(1);
      expect(backfills()[0].body.configuration.query.query).toMatch(/^BEGIN TRANSACTION;/);
      await expectRollupMatchesRaw(setup.warehouse, 'acme', RANGES);
      const rollupOf = (stats: typeof loaded) => stats.filter((s) => s.table === 'app_usage_daily');
      expect(rollupOf(await setup.warehouse.partitionStats('acme'))).toEqual(rollupOf(loaded));
      expect(rollupOf(loaded).length).toBeGreaterThan(0);

      await loaderOn(setup.fake!).createTenant(TENANT);
      expect(backfills()).toHaveLength(1);
    } finally {
      await setup.close();
    }
  });
});

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
