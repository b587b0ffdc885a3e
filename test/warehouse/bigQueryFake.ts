/**
 * A contract fake of BigQuery's REST API at the HTTP edge, for the BigQuery adapter's tests: exactly
 * the calls @google-cloud/bigquery 8.3 makes for it (seen by logging them) —
 *   POST   /bigquery/v2/projects/P/jobs                     jobs.insert (runs the query at once, job DONE)
 *   POST   /upload/bigquery/v2/projects/P/jobs              jobs.insert of a load job, data attached (multipart)
 *   GET    /bigquery/v2/projects/P/queries/JOBID            jobs.getQueryResults
 *   GET    /bigquery/v2/projects/P/jobs/JOBID               jobs.get (statistics)
 *   POST   /bigquery/v2/projects/P/jobs/JOBID/cancel        jobs.cancel (a DONE job stays as it is, its bill too)
 *   GET    /bigquery/v2/projects/P/datasets/DS              datasets.get
 *   GET    /bigquery/v2/projects/P/datasets/DS/tables/T     tables.get (`?prettyPrint=false`; other query parameters ignored)
 *   POST   /bigquery/v2/projects/P/datasets/DS/tables       tables.insert (the loader's staging tables)
 *   DELETE /bigquery/v2/projects/P/datasets/DS/tables/T     tables.delete
 * Each dataset is a DuckDB database in `dataDir`, laid out as the DuckDB warehouse's. A SELECT is
 * translated from the GoogleSQL the BigQuery dialect emits back into the DuckDB dialect's SQL and run
 * on the DuckDB warehouse, so rows and processed/billed bytes are the same measurement as the DuckDB
 * adapter's (and its maxBytesBilled check stands in for BigQuery's). DML and scripts (the loader's
 * transactions) are translated the same way and run statement by statement on one read-write
 * connection, billed as the sum of their statements by BigQuery's DML rules (`scriptBill`: an upper
 * bound, each statement measured on the data as it was before the script ran); load jobs are free.
 * `CREATE SCHEMA` makes a database with every declared table. INFORMATION_SCHEMA.PARTITIONS is
 * answered from the recorded statistics (rows, logical bytes per partition; last_modified_time
 * stands for a fingerprint of both, and for an unpartitioned table also of every write to it), as is
 * `_partition_stats` (its columns typed as selected: `s.column`, `CAST(s.column AS type) AS name`);
 * either, filtered by `table_name IN UNNEST(@tables)`, keeps the listed tables' rows. tables.get
 * serves the declared tables and `_partition_stats` (`tableState`): numRows and numBytes from the
 * statistics, lastModifiedTime changing when the content does, and only then.
 * Every request is recorded; `fail` scripts faults.
 *
 * Fault injection for reliability tests (`inject`): rules that make matching requests slow (`delayMs`),
 * hang without an answer until the rule is removed (`hang`), or answer an error (`error`), for every
 * matching request or the next `times` of them — whatever their order among concurrent requests,
 * unlike `fail`, which counts jobs.insert calls. `isQueryJob` matches the jobs of the subgraphs' own
 * queries by name (not the statistics jobs that price them). `jobs.cancel` is answered and recorded.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DuckDBConnection, DuckDBTypeId } from '@duckdb/node-api';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../common/errors';
import { STATISTICS_TABLE } from '../../warehouse/bigquery/provision';
import { withDatasetWriter } from '../../warehouse/duckdb/datasetFiles';
import { createTableSql, quoteIdent } from '../../warehouse/duckdb/duckDbSchema';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import { toDuckDbValues } from '../../warehouse/duckdb/duckDbSql';
import { createEmptyDataset } from '../../warehouse/duckdb/tenantDataset';
import { MIN_BILLED_BYTES_PER_TABLE, scalarBytes } from '../../pricing/billing';
import type { PartitionStat } from '../../pricing/scanBytes';
import { TABLES, type FieldSchema, type ScalarType, type TableSchema } from '../../pricing/tables';
import { type JobBill, NOTHING_BILLED, type QueryParam } from '../../warehouse/warehouse';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON as the client sent it (a multipart upload: its JSON part)
  /** A multipart upload's data part. */
  upload?: string;
}

export interface Fault {
  status: number;
  reason: string;
  message?: string;
  /** Answer 200 with the job DONE and this error as its status.errorResult (how a job that ran and failed reports). */
  inJobStatus?: boolean;
}

/** A rule of `inject`: which requests, and what happens to them. */
export interface FaultRule {
  /** The requests it applies to (as recorded, body parsed); default every jobs.insert of a query job. */
  match?: (request: RecordedRequest) => boolean;
  /** Answer this much later (then served as usual, or with `error`). */
  delayMs?: number;
  /** Never answer while the rule is in force: removing it (or closing the fake) drops the connection. A delayed request is dropped by close() too. */
  hang?: boolean;
  /** Answer this error instead of serving the request (`inJobStatus`: a jobs.insert answered 200 with the job failed). */
  error?: Fault;
  /** Applies to this many matching requests, then retires; default all of them until removed. */
  times?: number;
}

export interface InjectedFault {
  /** Requests the rule has applied to so far. */
  readonly hits: RecordedRequest[];
  /** Requests held open by it right now (`hang`). */
  hanging(): number;
  /** Retires the rule; requests it holds open lose their connection, as from a server that went away. */
  remove(): void;
}

export interface BigQueryFake {
  /** e.g. http://127.0.0.1:PORT — the client's `apiEndpoint`. */
  readonly url: string;
  /** Where its datasets live (DuckDB databases, as the DuckDB warehouse lays them out). */
  readonly dataDir: string;
  readonly requests: RecordedRequest[];
  /** Every jobs.insert of a query job so far. */
  jobInserts(): RecordedRequest[];
  /** Every load job so far (their JSON configuration and data). */
  loads(): RecordedRequest[];
  /** Answers the n-th jobs.insert from now (1 = the next one) with this error instead of running it. */
  fail(n: number, fault: Fault): void;
  /** Slows, hangs or fails the requests `rule` matches until removed (the first matching rule applies). */
  inject(rule: FaultRule): InjectedFault;
  /** Removes every injected rule. */
  clearFaults(): void;
  /** Every jobs.cancel so far. */
  cancels(): RecordedRequest[];
  /** Every tables.get so far. */
  tableGets(): RecordedRequest[];
  /** Every jobs.insert of a metadata query (labelled `partitions` or `partitionstats`) so far. */
  metadataQueries(): RecordedRequest[];
  close(): Promise<void>;
}

interface SchemaField {
  name: string;
  type: 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'DATE';
}

