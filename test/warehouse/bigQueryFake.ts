/**
 * A contract fake of BigQuery's REST API at the HTTP edge, for the BigQuery adapter's tests: exactly
 * the calls @google-cloud/bigquery 8.3 makes for it (seen by logging them) —
 *   POST /bigquery/v2/projects/P/jobs             jobs.insert (runs the query at once, job DONE)
 *   GET  /bigquery/v2/projects/P/queries/JOBID    jobs.getQueryResults
 *   GET  /bigquery/v2/projects/P/jobs/JOBID       jobs.get (statistics)
 *   GET  /bigquery/v2/projects/P/datasets/DS      datasets.get
 * A query is executed by translating the GoogleSQL the BigQuery dialect emits back into the DuckDB
 * dialect's SQL and running it on the DuckDB warehouse over the same data, so rows and
 * processed/billed bytes are the same measurement as the DuckDB adapter's (and its maxBytesBilled
 * check stands in for BigQuery's). Every request is recorded; `fail` scripts faults.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../common/errors';
import { createDuckDbWarehouse } from '../../warehouse/duckdb/duckDbWarehouse';
import type { QueryParam } from '../../warehouse/warehouse';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON as the client sent it
}

export interface Fault {
  status: number;
  reason: string;
  message?: string;
  /** Answer 200 with the job DONE and this error as its status.errorResult (how a job that ran and failed reports). */
  inJobStatus?: boolean;
}

export interface BigQueryFake {
  /** e.g. http://127.0.0.1:PORT — the client's `apiEndpoint`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Bodies of every jobs.insert so far. */
  jobInserts(): RecordedRequest[];
  /** Answers the n-th jobs.insert from now (1 = the next one) with this error instead of running it. */
  fail(n: number, fault: Fault): void;
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
}

