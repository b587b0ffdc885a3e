import { DuckDBInstance } from '@duckdb/node-api';
import { duckDbDialect } from '../../warehouse/duckdb/duckDbSql';
import { analyzeScans } from '../../warehouse/duckdb/scanAnalyzer';
import type { TableScan } from '../../pricing/scanBytes';
import type { QueryParam } from '../../warehouse/warehouse';

const d = duckDbDialect;
const ts = (value: string): QueryParam => ({ type: 'TIMESTAMP', value });
const date = (value: string): QueryParam => ({ type: 'DATE', value });

async function scansOf(sql: string, params: Record<string, QueryParam> = {}): Promise<TableScan[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const tree = JSON.parse(String((await connection.runAndReadAll(`SELECT json_serialize_sql('${sql.replace(/'/g, "''")}')`)).getRows()[0][0]));
  instance.closeSync();
  return analyzeScans(tree, params);
}

describe('scan analysis', () => {
  test.each<[string, string, Record<string, QueryParam>, TableScan[]]>([
    ['qualified nested leaves and a half-open timestamp range',
      `SELECT e.actor.id, count(*) FROM ${d.table('sso_events')} AS e WHERE e.published >= ${d.param('f', 'TIMESTAMP')} AND e.published < ${d.param('t', 'TIMESTAMP')} GROUP BY 1`,
      { f: ts('2025-01-01T00:00:00Z'), t: ts('2025-01-08T00:00:00Z') },
      [{ table: 'sso_events', columns: ['actor.id', 'published'], days: [{ from: '2025-01-01', to: '2025-01-07' }] }]],
    ['a timestamp bound inside a day keeps that day',
      `SELECT e.uuid FROM sso_events e WHERE e.published < '2025-01-08 12:00:00'`, {},
      [{ table: 'sso_events', columns: ['published', 'uuid'], days: [{ to: '2025-01-08' }] }]],
    ['BETWEEN on a DATE partition column, mirrored comparison',
      `SELECT p.actor_id FROM ${d.table('productivity_daily')} p WHERE p.day BETWEEN ${d.param('f', 'DATE')} AND ${d.param('t', 'DATE')} AND ${d.param('f', 'DATE')} <= p.day`,
      { f: date('2025-02-01'), t: date('2025-02-28') },
      [{ table: 'productivity_daily', columns: ['actor_id', 'day'], days: [{ from: '2025-02-01', to: '2025-02-28' }] }]],
    ['a whole struct counts all its leaves; UNNEST elements count only the fields used',
      `SELECT e.outcome, app.id FROM sso_events e CROSS JOIN UNNEST(e.target) AS _app(app) WHERE e.published = '2025-01-03 00:00:00'`, {},
      [{ table: 'sso_events', columns: ['outcome.reason', 'outcome.result', 'published', 'target.id'], days: [{ from: '2025-01-03', to: '2025-01-03' }] }]],
    ['an array flattened in a subquery select list: only the element fields used outside, pruned by the inner WHERE',
      `SELECT app.id, count(DISTINCT actor_id) FROM (SELECT e.actor.id AS actor_id, ${d.flatten('e.target', 'app').select} FROM sso_events e
       WHERE e.published >= '2025-01-03 00:00:00' AND e.published < '2025-01-05 00:00:00') AS f WHERE app.type = 'AppInstance' GROUP BY 1`, {},
      [{ table: 'sso_events', columns: ['actor.id', 'published', 'target.id', 'target.type'], days: [{ from: '2025-01-03', to: '2025-01-04' }] }]],
    ['a select-list alias named like a column is the alias where it is used bare (GROUP BY, ORDER BY, outer queries)',
      `SELECT e.actor.id AS actor_id, count(*) FROM sso_events e WHERE e.published >= '2025-01-03' GROUP BY actor_id ORDER BY actor_id`, {},
      [{ table: 'sso_events', columns: ['actor.id', 'published'], days: [{ from: '2025-01-03' }] }]],
    ['the derived top-level actor_id, read qualified, is its own column',
      `SELECT e.actor_id FROM sso_events e WHERE e.published >= '2025-01-03'`, {},
      [{ table: 'sso_events', columns: ['actor_id', 'published'], days: [{ from: '2025-01-03' }] }]],
    ['OR defeats pruning: every partition',
      `SELECT e.uuid FROM sso_events e WHERE e.published >= '2025-01-01' OR e.eventType = 'x'`, {},
      [{ table: 'sso_events', columns: ['eventType', 'published', 'uuid'], days: [{}] }]],
    ['a function of the partition column defeats pruning',
      `SELECT e.uuid FROM sso_events e WHERE date_trunc('day', e.published) = '2025-01-01'`, {},
      [{ table: 'sso_events', columns: ['published', 'uuid'], days: [{}] }]],
    ['contradictory bounds select no partition',
      `SELECT e.uuid FROM sso_events e WHERE e.published >= '2025-02-01' AND e.published < '2025-01-01'`, {},
      [{ table: 'sso_events', columns: ['published', 'uuid'], days: [] }]],
    ['subqueries and joins: each table with its own columns; unpartitioned tables have no days',
      `SELECT u.display_name, e.eventType FROM sso_events e JOIN users u ON u.id = e.actor.id
       WHERE e.published >= '2025-01-01' AND e.actor.id IN (SELECT x.id FROM users x WHERE x.manager_id = 'm')`, {},
      [
        { table: 'sso_events', columns: ['actor.id', 'eventType', 'published'], days: [{ from: '2025-01-01' }] },
        { table: 'users', columns: ['display_name', 'id', 'manager_id'], days: null },
      ]],
    ['SELECT * reads every column',
      `SELECT * FROM tenant_info`, {},
      [{ table: 'tenant_info', columns: ['id', 'name', 'timezone'], days: null }]],
  ])('%s', async (_name, sql, params, expected) => {
    expect(await scansOf(sql, params)).toEqual(expected);
  });
});
