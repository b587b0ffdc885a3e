/**
 * A newcomer's first minutes: `npm start` on an empty DATA_DIR — until its banner says it serves, and
 * until the demo tenants' events, loading behind the servers, are all in (cli/demoData.ts); and
 * `npm run seed`, in a process of its own, for its wall time and peak memory at the demo tenant's
 * size and at 20 M events/day scale.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ProcessRun, runMeasured } from './processRun';
import { freePorts } from './stack';

export interface FirstStartResult {
  /** From spawning `npm start` to its banner: every server answering, the demo data loading. */
  readonly upSeconds: number;
  /** From spawning `npm start` to "demo data loaded". */
  readonly loadedSeconds: number;
  /** Its per-tenant lines ("seeded acme: … events (30 days) in … s"). */
  readonly seeded: string[];
  /** Peak RSS of the supervisor, which loads the demo data (VmHWM). */
  readonly supervisorPeakRssBytes: number;
}

export async function benchFirstStart(): Promise<FirstStartResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-start-'));
  const [port, users, tenants, metrics] = await freePorts(4);
  const started = process.hrtime.bigint();
  const npm = spawn('npm', ['start'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), USERS_PORT: String(users), TENANTS_PORT: String(tenants), METRICS_PORT: String(metrics) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  /** Seconds from the spawn until stderr holds `text`. */
  const printed = (text: string) => new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const failure = npm.exitCode !== null ? `npm start exited ${npm.exitCode}` : seconds > WITHIN_S ? `${WITHIN_S} s passed` : undefined;
      if (stderr.includes(text)) resolve(seconds);
      else if (failure) reject(new Error(`${failure} before it printed "${text}":\n${stderr.slice(-2000)}`));
      else return;
      clearInterval(timer);
    }, 20);
  });
  try {
    const upSeconds = await printed('bytegate is up: ');
    const loadedSeconds = await printed('demo data loaded in ');
    const supervisor = Number(fs.readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    const peak = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${supervisor}/status`, 'utf8'))?.[1];
    return {
      upSeconds, loadedSeconds,
      seeded: stderr.split(/[\r\n]+/).filter((line) => line.startsWith('seeded ')),
      supervisorPeakRssBytes: Number(peak) * 1024,
    };
  } finally {
    if (npm.exitCode === null) {
      const exited = once(npm, 'exit');
      npm.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const WITHIN_S = 300;

export interface SeedRun extends ProcessRun {
  readonly events: number;
}

/** `npm run seed` of a tenant of users × days × eventsPerUser into an empty DATA_DIR. */
export async function benchSeed(size: { users: number; days: number; eventsPerUser: number }): Promise<SeedRun> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-seed-'));
  try {
    const run = await runMeasured('seed', [
      '--tenant', 'bench', '--users', String(size.users), '--days', String(size.days), '--events-per-user', String(size.eventsPerUser), '--start', '2025-01-01',
    ], { DATA_DIR: dataDir });
    const events = /bench: (\d+) events stored/.exec(run.stdout)?.[1];
    if (events === undefined) throw new Error(`npm run seed printed no summary:\n${run.stdout}${run.stderr}`);
    return { ...run, events: Number(events) };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