interface FakeJob {
  id: string;
  configuration: unknown;
  fields: SchemaField[];
  rows: { f: { v: string | null }[] }[];
  processedBytes: number;
  billedBytes: number;
  /** A load job's rows loaded. */
  outputRows?: number;
  cacheHit?: boolean;
}

export interface BigQueryFakeOptions {
  dataDir: string;
  projectId: string;
  datasetPrefix: string;
  /**
   * BigQuery's query cache: the same query text and parameters over unchanged data (and no DML
   * since) is answered from the cache — cacheHit, 0 bytes processed and billed. Off by default, so
   * repeated queries measure the same as on DuckDB.
   */
  queryCache?: boolean;
}

export async function startBigQueryFake(options: BigQueryFakeOptions): Promise<BigQueryFake> {
  const { projectId, datasetPrefix } = options;
  const duck = createDuckDbWarehouse({ dataDir: options.dataDir });
  const requests: RecordedRequest[] = [];
  const jobs = new Map<string, FakeJob>();
  const faults = new Map<number, Fault>();
  const queryCache = new Map<string, { fields: SchemaField[]; rows: Record<string, unknown>[] }>();
  let inserts = 0;
  const base = `/bigquery/v2/projects/${projectId}`;
  const rules: { rule: FaultRule; fault: InjectedFault; remaining: number; held: Set<http.ServerResponse> }[] = [];
  /** Injected rules delay, hold or fail a request before it is routed. */
  const injected = async (recorded: RecordedRequest, res: http.ServerResponse): Promise<{ status: number; body: unknown } | 'held' | undefined> => {
    const entry = rules.find((r) => r.remaining > 0 && (r.rule.match ?? isQueryJob())(recorded));
    if (!entry) return undefined;
    entry.remaining--;
    entry.fault.hits.push(recorded);
    const { rule } = entry;
    if (rule.hang) {
      entry.held.add(res);
      res.on('close', () => entry.held.delete(res));
      return 'held';
    }
    if (rule.delayMs) {
      // Tracked, so close() does not wait for (or answer after) a delay it cut short.
      entry.held.add(res);
      const arrived = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), rule.delayMs);
        res.on('close', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      entry.held.delete(res);
      if (!arrived) return 'held';
    }
    if (rule.error) return faultAnswer(recorded.body as JobInsertBody | undefined, rule.error, `job_fault_${entry.fault.hits.length}`);
    return undefined;
  };
  const dropHeld = (held: Set<http.ServerResponse>) => {
    for (const res of held) res.destroy();
    held.clear();
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      const { json, upload } = parseBody(String(req.headers['content-type'] ?? ''), text);
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: json, upload,
      };
      requests.push(recorded);
      (rules.length === 0 ? route(recorded) : injected(recorded, res).then((answer) => (answer === 'held' ? undefined : answer ?? route(recorded)))).then(
        (answer) => answer && reply(res, answer.status, answer.body),
        (error: unknown) => { if (process.env.FAKE_DEBUG) console.error(error); reply(res, 500, errorBody(500, 'internalError', String(error))); },
      );
    });
  });

  async function route(r: RecordedRequest): Promise<{ status: number; body: unknown }> {
    if (r.method === 'POST' && r.path === `${base}/jobs`) return insertJob(r.body);
    if (r.method === 'POST' && r.path === `/upload${base}/jobs`) return loadJob(r.body, r.upload ?? '');
    let table = new RegExp(`^${base}/datasets/([^/]+)/tables(?:/([^/]+))?$`).exec(r.path);
    if (table) {
      const tenant = tenantOf(table[1]);
      if (tenant === undefined || !(await duck.hasTenant(tenant))) return notFound(`Dataset ${projectId}:${table[1]}`);
      if (r.method === 'POST' && !table[2]) return createTable(tenant, r.body);
      if (r.method === 'GET' && table[2]) return getTable(tenant, table[1], table[2]);
      if (r.method === 'DELETE' && table[2]) {
        await write(tenant, (connection) => connection.run(`DROP TABLE IF EXISTS ${quoteIdent(table![2])}`));
        return { status: 204, body: undefined };
      }
    }
    let match = new RegExp(`^${base}/queries/([^/]+)$`).exec(r.path);
    if (r.method === 'GET' && match) {
      const job = jobs.get(match[1]);
      if (!job) return notFound(`Job ${projectId}:${match[1]}`);
      return {
        status: 200,
        body: {
          kind: 'bigquery#getQueryResultsResponse', jobReference: { projectId, jobId: job.id, location: 'US' },
          schema: { fields: job.fields.map((f) => ({ ...f, mode: 'NULLABLE' })) }, rows: job.rows, totalRows: String(job.rows.length),
          jobComplete: true, totalBytesProcessed: String(job.processedBytes), cacheHit: job.cacheHit === true,
        },
      };
    }
    match = new RegExp(`^${base}/jobs/([^/]+)/cancel$`).exec(r.path);
    if (r.method === 'POST' && match) {
      const job = jobs.get(match[1]);
      return job ? { status: 200, body: { kind: 'bigquery#jobCancelResponse', job: jobResource(job) } } : notFound(`Job ${projectId}:${match[1]}`);
    }
    match = new RegExp(`^${base}/jobs/([^/]+)$`).exec(r.path);
    if (r.method === 'GET' && match) {
      const job = jobs.get(match[1]);
      return job ? { status: 200, body: jobResource(job) } : notFound(`Job ${projectId}:${match[1]}`);
    }
    match = new RegExp(`^${base}/datasets/([^/]+)$`).exec(r.path);
    if (r.method === 'GET' && match) {
      const tenant = tenantOf(match[1]);
      if (tenant === undefined || !(await duck.hasTenant(tenant))) return notFound(`Dataset ${projectId}:${match[1]}`);
      return { status: 200, body: { kind: 'bigquery#dataset', id: `${projectId}:${match[1]}`, datasetReference: { projectId, datasetId: match[1] }, location: 'US' } };
    }
    // Not 404: an unimplemented call must not pass for an unknown tenant.
    return { status: 400, body: errorBody(400, 'fakeNotImplemented', `The fake does not implement ${r.method} ${r.path}`) };
  }

  async function insertJob(body: JobInsertBody): Promise<{ status: number; body: unknown }> {
    inserts++;
    const fault = faults.get(inserts);
    if (fault) {
      faults.delete(inserts);
      return faultAnswer(body, fault, `job_${inserts}`);
    }
    const id = body.jobReference?.jobId ?? `job_${inserts}`;
    const query = body.configuration.query;
    if (/^\s*CREATE\s/i.test(query.query)) return runDdl(id, body, query.query);
    const params = fromQueryParameters(query.queryParameters ?? []);
    const references = [...query.query.matchAll(/`([\w-]+)\.(\w+)\.([\w.]+)`/g)];
    const datasets = new Set(references.map((m) => m[2]));
    if (references.some((m) => m[1] !== projectId) || datasets.size !== 1) {
      return { status: 400, body: errorBody(400, 'invalidQuery', 'The fake expects every table as `project.dataset.table` of one dataset.') };
    }
    const dataset = [...datasets][0];
    const tenant = tenantOf(dataset);
    if (tenant === undefined) return notFound(`Dataset ${projectId}:${dataset}`);
    if (body.configuration.dryRun) {
      // A dry run: statistics only (processed bytes and the tables read), nothing executed or billed.
      const { processedBytes } = await duck.dryRun(tenant, { name: 'fake', sql: () => toDuckDbSql(query.query, params), params });
      const referencedTables = [...new Set(references.map((m) => m[3]))].map((tableId) => ({ projectId, datasetId: dataset, tableId }));
      return {
        status: 200,
        body: {
          kind: 'bigquery#job', jobReference: { projectId, location: 'US' }, configuration: body.configuration, status: { state: 'DONE' },
          statistics: { totalBytesProcessed: String(processedBytes), query: { totalBytesProcessed: String(processedBytes), referencedTables } },
        },
      };
    }
    try {
      let result: { fields: SchemaField[]; rows: Record<string, unknown>[]; processedBytes: number; billedBytes: number; cacheHit?: boolean };
      if (/^\s*(BEGIN|INSERT|DELETE|UPDATE|MERGE)\b/i.test(query.query)) {
        const bill = await scriptBill(tenant, query.query, params);
        const { written, ...answer } = await write(tenant, (connection) => runScript(connection, query.query, params));
        for (const table of written) modified(tenant, table);
        result = { ...answer, ...bill };
      } else if (/\.INFORMATION_SCHEMA\.PARTITIONS`/.test(query.query)) {
        const keep = tableFilter(query.query, params);
        const all = await partitions(tenant);
        result = { fields: all.fields, rows: all.rows.filter((row) => keep(String(row.table_name))), processedBytes: 0, billedBytes: 10 * 1024 * 1024 };
      } else if (new RegExp(`\\.${STATISTICS_TABLE.name}\``).test(query.query)) {
        const columns = statisticsColumns(query.query);
        if (!columns) return { status: 400, body: errorBody(400, 'fakeNotImplemented', `The fake selects columns of ${STATISTICS_TABLE.name} as s.column or CAST(s.column AS type) AS name only`) };
        const keep = tableFilter(query.query, params);
        const stats = (await duck.partitionStats(tenant)).filter((s) => keep(s.table)).map(statisticsRow);
        result = {
          fields: columns.map(({ name, type }) => ({ name, type })),
          rows: stats.map((row) => Object.fromEntries(columns.map((c) => [c.name, row[c.column]]))),
          processedBytes: 0, billedBytes: 10 * 1024 * 1024,
        };
      } else {
        const sql = toDuckDbSql(query.query, params);
        const limit = query.maximumBytesBilled === undefined ? undefined : Number(query.maximumBytesBilled);
        const cacheKey = options.queryCache ? JSON.stringify([tenant, query.query, query.queryParameters, (await partitions(tenant)).rows]) : undefined;
        const cached = cacheKey === undefined ? undefined : queryCache.get(cacheKey);
        if (cached) {
          result = { ...cached, processedBytes: 0, billedBytes: 0, cacheHit: true };
        } else {
          const out = await duck.query<Record<string, unknown>>(tenant, { name: 'fake', sql: () => sql, params, maxBytesBilled: limit });
          result = { fields: inferSchema(out.rows), rows: out.rows, processedBytes: out.processedBytes, billedBytes: out.billedBytes };
          if (cacheKey !== undefined) queryCache.set(cacheKey, result);
        }
      }
      const job: FakeJob = {
        id, configuration: body.configuration, fields: result.fields, processedBytes: result.processedBytes, billedBytes: result.billedBytes, cacheHit: result.cacheHit === true,
        rows: result.rows.map((row) => ({ f: result.fields.map((f) => ({ v: encode(row[f.name], f.type) })) })),
      };
      jobs.set(id, job);
      return { status: 200, body: jobResource(job) };
    } catch (error) {
      const code = error instanceof GraphQLError ? error.extensions.code : undefined;
      if (code === ErrorCode.QUERY_TOO_EXPENSIVE) {
        const { billedBytes, limitBytes } = (error as GraphQLError).extensions as { billedBytes: number; limitBytes: number };
        return { status: 400, body: errorBody(400, 'bytesBilledLimitExceeded', `Query exceeded limit for bytes billed: ${limitBytes}. ${billedBytes} or higher required.`) };
      }
      if (code === ErrorCode.BAD_USER_INPUT) return notFound(`Dataset ${projectId}:${dataset}`);
      return { status: 400, body: errorBody(400, 'invalidQuery', error instanceof Error ? error.message : String(error)) };
    }
  }

  /** A scripted fault as BigQuery answers it: an HTTP error, or (inJobStatus) the job DONE with this error. */
  function faultAnswer(body: JobInsertBody | undefined, fault: Fault, jobId: string): { status: number; body: unknown } {
    const message = fault.message ?? `Scripted ${fault.reason}`;
    if (fault.inJobStatus) {
      const error = { reason: fault.reason, message };
      const jobReference = { projectId, jobId: body?.jobReference?.jobId ?? jobId, location: 'US' };
      return { status: 200, body: { kind: 'bigquery#job', jobReference, configuration: body?.configuration, status: { state: 'DONE', errorResult: error, errors: [error] } } };
    }
    return { status: fault.status, body: errorBody(fault.status, fault.reason, message) };
  }

  /** Runs `use` on the tenant's database opened read-write (the DuckDB warehouse's readers step aside). */
  function write<T>(tenant: string, use: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return withDatasetWriter(options.dataDir, tenant, async (instance) => {
      const connection = await instance.connect();
      try {
        return await use(connection);
      } finally {
        connection.closeSync();
      }
    });
  }

  /** CREATE SCHEMA makes the dataset with every declared table; CREATE TABLE of a declared table is then a no-op. */
  async function runDdl(id: string, body: JobInsertBody, sql: string): Promise<{ status: number; body: unknown }> {
    const schema = /^\s*CREATE SCHEMA IF NOT EXISTS `([^`.]+)\.([^`.]+)`/i.exec(sql);
    const table = /^\s*CREATE TABLE IF NOT EXISTS `([^`.]+)\.([^`.]+)\.([^`]+)`/i.exec(sql);
    const tenant = tenantOf((schema ?? table)?.[2] ?? '');
    if (tenant === undefined || (schema ?? table)![1] !== projectId) return { status: 400, body: errorBody(400, 'invalidQuery', 'The fake expects DDL on `project.dataset[.table]` of this project.') };
    if (schema) await createEmptyDataset(options.dataDir, tenant);
    else if (!(table![3] in TABLES) && table![3] !== STATISTICS_TABLE.name) return { status: 400, body: errorBody(400, 'fakeNotImplemented', `The fake creates declared tables only, not ${table![3]}`) };
    else if (!(await duck.hasTenant(tenant))) return notFound(`Dataset ${projectId}:${table![2]}`);
    const job: FakeJob = { id, configuration: body.configuration, fields: [], rows: [], processedBytes: 0, billedBytes: 0 };
    jobs.set(id, job);
    return { status: 200, body: jobResource(job) };
  }

  async function createTable(tenant: string, body: { tableReference: { tableId: string }; schema: { fields: { name: string; type: string; mode?: string; fields?: object[] }[] } }): Promise<{ status: number; body: unknown }> {
    await write(tenant, (connection) => connection.run(createTableSql({ name: body.tableReference.tableId, fields: body.schema.fields.map(fromRestField) }).replace('IF NOT EXISTS ', '')));
    return { status: 200, body: { kind: 'bigquery#table', ...body } };
  }

  /** A load job: newline-delimited JSON into an existing table (CREATE_NEVER), replacing or appending. */
  async function loadJob(body: LoadJobBody, data: string): Promise<{ status: number; body: unknown }> {
    const load = body.configuration.load;
    const { datasetId, tableId } = load.destinationTable;
    const tenant = tenantOf(datasetId);
    if (tenant === undefined || !(await duck.hasTenant(tenant))) return notFound(`Dataset ${projectId}:${datasetId}`);
    if (load.sourceFormat !== 'NEWLINE_DELIMITED_JSON') return { status: 400, body: errorBody(400, 'fakeNotImplemented', `The fake loads NEWLINE_DELIMITED_JSON only, not ${load.sourceFormat}`) };
    const id = body.jobReference?.jobId ?? `load_${jobs.size + 1}`;
    const rows = await write(tenant, async (connection) => {
      const columns = await connection.runAndReadAll(`SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t ORDER BY column_index`, { t: tableId });
      if (columns.getRows().length === 0) throw new Error(`Not found: Table ${projectId}:${datasetId}.${tableId}`);
      const structure = `{${columns.getRows().map(([name, type]) => `${JSON.stringify(String(name))}: ${JSON.stringify(String(type))}`).join(', ')}}`;
      if (load.writeDisposition === 'WRITE_TRUNCATE') await connection.run(`DELETE FROM ${quoteIdent(tableId)}`);
      await connection.run(`CREATE OR REPLACE TEMP TABLE upload (line VARCHAR)`);
      const appender = await connection.createAppender('upload', 'main', 'temp');
      for (const line of data.split('\n')) if (line.trim()) { appender.appendVarchar(line); appender.endRow(); }
      appender.closeSync();
      const inserted = await connection.runAndReadAll(`INSERT INTO ${quoteIdent(tableId)} BY NAME SELECT unnest(from_json(line, '${structure.replace(/'/g, "''")}')) FROM upload`);
      return Number(inserted.getRows()[0][0]);
    });
    if (rows > 0 || load.writeDisposition === 'WRITE_TRUNCATE') modified(tenant, tableId);
    const job: FakeJob = { id, configuration: body.configuration, fields: [], rows: [], processedBytes: 0, billedBytes: 0, outputRows: rows };
    jobs.set(id, job);
    return { status: 200, body: jobResource(job) };
  }

  /**
   * When each table was last written through this fake (DML that changed rows, load jobs), µs;
   * strictly increasing, so two writes in one millisecond still differ.
   */
  const lastModified = new Map<string, bigint>();
  let clockMicros = 0n;
  function modified(tenant: string, table: string): void {
    clockMicros = BigInt(Date.now()) * 1000n > clockMicros ? BigInt(Date.now()) * 1000n : clockMicros + 1n;
    lastModified.set(`${tenant}.${table}`, clockMicros);
  }

  /**
   * INFORMATION_SCHEMA.PARTITIONS of every declared table, from the recorded statistics. A day
   * partition's last_modified_time stands for a fingerprint of its rows and bytes; an unpartitioned
   * table's also changes with every write to it, even one that keeps its size: through this fake
   * (`lastModified`), or by the DuckDB writer straight into the dataset's file (its table versions).
   */
  async function partitions(tenant: string): Promise<{ fields: SchemaField[]; rows: Record<string, unknown>[] }> {
    const written = await duck.tableVersions!(tenant);
    const totals = new Map<string, { table: string; day: string | null; rows: number; bytes: number }>();
    for (const stat of await duck.partitionStats(tenant)) {
      const key = `${stat.table}|${stat.day}`;
      const total = totals.get(key) ?? { table: stat.table, day: stat.day, rows: stat.rows, bytes: 0 };
      total.bytes += stat.logicalBytes;
      totals.set(key, total);
    }
    return {
      fields: [
        { name: 'table_name', type: 'STRING' }, { name: 'partition_id', type: 'STRING' }, { name: 'total_rows', type: 'INT64' },
        { name: 'total_logical_bytes', type: 'INT64' }, { name: 'version', type: 'STRING' },
      ],
      rows: [...totals.values()].map((t) => ({
        table_name: t.table, partition_id: t.day === null ? null : t.day.replace(/-/g, ''), total_rows: t.rows, total_logical_bytes: t.bytes,
        version: BigInt(`0x${createHash('sha256').update(t.day === null
          ? `${t.rows}:${t.bytes}:${written.get(t.table) ?? ''}:${lastModified.get(`${tenant}.${t.table}`) ?? ''}`
          : `${t.rows}:${t.bytes}`).digest('hex').slice(0, 12)}`).toString(),
      })).concat([
        // As BigQuery lists them too: an (empty) streaming buffer, and the statistics table itself.
        { table_name: 'sso_events', partition_id: '__UNPARTITIONED__', total_rows: 0, total_logical_bytes: 0, version: '1' },
        { table_name: STATISTICS_TABLE.name, partition_id: null, total_rows: totals.size, total_logical_bytes: 1000, version: '1' },
      ]),
    };
  }

  /**
   * What a script (or one DML statement) bills: the sum of its statements' bills, each measured on
   * the data as it is before the script runs — an upper bound, as BigQuery measures a statement when
   * it runs, after the earlier ones wrote. A statement processes what its reads (`statementReads`)
   * process, measured as the DuckDB adapter measures a query (declared tables only), and bills
   * that, MiB-rounded, with at least 10 MiB for every table it reads, the tables measured as 0
   * included (temp and staging tables, `_partition_stats`: not declared, their size unknown here).
   * A read the parse-tree analysis cannot measure, and a statement form `statementReads` does not
   * know (UPDATE), bill that minimum for each table they name.
   * https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax#on-demand_query_size_calculation
   */
  async function scriptBill(tenant: string, script: string, params: Record<string, QueryParam>): Promise<JobBill> {
    let processedBytes = 0;
    let billedBytes = 0;
    for (const statement of statementsOf(script)) {
      const sql = toDuckDbSql(statement, params);
      const reads = statementReads(sql);
      const tables = new Set((reads ?? [sql]).flatMap(tablesNamed));
      const measured = new Set<string>();
      for (const read of reads ?? []) {
        const declared = tablesNamed(read).filter((table) => Object.hasOwn(TABLES, table));
        if (declared.length === 0) continue;
        const bill = await duck.dryRun(tenant, { name: 'fake', sql: () => read, params }).catch((error: unknown) => {
          if (error instanceof GraphQLError) throw error; // an unknown dataset, a writer holding it too long
          return NOTHING_BILLED;
        });
        processedBytes += bill.processedBytes;
        billedBytes += bill.billedBytes;
        if (bill.processedBytes > 0) for (const table of declared) measured.add(table);
      }
      billedBytes += [...tables].filter((table) => !measured.has(table)).length * MIN_BILLED_BYTES_PER_TABLE;
    }
    return { processedBytes, billedBytes };
  }

  /** Per table read by tables.get: a fingerprint of its content, when the fake first saw it and when it last saw the content change. */
  const tableStates = new Map<string, { fingerprint: string; createdMs: number; modifiedMs: number }>();
  /** tables.get answers one at a time, so a later read never sees an older state than an earlier one. */
  let tableReads: Promise<unknown> = Promise.resolve();

  /** tables.get of a declared table or `_partition_stats`; the loader's staging tables are not served. */
  async function getTable(tenant: string, dataset: string, tableId: string): Promise<{ status: number; body: unknown }> {
    const table = tableId === STATISTICS_TABLE.name ? STATISTICS_TABLE : Object.hasOwn(TABLES, tableId) ? TABLES[tableId] : undefined;
    if (!table) {
      return tableId.startsWith('_load_')
        ? { status: 400, body: errorBody(400, 'fakeNotImplemented', `The fake serves tables.get of declared tables only, not ${tableId}`) }
        : notFound(`Table ${projectId}:${dataset}.${tableId}`);
    }
    const read = tableReads.then(() => tableState(tenant, table));
    tableReads = read.catch(() => undefined);
    const state = await read;
    return {
      status: 200,
      body: {
        kind: 'bigquery#table', id: `${projectId}:${dataset}.${table.name}`, tableReference: { projectId, datasetId: dataset, tableId: table.name },
        type: 'TABLE', location: 'US', creationTime: String(state.createdMs), lastModifiedTime: String(state.modifiedMs),
        numRows: String(state.numRows), numBytes: String(state.numBytes), schema: { fields: table.fields.map(toRestField) },
        ...(table.partitionBy ? { timePartitioning: { type: 'DAY', field: table.partitionBy.column } } : {}),
        ...(table.clusterBy ? { clustering: { fields: [...table.clusterBy] } } : {}),
      },
    };
  }

  /**
   * A table's rows and logical bytes from the recorded statistics (`_partition_stats`: its own rows,
   * sized by BigQuery's rules), and its last modification in ms: it moves on (never back, never to
   * an earlier ms) when the table's fingerprint changed since the last tables.get. The fingerprint
   * covers its partitions' rows and bytes, what this fake wrote to it (`lastModified`) and, for a
   * write by the DuckDB writer straight into the dataset's file, its day versions (partitioned) or
   * its table version (unpartitioned); `_partition_stats`' covers all its rows. The DuckDB warehouse
   * reopens a file that changed, so each read sees the latest write, as `partitions` does.
   */
  async function tableState(tenant: string, table: TableSchema): Promise<{ createdMs: number; modifiedMs: number; numRows: number; numBytes: number }> {
    const stats = await duck.partitionStats(tenant);
    const key = `${tenant}.${table.name}`;
    let numRows = 0;
    let numBytes = 0;
    let content: unknown;
    if (table === STATISTICS_TABLE) {
      const rows = stats.map(statisticsRow);
      numRows = rows.length;
      numBytes = rows.reduce((sum, row) => sum + table.fields.reduce((bytes, f) => bytes + scalarBytes(f.type as ScalarType, row[f.name]), 0), 0);
      content = rows.map((row) => JSON.stringify(row)).sort();
    } else {
      const own = stats.filter((s) => s.table === table.name);
      const partitionRows = new Map(own.map((s) => [s.day, s.rows])); // every column of a partition records its rows
      for (const rows of partitionRows.values()) numRows += rows;
      for (const stat of own) numBytes += stat.logicalBytes;
      const versions = table.partitionBy ? [...(await duck.dataVersions(tenant))].sort() : (await duck.tableVersions(tenant)).get(table.name);
      content = [own.map((s) => `${s.day} ${s.column} ${s.rows} ${s.logicalBytes}`).sort(), versions];
    }
    const fingerprint = JSON.stringify([content, String(lastModified.get(key) ?? '')]);
    const known = tableStates.get(key);
    const now = Date.now();
    const state = !known ? { fingerprint, createdMs: now, modifiedMs: now }
      : known.fingerprint === fingerprint ? known
        : { fingerprint, createdMs: known.createdMs, modifiedMs: Math.max(now, known.modifiedMs + 1) };
    tableStates.set(key, state);
    return { createdMs: state.createdMs, modifiedMs: state.modifiedMs, numRows, numBytes };
  }

  function jobResource(job: FakeJob): unknown {
    const statistics = { totalBytesProcessed: String(job.processedBytes), totalBytesBilled: String(job.billedBytes), cacheHit: job.cacheHit === true };
    return {
      kind: 'bigquery#job', id: `${projectId}:US.${job.id}`, jobReference: { projectId, jobId: job.id, location: 'US' },
      configuration: job.configuration, status: { state: 'DONE' },
      statistics: job.outputRows === undefined
        ? { totalBytesProcessed: statistics.totalBytesProcessed, query: statistics }
        : { load: { outputRows: String(job.outputRows) } },
    };
  }

  function tenantOf(dataset: string): string | undefined {
    return dataset.startsWith(`${datasetPrefix}_`) ? dataset.slice(datasetPrefix.length + 1) : undefined;
  }

  function notFound(what: string) {
    return { status: 404, body: errorBody(404, 'notFound', `Not found: ${what} was not found in location US`) };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir: options.dataDir,
    requests,
    jobInserts: () => requests.filter((r) => r.method === 'POST' && r.path === `${base}/jobs`),
    loads: () => requests.filter((r) => r.method === 'POST' && r.path === `/upload${base}/jobs`),
    fail(n, fault) {
      faults.set(inserts + n, fault);
    },
    inject(rule) {
      const held = new Set<http.ServerResponse>();
      const fault: InjectedFault = {
        hits: [],
        hanging: () => (rule.hang ? held.size : 0),
        remove() {
          const at = rules.findIndex((r) => r.fault === fault);
          if (at >= 0) rules.splice(at, 1);
          if (rule.hang) dropHeld(held);
        },
      };
      rules.push({ rule, fault, remaining: rule.times ?? Infinity, held });
      return fault;
    },
    clearFaults() {
      for (const { fault } of [...rules]) fault.remove();
    },
    cancels: () => requests.filter((r) => r.method === 'POST' && /\/jobs\/[^/]+\/cancel$/.test(r.path)),
    tableGets: () => requests.filter((r) => r.method === 'GET' && new RegExp(`^${base}/datasets/[^/]+/tables/[^/]+$`).test(r.path)),
    metadataQueries: () => requests.filter((r) => r.method === 'POST' && r.path === `${base}/jobs` && METADATA_QUERIES.includes(r.body?.configuration?.labels?.query)),
    async close() {
      for (const { held } of rules.splice(0)) dropHeld(held);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await duck.close();
    },
  };
}

