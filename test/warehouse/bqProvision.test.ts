/**
 * `npm run bq:provision`: the DDL derived from the table declarations (partitioning, required
 * partition filter, two-year expiry, clustering on top-level columns, customer-managed keys), printed,
 * and with --apply run as jobs through the real client against the BigQuery REST fake.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PARTITION_EXPIRATION_DAYS, provisionDdl } from '../../warehouse/bigquery/provision';
import { TABLES } from '../../pricing/tables';
import { runMain } from '../e2e/processes';
import { startBigQueryFake } from './bigQueryFake';

const KEY = 'projects/acme-kms/locations/eu/keyRings/bytegate/cryptoKeys/acme';
const base = { projectId: 'acme-analytics', datasetPrefix: 'bytegate', tenant: 'acme', location: 'EU' };
const statementFor = (statements: string[], table: string) => statements.find((s) => s.includes(`.${table}\` (`))!;

test('the dataset, then every declared table and the statistics table', () => {
  const statements = provisionDdl(base);
  expect(statements[0]).toBe('CREATE SCHEMA IF NOT EXISTS `acme-analytics.bytegate_acme`\nOPTIONS (location = "EU")');
  expect(statements).toHaveLength(1 + Object.keys(TABLES).length + 1);
  for (const table of [...Object.keys(TABLES), '_partition_stats']) expect(statementFor(statements, table)).toMatch(/^CREATE TABLE IF NOT EXISTS `acme-analytics\.bytegate_acme\./);
});

test('sso_events: partitioned by DATE(published), a partition filter required, two-year expiry, clustered by actor_id, nested columns kept', () => {
  const events = statementFor(provisionDdl(base), 'sso_events');
  expect(events).toContain('PARTITION BY DATE(published)');
  expect(events).toContain('CLUSTER BY actor_id');
  expect(events).toContain(`OPTIONS (require_partition_filter = TRUE, partition_expiration_days = ${PARTITION_EXPIRATION_DAYS})`);
  expect(PARTITION_EXPIRATION_DAYS).toBe(730);
  expect(events).toContain('`uuid` STRING NOT NULL');
  expect(events).toContain('`target` ARRAY<STRUCT<`id` STRING, `type` STRING, `alternateId` STRING, `displayName` STRING>>');
  expect(events).toContain('`geolocation` STRUCT<`lat` FLOAT64, `lon` FLOAT64>');
  const rollup = statementFor(provisionDdl(base), 'productivity_daily');
  expect(rollup).toContain('PARTITION BY day\nCLUSTER BY actor_id');
  // Unpartitioned tables get neither a partition filter nor an expiry.
  expect(statementFor(provisionDdl(base), 'users')).not.toContain('require_partition_filter');
});

test('a customer-managed key: the dataset default and every table', () => {
  const statements = provisionDdl({ ...base, kmsKeyName: KEY });
  expect(statements[0]).toContain(`default_kms_key_name = "${KEY}"`);
  for (const statement of statements.slice(1)) expect(statement).toContain(`kms_key_name = "${KEY}"`);
  expect(() => provisionDdl({ ...base, kmsKeyName: 'acme-key" ) DROP SCHEMA x --' })).toThrow(/KMS key name looks like/);
  expect(() => provisionDdl({ ...base, tenant: 'acme`; DROP' })).toThrow(/Tenant/);
});

describe('npm run bq:provision', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bq-provision-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('prints the DDL; --apply runs each statement as a job, in order', async () => {
    const fake = await startBigQueryFake({ dataDir, projectId: 'acme-analytics', datasetPrefix: 'bytegate' });
    try {
      const env = { BIGQUERY_PROJECT: 'acme-analytics', BIGQUERY_LOCATION: 'EU', BIGQUERY_API_ENDPOINT: fake.url, METADATA_SERVER_DETECTION: 'none' };
      const printed = await runMain('bqProvision', ['--tenant', 'acme', '--kms-key', KEY], env);
      expect(printed.code).toBe(0);
      const expected = provisionDdl({ ...base, kmsKeyName: KEY });
      expect(printed.stdout).toBe(expected.map((s) => `${s};\n\n`).join(''));
      expect(fake.jobInserts()).toHaveLength(0);

      const applied = await runMain('bqProvision', ['--tenant', 'acme', '--kms-key', KEY, '--apply'], env);
      expect(applied.code).toBe(0);
      expect(applied.stderr).toContain(`applied ${expected.length}/${expected.length}`);
      expect(fake.jobInserts().map((r) => r.body.configuration.query.query)).toEqual(expected);
    } finally {
      await fake.close();
    }
  });

  test('bad input exits 2 with a reason', async () => {
    for (const [args, env, message] of [
      [['--tenant', 'acme'], {}, /BIGQUERY_PROJECT is not set/],
      [['--tenant', 'Acme'], { BIGQUERY_PROJECT: 'p' }, /--tenant "Acme"/],
      [['--tenant', 'acme', '--kms-key', 'nope'], { BIGQUERY_PROJECT: 'p' }, /KMS key name looks like/],
    ] as const) {
      const result = await runMain('bqProvision', [...args], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
