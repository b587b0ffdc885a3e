/**
 * npm run bench — every benchmark scenario, each against a baseline measured in the same run,
 * printed as one table with the machine it ran on. README.md (Benchmarks) says how to read it.
 * BENCH_SCALE=small runs reduced sizes (a smoke run); the default sizes are the ones quoted in README.md.
 * `npm run bench -- cost ledger` (scenarios: ingest, cost, ledger, dashboard, stats) runs only the named ones.
 * stats: how accurate BigQuery's per-column statistics are (PARTITIONS totals split by the bytes
 * recorded at ingest) against the exact ones, on a freshly seeded tenant; its worst columns are
 * printed after the table.
 */
import os from 'node:os';
import { benchCostControl } from './costControl';
import { benchDashboard } from './dashboard';
import { benchIngest } from './ingest';
import { benchLedger } from './ledger';
import { QUERY_COLUMN_SETS, benchStatsAccuracy } from './statsAccuracy';

async function main(): Promise<void> {
  const small = process.env.BENCH_SCALE === 'small';
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: [string, string, string, string][] = [];
  /** Detail printed after the table. */
  const notes: string[] = [];
  const only = process.argv.slice(2);
  const wanted = (name: string) => only.length === 0 || only.includes(name);

  if (wanted('ingest')) {
    const ingest = await benchIngest(small ? { users: 100, days: 5, eventsPerUser: 200 } : { users: 1000, days: 5, eventsPerUser: 200 });
    const rate = ingest.events / ingest.ingestSeconds;
    const baselineRate = ingest.events / ingest.baselineSeconds;
    rows.push([
      `ingest ${ingest.events.toLocaleString('en-US')} events (${(ingest.fileBytes / 2 ** 20).toFixed(0)} MiB NDJSON)`,
      `${Math.round(rate).toLocaleString('en-US')} events/s (${ingest.ingestSeconds.toFixed(2)} s)`,
      `DuckDB read_json: ${Math.round(baselineRate).toLocaleString('en-US')} events/s`,
      `${(rate / baselineRate).toFixed(2)}× baseline; target ≥ 500,000/s: ${rate >= 500_000 ? 'met' : 'NOT met'}`,
    ]);
    rows.push([
      're-ingest same file (all duplicates)',
      `${Math.round(ingest.events / ingest.reingestSeconds).toLocaleString('en-US')} events/s (${ingest.reingestSeconds.toFixed(2)} s)`,
      'first ingest',
      `${(ingest.ingestSeconds / ingest.reingestSeconds).toFixed(2)}× as fast`,
    ]);
  }

  if (wanted('cost')) {
    const cost = await benchCostControl(small ? { users: 100, days: 14, rounds: 1, secondsPerRound: 3 } : { users: 300, days: 30, rounds: 3, secondsPerRound: 8 });
    const mix = `dashboard mix, 10 connections, median of ${cost.rounds} × ${cost.secondsPerRound} s`;
    rows.push([
      `gateway throughput with cost control (${mix})`,
      `${Math.round(cost.withCost.requestsPerSecond)} req/s`,
      `without cost control: ${Math.round(cost.without.requestsPerSecond)} req/s`,
      `${(cost.withCost.requestsPerSecond / cost.without.requestsPerSecond).toFixed(3)}× (target ≥ 0.95)`,
    ]);
    rows.push([
      'gateway median latency with cost control',
      `${cost.withCost.p50Ms.toFixed(1)} ms`,
      `without: ${cost.without.p50Ms.toFixed(1)} ms`,
      `${(cost.withCost.p50Ms / cost.without.p50Ms).toFixed(3)}× (target ≤ 1.05)`,
    ]);
    rows.push([
      `estimate a ${cost.estimateFields}-field operation (plan + price + points)`,
      `${cost.estimateMicros.toFixed(1)} µs`,
      `graphql validate of it: ${cost.validateMicros.toFixed(1)} µs`,
      `${(cost.estimateMicros / cost.validateMicros).toFixed(2)}× validate; target < 200 µs: ${cost.estimateMicros < 200 ? 'met' : 'NOT met'}`,
    ]);
  }

  if (wanted('ledger')) {
    const ledger = await benchLedger({ operations: small ? 1000 : 10_000, url: process.env.REDIS_URL || undefined });
    rows.push([
      `budget ledger reserve + settle, Redis (${ledger.operations.toLocaleString('en-US')} sequential)`,
      `p50 ${ledger.p50Micros.toFixed(0)} µs, p99 ${ledger.p99Micros.toFixed(0)} µs`,
      `PING + INCRBY: p50 ${ledger.baselineP50Micros.toFixed(0)} µs, p99 ${ledger.baselineP99Micros.toFixed(0)} µs`,
      `${(ledger.p50Micros / ledger.baselineP50Micros).toFixed(2)}× at p50, ${(ledger.p99Micros / ledger.baselineP99Micros).toFixed(2)}× at p99`,
    ]);
  }

  if (wanted('dashboard')) {
    const d = await benchDashboard(small
      ? { users: 100, days: 30, eventsPerUser: 50, rounds: 1, secondsPerRound: 3, loads: 20 }
      : { users: 1000, days: 90, eventsPerUser: 200, rounds: 3, secondsPerRound: 8, loads: 100 });
    const ms = (values: number[]) => `median ${medianOf(values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
    const tenantSize = `${d.events.toLocaleString('en-US')} events`;
    rows.push([`dashboard cold, 30 days, nothing cached (${tenantSize}, 5 ranges)`, ms(d.coldMs), '—', `target < 1000 ms: ${Math.max(...d.coldMs) < 1000 ? 'met' : 'NOT met'}`]);
    rows.push(['filter change: new 7-day range, rollup panels (5 ranges)', ms(d.filterChangeMs), '—', `target < 300 ms: ${Math.max(...d.filterChangeMs) < 300 ? 'met' : 'NOT met'}`]);
    rows.push([
      `dashboard warm, aggregate cache in ${d.store} (10 connections, median of the rounds)`,
      `${Math.round(d.warm.requestsPerSecond)} req/s, p99 ${d.warm.p99Ms.toFixed(0)} ms`,
      `warehouse answering from memory: ${Math.round(d.constant.requestsPerSecond)} req/s, p99 ${d.constant.p99Ms.toFixed(0)} ms`,
      `${(d.warm.requestsPerSecond / d.constant.requestsPerSecond).toFixed(2)}× (target ≥ 0.80)`,
    ]);
    rows.push([
      `bytes billed, ${d.loads} dashboard loads`,
      `with cache: ${(d.billedWithCache / 2 ** 30).toFixed(2)} GiB`,
      `without: ${(d.billedWithoutCache / 2 ** 30).toFixed(2)} GiB (5 loads run, identical, × ${d.loads})`,
      `${(100 * (1 - d.billedWithCache / d.billedWithoutCache)).toFixed(1)}% saved (target ≥ 95%)`,
    ]);
  }

  if (wanted('stats')) {
    const started = process.hrtime.bigint();
    const s = await benchStatsAccuracy(small ? { users: 100, days: 14, eventsPerUser: 200 } : { users: 1000, days: 30, eventsPerUser: 100 });
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

  const widths = [0, 1, 2, 3].map((i) => Math.max(...[['scenario', 'result', 'baseline', 'ratio'], ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(['scenario', 'result', 'baseline', 'ratio']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  for (const note of notes) console.log(note);
}

function medianOf(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
