/**
 * A newcomer's first minutes: `npm start` on an empty DATA_DIR (it seeds the demo tenants, then
 * starts the four servers) until its banner says it is up; and `npm run seed`, in a process of its
 * own, for its wall time and peak memory at the demo tenant's size and at 20 M events/day scale.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ProcessRun, runMeasured } from './processRun';
import { freePorts } from './stack';

export interface FirstStartResult {
  /** From spawning `npm start` to its banner: every server answering. */
  readonly upSeconds: number;
  /** Its per-tenant progress lines ("seeded acme: … events in … s"). */
  readonly seeded: string[];
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
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start was not up within ${UP_WITHIN_MS / 1000} s:\n${stderr.slice(-2000)}`)), UP_WITHIN_MS);
      npm.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (stderr.includes('bytegate is up: ')) resolve();
      });
      npm.on('exit', (code) => reject(new Error(`npm start exited ${code} before it was up:\n${stderr.slice(-2000)}`)));
      void once(npm, 'exit').finally(() => clearTimeout(timer));
    });
    const upSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { upSeconds, seeded: stderr.split(/[\r\n]+/).filter((line) => line.startsWith('seeded ')) };
  } finally {
    if (npm.exitCode === null) {
      const exited = once(npm, 'exit');
      npm.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const UP_WITHIN_MS = 300_000;

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