/**
 * Matches the jobs.insert of the query jobs with these names (the `query` label the BigQuery adapter
 * sets: topTimeWasters, usersPage, …); with none, every labelled query job except the statistics ones
 * that price operations (partitions, partitionStats). Dry runs carry no label and never match.
 */
export function isQueryJob(...names: string[]): (request: RecordedRequest) => boolean {
  return (request) => {
    if (request.method !== 'POST' || !/^\/bigquery\/v2\/projects\/[^/]+\/jobs$/.test(request.path)) return false;
    const label = request.body?.configuration?.labels?.query;
    if (typeof label !== 'string' || request.body?.configuration?.dryRun) return false;
    return names.length > 0 ? names.map((n) => n.toLowerCase()).includes(label) : !METADATA_QUERIES.includes(label);
  };
}

/**
 * Matches getQueryResults of the jobs `isQueryJob(...names)` matches — a job that runs long rather
 * than an API that does not answer: its insert succeeded (and ran), its results come late or never.
 */
export function isQueryResults(fake: Pick<BigQueryFake, 'requests'>, ...names: string[]): (request: RecordedRequest) => boolean {
  return isGetOfJob(fake, /^\/bigquery\/v2\/projects\/[^/]+\/queries\/([^/]+)$/, names);
}

/** Matches jobs.get of the jobs `isQueryJob(...names)` matches: a job whose statistics come late or never. */
export function isJobGet(fake: Pick<BigQueryFake, 'requests'>, ...names: string[]): (request: RecordedRequest) => boolean {
  return isGetOfJob(fake, /^\/bigquery\/v2\/projects\/[^/]+\/jobs\/([^/]+)$/, names);
}

