/**
 * Preloaded into each process of the soak (`node --import tsx --import bench/soakProbe.ts gateway/main.ts`),
 * so the process measures itself without any change to it: it appends JSON lines to BENCH_PROBE_FILE —
 * its RSS and heap (process.memoryUsage) every BENCH_PROBE_INTERVAL_MS (default 1000), and every
 * BENCH_PROBE_LAG_INTERVAL_MS (default 5000) the event-loop delay over that interval
 * (perf_hooks.monitorEventLoopDelay at 10 ms resolution, the resolution subtracted: an idle loop
 * reads ~0), then starts a new interval. Does nothing without BENCH_PROBE_FILE; its timers never keep
 * the process alive.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * One line of the probe file, times in ms since the epoch, sizes in bytes, delays in ms. A memory line
 * every BENCH_PROBE_INTERVAL_MS; a delay line every BENCH_PROBE_LAG_INTERVAL_MS, covering the interval
 * since the previous one.
 */
export type ProbeSample =
  | {
    readonly kind: 'memory'; readonly pid: number; readonly t: number;
    /** process.memoryUsage(): external and arrayBuffers are memory held by JS objects outside the V8 heap (Buffers, native handles). */
    readonly rss: number; readonly heapUsed: number; readonly external: number; readonly arrayBuffers: number;
  }
  | { readonly kind: 'lag'; readonly pid: number; readonly t: number; readonly p50: number; readonly p99: number; readonly max: number };

const file = process.env.BENCH_PROBE_FILE;
const RESOLUTION_MS = 10;

if (file) {
  const write = (sample: ProbeSample) => fs.appendFileSync(file, `${JSON.stringify(sample)}\n`);
  const memoryMs = Number(process.env.BENCH_PROBE_INTERVAL_MS) || 1000;
  const lagMs = Number(process.env.BENCH_PROBE_LAG_INTERVAL_MS) || 5000;
  setInterval(() => {
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    write({ kind: 'memory', pid: process.pid, t: Date.now(), rss, heapUsed, external, arrayBuffers });
  }, memoryMs).unref();
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  const lag = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - RESOLUTION_MS);
  setInterval(() => {
    write({ kind: 'lag', pid: process.pid, t: Date.now(), p50: lag(delay.percentile(50)), p99: lag(delay.percentile(99)), max: lag(delay.max) });
    delay.reset();
  }, lagMs).unref();
}