export async function startBigQueryFake(options: { dataDir: string; projectId: string; datasetPrefix: string }): Promise<BigQueryFake> {
  const { projectId, datasetPrefix } = options;
  const duck = createDuckDbWarehouse({ dataDir: options.dataDir });
  const requests: RecordedRequest[] = [];
  const jobs = new Map<string, FakeJob>();
  const faults = new Map<number, Fault>();
  let inserts = 0;
  const base = `/bigquery/v2/projects/${projectId}`;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: text ? JSON.parse(text) : undefined,
      };
      requests.push(recorded);
      route(recorded).then(
        ({ status, body }) => reply(res, status, body),
        (error: unknown) => reply(res, 500, errorBody(500, 'internalError', String(error))),
      );
    });
  });

  async function route(r: RecordedRequest): Promise<{ status: number; body: unknown }> {
    if (r.method === 'POST' && r.path === `${base}/jobs`) return insertJob(r.body);
    let match = new RegExp(`^${base}/queries/([^/]+)$`).exec(r.path);
    if (r.method === 'GET' && match) {
      const job = jobs.get(match[1]);
      if (!job) return notFound(`Job ${projectId}:${match[1]}`);
      return {
        status: 200,
        body: {
          kind: 'bigquery#getQueryResultsResponse', jobReference: { projectId, jobId: job.id, location: 'US' },
          schema: { fields: job.fields.map((f) => ({ ...f, mode: 'NULLABLE' })) }, rows: job.rows, totalRows: String(job.rows.length),
          jobComplete: true, totalBytesProcessed: String(job.processedBytes), cacheHit: false,
        },
      };
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
      const message = fault.message ?? `Scripted ${fault.reason}`;
      if (fault.inJobStatus) {
        const error = { reason: fault.reason, message };
        const jobReference = { projectId, jobId: body.jobReference?.jobId ?? `job_${inserts}`, location: 'US' };
        return { status: 200, body: { kind: 'bigquery#job', jobReference, configuration: body.configuration, status: { state: 'DONE', errorResult: error, errors: [error] } } };
      }
      return { status: fault.status, body: errorBody(fault.status, fault.reason, message) };
    }
    const id = body.jobReference?.jobId ?? `job_${inserts}`;
    const query = body.configuration.query;
    if (/^\s*CREATE\s/i.test(query.query)) {
      // DDL (npm run bq:provision --apply): recorded, not executed; the job completes without rows.
      const job: FakeJob = { id, configuration: body.configuration, fields: [], rows: [], processedBytes: 0, billedBytes: 0 };
      jobs.set(id, job);
      return { status: 200, body: jobResource(job) };
    }
    const params = fromQueryParameters(query.queryParameters ?? []);
    const references = [...query.query.matchAll(/`([^`.]+)\.([^`.]+)\.([^`]+)`/g)];
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
      let result: { fields: SchemaField[]; rows: Record<string, unknown>[]; processedBytes: number; billedBytes: number };
      if (/\.INFORMATION_SCHEMA\.PARTITIONS`/.test(query.query)) {
        // Partitions of `sso_events` from the DuckDB warehouse's data versions (`writes@lastMicros`):
        // the last write's time stands in for last_modified_time, as UNIX_MICROS cast to STRING.
        if (params.table?.value !== 'sso_events') throw new Error('The fake answers INFORMATION_SCHEMA.PARTITIONS for @table = sso_events only');
        const versions = await duck.dataVersions(tenant);
        result = {
          fields: [{ name: 'partition_id', type: 'STRING' }, { name: 'version', type: 'STRING' }],
          rows: [...versions].map(([day, v]) => ({ partition_id: day.replace(/-/g, ''), version: v.split('@')[1] })).concat([{ partition_id: '__NULL__', version: '0' }]),
          processedBytes: 0, billedBytes: 10 * 1024 * 1024,
        };
      } else if (/\._partition_stats`/.test(query.query)) {
        const stats = await duck.partitionStats(tenant);
        result = {
          fields: [{ name: 'table_name', type: 'STRING' }, { name: 'day', type: 'DATE' }, { name: 'column_path', type: 'STRING' }, { name: 'rows', type: 'INT64' }, { name: 'logical_bytes', type: 'INT64' }],
          rows: stats.map((s) => ({ table_name: s.table, day: s.day, column_path: s.column, rows: s.rows, logical_bytes: s.logicalBytes })),
          processedBytes: 0, billedBytes: 10 * 1024 * 1024,
        };
      } else {
        const sql = toDuckDbSql(query.query, params);
        const limit = query.maximumBytesBilled === undefined ? undefined : Number(query.maximumBytesBilled);
        const out = await duck.query<Record<string, unknown>>(tenant, { name: 'fake', sql: () => sql, params, maxBytesBilled: limit });
        result = { fields: inferSchema(out.rows), rows: out.rows, processedBytes: out.processedBytes, billedBytes: out.billedBytes };
      }
      const job: FakeJob = {
        id, configuration: body.configuration, fields: result.fields, processedBytes: result.processedBytes, billedBytes: result.billedBytes,
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

  function jobResource(job: FakeJob): unknown {
    const statistics = { totalBytesProcessed: String(job.processedBytes), totalBytesBilled: String(job.billedBytes), cacheHit: false };
    return {
      kind: 'bigquery#job', id: `${projectId}:US.${job.id}`, jobReference: { projectId, jobId: job.id, location: 'US' },
      configuration: job.configuration, status: { state: 'DONE' },
      statistics: { totalBytesProcessed: statistics.totalBytesProcessed, query: statistics },
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
    requests,
    jobInserts: () => requests.filter((r) => r.method === 'POST' && r.path === `${base}/jobs`),
    fail(n, fault) {
      faults.set(inserts + n, fault);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await duck.close();
    },
  };
}

// Private:

interface JobInsertBody {
  jobReference?: { jobId?: string };
  configuration: { dryRun?: boolean; query: { query: string; maximumBytesBilled?: string; queryParameters?: BigQueryParameter[] } };
}

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
 * - `project.dataset.table` → "table"; any other `identifier` → "identifier"
 * - the flatten form `SELECT …, alias FROM "t" AS e , UNNEST(e.arr) AS alias` → `unnest(e.arr) AS alias` in the select list
 * - `x IN UNNEST(@p)` → `x IN (SELECT unnest(CAST($p AS VARCHAR[])))`
 * - `@p` → `CAST($p AS <type>)`, the type from the job's queryParameters
 */
export function toDuckDbSql(sql: string, params: Readonly<Record<string, QueryParam>>): string {
  return sql
    .replace(/`[^`.]+\.[^`.]+\.([^`]+)`/g, '"$1"')
    .replace(/`([^`]+)`/g, '"$1"')
    .replace(/\b(\w+)(\s+FROM\s+"\w+"\s+AS\s+\w+)\s*,\s*UNNEST\(([\w.]+)\)\s+AS\s+\1\b/g, 'unnest($3) AS $1$2')
    .replace(/\bIN\s+UNNEST\(@(\w+)\)/g, 'IN (SELECT unnest(CAST($$$1 AS VARCHAR[])))')
    .replace(/@(\w+)\b/g, (_, name: string) => {
      const param = params[name];
      if (!param) throw new Error(`Query parameter '${name}' not found`);
      return `CAST($${name} AS ${DUCKDB_TYPES[param.type]})`;
    });
}

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