// Private:

/** The `query` labels of the BigQuery adapter's metadata jobs (PARTITIONS, `_partition_stats`). */
const METADATA_QUERIES = ['partitions', 'partitionstats'];

/** A GET of `path` (its group: the job id) for a job whose insert `isQueryJob(...names)` matched. */
function isGetOfJob(fake: Pick<BigQueryFake, 'requests'>, path: RegExp, names: string[]): (request: RecordedRequest) => boolean {
  const job = isQueryJob(...names);
  return (request) => {
    const id = path.exec(request.path)?.[1];
    if (request.method !== 'GET' || id === undefined) return false;
    return fake.requests.some((r) => job(r) && r.body?.jobReference?.jobId === id);
  };
}

interface JobInsertBody {
  jobReference?: { jobId?: string };
  configuration: { dryRun?: boolean; query: { query: string; maximumBytesBilled?: string; queryParameters?: BigQueryParameter[] } };
}

interface LoadJobBody {
  jobReference?: { jobId?: string };
  configuration: { load: { destinationTable: { datasetId: string; tableId: string }; sourceFormat?: string; writeDisposition?: string } };
}

/** A REST TableFieldSchema with its legacy type names (the client sends RECORD for STRUCT) as a declaration. */
function fromRestField(field: { name: string; type: string; mode?: string; fields?: object[] }): FieldSchema {
  const legacy: Record<string, string> = { RECORD: 'STRUCT', INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL' };
  const type = legacy[field.type] ?? field.type;
  const mode = field.mode as 'NULLABLE' | 'REQUIRED' | 'REPEATED' | undefined;
  if (type === 'STRUCT') return { name: field.name, type, mode: mode === 'REQUIRED' ? undefined : mode, fields: (field.fields as typeof field[]).map(fromRestField) };
  return { name: field.name, type: type as Exclude<FieldSchema['type'], 'STRUCT'>, mode };
}

/** JSON, or a multipart/related upload: its JSON part and its data part. */
function parseBody(contentType: string, text: string): { json: unknown; upload?: string } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!/^multipart\//.test(contentType) || !boundary) return { json: text ? JSON.parse(text) : undefined };
  const parts = text.split(`--${boundary}`).slice(1, -1).map((part) => part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, ''));
  return { json: JSON.parse(parts[0]), upload: parts[1] };
}

