/**
 * The first run's demo data while it loads. `npm start` on an empty DATA_DIR serves at once and loads
 * the demo tenants' events behind it (cli/demoData.ts), recording here, in DATA_DIR/demo-loading.json,
 * what it loads and what it has loaded: the gateway's /readyz reports it, and a first run that was
 * stopped midway resumes from it. The file is gone once everything is loaded.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One demo tenant: the generator's options, and the days stored so far. */
export interface DemoTenantLoad {
  readonly tenant: string;
  readonly name: string;
  readonly users: number;
  readonly days: number;
  readonly eventsPerUser: number;
  readonly seed: number;
  /** The range's first day, YYYY-MM-DD: fixed when the load is planned, so a resumed load stores the same events. */
  readonly start: string;
  /** Days whose events are stored, rollups and statistics included. */
  readonly loadedDays: readonly string[];
  /** Events stored so far. */
  readonly events: number;
}

export interface DemoLoading {
  readonly tenants: readonly DemoTenantLoad[];
}

/** What /readyz shows of it. */
export interface DemoLoadingReport {
  readonly state: 'loading';
  readonly detail: string;
  readonly tenants: Record<string, { readonly daysLoaded: number; readonly days: number; readonly events: number }>;
}

/** The record; undefined when there is none; an error naming the file and the way out when it is not one. */
export function readDemoLoading(dataDir: string): DemoLoading | undefined {
  let loading: Partial<DemoLoading> | null;
  try {
    loading = JSON.parse(fs.readFileSync(statusFile(dataDir), 'utf8')) as Partial<DemoLoading> | null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(dataDir, (error as Error).message);
  }
  const valid = Array.isArray(loading?.tenants)
    && loading.tenants.every((t) => typeof t?.tenant === 'string' && typeof t.start === 'string' && Array.isArray(t.loadedDays));
  if (!valid) throw unreadable(dataDir, 'not a demo-loading record');
  return loading as DemoLoading;
}

/** Replaces the record atomically (a reader never sees half of it); undefined removes it. */
export function writeDemoLoading(dataDir: string, loading: DemoLoading | undefined): void {
  const file = statusFile(dataDir);
  if (loading === undefined) {
    fs.rmSync(file, { force: true });
    return;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(loading, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

/** The record as /readyz reports it; undefined when nothing is loading (or the record is unreadable: readiness never fails on it). */
export function demoLoadingReport(dataDir: string): DemoLoadingReport | undefined {
  let loading: DemoLoading | undefined;
  try {
    loading = readDemoLoading(dataDir);
  } catch {
    return undefined;
  }
  if (!loading) return undefined;
  return {
    state: 'loading',
    detail: 'the demo tenants\' events are still loading, newest day first: queries answer from the days loaded so far',
    tenants: Object.fromEntries(loading.tenants.map((t) => [t.tenant, { daysLoaded: t.loadedDays.length, days: t.days, events: t.events }])),
  };
}

function unreadable(dataDir: string, why: string): Error {
  return new Error(`${statusFile(dataDir)} is unreadable (${why}): delete it and DATA_DIR/tenants to seed the demo again.`);
}

function statusFile(dataDir: string): string {
  return path.join(dataDir, 'demo-loading.json');
}
