/**
 * The machine a benchmark runs on, and how busy other work kept it: every second, the CPU the whole
 * machine used (/proc/stat) minus what this process and its descendants used (/proc/<pid>/stat utime +
 * stime), in cores. A figure that moved between runs together with this one is the machine's noise,
 * not bytegate's. Linux only; elsewhere the sampler records nothing.
 */
import fs from 'node:fs';
import os from 'node:os';

export interface CpuSample {
  /** End of the sampled interval, ms since the epoch. */
  readonly t: number;
  /** Cores used by processes outside this process tree over the interval. */
  readonly otherCores: number;
}

export interface OtherCpuSampler {
  readonly samples: readonly CpuSample[];
  /** Mean of the samples whose interval lies in (from, to]; NaN without samples. */
  mean(from: number, to: number): number;
  stop(): void;
}

export function describeMachine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

export function sampleOtherCpu(intervalMs = 1000): OtherCpuSampler {
  const samples: CpuSample[] = [];
  const mean = (from: number, to: number) => {
    const values = samples.filter((s) => s.t - intervalMs >= from && s.t <= to).map((s) => s.otherCores);
    return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
  };
  if (!fs.existsSync('/proc/stat')) return { samples, mean, stop: () => {} };
  const ticksPerSecond = 100; // USER_HZ
  let previous = read();
  const timer = setInterval(() => {
    const now = read();
    const seconds = (now.t - previous.t) / 1000;
    // A process of the tree that exited between samples takes its ticks with it: clamp at 0.
    samples.push({ t: now.t, otherCores: Math.max(0, (now.busy - previous.busy - (now.ours - previous.ours)) / ticksPerSecond / seconds) });
    previous = now;
  }, intervalMs);
  timer.unref();
  return { samples, mean, stop: () => clearInterval(timer) };
}

// Private:

/** Busy ticks of the machine (all but idle and iowait) and of this process tree. */
function read(): { t: number; busy: number; ours: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = fields.reduce((a, b) => a + b, 0) - fields[3] - (fields[4] ?? 0);
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      parents.set(Number(entry), Number(after[1])); // ppid, field 4
      // utime + stime (fields 14, 15); for this process also its reaped children's (cutime + cstime).
      const own = Number(after[11]) + Number(after[12]);
      ticks.set(Number(entry), Number(entry) === process.pid ? own + Number(after[13]) + Number(after[14]) : own);
    } catch {
      // exited meanwhile
    }
  }
  let ours = 0;
  for (const [pid, tick] of ticks) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) {
      if (p === process.pid) {
        ours += tick;
        break;
      }
    }
  }
  return { t: Date.now(), busy, ours };
}
