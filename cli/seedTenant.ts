/** Generates a synthetic tenant (okta/generator.ts) and loads it through a DatasetWriter (DuckDB or BigQuery). */
import { type GeneratorOptions, generateDays, generateDirectory } from '../okta/generator';
import type { LogEvent } from '../okta/logEvent';
import type { DatasetWriter, IngestReport } from '../warehouse/datasetWriter';

/** A large tenant's day is generated and stored this many events at a time (a 200,000-event day whole took ~150 MiB of heap). */
const PART_EVENTS = 50_000;

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
    for (const { day, events: batch, dayDone } of generateDays(options, directory, { partEvents: PART_EVENTS })) {
      yield batch;
      events += batch.length;
      if (dayDone) daysDone++;
      onProgress({ day, daysDone, days: options.days, events, elapsedMs: Date.now() - started });
    }
  }
  return writer.ingestLogEvents(options.tenant, batches());
}

function displayName(tenant: string): string {
  return `${tenant.charAt(0).toUpperCase()}${tenant.slice(1).replace(/_/g, ' ')} Corp`;
}
