/**
 * npm run ingest -- --tenant T --file F
 *   Loads an Okta System Log export (NDJSON or JSON array) into the tenant's dataset (the embedded
 *   files, or with WAREHOUSE=bigquery BigQuery load jobs: warehouse/bigquery/bigQueryLoader.ts).
 *   Exits 1 when any line was rejected (the valid ones are loaded), 2 on bad arguments.
 * npm run ingest -- --tenant T --okta-url https://ORG.okta.com --token-env OKTA_TOKEN [--since ISO] [--follow [--poll-interval S]]
 *   Polls the org's System Log API (okta/logsPoller.ts) from where the last run stopped
 *   (DATA_DIR/okta/<tenant>@<host>.json), loading as it goes; stops once caught up, or with
 *   --follow keeps polling until SIGINT/SIGTERM.
 */
import path from 'node:path';
import { isTenantId } from '../common/principal';
import { type Config, loadConfig } from '../common/config';
import { fileCheckpoint, pollOktaLogs } from '../okta/logsPoller';
import { VERSION } from '../common/version';
import type { DatasetWriter, IngestReport } from '../warehouse/datasetWriter';
import { openDatasetWriter } from '../warehouse/openWarehouse';
import { createOverheadMeter } from '../warehouse/overhead';
import { TENANT_FLAG, type Usage, parseFlags, positiveInt, required, usageText } from '../common/args';
import { UsageError, runMain } from '../common/runMain';
import { printOverhead } from './overheadSummary';
import { progress } from './progress';

const USAGE = {
  command: 'npm run ingest --',
  synopsis: [
    '--tenant T --file F',
    '--tenant T --okta-url https://ORG.okta.com --token-env OKTA_TOKEN [--since ISO-8601] [--follow [--poll-interval SECONDS]]',
  ],
  summary: 'Loads Okta System Log events into the tenant\'s dataset (DATA_DIR, or BigQuery with WAREHOUSE=bigquery), deduplicated on uuid: from a file, or polled from the org\'s System Log API. Exits 1 when any event was rejected (the valid ones are loaded).',
  flags: {
    tenant: TENANT_FLAG,
    file: { type: 'string', value: 'F', meaning: 'an export: NDJSON (one LogEvent per line) or a JSON array; this or --okta-url' },
    'okta-url': { type: 'string', value: 'URL', meaning: 'the Okta org to poll (https), resuming from DATA_DIR/okta/<tenant>@<host>.json; this or --file' },
    'token-env': { type: 'string', value: 'NAME', meaning: 'the environment variable holding the Okta API token; required with --okta-url' },
    since: { type: 'string', value: 'ISO-8601', meaning: 'the oldest events wanted, read while there is no resume point', default: '7 days ago' },
    follow: { type: 'boolean', meaning: 'keeps polling once caught up, until SIGINT or SIGTERM', default: 'off, stopping once caught up' },
    'poll-interval': { type: 'string', value: 'SECONDS', meaning: 'the pause between polls with --follow', default: '60' },
  },
  examples: [
    'npm run ingest -- --tenant acme --file okta-export.ndjson',
    'OKTA_TOKEN=… npm run ingest -- --tenant acme --okta-url https://acme.okta.com --token-env OKTA_TOKEN --follow',
  ],
} satisfies Usage;
const SHOWN_REJECTIONS = 20;

runMain(usageText(USAGE), async () => {
  const { values } = parseFlags(process.argv.slice(2), USAGE);
  const tenant = required(values.tenant, 'tenant');
  if (!isTenantId(tenant)) throw new UsageError(`--tenant "${tenant}" must be lowercase letters, digits and underscores, starting with a letter.`);
  if ((values.file === undefined) === (values['okta-url'] === undefined)) throw new UsageError('give either --file or --okta-url.');
  const config = loadConfig(process.env);
  const overhead = createOverheadMeter();
  const writer = await openDatasetWriter(config, VERSION, { overhead });
  try {
    return await (values['okta-url'] !== undefined ? pollOkta(config, writer, tenant, values) : ingestFile(writer, tenant, values));
  } finally {
    await writer.close();
    printOverhead(overhead);
  }
});

