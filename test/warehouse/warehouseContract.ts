/**
 * The Warehouse port's contract: every adapter (DuckDB here, BigQuery through its REST fake later)
 * runs this same suite against the same fixture. Expected bytes are computed from the fixture's
 * events in JavaScript (fixture.ts), independently of the adapter.
 */
import { ErrorCode } from '../../common/errors';
import { MiB } from '../../common/units';
import type { DatasetWriter } from '../../warehouse/datasetWriter';
import { StoppedJobError, type Warehouse, type WarehouseQuery } from '../../warehouse/warehouse';
import { DAYS, type WarehouseFixture, event, eventsOn, expectedBytes, fixture, ndjson, people } from './fixture';

/**
 * The fixture loaded, the warehouse over it, and a writer of the same datasets (its writes must show
 * in the warehouse's versions at once: no reuse window).
 */
export type LoadFixture = (fixture: WarehouseFixture) => Promise<{ warehouse: Warehouse; writer: DatasetWriter; cleanup(): Promise<void> }>;

const dayParams = (from: string, to: string) => ({
  fromTs: { type: 'TIMESTAMP', value: `${from}T00:00:00Z` },
  toTs: { type: 'TIMESTAMP', value: `${nextDay(to)}T00:00:00Z` },
}) as const;

const eventsPerActor = (from: string, to: string): WarehouseQuery => ({
  name: 'eventsPerActor',
  params: dayParams(from, to),
  sql: (d) => `SELECT e.actor.id AS actor_id, count(*) AS events FROM ${d.table('sso_events')} AS e
    WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')}
    GROUP BY e.actor.id ORDER BY actor_id`,
});