/** A script's statements (the loader separates them by `;` + newline; one DML statement is a script of one). */
function statementsOf(script: string): string[] {
  return script.split(/;\n/);
}

/**
 * The SELECTs that measure what one statement (in the DuckDB dialect) reads, by BigQuery's DML
 * rules (by regex); undefined for a form not measured here (UPDATE).
 * - SELECT, CREATE TABLE … AS SELECT, INSERT … SELECT: that SELECT (the columns it references);
 * - INSERT … VALUES, BEGIN, COMMIT: nothing;
 * - DELETE FROM t WHERE w: `SELECT t.* FROM t WHERE w`, every column of the partitions it scans;
 * - MERGE INTO t USING s: every column of t, and what s reads (a table: every column of it).
 * https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax#on-demand_query_size_calculation
 */
function statementReads(sql: string): string[] | undefined {
  if (/^\s*(?:BEGIN|COMMIT|ROLLBACK)\b/i.test(sql)) return [];
  if (/^\s*(?:SELECT|WITH)\b/i.test(sql)) return [sql];
  const created = /^\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\s+"?\w+"?\s+AS\s+([\s\S]*)$/i.exec(sql);
  if (created) return [created[1]];
  const inserted = /^\s*INSERT\s+INTO\s+"?\w+"?\s*(?:\([^)]*\))?\s*([\s\S]*)$/i.exec(sql);
  if (inserted) return /^VALUES\b/i.test(inserted[1]) ? [] : [inserted[1]];
  const deleted = /^\s*DELETE\s+FROM\s+("?\w+"?)(?:\s+AS\s+(\w+))?(\s+WHERE\s[\s\S]*)?$/i.exec(sql);
  if (deleted) {
    const [, table, alias, where = ''] = deleted;
    return [`SELECT ${alias ?? table}.* FROM ${table}${alias ? ` AS ${alias}` : ''}${where}`];
  }
  const merged = /^\s*MERGE\s+(?:INTO\s+)?("?\w+"?)(?:\s+AS\s+(\w+))?\s+USING\s+/i.exec(sql);
  if (merged) {
    const [, table, alias] = merged;
    const using = sql.slice(merged[0].length);
    const source = /^("?\w+"?)(?:\s+AS\s+(\w+))?/.exec(using);
    const sourceRead = using.startsWith('(') ? parenthesized(using) : `SELECT ${source![2] ?? source![1]}.* FROM ${source![0]}`;
    return [`SELECT ${alias ?? table}.* FROM ${table}${alias ? ` AS ${alias}` : ''}`, sourceRead];
  }
  return undefined;
}

