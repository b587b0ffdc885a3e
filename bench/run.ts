/**
 * npm run bench — every benchmark scenario, each against a baseline measured in the same run,
 * printed as one table with the machine it ran on, then notes and each scenario's wall time.
 * bench/README.md says how to read it. BENCH_SCALE=small runs reduced sizes (a quick run covering
 * every scenario); the default sizes are the ones quoted in README.md.
 * `npm run bench -- cost ledger` (scenarios: ingest, firstRun, cost, batching, httpBatches, ledger, dashboard, responseCache, capacity, stats, startup) runs
 * only the named ones; `npm run bench -- soak` runs the soak (SOAK_SECONDS, default 600), which the
 * default run never does.
 * stats: how accurate BigQuery's per-column statistics are (PARTITIONS totals split by the bytes
 * recorded at ingest) against the exact ones, on a freshly seeded tenant; its worst columns are
 * printed after the table. firstRun: the first `npm start` on an empty DATA_DIR, and `npm run seed`'s
 * peak memory up to 18 M events. capacity: bytegate's own BigQuery bill on real processes against the recording
 * BigQuery fake, and the "At scale" extrapolation (capacityModel.ts). `npm run bench -- --help` prints the usage.
 */
import os from 'node:os';
import { type Usage, parseFlags, usageText } from '../common/args';
import { UsageError, runMain } from '../common/runMain';
import { benchBatching, describeQueries } from './batching';
import { benchHttpBatches } from './httpBatches';
import { benchStartup } from './startup';
import { benchCapacity } from './capacity';
import { capacityRows } from './capacityModel';
import { benchCostControl } from './costControl';
import { benchDashboard } from './dashboard';
import { benchResponseCache } from './responseCache';
import { benchFirstStart, benchSeed } from './firstRun';
import { benchIngest } from './ingest';
import { benchLedger } from './ledger';
import { describeMachine, sampleOtherCpu } from './machine';
import { LAG_GROWTH_FACTOR, LAG_SLACK_MS, RSS_GROWTH_LIMIT, benchSoak } from './soak';
import { reachableRedis } from './stack';
import { QUERY_COLUMN_SETS, benchStatsAccuracy } from './statsAccuracy';

