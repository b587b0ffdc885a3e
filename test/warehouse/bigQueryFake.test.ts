/**
 * The BigQuery fake's own contract, where the adapter's metadata reads and the bills of its writes
 * rely on it matching BigQuery: tables.get (lastModifiedTime moves with the table's content, and
 * only with it), PARTITIONS and `_partition_stats` filtered by table, and a script billed as the sum
 * of its statements. Driven with the real @google-cloud/bigquery client, as the adapter drives it.
 */
import type { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { MiB } from '../../common/units';
import { createBigQueryLoader } from '../../warehouse/bigquery/bigQueryLoader';
import { bigQueryClient } from '../../warehouse/bigquery/jobs';
import type { DatasetWriter } from '../../warehouse/datasetWriter';
import { withDatasetWriter } from '../../warehouse/duckdb/datasetFiles';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { createTenantDataset, ingestEvents, upsertUsers } from '../../warehouse/duckdb/tenantDataset';
import { leafColumns, ssoEvents } from '../../pricing/tables';
import type { LogEvent } from '../../okta/logEvent';
import { type BigQueryFake, startBigQueryFake } from './bigQueryFake';
import { DAYS, expectedBytes, fixture, ndjson, people, tempDataDir } from './fixture';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'test-project';
const PREFIX = 'bytegate';
const DATASET = `${PREFIX}_acme`;
const TABLE_IDS = ['sso_events', 'productivity_daily', 'app_usage_daily', 'users', 'tenant_info', '_partition_stats'] as const;

interface Started {
  fake: BigQueryFake;
  client: BigQuery;
  loader: DatasetWriter;
  dataDir: string;
  events: LogEvent[];
  close(): Promise<void>;
}

/** The fixture written by the DuckDB writer, served by the fake; the client and loader on it. */
async function start(): Promise<Started> {
  const data = fixture();
  const { dataDir, remove } = tempDataDir();
  await createTenantDataset(dataDir, data.tenant);
  await upsertUsers(dataDir, data.tenant.id, data.users);
  await ingestEvents(dataDir, data.tenant.id, ndjson(data.events));
  const fake = await startBigQueryFake({ dataDir, projectId: PROJECT, datasetPrefix: PREFIX });
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test' });
  const client = bigQueryClient({ projectId: PROJECT, location: 'US', apiEndpoint: fake.url, authClient });
  const loader = createBigQueryLoader({ client, projectId: PROJECT, location: 'US', datasetPrefix: PREFIX, version: '0.1.0', maxRetries: 0 });
  return { fake, client, loader, dataDir, events: data.events, close: async () => { await fake.close(); remove(); } };
}

interface TableMetadata {
  lastModifiedTime: string;
  creationTime: string;
  numRows: string;
  numBytes: string;
}

async function tableMetadata(client: BigQuery, table: string, dataset = DATASET): Promise<TableMetadata> {
  const [metadata] = await client.dataset(dataset).table(table).getMetadata();
  return metadata as TableMetadata;
}

/** lastModifiedTime of every served table, one tables.get each. */
async function lastModified(client: BigQuery): Promise<Record<string, string>> {
  const entries = [];
  for (const table of TABLE_IDS) entries.push([table, (await tableMetadata(client, table)).lastModifiedTime]);
  return Object.fromEntries(entries);
}

/** Events of known actors with new uuids on `day`. */
function newEvents(events: readonly LogEvent[], day: string, tag: string, count = 2): LogEvent[] {
  return events.slice(0, count).map((e, i) => ({ ...e, uuid: `${tag}-${i}`, published: `${day}T11:0${i}:00.000Z` }));
}

/** The job statistics of the last jobs.insert labelled `query` (jobs.get through the client). */
async function lastJobStatistics(started: Started, query: string): Promise<{ totalBytesProcessed?: string; totalBytesBilled?: string }> {
  const insert = started.fake.jobInserts().filter((r) => r.body.configuration.labels?.query === query).at(-1)!;
  const [metadata] = await started.client.job(insert.body.jobReference.jobId, { location: 'US' }).getMetadata();
  return metadata.statistics.query;
}

describe('tables.get', () => {
  let started: Started;
  beforeEach(async () => {
    started = await start();
  });
  afterEach(() => started.close());

  test('the same lastModifiedTime while nothing is written; numRows and numBytes from the statistics', async () => {
    const first = await lastModified(started.client);
    expect(await lastModified(started.client)).toEqual(first);
    for (const table of TABLE_IDS) expect(Number(first[table])).toBeGreaterThan(Date.parse('2025-01-01'));

    const gets = started.fake.tableGets();
    expect(gets).toHaveLength(2 * TABLE_IDS.length);
    expect(gets[0]).toMatchObject({ method: 'GET', path: `/bigquery/v2/projects/${PROJECT}/datasets/${DATASET}/tables/sso_events`, query: { prettyPrint: 'false' } });

    const events = await tableMetadata(started.client, 'sso_events');
    expect(events.numRows).toBe(String(started.events.length));
    // Every leaf column's logical bytes, computed from the events in JavaScript.
    expect(events.numBytes).toBe(String(leafColumns(ssoEvents).reduce((sum, leaf) => sum + expectedBytes(started.events, leaf.path), 0)));
    const actorDays = new Set(started.events.map((e) => `${e.actor.id} ${e.published.slice(0, 10)}`));
    expect((await tableMetadata(started.client, 'productivity_daily')).numRows).toBe(String(actorDays.size));
    expect((await tableMetadata(started.client, 'users')).numRows).toBe(String(people.length));
    expect((await tableMetadata(started.client, 'tenant_info')).numRows).toBe('1');
    const duck = createDuckDbWarehouse({ dataDir: started.dataDir });
    try {
      const { rows } = await duck.query<{ n: number }>('acme', { name: 'count', params: {}, sql: () => 'SELECT count(*) AS n FROM _partition_stats' });
      expect((await tableMetadata(started.client, '_partition_stats')).numRows).toBe(String(rows[0].n));
    } finally {
      await duck.close();
    }
  });

  test('an ingest through the loader moves sso_events, productivity_daily and _partition_stats; known actors leave users and tenant_info', async () => {
    const before = await lastModified(started.client);
    const report = await started.loader.ingestEvents('acme', ndjson(newEvents(started.events, DAYS[1], 'later')));
    expect(report.accepted).toBe(2);
    const after = await lastModified(started.client);
    for (const table of ['sso_events', 'productivity_daily', '_partition_stats']) expect(Number(after[table])).toBeGreaterThan(Number(before[table]));
    expect(after.users).toBe(before.users);
    expect(after.tenant_info).toBe(before.tenant_info);
    expect((await tableMetadata(started.client, 'sso_events')).numRows).toBe(String(started.events.length + 2));

    // A replay changes no row: nothing moves.
    await started.loader.ingestEvents('acme', ndjson(newEvents(started.events, DAYS[1], 'later')));
    const replayed = await lastModified(started.client);
    for (const table of ['sso_events', 'productivity_daily', 'users', 'tenant_info']) expect(replayed[table]).toBe(after[table]);
  });

  test('upsertUsers moves users and _partition_stats only, even when no size changes', async () => {
    const before = await lastModified(started.client);
    await started.loader.upsertUsers('acme', [{ ...people[0], title: 'COO' }]); // was CEO: same rows, same bytes
    const after = await lastModified(started.client);
    for (const table of ['users', '_partition_stats']) expect(Number(after[table])).toBeGreaterThan(Number(before[table]));
    for (const table of ['sso_events', 'productivity_daily', 'tenant_info']) expect(after[table]).toBe(before[table]);

    await started.loader.upsertUsers('acme', [{ ...people[3], id: '00unew', email: 'new@acme.example.com' }]);
    const grown = await tableMetadata(started.client, 'users');
    expect(Number(grown.lastModifiedTime)).toBeGreaterThan(Number(after.users));
    expect(grown.numRows).toBe(String(people.length + 1));
  });

  test('a write by the DuckDB writer straight into the dataset file moves the table it wrote', async () => {
    const before = await lastModified(started.client);
    await upsertUsers(started.dataDir, 'acme', people); // the same people: only the table version tells
    const after = await lastModified(started.client);
    expect(Number(after.users)).toBeGreaterThan(Number(before.users));
    for (const table of ['sso_events', 'productivity_daily', 'tenant_info']) expect(after[table]).toBe(before[table]);
  });

  test('404 notFound for an unknown table and an unknown dataset', async () => {
    await expect(tableMetadata(started.client, 'nope')).rejects.toMatchObject({ code: 404, errors: [{ reason: 'notFound' }] });
    await expect(tableMetadata(started.client, 'sso_events', `${PREFIX}_nobody`)).rejects.toMatchObject({ code: 404, errors: [{ reason: 'notFound' }] });
  });
});

describe('metadata queries filtered by table', () => {
  let started: Started;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(() => started.close());

  /** A metadata job as the adapter sends it: the `tables` parameter when given, labelled `label`. */
  async function metadataRows(label: string, sql: string, tables?: string[]): Promise<Record<string, unknown>[]> {
    const [job] = await started.client.createQueryJob({
      query: sql, useLegacySql: false, location: 'US', labels: { tenant: 'acme', query: label },
      ...(tables ? { params: { tables }, types: { tables: ['STRING'] } } : {}),
    });
    const [rows] = await job.getQueryResults();
    return rows;
  }

  const PARTITIONS = `SELECT p.table_name, p.partition_id, p.total_rows, p.total_logical_bytes, CAST(UNIX_MICROS(p.last_modified_time) AS STRING) AS version
    FROM \`${PROJECT}.${DATASET}.INFORMATION_SCHEMA.PARTITIONS\` AS p`;
  const STATS = `SELECT s.table_name, s.day, s.column_path, s.logical_bytes FROM \`${PROJECT}.${DATASET}._partition_stats\` AS s`;
  const FILTER = (alias: string) => ` WHERE ${alias}.table_name IN UNNEST(@tables)`;

  test('INFORMATION_SCHEMA.PARTITIONS: the listed tables\' rows, or every table\'s; 10 MiB a job', async () => {
    const all = await metadataRows('partitions', PARTITIONS);
    expect(new Set(all.map((r) => r.table_name))).toEqual(new Set(TABLE_IDS));
    const some = await metadataRows('partitions', PARTITIONS + FILTER('p'), ['users', 'tenant_info']);
    expect(some).toEqual(all.filter((r) => r.table_name === 'users' || r.table_name === 'tenant_info'));
    expect(some).toHaveLength(2);
    expect(await metadataRows('partitions', PARTITIONS + FILTER('p'), [])).toEqual([]);
    expect(await lastJobStatistics(started, 'partitions')).toMatchObject({ totalBytesBilled: String(10 * MiB) });
  });

  test('_partition_stats: the listed tables\' rows, or every table\'s; 10 MiB a job', async () => {
    const all = await metadataRows('partitionstats', STATS);
    expect(new Set(all.map((r) => r.table_name))).toEqual(new Set(['sso_events', 'productivity_daily', 'app_usage_daily', 'users', 'tenant_info']));
    const events = await metadataRows('partitionstats', STATS + FILTER('s'), ['sso_events']);
    expect(events).toEqual(all.filter((r) => r.table_name === 'sso_events'));
    expect(events.length).toBe(leafColumns(ssoEvents).length * DAYS.length);
    expect(await lastJobStatistics(started, 'partitionstats')).toMatchObject({ totalBytesBilled: String(10 * MiB) });
  });

  test('_partition_stats: columns typed as selected (a DATE, or the STRING it is cast to)', async () => {
    const asDates = await metadataRows('partitionstats', STATS + FILTER('s'), ['sso_events']);
    expect(new Set(asDates.map((r) => JSON.stringify(r.day)))).toEqual(new Set(DAYS.map((day) => JSON.stringify({ value: day })))); // the client's BigQueryDate
    const cast = `SELECT s.table_name, CAST(s.day AS STRING) AS day, s.column_path, s.logical_bytes FROM \`${PROJECT}.${DATASET}._partition_stats\` AS s`;
    const asStrings = await metadataRows('partitionstats', cast + FILTER('s'), ['sso_events']);
    expect(asStrings).toEqual(asDates.map((r) => ({ ...r, day: (r.day as { value: string }).value })));
    await expect(metadataRows('partitionstats', `SELECT MAX(s.day) AS day FROM \`${PROJECT}.${DATASET}._partition_stats\` AS s`)).rejects.toMatchObject({ code: 400 });
  });

  test('metadataQueries() lists the labelled metadata jobs, not the other queries', async () => {
    const before = started.fake.metadataQueries().length;
    await metadataRows('partitions', PARTITIONS);
    await metadataRows('countusers', `SELECT count(*) AS n FROM \`${PROJECT}.${DATASET}.users\` AS u`);
    await metadataRows('partitionstats', STATS + FILTER('s'), ['users']);
    expect(started.fake.metadataQueries().slice(before).map((r) => r.body.configuration.labels.query)).toEqual(['partitions', 'partitionstats']);
  });
});

describe('script bills', () => {
  let started: Started;
  beforeEach(async () => {
    started = await start();
  });
  afterEach(() => started.close());

  test('an ingest transaction bills whole MiB, at least 10 MiB per table-reading statement; its load job bills nothing', async () => {
    await started.loader.ingestEvents('acme', ndjson(newEvents(started.events, DAYS[0], 'bill')));
    const script = started.fake.jobInserts().filter((r) => r.body.configuration.labels?.query === 'ingestevents').at(-1)!.body.configuration.query.query as string;
    const reading = script.split(';\n').filter((statement) => /\b(FROM|USING)\s/i.test(statement));
    const bill = await lastJobStatistics(started, 'ingestevents');
    const billed = Number(bill.totalBytesBilled);
    expect(billed % MiB).toBe(0);
    expect(billed).toBeGreaterThanOrEqual(reading.length * 10 * MiB);
    // The dedupe reads the uuid column of the touched day (with its partitioning column).
    expect(Number(bill.totalBytesProcessed)).toBeGreaterThanOrEqual(expectedBytes(started.events.filter((e) => e.published.startsWith(DAYS[0])), 'uuid'));

    const [load] = started.fake.loads();
    const [loadJob] = await started.client.job(load.body.jobReference.jobId, { location: 'US' }).getMetadata();
    expect(loadJob.statistics).toEqual({ load: { outputRows: '2' } });

    await started.loader.upsertUsers('acme', [people[0]]);
    const users = Number((await lastJobStatistics(started, 'upsertusers')).totalBytesBilled);
    expect(users).toBeGreaterThan(0);
    expect(users % MiB).toBe(0);
  });

  test('the dedupe statement bills the uuid column of the touched days: inflating its recorded bytes raises the bill by exactly that', async () => {
    // Two batches of the same shape on one day: every table they touch holds far less than 10 MiB, so the first bills minimums only.
    await started.loader.ingestEvents('acme', ndjson(newEvents(started.events, DAYS[0], 'first')));
    const baseline = Number((await lastJobStatistics(started, 'ingestevents')).totalBytesBilled);

    const uuidBytes = 30 * MiB + 12_345;
    await withDatasetWriter(started.dataDir, 'acme', async (instance) => {
      const connection = await instance.connect();
      await connection.run(`UPDATE _partition_stats SET logical_bytes = ${uuidBytes} WHERE table_name = 'sso_events' AND column_path = 'uuid' AND day = DATE '${DAYS[0]}'`);
      connection.closeSync();
    });
    const duck = createDuckDbWarehouse({ dataDir: started.dataDir });
    const published = (await duck.partitionStats('acme')).find((s) => s.table === 'sso_events' && s.column === 'published' && s.day === DAYS[0])!.logicalBytes;
    await duck.close();

    await started.loader.ingestEvents('acme', ndjson(newEvents(started.events, DAYS[0], 'second')));
    const inflated = await lastJobStatistics(started, 'ingestevents');
    // uuid + published of the day, MiB-rounded, instead of the table's 10 MiB minimum.
    expect(Number(inflated.totalBytesBilled) - baseline).toBe(Math.ceil((uuidBytes + published) / MiB) * MiB - 10 * MiB);
    expect(Number(inflated.totalBytesProcessed)).toBeGreaterThan(uuidBytes);
  });
});