/** The tables `sql` names to read or update: every name after FROM, JOIN, USING or UPDATE that is not a function call. */
function tablesNamed(sql: string): string[] {
  return [...sql.matchAll(/\b(?:FROM|JOIN|USING|UPDATE)\s+(?:"(\w+)"|(\w+)\b(?!\s*\())/gi)].map((m) => m[1] ?? m[2]);
}

/** The text inside the parentheses `text` starts with (no parenthesis inside a string literal). */
function parenthesized(text: string): string {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(1, i);
  }
  throw new Error(`Unbalanced parentheses in ${text.slice(0, 80)}`);
}

/**
 * Which tables a metadata query keeps: with `table_name IN UNNEST(@p)`, those its ARRAY<STRING>
 * parameter lists (refused without it, as BigQuery refuses an unbound parameter); else every table.
 */
function tableFilter(sql: string, params: Readonly<Record<string, QueryParam>>): (table: string) => boolean {
  const name = /\btable_name\s+IN\s+UNNEST\(@(\w+)\)/i.exec(sql)?.[1];
  if (name === undefined) return () => true;
  const param = params[name];
  if (!param) throw new Error(`Query parameter '${name}' not found`);
  if (param.type !== 'STRING_ARRAY') throw new Error(`Values referenced in UNNEST must be arrays. UNNEST contains expression of type ${param.type}`);
  const listed = new Set(param.value);
  return (table) => listed.has(table);
}