/** `only`: the scenarios named on the command line; none: every one but the soak. */
async function main(only: readonly string[]): Promise<void> {
  const unknown = only.filter((name) => !SCENARIOS.includes(name) && name !== 'soak');
  if (unknown.length > 0) throw new UsageError(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}, soak`);
  const small = process.env.BENCH_SCALE === 'small';
  console.log(`machine: ${describeMachine()}`);
  const otherCpu = sampleOtherCpu();
  const rows: [string, string, string, string][] = [];
  /** Detail printed after the table. */
  const notes: string[] = [];
  // The soak runs only when named.
  const wanted = (name: string) => (only.length === 0 && name !== 'soak') || only.includes(name);
  const timings: string[] = [];
  /** The machine's noise over a row's measurement: other processes' CPU. */
  const othersSince = (started: number) => {
    const others = otherCpu.mean(started, Date.now());
    return Number.isNaN(others) ? 'load not sampled' : `other processes ${others.toFixed(2)} cores`;
  };
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await run();
    const others = otherCpu.mean(started, Date.now());
    timings.push(`${name} ${((Date.now() - started) / 1000).toFixed(0)} s${Number.isNaN(others) ? '' : ` (other processes: ${others.toFixed(2)} cores)`}`);
    return result;
  };

  if (wanted('ingest')) {
    const started = Date.now();
    const ingest = await timed('ingest', () => benchIngest(small ? { users: 100, days: 5, eventsPerUser: 200 } : { users: 1000, days: 5, eventsPerUser: 200 }));
    const [ingestSeconds, baselineSeconds, reingestSeconds] = [ingest.ingestSeconds, ingest.baselineSeconds, ingest.reingestSeconds].map(medianOf);
    const rate = ingest.events / ingestSeconds;
    const baselineRate = ingest.events / baselineSeconds;
    const roundRatios = ingest.ingestSeconds.map((seconds, round) => ingest.baselineSeconds[round] / seconds);
    const load = othersSince(started);
    rows.push([
      `ingest ${ingest.events.toLocaleString('en-US')} events (${(ingest.fileBytes / 2 ** 20).toFixed(0)} MiB NDJSON; median of ${roundRatios.length} alternating rounds; ${load})`,
      `${Math.round(rate).toLocaleString('en-US')} events/s (${ingestSeconds.toFixed(2)} s)`,
      `DuckDB read_json into a table: ${Math.round(baselineRate).toLocaleString('en-US')} events/s (${baselineSeconds.toFixed(2)} s)`,
      `${(rate / baselineRate).toFixed(2)}× baseline (rounds ${Math.min(...roundRatios).toFixed(2)}–${Math.max(...roundRatios).toFixed(2)}); target ≥ 0.6×: ${metIf(rate / baselineRate >= 0.6)}`,
    ]);
    rows.push([
      're-ingest same file (all duplicates)',
      `${Math.round(ingest.events / reingestSeconds).toLocaleString('en-US')} events/s (${reingestSeconds.toFixed(2)} s)`,
      'first ingest',
      `${(ingestSeconds / reingestSeconds).toFixed(2)}× as fast`,
    ]);
    rows.push([
      `npm run ingest of that file: peak RSS (${load})`,
      `${mib(ingest.cli.peakRssBytes)} (${ingest.cli.seconds.toFixed(1)} s, process start included)`,
      '— (absolute target)',
      `target ≤ 1 GiB: ${metIf(ingest.cli.peakRssBytes <= 2 ** 30)}`,
    ]);
  }

  if (wanted('firstRun')) {
    const started = Date.now();
    const start = await timed('firstRun: npm start', () => benchFirstStart());
    rows.push([
      `first npm start on an empty DATA_DIR: serving, the demo data loading behind (${othersSince(started)})`,
      `${start.upSeconds.toFixed(1)} s`,
      `all demo data loaded at ${start.loadedSeconds.toFixed(1)} s (${start.seeded.join('; ')})`,
      `target ≤ 20 s: ${metIf(start.upSeconds <= 20)}`,
    ]);
    rows.push([
      'first npm start: peak RSS of the supervisor, which loads the demo data',
      mib(start.supervisorPeakRssBytes),
      '— (absolute target)',
      `target ≤ 1 GiB: ${metIf(start.supervisorPeakRssBytes <= 2 ** 30)}`,
    ]);
    for (const size of small ? [{ users: 300, days: 30, eventsPerUser: 200 }] : [{ users: 300, days: 30, eventsPerUser: 200 }, { users: 1000, days: 90, eventsPerUser: 200 }]) {
      const seedStarted = Date.now();
      const seed = await timed(`firstRun: seed ${size.users}×${size.days}`, () => benchSeed(size));
      rows.push([
        `npm run seed, ${size.users} users × ${size.days} days (${seed.events.toLocaleString('en-US')} events; ${othersSince(seedStarted)})`,
        `peak RSS ${mib(seed.peakRssBytes)}; ${seed.seconds.toFixed(1)} s, ${Math.round(seed.events / seed.seconds).toLocaleString('en-US')} events/s`,
        '— (absolute target)',
        `target ≤ 1 GiB: ${metIf(seed.peakRssBytes <= 2 ** 30)}`,
      ]);
    }
  }

  if (wanted('cost')) {
    const cost = await timed('cost', () => benchCostControl(small ? { users: 100, days: 14, rounds: 3, secondsPerRound: 3 } : { users: 300, days: 30, rounds: 3, secondsPerRound: 8 }));
    const mix = `dashboard mix, 10 connections, median of ${cost.rounds} × ${cost.secondsPerRound} s`;
    rows.push([
      `gateway throughput with cost control (${mix})`,
      `${Math.round(cost.withCost.requestsPerSecond)} req/s`,
      `without cost control: ${Math.round(cost.without.requestsPerSecond)} req/s`,
      `${(cost.withCost.requestsPerSecond / cost.without.requestsPerSecond).toFixed(3)}×; target ≥ 0.95: ${metIf(cost.withCost.requestsPerSecond / cost.without.requestsPerSecond >= 0.95)}`,
    ]);
    rows.push([
      'gateway median latency with cost control',
      `${cost.withCost.p50Ms.toFixed(1)} ms`,
      `without: ${cost.without.p50Ms.toFixed(1)} ms`,
      `${(cost.withCost.p50Ms / cost.without.p50Ms).toFixed(3)}×; target ≤ 1.05: ${metIf(cost.withCost.p50Ms / cost.without.p50Ms <= 1.05)}`,
    ]);
    rows.push([
      `estimate a ${cost.estimateFields}-field operation (one walk for jobs and points, then price)`,
      `${cost.estimateMicros.toFixed(1)} µs`,
      `graphql validate of it: ${cost.validateMicros.toFixed(1)} µs`,
      `${(cost.estimateMicros / cost.validateMicros).toFixed(2)}× validate; target < 200 µs: ${metIf(cost.estimateMicros < 200)}`,
    ]);
  }

  if (wanted('batching')) {
    const b = await timed('batching', () => benchBatching(small
      ? { users: 200, days: 30, eventsPerUser: 10, samples: 20, rounds: 3, secondsPerRound: 3 }
      : { users: 1000, days: 30, eventsPerUser: 20, samples: 50, rounds: 3, secondsPerRound: 8 }));
    const request = `${b.pageSize} users + manager + 30-day productivity + 7 daily rows, no aggregate cache, ${b.events.toLocaleString('en-US')} events`;
    rows.push([
      `batching: warehouse queries per request (${request})`,
      `${b.batched.queriesPerRequest} (${describeQueries(b.batched.queries)})`,
      `unbatched (1 key per query): ${b.unbatched.queriesPerRequest} (${describeQueries(b.unbatched.queries)})`,
      `${(b.unbatched.queriesPerRequest / b.batched.queriesPerRequest).toFixed(1)}× fewer queries`,
    ]);
    rows.push([
      'batching: latency of that request (sequential)',
      `p50 ${b.batched.p50Ms.toFixed(1)} ms, p95 ${b.batched.p95Ms.toFixed(1)} ms`,
      `unbatched: p50 ${b.unbatched.p50Ms.toFixed(1)} ms, p95 ${b.unbatched.p95Ms.toFixed(1)} ms`,
      `${(b.batched.p50Ms / b.unbatched.p50Ms).toFixed(2)}× at p50, ${(b.batched.p95Ms / b.unbatched.p95Ms).toFixed(2)}× at p95`,
    ]);
    rows.push([
      'batching: throughput of that request (10 connections, median of the rounds)',
      `${b.batched.requestsPerSecond.toFixed(1)} req/s`,
      `unbatched: ${b.unbatched.requestsPerSecond.toFixed(1)} req/s`,
      `${(b.batched.requestsPerSecond / b.unbatched.requestsPerSecond).toFixed(2)}×`,
    ]);
    rows.push([
      'batching: bytes billed per request (≥ 10 MiB per job)',
      `${(b.batched.billedBytesPerRequest / 2 ** 20).toFixed(0)} MiB`,
      `unbatched: ${(b.unbatched.billedBytesPerRequest / 2 ** 20).toFixed(0)} MiB`,
      `${(b.unbatched.billedBytesPerRequest / b.batched.billedBytesPerRequest).toFixed(1)}× less billed`,
    ]);
  }

  if (wanted('httpBatches')) {
    const h = await timed('httpBatches', () => benchHttpBatches(small
      ? { users: 200, days: 30, eventsPerUser: 10, cards: 10, samples: 20 }
      : { users: 1000, days: 30, eventsPerUser: 20, cards: 10, samples: 50 }));
    const dashboard = `${h.cards} user cards, each its own operation with the user's manager and 30-day productivity, no aggregate cache, ${h.events.toLocaleString('en-US')} events`;
    const jobs = ({ jobsPerDashboard: { mean, min, max } }: typeof h.batched) => `${mean.toFixed(2)} (${min}–${max})`;
    rows.push([
      `HTTP batch: warehouse jobs per dashboard (${dashboard}), mean (range)`,
      `one batch: ${jobs(h.batched)}, mostly ${describeQueries(h.batched.jobs)}`,
      `${h.cards} requests at once: ${jobs(h.alone)}, mostly ${describeQueries(h.alone.jobs)}`,
      `${(h.alone.jobsPerDashboard.mean / h.batched.jobsPerDashboard.mean).toFixed(1)}× fewer jobs`,
    ]);
    rows.push([
      'HTTP batch: bytes billed per dashboard, mean (≥ 10 MiB per job)',
      `${(h.batched.billedBytesPerDashboard / 2 ** 20).toFixed(1)} MiB`,
      `${(h.alone.billedBytesPerDashboard / 2 ** 20).toFixed(1)} MiB`,
      `${(h.alone.billedBytesPerDashboard / h.batched.billedBytesPerDashboard).toFixed(1)}× less billed`,
    ]);
    rows.push([
      'HTTP batch: time until the dashboard\'s last card is answered (sequential dashboards)',
      `p50 ${h.batched.p50Ms.toFixed(1)} ms, p95 ${h.batched.p95Ms.toFixed(1)} ms`,
      `p50 ${h.alone.p50Ms.toFixed(1)} ms, p95 ${h.alone.p95Ms.toFixed(1)} ms`,
      `${(h.batched.p50Ms / h.alone.p50Ms).toFixed(2)}× at p50, ${(h.batched.p95Ms / h.alone.p95Ms).toFixed(2)}× at p95`,
    ]);
  }

  if (wanted('startup')) rows.push(...(await timed('startup', () => benchStartup({ rounds: small ? 3 : 7 }))));

  if (wanted('ledger')) {
    const ledger = await timed('ledger', () => benchLedger({ operations: small ? 1000 : 10_000, url: process.env.REDIS_URL || undefined }));
    rows.push([
      `budget ledger reserve + settle, Redis (${ledger.operations.toLocaleString('en-US')} sequential)`,
      `p50 ${ledger.p50Micros.toFixed(0)} µs, p99 ${ledger.p99Micros.toFixed(0)} µs`,
      `PING + INCRBY: p50 ${ledger.baselineP50Micros.toFixed(0)} µs, p99 ${ledger.baselineP99Micros.toFixed(0)} µs`,
      `${(ledger.p50Micros / ledger.baselineP50Micros).toFixed(2)}× at p50, ${(ledger.p99Micros / ledger.baselineP99Micros).toFixed(2)}× at p99`,
    ]);
  }

  if (wanted('dashboard')) {
    const d = await timed('dashboard', () => benchDashboard(small
      ? { users: 100, days: 30, eventsPerUser: 50, rounds: 3, secondsPerRound: 3, loads: 100 }
      : { users: 1000, days: 90, eventsPerUser: 200, rounds: 3, secondsPerRound: 8, loads: 100 }));
    const ms = (values: number[]) => `median ${medianOf(values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
    const tenantSize = `${d.events.toLocaleString('en-US')} events`;
    rows.push([`dashboard cold, 30 days, nothing cached (${tenantSize}, 5 ranges)`, ms(d.coldMs), '— (absolute target)', `target < 400 ms median: ${metIf(medianOf(d.coldMs) < 400)}`]);
    rows.push(['filter change: new 7-day range, rollup panels (5 ranges)', ms(d.filterChangeMs), '— (absolute target)', `target < 300 ms: ${metIf(Math.max(...d.filterChangeMs) < 300)}`]);
    rows.push([
      `dashboard warm, aggregate cache in ${d.store} (10 connections, median of the rounds)`,
      `${Math.round(d.warm.requestsPerSecond)} req/s, p99 ${d.warm.p99Ms.toFixed(0)} ms`,
      `warehouse answering from memory: ${Math.round(d.constant.requestsPerSecond)} req/s, p99 ${d.constant.p99Ms.toFixed(0)} ms`,
      `${(d.warm.requestsPerSecond / d.constant.requestsPerSecond).toFixed(2)}×; target ≥ 0.80: ${metIf(d.warm.requestsPerSecond / d.constant.requestsPerSecond >= 0.8)}`,
    ]);
    rows.push([
      `bytes billed, ${d.loads} dashboard loads`,
      `with cache: ${(d.billedWithCache / 2 ** 30).toFixed(2)} GiB`,
      `without: ${(d.billedWithoutCache / 2 ** 30).toFixed(2)} GiB (5 loads run, identical, × ${d.loads})`,
      `${(100 * (1 - d.billedWithCache / d.billedWithoutCache)).toFixed(1)}% saved; target ≥ 95%: ${metIf(1 - d.billedWithCache / d.billedWithoutCache >= 0.95)}`,
    ]);
  }

  if (wanted('responseCache')) {
    const r = await timed('responseCache', () => benchResponseCache(small
      ? { users: 100, days: 30, eventsPerUser: 50, rounds: 3, secondsPerRound: 3, reloads: 100 }
      : { users: 1000, days: 90, eventsPerUser: 200, rounds: 3, secondsPerRound: 8, reloads: 100 }));
    const rounds = `10 connections, median of 3 rounds, ${r.events.toLocaleString('en-US')} events, stores in ${r.store}`;
    rows.push([
      `warm dashboard from the response cache (${rounds})`,
      `${Math.round(r.hit.requestsPerSecond)} req/s`,
      `the same gateway's /healthz: ${Math.round(r.healthz.requestsPerSecond)} req/s`,
      `${(r.hit.requestsPerSecond / r.healthz.requestsPerSecond).toFixed(2)}×; target ≥ 0.5: ${metIf(r.hit.requestsPerSecond / r.healthz.requestsPerSecond >= 0.5)}`,
    ]);
    rows.push([
      'warm dashboard, response cache vs today\'s path (aggregates cached, every subgraph asked)',
      `${Math.round(r.hit.requestsPerSecond)} req/s`,
      `without the response cache: ${Math.round(r.uncached.requestsPerSecond)} req/s`,
      `${(r.hit.requestsPerSecond / r.uncached.requestsPerSecond).toFixed(1)}× the throughput`,
    ]);
    rows.push([
      'latency of a hit (autocannon counts whole ms)',
      `p50 ${wholeMs(r.hit.p50Ms)}, p99 ${wholeMs(r.hit.p99Ms)}`,
      `/healthz: p50 ${wholeMs(r.healthz.p50Ms)}, p99 ${wholeMs(r.healthz.p99Ms)}; without the cache: p50 ${wholeMs(r.uncached.p50Ms)}, p99 ${wholeMs(r.uncached.p99Ms)}`,
      `p99 ${r.hit.p99Ms - r.healthz.p99Ms} ms over /healthz's; ${(r.uncached.p50Ms / Math.max(r.hit.p50Ms, 1)).toFixed(0)}× under the uncached p50`,
    ]);
    rows.push([
      `bytes billed by ${r.reloads} loads of the README dashboard by ${r.loaders} users of one tenant`,
      `${r.billedLoads} loads billed (${(r.billedBytes / 2 ** 20).toFixed(0)} MiB), ${r.billedFirstLoads} of them first loads`,
      `distinct scopes (one per user: the dashboard asks for \`me\`): ${r.loaders}`,
      `target: only first loads bill: ${metIf(r.billedLoads === r.billedFirstLoads)}`,
    ]);
  }

  if (wanted('capacity')) {
    const redisUrl = await reachableRedis();
    if (!redisUrl) {
      notes.push('capacity: skipped — it needs Redis (REDIS_URL or 127.0.0.1:6379)');
    } else {
      const capacity = await timed('capacity', () => benchCapacity({
        ...(small ? { tenants: 2, users: 30, days: 3, eventsPerUser: 10, watchSeconds: 8, batchEvents: 300, checkMs: 500 }
          : { tenants: 4, users: 100, days: 7, eventsPerUser: 20, watchSeconds: 30, batchEvents: 2000, checkMs: 1000 }),
        redisUrl,
      }));
      const model = capacityRows(capacity);
      rows.push(...model.rows);
      notes.push(...model.notes);
    }
  }

  if (wanted('stats')) {
    const started = process.hrtime.bigint();
    const s = await timed('stats', () => benchStatsAccuracy(small ? { users: 100, days: 14, eventsPerUser: 200 } : { users: 1000, days: 30, eventsPerUser: 100 }));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const pct = (fraction: number) => `${(100 * fraction).toFixed(fraction < 0.001 ? 3 : 1)}%`;
    const summary = (e: { median: number; p95: number; max: number }) => `median ${pct(e.median)}, p95 ${pct(e.p95)}, max ${pct(e.max)}`;
    const loo = s.leaveOneOut;
    const tenantSize = `${s.events.toLocaleString('en-US')} events, ${s.users} users × ${s.days} days`;
    rows.push([
      `column split for days loaded by bytegate (${s.days} days × ${s.columns} columns)`,
      `max error ${s.recordedMaxAbsErrorBytes} bytes`,
      'exact per-day stats',
      s.recordedMaxAbsErrorBytes === 0 ? 'exact' : 'NOT exact',
    ]);
    const worstSet = [...loo.columnSets].filter((set) => set.name !== 'all').sort((a, b) => b.max - a.max)[0];
    rows.push([
      `column split for a day not loaded by bytegate (leave-one-out, ${s.days} days, ${tenantSize})`,
      `${summary(loo.overall)} per column`,
      'exact per-day stats',
      `worst query column set: max ${pct(worstSet.max)} (${worstSet.name})`,
    ]);
    rows.push([
      `  same, summed over a query's columns (${QUERY_COLUMN_SETS.map((set) => set.name).join(' / ')})`,
      `max ${loo.columnSets.map((set) => pct(set.max)).join(' / ')}; under by at most ${loo.columnSets.map((set) => pct(set.maxUnder)).join(' / ')}`,
      'exact per-day stats',
      `all columns: ${pct(loo.columnSets.find((set) => set.name === 'all')!.max)} (PARTITIONS totals are exact)`,
    ]);
    rows.push([
      `partition shrunk outside bytegate (${Math.round(100 * (1 - s.shrunk.factor))}% of rows deleted uniformly)`,
      `max error ${s.shrunk.maxAbsErrorBytes.toFixed(1)} bytes per column and day (rounding), ${pct(s.shrunk.maxRelativeError)}`,
      `exact stats × ${s.shrunk.factor}`,
      'exact only if the deleted rows have the average mix',
    ]);
    notes.push(`stats (${seconds.toFixed(0)} s): leave-one-out error of the worst 5 of ${s.columns} columns:`);
    for (const c of loo.perColumn.slice(0, 5)) {
      const zero = c.zeroDaysEstimatedNonZero > 0 ? `; ${c.zeroDaysEstimatedNonZero} empty day(s) estimated non-zero` : '';
      notes.push(`  ${c.column}: ${summary(c)} (${pct(c.byteShare)} of the table's bytes${zero})`);
    }
    notes.push('  and summed over the columns of a query:');
    for (const set of loo.columnSets) notes.push(`  ${set.name} {${set.name === 'all' ? '*' : set.columns.join(', ')}}: ${summary(set)}, largest under-estimate ${pct(set.maxUnder)}`);
  }

  if (wanted('soak')) {
    const seconds = Number(process.env.SOAK_SECONDS ?? 600);
    if (!(seconds >= 20)) throw new Error('SOAK_SECONDS must be at least 20');
    const o = await timed('soak', () => benchSoak({
      seconds, sampleMs: Number(process.env.SOAK_SAMPLE_MS ?? 1000), redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
      ...(small ? { users: 100, days: 14, eventsPerUser: 50 } : { users: 300, days: 30, eventsPerUser: 50 }),
    }));
    const w = `${o.windowSeconds} s`;
    const gateway = o.processes.find((p) => p.name === 'gateway')!;
    const subgraphs = o.processes.filter((p) => p.name !== 'gateway');
    const sum = (pick: (p: (typeof o.processes)[number]) => number) => subgraphs.reduce((total, p) => total + pick(p), 0);
    const load = `${o.seconds} s at ${o.rate} req/s (half the measured max ${Math.round(o.maxRequestsPerSecond)}), ${o.distinctOperations} operations, Redis ledger + cache`;
    rows.push([
      `soak: gateway RSS, last ${w} vs first ${w} (${load})`,
      `median ${mib(gateway.last.rssMedian)}, min ${mib(gateway.last.rssMin)} (peak of the soak ${mib(gateway.rssPeak)})`,
      `first ${w}: median ${mib(gateway.first.rssMedian)}, min ${mib(gateway.first.rssMin)}`,
      `${(gateway.last.rssMedian / gateway.first.rssMedian).toFixed(3)}×; no growth if ≤ ${RSS_GROWTH_LIMIT}×: ${gateway.rssOk ? 'no growth' : 'GROWTH'}`,
    ]);
    rows.push([
      'soak: gateway heap used (informational)',
      `median ${mib(gateway.last.heapMedian)}`,
      `first ${w}: median ${mib(gateway.first.heapMedian)}`,
      `${(gateway.last.heapMedian / gateway.first.heapMedian).toFixed(3)}×`,
    ]);
    rows.push([
      'soak: gateway event-loop delay p99 (median of 5 s samples; max)',
      `${gateway.last.lagP99.toFixed(1)} ms; max ${gateway.last.lagMax.toFixed(0)} ms`,
      `first ${w}: ${gateway.first.lagP99.toFixed(1)} ms; max ${gateway.first.lagMax.toFixed(0)} ms`,
      `${signed(gateway.last.lagP99 - gateway.first.lagP99)} ms; no growth if ≤ max(${LAG_GROWTH_FACTOR}× first, first + ${LAG_SLACK_MS} ms): ${gateway.lagOk ? 'no growth' : 'GROWTH'}`,
    ]);
    rows.push([
      'soak: subgraphs RSS, sum of 3 processes',
      `median ${mib(sum((p) => p.last.rssMedian))}`,
      `first ${w}: median ${mib(sum((p) => p.first.rssMedian))}`,
      `${subgraphs.map((p) => `${p.name} ${(p.last.rssMedian / p.first.rssMedian).toFixed(2)}×`).join(', ')}; each ≤ ${RSS_GROWTH_LIMIT}×: ${verdictOf(subgraphs, (p) => p.rssOk)}`,
    ]);
    rows.push([
      'soak: subgraphs event-loop delay p99 (median of 5 s samples)',
      subgraphs.map((p) => `${p.name} ${p.last.lagP99.toFixed(1)} ms`).join(', '),
      `first ${w}: ${subgraphs.map((p) => `${p.name} ${p.first.lagP99.toFixed(1)} ms`).join(', ')}`,
      `same rule as the gateway's: ${verdictOf(subgraphs, (p) => p.lagOk)}`,
    ]);
    rows.push([
      'soak: CPU used by other processes on the machine (noise); 1-min load average',
      `last ${w}: ${o.otherCpu.last.toFixed(2)} cores; load ${o.loadAverage.last.toFixed(1)}`,
      `first ${w}: ${o.otherCpu.first.toFixed(2)} cores; load ${o.loadAverage.first.toFixed(1)}`,
      `of ${os.cpus().length}; delays rise with it`,
    ]);
    rows.push([
      `soak: requests (${o.requests.toLocaleString('en-US')}, ${o.achievedRequestsPerSecond.toFixed(1)} req/s achieved), latency`,
      `last ${w}: p50 ${o.latency.last.p50.toFixed(1)} ms, p99 ${o.latency.last.p99.toFixed(1)} ms; ${o.failures} failed`,
      `first ${w}: p50 ${o.latency.first.p50.toFixed(1)} ms, p99 ${o.latency.first.p99.toFixed(1)} ms`,
      `verdict (all rules, all processes, 0 failed): ${o.ok ? 'no growth' : o.failures > 0 ? 'FAILURES' : 'GROWTH'}`,
    ]);
    for (const p of o.processes) {
      notes.push(`soak ${p.name}: RSS median ${mib(p.first.rssMedian)} → ${mib(p.last.rssMedian)}, min ${mib(p.first.rssMin)} → ${mib(p.last.rssMin)} (peak ${mib(p.rssPeak)}), heap ${mib(p.first.heapMedian)} → ${mib(p.last.heapMedian)}, external ${mib(p.first.externalMedian)} → ${mib(p.last.externalMedian)}, delay p99 ${p.first.lagP99.toFixed(1)} → ${p.last.lagP99.toFixed(1)} ms (max ${p.first.lagMax.toFixed(0)} → ${p.last.lagMax.toFixed(0)} ms); ${p.first.samples}/${p.last.samples} memory and ${p.first.lagSamples}/${p.last.lagSamples} delay samples`);
    }
  }

  const widths = [0, 1, 2, 3].map((i) => Math.max(...[['scenario', 'result', 'baseline', 'ratio'], ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(['scenario', 'result', 'baseline', 'ratio']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  for (const note of notes) console.log(note);
  otherCpu.stop();
  console.log(`timings: ${timings.join(', ')}; load avg at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

const SCENARIOS = ['ingest', 'firstRun', 'cost', 'batching', 'httpBatches', 'ledger', 'dashboard', 'responseCache', 'capacity', 'stats', 'startup'];

function verdictOf<P extends { name: string }>(processes: P[], ok: (p: P) => boolean): string {
  const growing = processes.filter((p) => !ok(p)).map((p) => p.name);
  return growing.length === 0 ? 'no growth' : `GROWTH (${growing.join(', ')})`;
}

/** A latency autocannon reports in whole milliseconds. */
function wholeMs(ms: number): string {
  return ms < 1 ? '< 1 ms' : `${ms} ms`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function metIf(condition: boolean): string {
  return condition ? 'met' : 'NOT met';
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(1)}`;
}

function medianOf(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

const USAGE = {
  command: 'npm run bench --',
  synopsis: ['[SCENARIO…]'],
  operands: true,
  summary: 'Every benchmark scenario, each against a baseline measured in the same run, printed as one table with the machine it ran on (bench/README.md says how to read it); named scenarios run alone.',
  flags: {},
  notes: [
    `SCENARIO: ${SCENARIOS.join(', ')}, or soak — which runs only when named (SOAK_SECONDS, default 600).`,
    'BENCH_SCALE=small runs reduced sizes (a quick run covering every scenario); the default sizes are the ones README.md quotes.',
  ],
  examples: ['npm run bench', 'BENCH_SCALE=small npm run bench -- cost ledger', 'SOAK_SECONDS=120 npm run bench -- soak'],
} satisfies Usage;

runMain(usageText(USAGE), async () => main(parseFlags(process.argv.slice(2), USAGE).positionals));
