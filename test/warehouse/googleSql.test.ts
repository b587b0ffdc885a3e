/**
 * The SQL is GoogleSQL: every text the BigQuery adapter sends — the subgraphs' queries and their dry
 * runs, the metadata reads, the loader's DDL, directory MERGE and ingest and backfill scripts with the
 * rollup's statements — is taken from the jobs.insert requests the REST fake recorded while the real
 * flows ran, and parsed by sql-parser-cst's GoogleSQL dialect, a parser independent of the fake (which
 * translates what it is sent into DuckDB's dialect, so it runs SQL that BigQuery would refuse).
 * `npm run bq:provision` sends provisionDdl's statements as they are (bqProvision.test.ts), the same the
 * loader provisions with, here with and without a customer-managed key.
 */
import { type Node, type ParserOptions, type Program, bigqueryKeywords, parse } from 'sql-parser-cst';
import { loadConfig } from '../../common/config';
import { indexCostDirectives } from '../../gateway/cost/costIndex';
import { composeDefaultSupergraph } from '../../gateway/supergraph';
import { bigQueryDialect } from '../../warehouse/bigquery/bigQueryDialect';
import { labelValue } from '../../warehouse/bigquery/jobs';
import { withDatasetWriter } from '../../warehouse/duckdb/datasetFiles';
import { openDatasetWriter, openWarehouse } from '../../warehouse/openWarehouse';
import { backfillAppUsageDailySql, refreshRollupsSql } from '../../warehouse/rollup';
import { executive, manager, viewer } from '../subgraphs/harness';
import { type System, startSystem } from '../support/system';
import { type BigQueryFake, type RecordedRequest, startBigQueryFake } from './bigQueryFake';
import { DAYS, fixture, ndjson, tempDataDir } from './fixture';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'test-project';
const KEY = 'projects/acme-kms/locations/us/keyRings/bytegate/cryptoKeys/acme';
/** Every warehouse query of the subgraphs, as each role runs them: scoped or not, with and without an event type. */
const EVERYTHING = `query Everything($from: Date!, $to: Date!) {
  me { id displayName manager { displayName } productivity(from: $from, to: $to) { totalEvents } daily(from: $from, to: $to) { date } }
  users(first: 10) { totalCount edges { node { id manager { displayName } } } }
  tenant { name
    topTimeWasters(from: $from, to: $to, first: 5) { totalWasteHours }
    appUsage(from: $from, to: $to, first: 5) { events }
    eventCounts(from: $from, to: $to) { count }
    sessions: eventCounts(from: $from, to: $to, eventType: "user.session.start") { count } } }`;

const PARSER: ParserOptions = { dialect: 'bigquery', paramTypes: ['@name'], includeRange: true };
/** GoogleSQL's CTE is `cte_name AS ( query_expr )`, without a column list (which the parser accepts for every dialect). */
const CTE_SYNTAX = 'https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#with_clause';
/** A named parameter is `@` and an identifier; an identifier that is a reserved keyword must be quoted (the parser does not check). */
const RESERVED_KEYWORDS = 'https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#reserved_keywords';
/** DELETE and UPDATE require a WHERE clause (the parser accepts none). */
const DML_SYNTAX = 'https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax';
/** One distinct SQL text sent, and the jobs that sent it: their `query` labels, `dry run` for a dry run (it carries no labels). */
interface SentSql {
  readonly sql: string;
  readonly jobs: ReadonlySet<string>;
}

let fake: BigQueryFake;
let system: System;
let remove: () => void;
let sent: SentSql[];

beforeAll(async () => {
  const temp = tempDataDir();
  remove = temp.remove;
  fake = await startBigQueryFake({ dataDir: temp.dataDir, projectId: PROJECT, datasetPrefix: 'bytegate' });
  const config = (env: Record<string, string> = {}) => loadConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: PROJECT, BIGQUERY_API_ENDPOINT: fake.url, DATA_DIR: temp.dataDir, ...env });
  const data = fixture();

  // The loader: the dataset with a customer-managed key, the tenant, the directory, an events batch.
  const keyed = await openDatasetWriter(config({ BIGQUERY_KMS_KEYS: `acme=${KEY}` }), '0.1.0');
  await keyed.createTenant(data.tenant);
  await keyed.upsertUsers('acme', data.users);
  await keyed.ingestEvents('acme', ndjson(data.events));
  await keyed.close();
  // A dataset loaded before app_usage_daily existed: a new loader provisions it (no key) and backfills the rollup.
  await withDatasetWriter(temp.dataDir, 'acme', async (instance) => {
    const connection = await instance.connect();
    await connection.run("DELETE FROM app_usage_daily; DELETE FROM _partition_stats WHERE table_name = 'app_usage_daily'").finally(() => connection.closeSync());
  });
  const plain = await openDatasetWriter(config(), '0.1.0');
  await plain.createTenant(data.tenant);
  await plain.close();

  // The subgraphs' queries, each dry-run first, and the metadata reads that price them.
  system = await startSystem(temp.dataDir, { env: { DRY_RUN_ABOVE_BYTES: '1' }, warehouse: await openWarehouse(config(), '0.1.0') });
  for (const principal of [executive, manager, viewer]) {
    const { body } = await system.query(principal, EVERYTHING, { from: DAYS[0], to: DAYS[DAYS.length - 1] });
    expect({ who: principal.roles, errors: body.errors }).toEqual({ who: principal.roles, errors: undefined });
  }
  sent = distinctSql(fake.jobInserts());
}, 120_000);

