/**
 * An npm script run to completion as a person runs it (`npm run <script> -- args`, so with the
 * script's own node flags), with its wall time and peak resident memory as the kernel counted it:
 * GNU time's %M, the largest ru_maxrss of npm and the processes it waited for — the script's node
 * process. /usr/bin/time is Debian's `time` package.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ProcessRun {
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly stdout: string;
  readonly stderr: string;
}

const TIME = '/usr/bin/time';
const ROOT = path.resolve(__dirname, '..');

/** Runs `npm run --silent <script> -- args…` from the repository's root; rejects unless it exits 0. */
export async function runMeasured(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  if (!fs.existsSync(TIME)) throw new Error(`${TIME} is missing (apt-get install -y time): it measures a process's peak memory.`);
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-time-')), 'report');
  try {
    const child = spawn(TIME, ['-f', '%e %M', '-o', report, 'npm', 'run', '--silent', script, '--', ...args], {
      cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
    if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`);
    const [seconds, kib] = fs.readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return { seconds, peakRssBytes: kib * 1024, stdout, stderr };
  } finally {
    fs.rmSync(path.dirname(report), { recursive: true, force: true });
  }
}
