/**
 * npm run seed -- --tenant T --users N --days D [--events-per-user E] [--start YYYY-MM-DD] [--seed S] [--name "Acme Corp"]
 * Generates deterministic synthetic Okta System Log events and loads them into the tenant's dataset
 * (WAREHOUSE=bigquery: BigQuery load jobs, the dataset provisioned on first use).
 * Without --start the data ends yesterday (UTC), so "the last 30 days" has data. On BigQuery, what
 * the load billed is printed per reason at the end (stderr).
 */
import { loadConfig } from '../common/config';
import { addDays, parseDate } from '../common/dates';
import { isTenantId } from '../common/principal';
import { DEFAULT_EVENTS_PER_USER } from '../okta/generator';
import { VERSION } from '../common/version';
import { openDatasetWriter } from '../warehouse/openWarehouse';
import { createOverheadMeter } from '../warehouse/overhead';
import { TENANT_FLAG, type Usage, parseFlags, positiveInt, required, usageText } from '../common/args';
import { UsageError, runMain } from '../common/runMain';
import { printOverhead } from './overheadSummary';
import { progress } from './progress';
import { seedTenant } from './seedTenant';

const USAGE = {
  command: 'npm run seed --',
  synopsis: ['--tenant T --users N --days D [--events-per-user E] [--start YYYY-MM-DD] [--seed S] [--name NAME]'],
  summary: 'Generates deterministic synthetic Okta System Log events (same flags, same data) and loads them into the tenant\'s dataset: DATA_DIR, or BigQuery with WAREHOUSE=bigquery.',
  flags: {
    tenant: TENANT_FLAG,
    users: { type: 'string', value: 'N', meaning: 'people in its directory; required' },
    days: { type: 'string', value: 'D', meaning: 'days of events; required' },
    'events-per-user': { type: 'string', value: 'E', meaning: 'events per user per day, about', default: String(DEFAULT_EVENTS_PER_USER) },
    start: { type: 'string', value: 'YYYY-MM-DD', meaning: 'the first day', default: 'D days before today (UTC), so the data ends yesterday' },
    seed: { type: 'string', value: 'S', meaning: 'the generator\'s seed, an integer', default: '1' },
    name: { type: 'string', value: 'NAME', meaning: 'the tenant\'s display name', default: 'T capitalized and "Corp", e.g. "Acme Corp"' },
  },
  examples: ['npm run seed -- --tenant acme --users 300 --days 30'],
} satisfies Usage;

runMain(usageText(USAGE), async () => {
  const { values } = parseFlags(process.argv.slice(2), USAGE);
  const tenant = required(values.tenant, 'tenant');
  if (!isTenantId(tenant)) throw new UsageError(`--tenant "${tenant}" must be lowercase letters, digits and underscores, starting with a letter.`);
  const days = positiveInt(values.days, 'days');
  const start = values.start ?? addDays(new Date().toISOString().slice(0, 10), -days);
  if (!parseDate(start)) throw new UsageError(`--start must be a date as YYYY-MM-DD, not "${start}".`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, not "${values.seed}".`);
  const options = {
    tenant, days, start, seed, name: values.name,
    users: positiveInt(values.users, 'users'),
    eventsPerUser: positiveInt(values['events-per-user'], 'events-per-user', DEFAULT_EVENTS_PER_USER),
  };
  const config = loadConfig(process.env);
  const where = config.bigquery ? `BigQuery dataset ${config.bigquery.projectId}.${config.bigquery.datasetPrefix}_${tenant}` : config.dataDir;
  console.error(`seeding ${tenant}: ${options.users} users × ${days} days from ${start}, ~${options.eventsPerUser} events/user/day, seed ${seed}`);
  const shown = progress();
  const overhead = createOverheadMeter();
  const writer = await openDatasetWriter(config, VERSION, { overhead });
  const report = await seedTenant(writer, options, (p) => {
    const rate = Math.round(p.events / Math.max(p.elapsedMs / 1000, 0.001));
    shown.update(`  day ${p.daysDone}/${p.days} (${p.day}) · ${p.events.toLocaleString('en-US')} events generated · ${rate.toLocaleString('en-US')} events/s`);
  });
  shown.done('  done');
  await writer.close();
  console.log(`${tenant}: ${report.accepted} events stored (${report.duplicates} already present) in ${where}`);
  printOverhead(overhead);
});
