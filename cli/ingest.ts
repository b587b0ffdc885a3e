/**
 * npm run ingest -- --tenant T --file F
 * Loads an Okta System Log export (NDJSON or JSON array) into the tenant's embedded dataset.
 * Exits 1 when any line was rejected (the valid ones are loaded), 2 on bad arguments.
 */
import { isTenantId } from '../common/principal';
import { loadConfig } from '../common/config';
import { readLogFile } from '../okta/logFile';
import { ingestEvents } from '../warehouse/duckdb/tenantDataset';
import { UsageError, parseFlags, required, runCli } from './args';
import { progress } from './progress';

const USAGE = 'npm run ingest -- --tenant T --file F';
const SHOWN_REJECTIONS = 20;

runCli(USAGE, async () => {
  const { values } = parseFlags(process.argv.slice(2), { tenant: { type: 'string' }, file: { type: 'string' } });
  const tenant = required(values.tenant, 'tenant');
  if (!isTenantId(tenant)) throw new UsageError(`--tenant "${tenant}" must be lowercase letters, digits and underscores, starting with a letter.`);
  const file = required(values.file, 'file');
  const config = loadConfig(process.env);

  const started = Date.now();
  const shown = progress();
  const report = await ingestEvents(config.dataDir, tenant, readLogFile(file), {
    onProgress: (lines) => shown.update(`${lines.toLocaleString('en-US')} lines read…`),
    onWait: (reason) => shown.update(`waiting for ${reason}…`),
  });
  const seconds = (Date.now() - started) / 1000;
  shown.done();
  console.log(`${tenant}: ${report.accepted} new events, ${report.duplicates} duplicates, ${report.rejected.length} rejected` +
    ` in ${seconds.toFixed(1)} s; days touched: ${report.days.length ? `${report.days[0]}..${report.days[report.days.length - 1]} (${report.days.length})` : 'none'}`);
  for (const { line, reason } of report.rejected.slice(0, SHOWN_REJECTIONS)) console.error(`${file}:${line}: ${reason}`);
  if (report.rejected.length > SHOWN_REJECTIONS) console.error(`… and ${report.rejected.length - SHOWN_REJECTIONS} more rejected lines`);
  return report.rejected.length > 0 ? 1 : 0;
});
