/** Generates a synthetic tenant (okta/generator.ts) and loads it into the embedded dataset. */
import { type GeneratorOptions, generateDays, generateDirectory } from '../okta/generator';
import { type IngestReport, createTenantDataset, ingestEvents, upsertUsers } from '../warehouse/duckdb/tenantDataset';

export interface SeedProgress {
  day: string;
  daysDone: number;
  days: number;
  events: number;
  elapsedMs: number;
}

export async function seedTenant(
  dataDir: string,
  options: GeneratorOptions & { name?: string },
  onProgress: (progress: SeedProgress) => void = () => {},
): Promise<IngestReport> {
  const started = Date.now();
  const directory = generateDirectory(options);
  await createTenantDataset(dataDir, { id: options.tenant, name: options.name ?? displayName(options.tenant) });
  await upsertUsers(dataDir, options.tenant, directory);
  let events = 0;
  let daysDone = 0;
  function* lines(): Generator<string> {
    for (const { day, events: batch } of generateDays(options, directory)) {
      for (const event of batch) yield JSON.stringify(event);
      events += batch.length;
      daysDone++;
      onProgress({ day, daysDone, days: options.days, events, elapsedMs: Date.now() - started });
    }
  }
  return ingestEvents(dataDir, options.tenant, lines());
}

function displayName(tenant: string): string {
  return `${tenant.charAt(0).toUpperCase()}${tenant.slice(1).replace(/_/g, ' ')} Corp`;
}