export function describeWarehouseContract(adapter: string, load: LoadFixture): void {
  describe(`Warehouse contract: ${adapter}`, () => {
    const data = fixture();
    let warehouse: Warehouse;
    let writer: DatasetWriter;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ warehouse, writer, cleanup } = await load(data));
    });
    afterAll(() => cleanup());

    test('returns the rows of a parameterized query, integers as numbers', async () => {
      const result = await warehouse.query<{ actor_id: string; events: number }>('acme', eventsPerActor(DAYS[0], DAYS[2]));
      const expected = new Map<string, number>();
      for (const e of data.events) expected.set(e.actor.id, (expected.get(e.actor.id) ?? 0) + 1);
      expect(result.rows).toEqual([...expected].sort(([a], [b]) => a.localeCompare(b)).map(([actor_id, events]) => ({ actor_id, events })));
      expect(result.cacheHit).toBe(false);
    });

    test('processed bytes are the referenced columns over the selected day partitions only', async () => {
      // Day 2 only: actor.id (selected, grouped) + published (filtered on).
      const result = await warehouse.query('acme', eventsPerActor(DAYS[1], DAYS[1]));
      const day2 = eventsOn(data.events, DAYS[1]);
      expect(result.processedBytes).toBe(expectedBytes(day2, 'actor.id') + expectedBytes(day2, 'published'));
      expect(result.processedBytes).toBeGreaterThan(0);
    });

    test('flattening an array reads only the element fields the query uses', async () => {
      const result = await warehouse.query<{ app_id: string; events: number }>('acme', {
        name: 'appEvents',
        params: dayParams(DAYS[0], DAYS[2]),
        sql: (d) => `SELECT app.id AS app_id, count(*) AS events
          FROM (SELECT ${d.flatten('e.target', 'app').select} FROM ${d.table('sso_events')} AS e ${d.flatten('e.target', 'app').from}
                WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')}) AS f
          WHERE app.type = 'AppInstance'
          GROUP BY app.id ORDER BY events DESC, app_id`,
      });
      const appEvents = new Map<string, number>();
      for (const t of data.events.flatMap((e) => e.target ?? []).filter((t) => t.type === 'AppInstance')) appEvents.set(t.id, (appEvents.get(t.id) ?? 0) + 1);
      expect(Object.fromEntries(result.rows.map((r) => [r.app_id, r.events]))).toEqual(Object.fromEntries(appEvents));
      expect(result.processedBytes).toBe(
        expectedBytes(data.events, 'target.id') + expectedBytes(data.events, 'target.type') + expectedBytes(data.events, 'published'),
      );
    });

    test('bills whole MiB with a 10 MiB minimum per table referenced', async () => {
      const oneTable = await warehouse.query('acme', eventsPerActor(DAYS[0], DAYS[0]));
      expect(oneTable.billedBytes).toBe(10 * MiB);
      const twoTables = await warehouse.query('acme', {
        name: 'eventsWithDepartment',
        params: dayParams(DAYS[0], DAYS[0]),
        sql: (d) => `SELECT u.department, count(*) AS events FROM ${d.table('sso_events')} AS e JOIN ${d.table('users')} AS u ON u.id = e.actor.id
          WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')} GROUP BY u.department`,
      });
      expect(twoTables.billedBytes).toBe(20 * MiB);
      const day1 = eventsOn(data.events, DAYS[0]);
      const usersBytes = ['id', 'department'].reduce((sum, column) => sum + data.users.reduce((s, u) => s + Buffer.byteLength((column === 'id' ? u.id : u.department) ?? '') + 2, 0), 0);
      expect(twoTables.processedBytes).toBe(expectedBytes(day1, 'actor.id') + expectedBytes(day1, 'published') + usersBytes);
    });

    test('a range with no data processes and bills nothing', async () => {
      const result = await warehouse.query('acme', eventsPerActor('2024-01-01', '2024-01-31'));
      expect(result).toMatchObject({ rows: [], processedBytes: 0, billedBytes: 0 });
    });

    test('a filter that is not a constant comparison on the partition column scans every partition', async () => {
      const result = await warehouse.query('acme', {
        name: 'orFilter',
        params: dayParams(DAYS[1], DAYS[1]),
        sql: (d) => `SELECT count(*) AS n FROM ${d.table('sso_events')} AS e
          WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} OR e.eventType = 'user.session.end'`,
      });
      expect(result.processedBytes).toBe(expectedBytes(data.events, 'published') + expectedBytes(data.events, 'eventType'));
    });

    test('maxBytesBilled refuses an over-cap job with QUERY_TOO_EXPENSIVE, without running it', async () => {
      await expect(warehouse.query('acme', { ...eventsPerActor(DAYS[0], DAYS[2]), maxBytesBilled: 10 * MiB - 1 }))
        .rejects.toMatchObject({ extensions: { code: ErrorCode.QUERY_TOO_EXPENSIVE, billedBytes: 10 * MiB } });
      await expect(warehouse.query('acme', { ...eventsPerActor(DAYS[0], DAYS[2]), maxBytesBilled: 10 * MiB })).resolves.toMatchObject({ billedBytes: 10 * MiB });
    });

    test('a query whose signal has aborted starts no job: StoppedJobError, nothing billed', async () => {
      const stop = new AbortController();
      stop.abort();
      const error = await warehouse.query('acme', eventsPerActor(DAYS[0], DAYS[2]), stop.signal).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoppedJobError);
      expect((error as StoppedJobError).bill).toEqual({ processedBytes: 0, billedBytes: 0 });
    });

    test('a dry run gives the processed bytes of running it and a billed upper bound, whatever the cap', async () => {
      const query = eventsPerActor(DAYS[0], DAYS[2]);
      const ran = await warehouse.query('acme', query);
      const dry = await warehouse.dryRun('acme', { ...query, maxBytesBilled: 1 });
      expect(dry.processedBytes).toBe(ran.processedBytes);
      expect(dry.billedBytes).toBeGreaterThanOrEqual(ran.billedBytes);
      expect(dry.billedBytes).toBeLessThanOrEqual(ran.billedBytes + 10 * MiB);
    });

    test('parameters are data, never SQL: hostile strings match nothing and change nothing', async () => {
      const byType = (eventType: string): WarehouseQuery => ({
        name: 'byType',
        params: { ...dayParams(DAYS[0], DAYS[2]), eventType: { type: 'STRING', value: eventType } },
        sql: (d) => `SELECT count(*) AS n FROM ${d.table('sso_events')} AS e
          WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')} AND e.eventType = ${d.param('eventType', 'STRING')}`,
      });
      for (const hostile of ["x' OR '1'='1", "'; DROP TABLE sso_events; --", '$fromTs', '\u0000', 'user.session.start\' --']) {
        await expect(warehouse.query('acme', byType(hostile))).resolves.toMatchObject({ rows: [{ n: 0 }] });
      }
      const all = await warehouse.query<{ n: number }>('acme', byType('user.session.start'));
      expect(all.rows[0].n).toBe(data.events.filter((e) => e.eventType === 'user.session.start').length);
    });

    test('a STRING_ARRAY parameter restricts to its members; an empty one to nobody', async () => {
      const forUsers = (ids: string[]): WarehouseQuery => ({
        name: 'forUsers',
        params: { ...dayParams(DAYS[0], DAYS[2]), userIds: { type: 'STRING_ARRAY', value: ids } },
        sql: (d) => `SELECT e.actor.id AS actor_id, count(*) AS events FROM ${d.table('sso_events')} AS e
          WHERE e.published >= ${d.param('fromTs', 'TIMESTAMP')} AND e.published < ${d.param('toTs', 'TIMESTAMP')} AND ${d.inArray('e.actor.id', 'userIds')}
          GROUP BY e.actor.id ORDER BY actor_id`,
      });
      const some = await warehouse.query<{ actor_id: string }>('acme', forUsers(['00uic1', '00uic2', 'nobody']));
      expect(some.rows.map((r) => r.actor_id)).toEqual(['00uic1', '00uic2']);
      await expect(warehouse.query('acme', forUsers([]))).resolves.toMatchObject({ rows: [] });
    });

    test('partition statistics record rows and logical bytes per day and leaf column', async () => {
      const stats = await warehouse.partitionStats('acme');
      for (const day of DAYS) {
        const events = eventsOn(data.events, day);
        for (const column of ['uuid', 'actor.id', 'actor.displayName', 'target.id', 'client.geographicalContext.city', 'authenticationContext.authenticationStep', 'securityContext.isProxy']) {
          const stat = stats.find((s) => s.table === 'sso_events' && s.day === day && s.column === column);
          expect({ day, column, rows: stat?.rows, bytes: stat?.logicalBytes }).toEqual({ day, column, rows: events.length, bytes: expectedBytes(events, column) });
        }
      }
    });

    test('data versions: one per day partition with data, stable while nothing is written', async () => {
      const versions = await warehouse.dataVersions('acme');
      expect([...versions.keys()].sort()).toEqual([...DAYS]);
      expect(new Set(versions.values()).size).toBeGreaterThan(0);
      expect(await warehouse.dataVersions('acme')).toEqual(versions);
      await expect(warehouse.dataVersions('globex')).rejects.toMatchObject({ extensions: { code: ErrorCode.BAD_USER_INPUT } });
    });

    test('table versions: one per unpartitioned table, stable while nothing is written', async () => {
      const versions = await warehouse.tableVersions!('acme');
      expect([...versions.keys()].sort()).toEqual(['tenant_info', 'users']);
      for (const version of versions.values()) expect(version).toEqual(expect.any(String));
      expect(await warehouse.tableVersions!('acme')).toEqual(versions);
      await expect(warehouse.tableVersions!('globex')).rejects.toMatchObject({ extensions: { code: ErrorCode.BAD_USER_INPUT } });
    });

    test('table versions change with every write that touches the table, and only then', async () => {
      // A tenant of its own: the tests above read acme's users.
      const tenant = 'initech';
      const acme = await warehouse.tableVersions!('acme');
      await writer.createTenant({ id: tenant, name: 'Initech' });
      const created = await warehouse.tableVersions!(tenant);
      expect([...created.keys()].sort()).toEqual(['tenant_info', 'users']);

      await writer.upsertUsers(tenant, people);
      const upserted = await warehouse.tableVersions!(tenant);
      expect(upserted.get('users')).not.toBe(created.get('users'));
      expect(upserted.get('tenant_info')).toBe(created.get('tenant_info'));

      // A write that keeps the table's size (the same number of rows and bytes) is a write all the same.
      await writer.upsertUsers(tenant, [{ ...people[0], displayName: 'Ada Chiff' }]);
      const renamed = await warehouse.tableVersions!(tenant);
      expect(renamed.get('users')).not.toBe(upserted.get('users'));
      expect(renamed.get('tenant_info')).toBe(created.get('tenant_info'));

      // Events of directory users only: new data versions, the same table versions.
      const known = await writer.ingestEvents(tenant, ndjson([{ ...event('00uic1', `${DAYS[0]}T08:00:00.000Z`, 'user.session.start'), uuid: 'initech-1' }]));
      expect(known.accepted).toBe(1);
      expect([...(await warehouse.dataVersions(tenant)).keys()]).toEqual([DAYS[0]]);
      expect(await warehouse.tableVersions!(tenant)).toEqual(renamed);

      // An actor the directory lacks is added to it: users changes.
      const stranger = { ...event('00uic1', `${DAYS[1]}T08:00:00.000Z`, 'user.session.start'), uuid: 'initech-2' };
      const added = await writer.ingestEvents(tenant, ndjson([{ ...stranger, actor: { ...stranger.actor, id: '00unew', alternateId: 'new@initech.example.com' } }]));
      expect(added.accepted).toBe(1);
      const grown = await warehouse.tableVersions!(tenant);
      expect(grown.get('users')).not.toBe(renamed.get('users'));
      expect(grown.get('tenant_info')).toBe(created.get('tenant_info'));

      // Renaming the tenant changes tenant_info only.
      await writer.createTenant({ id: tenant, name: 'Initech Corp' });
      const renamedTenant = await warehouse.tableVersions!(tenant);
      expect(renamedTenant.get('tenant_info')).not.toBe(created.get('tenant_info'));
      expect(renamedTenant.get('users')).toBe(grown.get('users'));

      // Nothing written to acme meanwhile.
      expect(await warehouse.tableVersions!('acme')).toEqual(acme);
    });

    test('unknown or malformed tenants are BAD_USER_INPUT, and hasTenant tells', async () => {
      await expect(warehouse.query('globex', eventsPerActor(DAYS[0], DAYS[0]))).rejects.toMatchObject({ extensions: { code: ErrorCode.BAD_USER_INPUT } });
      await expect(warehouse.query('../acme', eventsPerActor(DAYS[0], DAYS[0]))).rejects.toMatchObject({ extensions: { code: ErrorCode.BAD_USER_INPUT } });
      expect(await warehouse.hasTenant('acme')).toBe(true);
      expect(await warehouse.hasTenant('globex')).toBe(false);
      expect(await warehouse.hasTenant('../etc/passwd')).toBe(false);
    });
  });
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
