/**
 * The demo tenants `npm start` seeds on an empty DATA_DIR, loaded so that the system serves within
 * seconds: `planDemoData` creates each tenant with its directory (a second) and records the plan
 * (common/demoLoading.ts); `loadDemoEvents` then stores their events behind the running servers,
 * newest day first (the dashboards' "last N days" fill first), in writes of about a row group each:
 * between two writes the subgraphs reopen the files and answer from the days loaded so far (a query
 * arriving during a write waits for it: warehouse/duckdb/datasetFiles.ts). Queries are slow meanwhile
 * (seconds) and the load slower than one write would be (acme: 61 s in one write, 87–93 s here); both
 * only on a first start. Each write records its
 * days in the plan, so a first run stopped midway resumes where it was; uuids make a day stored twice
 * harmless.
 */
import fs from 'node:fs';
import { addDays } from '../common/dates';
import { type DemoLoading, type DemoTenantLoad, readDemoLoading, writeDemoLoading } from '../common/demoLoading';
import { type DayBatch, generateDays, generateDirectory, rangeDays } from '../okta/generator';
import type { LogEvent } from '../okta/logEvent';
import type { DatasetWriter } from '../warehouse/datasetWriter';
import { datasetPath, sleep, tenantsDir } from '../warehouse/duckdb/datasetFiles';

/** acme ≈ 1.8M events, globex ≈ 270k, over the 30 days before today. */
const DEMO_TENANTS = [
  { tenant: 'acme', name: 'Acme Corporation', users: 300, days: 30, eventsPerUser: 200, seed: 1 },
  { tenant: 'globex', name: 'Globex', users: 60, days: 30, eventsPerUser: 150, seed: 2 },
] as const;

/**
 * A write of the load ends after the day that takes it past this many events: one DuckDB row group.
 * Each write ends with a checkpoint, which compresses and writes its rows — a partly filled row group
 * again at the next write's checkpoint. Measured on acme (1.8M events, 2 cores): a write per day
 * loaded in 101 s, a write per ~row group (2 days, ~5 s each) in 78 s, one write in 61 s. Queries
 * wait out a write, so shorter is kinder to them.
 */
const SEGMENT_EVENTS = 122_880;
/**
 * Between two writes: a request waiting out a write reopens the file and runs its few sequential reads
 * (statistics, then the subgraphs' queries). Measured on the README's dashboard query during the
 * load: 12–19 s with 150 ms pauses (each read waited for another write), 3–8.5 s with 1 s; the load
 * took ~35 s longer (117 s instead of 82 s).
 */
const PAUSE_MS = 1000;

/**
 * The demo load to run: a new one on a DATA_DIR without datasets (its tenants and directories created
 * now), the unfinished one a stopped first run left (directories written again: idempotent; a
 * tenant whose dataset has since been deleted loads again from its first day), or undefined when the
 * data is there.
 */
export async function planDemoData(dataDir: string, writer: DatasetWriter, today: string): Promise<DemoLoading | undefined> {
  let plan = readDemoLoading(dataDir);
  if (!plan) {
    const dir = tenantsDir(dataDir);
    if (fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.duckdb'))) return undefined;
    const start = addDays(today, -30);
    plan = { tenants: DEMO_TENANTS.map((demo) => ({ ...demo, start, loadedDays: [], events: 0 })) };
    writeDemoLoading(dataDir, plan); // before any dataset exists, so an interrupted plan is found again
  } else {
    plan = { tenants: plan.tenants.map((demo) => (fs.existsSync(datasetPath(dataDir, demo.tenant)) ? demo : { ...demo, loadedDays: [], events: 0 })) };
    writeDemoLoading(dataDir, plan);
  }
  for (const demo of plan.tenants) {
    await writer.createTenant({ id: demo.tenant, name: demo.name });
    await writer.upsertUsers(demo.tenant, generateDirectory(demo));
  }
  return plan;
}

export interface DemoProgress {
  readonly tenant: string;
  readonly daysLoaded: number;
  readonly days: number;
  /** The tenant's events stored so far (by this run and a stopped one before it). */
  readonly events: number;
  /** The tenant's last write. */
  readonly done: boolean;
}

/** Stores the plan's days not loaded yet, newest first, recording each write; removes the record at the end. */
export async function loadDemoEvents(dataDir: string, writer: DatasetWriter, plan: DemoLoading, onProgress: (progress: DemoProgress) => void = () => {}): Promise<void> {
  const tenants = [...plan.tenants];
  for (const [index, demo] of tenants.entries()) {
    const loaded = new Set(demo.loadedDays);
    const days = rangeDays(demo).reverse().filter((day) => !loaded.has(day));
    const generated = generateDays(demo, generateDirectory(demo), { days });
    let current: DemoTenantLoad = demo;
    // Each segment holds at least one day: the generator yields one batch per day of `days`.
    for (let left = days.length; left > 0; ) {
      const segment = daysFor(generated, SEGMENT_EVENTS);
      const report = await writer.ingestLogEvents(demo.tenant, segment.batches);
      left -= segment.days.length; // filled as the write consumed the batches
      current = { ...current, loadedDays: [...current.loadedDays, ...segment.days], events: current.events + report.accepted };
      tenants[index] = current;
      writeDemoLoading(dataDir, { tenants });
      onProgress({ tenant: demo.tenant, daysLoaded: current.loadedDays.length, days: demo.days, events: current.events, done: left === 0 });
      await sleep(PAUSE_MS);
    }
  }
  writeDemoLoading(dataDir, undefined);
}

// Private:

/**
 * The next days of `generated` as one write's batches, until they hold at least `events` events (the
 * write asks for a day after storing the previous one). `days` lists those handed out.
 */
function daysFor(generated: Iterator<DayBatch>, events: number): { batches: Iterable<readonly LogEvent[]>; days: string[] } {
  const days: string[] = [];
  let handedOut = 0;
  function* batches(): Generator<readonly LogEvent[]> {
    while (handedOut < events) {
      const next = generated.next();
      if (next.done) return;
      days.push(next.value.day);
      handedOut += next.value.events.length;
      yield next.value.events;
    }
  }
  return { batches: batches(), days };
}