afterAll(async () => {
  await system?.close();
  await fake?.close();
  remove?.();
});

test('every SQL text sent parses as GoogleSQL, with nothing the parser lets through that BigQuery refuses', () => {
  expect(problemsOf(sent)).toEqual([]);
});

test('the check covers every kind of statement sent: the subgraphs\' queries and dry runs, metadata, DDL, DML, MERGE, transactions', () => {
  const kinds = (job: string) => new Set(sent.filter((s) => s.jobs.has(job)).flatMap((s) => parse(s.sql, PARSER).statements.map((statement) => statement.type)));
  // Every query the supergraph prices (its @scan declarations) ran as a SELECT job.
  for (const query of declaredQueries()) expect({ query, kinds: [...kinds(labelValue(query))] }).toEqual({ query, kinds: ['select_stmt'] });
  expect(kinds('dry run')).toEqual(new Set(['select_stmt']));
  for (const metadata of ['partitions', 'partitionstats']) expect(kinds(metadata)).toEqual(new Set(['select_stmt']));
  expect(kinds('provision')).toEqual(new Set(['create_schema_stmt', 'create_table_stmt']));
  const ddl = sent.filter((s) => s.jobs.has('provision')).map((s) => s.sql);
  expect(ddl.filter((sql) => sql.includes(`kms_key_name = "${KEY}"`)).length).toBeGreaterThan(0);
  expect(ddl.filter((sql) => !sql.includes('kms_key_name')).length).toBeGreaterThan(0);
  const script = ['start_transaction_stmt', 'create_table_stmt', 'insert_stmt', 'delete_stmt', 'commit_transaction_stmt'];
  expect([...kinds('createtenant')]).toEqual(expect.arrayContaining(script));
  expect([...kinds('upsertusers')]).toEqual(expect.arrayContaining([...script, 'merge_stmt']));
  expect([...kinds('ingestevents')]).toEqual(expect.arrayContaining([...script, 'merge_stmt', 'select_stmt']));
  expect([...kinds('backfillappusagedaily')]).toEqual(expect.arrayContaining(script));
});

test('the rollup\'s statements are among those checked, as an ingest and a backfill send them', () => {
  const d = bigQueryDialect(PROJECT, 'bytegate_acme');
  const scripts = (job: string) => sent.filter((s) => s.jobs.has(job)).map((s) => s.sql);
  for (const statement of refreshRollupsSql(d, 'touched_actors')) expect(scripts('ingestevents').some((sql) => sql.includes(statement))).toBe(true);
  for (const statement of backfillAppUsageDailySql(d)) expect(scripts('backfillappusagedaily').some((sql) => sql.includes(statement))).toBe(true);
});

// Private:

function distinctSql(jobInserts: RecordedRequest[]): SentSql[] {
  const jobs = new Map<string, Set<string>>();
  for (const { body: { configuration } } of jobInserts) {
    const sql: string = configuration.query.query;
    jobs.set(sql, (jobs.get(sql) ?? new Set()).add(configuration.dryRun ? 'dry run' : configuration.labels?.query));
  }
  return [...jobs].map(([sql, by]) => ({ sql, jobs: by }));
}

/** Each problem of each text, with the jobs that sent it and the text. */
function problemsOf(texts: SentSql[]): string[] {
  return texts.flatMap(({ sql, jobs }) => {
    const by = [...jobs].join(', ');
    return googleSqlProblems(sql, by).map((problem) => `${by}: ${problem}\n${sql}`);
  });
}

/** Names of the warehouse queries the supergraph declares (`@scan(query:)`), on fields and entities. */
function declaredQueries(): Set<string> {
  const index = indexCostDirectives(composeDefaultSupergraph());
  const scans = [
    ...[...index.fields.values()].flatMap((fields) => [...fields.values()].flatMap((field) => field.scans)),
    ...[...index.entityScans.values()].flatMap((bySubgraph) => [...bySubgraph.values()].flat()),
  ];
  return new Set(scans.map((scan) => scan.query));
}

/** The parser's syntax error for `sql`, or what it accepted that GoogleSQL does not. */
function googleSqlProblems(sql: string, job: string): string[] {
  let program: Program;
  try {
    program = parse(sql, { ...PARSER, filename: job });
  } catch (error) {
    return [(error as Error).message];
  }
  return nodesOf(program).flatMap((node) => {
    if (node.type === 'common_table_expr' && node.columns) return [`CTE ${node.table.name} lists its columns, which GoogleSQL does not take: ${CTE_SYNTAX}`];
    if (node.type === 'parameter' && bigqueryKeywords[node.text.slice(1).toUpperCase()]) return [`parameter ${node.text} is a reserved keyword: ${RESERVED_KEYWORDS}`];
    if ((node.type === 'delete_stmt' || node.type === 'update_stmt') && !node.clauses.some((clause) => clause.type === 'where_clause')) return [`${node.type} without WHERE: ${DML_SYNTAX}`];
    return [];
  });
}

/** `node` and every node below it. */
function nodesOf(node: Node): Node[] {
  const children = Object.values(node).flatMap((value) => (Array.isArray(value) ? value : [value]))
    .filter((value): value is Node => typeof value === 'object' && value !== null && typeof (value as Node).type === 'string');
  return [node, ...children.flatMap(nodesOf)];
}
