/**
 * npm run bq:provision -- --tenant T [--kms-key projects/P/locations/L/keyRings/R/cryptoKeys/K] [--apply]
 * Prints the BigQuery DDL of tenant T's dataset (warehouse/bigquery/provision.ts): the dataset
 * `<BIGQUERY_DATASET_PREFIX>_T` in BIGQUERY_PROJECT / BIGQUERY_LOCATION and its tables. With --apply
 * it also runs each statement as a query job (idempotent: IF NOT EXISTS), reporting each as it goes.
 * The key defaults to the tenant's in BIGQUERY_KMS_KEYS, the one the loader provisions with.
 */
import { loadConfig } from '../common/config';
import { isTenantId } from '../common/principal';
import { openBigQueryClient } from '../warehouse/openWarehouse';
import { provisionDdl } from '../warehouse/bigquery/provision';
import { TENANT_FLAG, type Usage, parseFlags, required, usageText } from '../common/args';
import { UsageError, runMain } from '../common/runMain';

const USAGE = {
  command: 'npm run bq:provision --',
  synopsis: ['--tenant T [--kms-key projects/P/locations/L/keyRings/R/cryptoKeys/K] [--apply]'],
  summary: 'Prints the BigQuery DDL of the tenant\'s dataset <BIGQUERY_DATASET_PREFIX>_T and its tables; with --apply also runs it.',
  flags: {
    tenant: TENANT_FLAG,
    'kms-key': { type: 'string', value: 'KEY', meaning: 'the customer-managed key of the dataset and every table', default: 'the tenant\'s in BIGQUERY_KMS_KEYS, else none' },
    apply: { type: 'boolean', meaning: 'also runs each statement as a query job; idempotent, IF NOT EXISTS', default: 'off, printing only' },
  },
  notes: ['Reads BIGQUERY_PROJECT (required), BIGQUERY_LOCATION (US), BIGQUERY_DATASET_PREFIX (bytegate).'],
  examples: ['BIGQUERY_PROJECT=my-project npm run bq:provision -- --tenant acme --apply'],
} satisfies Usage;

runMain(usageText(USAGE), async () => {
  const { values } = parseFlags(process.argv.slice(2), USAGE);
  const tenant = required(values.tenant, 'tenant');
  if (!isTenantId(tenant)) throw new UsageError(`--tenant "${tenant}" must be lowercase letters, digits and underscores, starting with a letter.`);
  if (!process.env.BIGQUERY_PROJECT) throw new UsageError('BIGQUERY_PROJECT is not set: the project the dataset belongs to.');
  const bigquery = loadConfig({ ...process.env, WAREHOUSE: 'bigquery' }).bigquery!;
  let statements: string[];
  try {
    statements = provisionDdl({ projectId: bigquery.projectId, datasetPrefix: bigquery.datasetPrefix, tenant, location: bigquery.location, kmsKeyName: values['kms-key'] ?? bigquery.kmsKeys[tenant] });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  for (const statement of statements) process.stdout.write(`${statement};\n\n`);
  if (!values.apply) return 0;

  const client = openBigQueryClient(bigquery);
  for (const [i, statement] of statements.entries()) {
    const [job] = await client.createQueryJob({ query: statement, location: bigquery.location });
    await job.getQueryResults();
    process.stderr.write(`applied ${i + 1}/${statements.length}: ${statement.split('\n')[0]}\n`);
  }
  return 0;
});