/** A recorded statistic as its `_partition_stats` row. */
function statisticsRow(stat: PartitionStat): Record<string, string | number | null> {
  return { table_name: stat.table, day: stat.day, column_path: stat.column, rows: stat.rows, logical_bytes: stat.logicalBytes };
}

/**
 * What a `_partition_stats` query selects, typed as BigQuery types it: each item `s.column` (its
 * declared type) or `CAST(s.column AS STRING|INT64|DATE) AS name`; undefined for anything else.
 */
function statisticsColumns(sql: string): { name: string; column: string; type: SchemaField['type'] }[] | undefined {
  const list = /^\s*SELECT\s+([\s\S]+?)\s+FROM\s/i.exec(sql)?.[1];
  const columns = list?.split(',').map((item) => {
    const cast = /^\s*CAST\((?:\w+\.)?(\w+)\s+AS\s+(STRING|INT64|DATE)\)\s+AS\s+(\w+)\s*$/i.exec(item);
    const plain = /^\s*(?:\w+\.)?(\w+)(?:\s+AS\s+(\w+))?\s*$/i.exec(item);
    const column = cast?.[1] ?? plain?.[1];
    const declared = STATISTICS_TABLE.fields.find((f) => f.name === column)?.type as SchemaField['type'] | undefined;
    if (!column || !declared) return undefined;
    return cast ? { name: cast[3], column, type: cast[2].toUpperCase() as SchemaField['type'] } : { name: plain![2] ?? column, column, type: declared };
  });
  return columns?.every((c) => c !== undefined) ? columns as { name: string; column: string; type: SchemaField['type'] }[] : undefined;
}

/** A declared field as a REST TableFieldSchema. */
function toRestField(field: FieldSchema): object {
  return { name: field.name, type: field.type, mode: field.mode ?? 'NULLABLE', ...(field.type === 'STRUCT' ? { fields: field.fields.map(toRestField) } : {}) };
}

/**
 * A script or DML statement: each statement (`statementsOf`) translated and run in order on one
 * connection (its temp tables live as long as the script); the last one's rows, and the dataset's
 * tables its DML changed rows of (once the script has run whole).
 */
