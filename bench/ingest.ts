/**
 * Ingest throughput: `npm run ingest`'s path (NDJSON file: keys read and checked → the whole file
 * stored by one statement → rollups and statistics) against a baseline measured in the same run:
 * DuckDB's own bulk `read_json` of the same file into a plain table, with none of that work. The two
 * alternate for ROUNDS rounds, each into a fresh database, so a noisy moment hits both sides alike;
 * the medians are compared. Then `npm run ingest` itself, in a process of its own, for its peak
 * memory. Generation of the file is not timed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateDays, generateDirectory } from '../okta/generator';
import { DUCKDB_OPTIONS } from '../warehouse/duckdb/datasetFiles';
import { ingestFile } from '../warehouse/duckdb/tenantDataset';
import { type ProcessRun, runMeasured } from './processRun';

export interface IngestBenchResult {
  events: number;
  fileBytes: number;
  /** Per round, in order. */
  ingestSeconds: number[];
  baselineSeconds: number[];
  reingestSeconds: number[];
  /** `npm run ingest -- --file` of the same file into an empty DATA_DIR. */
  cli: ProcessRun;
}

export async function benchIngest(options: { users: number; days: number; eventsPerUser: number }): Promise<IngestBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-ingest-'));
  try {
    const file = path.join(dir, 'events.ndjson');
    const generator = { tenant: 'bench', seed: 7, start: '2025-01-01', ...options };
    const out = fs.openSync(file, 'w');
    let events = 0;
    for (const { events: batch } of generateDays(generator, generateDirectory(generator))) {
      fs.writeSync(out, batch.map((e) => JSON.stringify(e)).join('\n') + '\n');
      events += batch.length;
    }
    fs.closeSync(out);
    const fileBytes = fs.statSync(file).size;

    const result = { ingestSeconds: [] as number[], baselineSeconds: [] as number[], reingestSeconds: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const roundDir = path.join(dir, `round-${round}`);
      result.baselineSeconds.push(await timed(async () => {
        const instance = await DuckDBInstance.create(path.join(roundDir, 'baseline.duckdb'), DUCKDB_OPTIONS);
        const connection = await instance.connect();
        await connection.run(`CREATE TABLE raw AS SELECT * FROM read_json('${file}', format = 'newline_delimited')`);
        connection.closeSync();
        instance.closeSync();
      }, () => fs.mkdirSync(roundDir, { recursive: true })));
      const dataDir = path.join(roundDir, 'data');
      result.ingestSeconds.push(await timed(async () => {
        const report = await ingestFile(dataDir, 'bench', file);
        if (report.accepted !== events) throw new Error(`ingest stored ${report.accepted} of ${events} events`);
      }));
      result.reingestSeconds.push(await timed(async () => {
        const report = await ingestFile(dataDir, 'bench', file);
        if (report.duplicates !== events) throw new Error('re-ingest was not idempotent');
      }));
      fs.rmSync(roundDir, { recursive: true, force: true });
    }
    const cli = await runMeasured('ingest', ['--tenant', 'bench', '--file', file], { DATA_DIR: path.join(dir, 'cli') });
    return { events, fileBytes, ...result, cli };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Baseline and ingest alternate this many times. */
const ROUNDS = 3;

async function timed(work: () => Promise<void>, setUp?: () => void): Promise<number> {
  setUp?.();
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}
