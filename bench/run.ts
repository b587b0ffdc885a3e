/**
 * npm run bench — every benchmark scenario, each against a baseline measured in the same run,
 * printed as one table with the machine it ran on. See bench/README.md for how to read it.
 * BENCH_SCALE=small runs reduced sizes (a smoke run); the default sizes are the ones quoted in README.md.
 */
import os from 'node:os';
import { benchIngest } from './ingest';

async function main(): Promise<void> {
  const small = process.env.BENCH_SCALE === 'small';
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: [string, string, string, string][] = [];

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

  const widths = [0, 1, 2, 3].map((i) => Math.max(...[['scenario', 'result', 'baseline', 'ratio'], ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(['scenario', 'result', 'baseline', 'ratio']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