async function ingestFile(writer: DatasetWriter, tenant: string, values: { file?: string; 'token-env'?: string; since?: string; follow?: boolean; 'poll-interval'?: string }): Promise<number> {
  for (const flag of ['token-env', 'since', 'follow', 'poll-interval'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} applies to --okta-url only.`);
  }
  const file = required(values.file, 'file');

  const started = Date.now();
  const shown = progress();
  const report = await writer.ingestFile(tenant, file, {
    onProgress: (lines) => shown.update(`${lines.toLocaleString('en-US')} lines read…`),
    onWait: (reason) => shown.update(`waiting for ${reason}…`),
  });
  shown.done();
  console.log(summary(tenant, report, started));
  for (const { line, reason } of report.rejected.slice(0, SHOWN_REJECTIONS)) console.error(`${file}:${line}: ${reason}`);
  if (report.rejected.length > SHOWN_REJECTIONS) console.error(`… and ${report.rejected.length - SHOWN_REJECTIONS} more rejected lines`);
  return report.rejected.length > 0 ? 1 : 0;
}

async function pollOkta(config: Config, writer: DatasetWriter, tenant: string, values: { 'okta-url'?: string; 'token-env'?: string; since?: string; follow?: boolean; 'poll-interval'?: string }): Promise<number> {
  let orgUrl: URL;
  try {
    orgUrl = new URL(required(values['okta-url'], 'okta-url'));
  } catch {
    throw new UsageError(`--okta-url must be a URL like https://ORG.okta.com, not "${values['okta-url']}".`);
  }
  if (orgUrl.protocol !== 'https:' && orgUrl.hostname !== '127.0.0.1' && orgUrl.hostname !== 'localhost') {
    throw new UsageError('--okta-url must be https (the token travels with every request).');
  }
  const tokenEnv = required(values['token-env'], 'token-env');
  const token = process.env[tokenEnv];
  if (!token) throw new UsageError(`--token-env ${tokenEnv}: that environment variable is empty or not set.`);
  if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) throw new UsageError(`--since must be an ISO-8601 time, not "${values.since}".`);
  if (values['poll-interval'] !== undefined && !values.follow) throw new UsageError('--poll-interval applies with --follow only.');
  const pollIntervalMs = positiveInt(values['poll-interval'], 'poll-interval', 60) * 1000;

  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
  const checkpointFile = path.join(config.dataDir, 'okta', `${tenant}@${orgUrl.host}.json`);
  const shown = progress();
  let rejected = 0;
  const started = Date.now();
  const result = await pollOktaLogs({
    orgUrl: orgUrl.origin, token, since: values.since, follow: values.follow, pollIntervalMs, signal: stop.signal, sleep,
    checkpoint: fileCheckpoint(checkpointFile),
    async load(events) {
      const loadStarted = Date.now();
      const report = await writer.ingestEvents(tenant, events, { onWait: (reason) => shown.update(`waiting for ${reason}…`) });
      rejected += report.rejected.length;
      for (const { line, reason } of report.rejected.slice(0, SHOWN_REJECTIONS)) console.error(`okta event ${line} of a batch: ${reason}`);
      shown.done(summary(tenant, report, loadStarted));
    },
    onProgress: ({ events, pages, waitingMs, reason }) => shown.update(
      `${events.toLocaleString('en-US')} events from ${pages} pages${reason ? `; ${reason}, next request in ${Math.round((waitingMs ?? 0) / 1000)} s` : ''}`,
    ),
  });
  shown.done(`${tenant}: ${result.events.toLocaleString('en-US')} events from ${result.pages} pages of ${orgUrl.host} in ${((Date.now() - started) / 1000).toFixed(1)} s; resume point saved in ${checkpointFile}`);
  return rejected > 0 ? 1 : 0;
}

function summary(tenant: string, report: IngestReport, started: number): string {
  const seconds = (Date.now() - started) / 1000;
  return `${tenant}: ${report.accepted} new events, ${report.duplicates} duplicates, ${report.rejected.length} rejected` +
    ` in ${seconds.toFixed(1)} s; days touched: ${report.days.length ? `${report.days[0]}..${report.days[report.days.length - 1]} (${report.days.length})` : 'none'}`;
}