async function runScript(connection: DuckDBConnection, script: string, params: Record<string, QueryParam>): Promise<{ fields: SchemaField[]; rows: Record<string, unknown>[]; written: Set<string> }> {
  let result: { fields: SchemaField[]; rows: Record<string, unknown>[] } = { fields: [], rows: [] };
  const written = new Set<string>();
  try {
    for (const statement of statementsOf(script)) {
      const sql = toDuckDbSql(statement, params);
      const reader = await connection.runAndReadAll(sql, toDuckDbValues(sql, params).values);
      const target = /^\s*(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE|MERGE\s+(?:INTO\s+)?)\s*`[\w-]+\.\w+\.(\w+)`/i.exec(statement)?.[1];
      if (target && Number(reader.getRows()[0]?.[0] ?? 0) > 0) written.add(target);
      if (!/^\s*SELECT\b/i.test(sql)) continue;
      const fields = reader.columnNames().map((name, i) => ({ name, type: BIGQUERY_TYPES[reader.columnTypes()[i].typeId] ?? 'STRING' }));
      const rows = reader.getRowObjectsJson().map((row) => Object.fromEntries(fields.map((f) => [f.name, f.type === 'INT64' && row[f.name] !== null ? Number(row[f.name]) : row[f.name]])));
      result = { fields, rows };
    }
  } catch (error) {
    // A failed statement ends the script; BigQuery rolls back its open transaction.
    await connection.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return { ...result, written };
}

const BIGQUERY_TYPES: Partial<Record<DuckDBTypeId, SchemaField['type']>> = {
  [DuckDBTypeId.VARCHAR]: 'STRING', [DuckDBTypeId.BIGINT]: 'INT64', [DuckDBTypeId.INTEGER]: 'INT64', [DuckDBTypeId.HUGEINT]: 'INT64',
  [DuckDBTypeId.DOUBLE]: 'FLOAT64', [DuckDBTypeId.BOOLEAN]: 'BOOL', [DuckDBTypeId.DATE]: 'DATE', [DuckDBTypeId.TIMESTAMP]: 'TIMESTAMP',
};

interface BigQueryParameter {
  name: string;
  parameterType: { type: string; arrayType?: { type: string } };
  parameterValue: { value?: string | null; arrayValues?: { value: string }[] };
}

const DUCKDB_TYPES: Record<QueryParam['type'], string> = {
  STRING: 'VARCHAR', INT64: 'BIGINT', DATE: 'DATE', TIMESTAMP: 'TIMESTAMP', STRING_ARRAY: 'VARCHAR[]',
};

/** The named parameters back as our QueryParam types. */
function fromQueryParameters(parameters: BigQueryParameter[]): Record<string, QueryParam> {
  const params: Record<string, QueryParam> = {};
  for (const p of parameters) {
    const value = p.parameterValue.value ?? null;
    switch (p.parameterType.type) {
      case 'STRING': params[p.name] = { type: 'STRING', value }; break;
      case 'INT64': params[p.name] = { type: 'INT64', value: Number(value) }; break;
      case 'DATE': params[p.name] = { type: 'DATE', value: String(value) }; break;
      case 'TIMESTAMP': params[p.name] = { type: 'TIMESTAMP', value: String(value) }; break;
      case 'ARRAY':
        if (p.parameterType.arrayType?.type !== 'STRING') throw new Error(`The fake supports ARRAY<STRING> only, not ${JSON.stringify(p.parameterType)}`);
        params[p.name] = { type: 'STRING_ARRAY', value: (p.parameterValue.arrayValues ?? []).map((v) => v.value) };
        break;
      default: throw new Error(`The fake does not support parameter type ${p.parameterType.type}`);
    }
  }
  return params;
}

/**
 * GoogleSQL as the BigQuery dialect emits it → the DuckDB dialect's SQL (test-only, by regex; the
 * queries carry no `@` or backticks inside string literals):
 * - `project.dataset.table` → "table"; any other `identifier` → "identifier" (names are word characters)
 * - the flatten form `SELECT …, alias FROM "t" AS e , UNNEST(e.arr) AS alias` → `unnest(e.arr) AS alias` in the select list
 * - `x IN UNNEST(@p)` → `x IN (SELECT unnest(CAST($p AS VARCHAR[])))`
 * - the sumOver form `(SELECT SUM(…) FROM UNNEST(arr) AS el)` → `(SELECT SUM(…) FROM (SELECT unnest(arr) AS el))`
 * - `BYTE_LENGTH(` → `strlen(`
 * - `@p` → `CAST($p AS <type>)`, the type from the job's queryParameters (a reserved keyword as `p` is
 *   refused, as BigQuery's parser does)
 */
export function toDuckDbSql(sql: string, params: Readonly<Record<string, QueryParam>>): string {
  return sql
    .replace(/`[\w-]+\.\w+\.([\w.]+)`/g, '"$1"')
    .replace(/`(\w+)`/g, '"$1"')
    .replace(/\b(\w+)(\s+FROM\s+"\w+"\s+AS\s+\w+)\s*,\s*UNNEST\(([\w.]+)\)\s+AS\s+\1\b/g, 'unnest($3) AS $1$2')
    .replace(/\bIN\s+UNNEST\(@(\w+)\)/g, 'IN (SELECT unnest(CAST($$$1 AS VARCHAR[])))')
    .replace(/\bFROM UNNEST\(([^()]+)\) AS (\w+)\)/g, 'FROM (SELECT unnest($1) AS $2))')
    .replace(/\bBYTE_LENGTH\(/g, 'strlen(')
    .replace(/@(\w+)\b/g, (_, name: string) => {
      if (RESERVED_KEYWORDS.has(name.toUpperCase())) throw new Error(`Syntax error: Unexpected keyword ${name.toUpperCase()} after @`);
      const param = params[name];
      if (!param) throw new Error(`Query parameter '${name}' not found`);
      return `CAST($${name} AS ${DUCKDB_TYPES[param.type]})`;
    });
}

/** GoogleSQL's reserved keywords: not usable as a bare identifier, a query parameter's name included. */
const RESERVED_KEYWORDS = new Set(`ALL AND ANY ARRAY AS ASC ASSERT_ROWS_MODIFIED AT BETWEEN BY CASE CAST COLLATE CONTAINS CREATE CROSS CUBE
  CURRENT DEFAULT DEFINE DESC DISTINCT ELSE END ENUM ESCAPE EXCEPT EXCLUDE EXISTS EXTRACT FALSE FETCH FOLLOWING FOR FROM FULL
  GROUP GROUPING GROUPS HASH HAVING IF IGNORE IN INNER INTERSECT INTERVAL INTO IS JOIN LATERAL LEFT LIKE LIMIT LOOKUP MERGE
  NATURAL NEW NO NOT NULL NULLS OF ON OR ORDER OUTER OVER PARTITION PRECEDING PROTO QUALIFY RANGE RECURSIVE RESPECT RIGHT
  ROLLUP ROWS SELECT SET SOME STRUCT TABLESAMPLE THEN TO TREAT TRUE UNBOUNDED UNION UNNEST USING WHEN WHERE WINDOW WITH WITHIN`.split(/\s+/));

/** BigQuery field types from the DuckDB adapter's normalized rows (numbers, ISO timestamps, dates, strings). */
function inferSchema(rows: Record<string, unknown>[]): SchemaField[] {
  if (rows.length === 0) return [];
  return Object.keys(rows[0]).map((name) => {
    const sample = rows.map((r) => r[name]).find((v) => v !== null && v !== undefined);
    let type: SchemaField['type'] = 'STRING';
    if (typeof sample === 'number') type = rows.every((r) => r[name] === null || Number.isInteger(r[name])) ? 'INT64' : 'FLOAT64';
    else if (typeof sample === 'boolean') type = 'BOOL';
    else if (typeof sample === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(sample)) type = 'TIMESTAMP';
    else if (typeof sample === 'string' && /^\d{4}-\d\d-\d\d$/.test(sample)) type = 'DATE';
    return { name, type };
  });
}

/** A cell as BigQuery sends it: every scalar a string, TIMESTAMP as int64 µs (the client asks useInt64Timestamp). */
function encode(value: unknown, type: SchemaField['type']): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'TIMESTAMP') {
    const [, seconds, fraction = ''] = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(String(value))!;
    return String(BigInt(Date.parse(`${seconds}Z`)) * 1000n + BigInt(fraction.padEnd(6, '0').slice(0, 6)));
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function errorBody(code: number, reason: string, message: string) {
  return { error: { code, message, errors: [{ domain: 'global', reason, message }], status: code === 404 ? 'NOT_FOUND' : code === 400 ? 'INVALID_ARGUMENT' : 'UNAVAILABLE' } };
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}
