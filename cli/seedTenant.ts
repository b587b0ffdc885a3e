/** Generates a synthetic tenant (okta/generator.ts) and loads it through a DatasetWriter (DuckDB or BigQuery). */
import { type GeneratorOptions, generateDays, generateDirectory } from '../okta/generator';
import type { LogEvent } from '../okta/logEvent';
import type { DatasetWriter, IngestReport } from '../warehouse/datasetWriter';

export interface SeedProgress {
  day: string;
  daysDone: number;
  days: number;
  events: number;
  elapsedMs: number;
}

export async function seedTenant(
  writer: DatasetWriter,
  options: GeneratorOptions & { name?: string },
  onProgress: (progress: SeedProgress) => void = () => {},
): Promise<IngestReport> {
  const started = Date.now();
  const directory = generateDirectory(options);
  await writer.createTenant({ id: options.tenant, name: options.name ?? displayName(options.tenant) });
  await writer.upsertUsers(options.tenant, directory);
  let events = 0;
  let daysDone = 0;
  function* batches(): Generator<LogEvent[]> {
    for (const { day, events: batch } of generateDays(options, directory)) {
      yield batch;
      events += batch.length;
      daysDone++;
      onProgress({ day, daysDone, days: options.days, events, elapsedMs: Date.now() - started });
    }
  }
  return writer.ingestLogEvents(options.tenant, batches());
}

function displayName(tenant: string): string {
  return `${tenant.charAt(0).toUpperCase()}${tenant.slice(1).replace(/_/g, ' ')} Corp`;
}
