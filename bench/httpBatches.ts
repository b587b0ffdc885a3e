/**
 * What an HTTP batch saves. A dashboard of `cards` user cards — each card its own operation (a user's
 * directory entry, manager and 30-day productivity), as component-level queries are written — sent
 * the two ways Apollo Client sends them, through the real gateway and subgraphs over one DuckDB dataset:
 * - batched: one POST holding every card (BatchHttpLink); the operations' subgraph lookups meet
 *   (subgraphs/common/batchedLoads.ts), so the cards' productivity is one warehouse job;
 * - alone (the baseline): one POST per card, all at once (HttpLink), each running its own jobs.
 * Without the aggregate cache (the cold path; a warm cache answers either from memory). Per dashboard:
 * warehouse jobs run, bytes billed (each job bills at least 10 MiB, as on BigQuery; mean over the
 * dashboards) and wall time until the last card is answered, alternating which side goes first.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedTenant } from '../cli/seedTenant';
import { addDays } from '../common/dates';
import { generateDirectory } from '../okta/generator';
import { createDuckDbWarehouse } from '../warehouse/duckdb/duckDbWarehouse';
import { duckDbDatasetWriter } from '../warehouse/duckdb/tenantDataset';
import { countNames, countingWarehouse, percentile } from './batching';
import { startStack } from './stack';

export interface HttpBatchesBenchOptions {
  readonly users: number;
  readonly days: number;
  readonly eventsPerUser: number;
  /** Operations per dashboard (at most MAX_BATCH_OPERATIONS, 10 by default). */
  readonly cards: number;
  /** Dashboards per side. */
  readonly samples: number;
}

export interface HttpBatchesSide {
  /** Warehouse jobs of the most frequent dashboard, by query name. */
  readonly jobs: Readonly<Record<string, number>>;
  /** Warehouse jobs per dashboard: mean, fewest, most (a batch's late operation runs its own). */
  readonly jobsPerDashboard: { readonly mean: number; readonly min: number; readonly max: number };
  readonly billedBytesPerDashboard: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
}

export interface HttpBatchesBenchResult {
  readonly events: number;
  readonly cards: number;
  readonly batched: HttpBatchesSide;
  readonly alone: HttpBatchesSide;
}

const START = '2025-01-01';

/** One card: a user's entry, manager and 30-day totals. */
const CARD = `query Card($id: ID!, $from: Date!, $to: Date!) { user(id: $id) {
  displayName manager { displayName } productivity(from: $from, to: $to) { totalEvents uniqueApps totalWasteHours } } }`;

export async function benchHttpBatches(options: HttpBatchesBenchOptions): Promise<HttpBatchesBenchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-bench-http-batches-'));
  const tenant = { tenant: 'bench', users: options.users, days: options.days, eventsPerUser: options.eventsPerUser, start: START, seed: 7 };
  const duckdb = createDuckDbWarehouse({ dataDir });
  const jobs: string[] = [];
  try {
    const report = await seedTenant(duckDbDatasetWriter(dataDir), tenant);
    const stack = await startStack('httpBatches', { DATA_DIR: dataDir, PORT: '0', BUDGET_DEFAULTS: 'executive=512TiB,tenant=1024TiB' }, countingWarehouse(duckdb, jobs));
    try {
      const directory = generateDirectory(tenant);
      const ceo = directory.find((u) => u.managerId === null)!;
      const token = await stack.token(tenant.tenant, ceo.id);
      const last = addDays(START, options.days - 1);
      const dashboard = (sample: number) => Array.from({ length: options.cards }, (_, i) => ({
        query: CARD, variables: { id: directory[(sample * options.cards + i) % directory.length].id, from: addDays(last, -29), to: last },
      }));
      const post = async (body: unknown) => {
        const response = await fetch(stack.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
        const answer = (await response.json()) as unknown;
        const answers = (Array.isArray(answer) ? answer : [answer]) as { errors?: unknown[]; extensions: { cost: { billedBytes: number } } }[];
        if (response.status !== 200 || answers.some((a) => a.errors)) throw new Error(`httpBatches bench: HTTP ${response.status} ${JSON.stringify(answer).slice(0, 400)}`);
        return answers.reduce((sum, a) => sum + a.extensions.cost.billedBytes, 0);
      };
      const sides = {
        batched: (cards: object[]) => post(cards),
        alone: async (cards: object[]) => (await Promise.all(cards.map(post))).reduce((a, b) => a + b, 0),
      };
      const measured = { batched: newSide(), alone: newSide() };
      const names = ['batched', 'alone'] as const;
      for (let sample = -2; sample < options.samples; sample++) { // two warm-up dashboards each
        for (const name of sample % 2 === 0 ? names : [...names].reverse()) {
          const before = jobs.length;
          const started = process.hrtime.bigint();
          const billed = await sides[name](dashboard(sample + 2));
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          if (sample < 0) continue;
          measured[name].ms.push(ms);
          measured[name].billed.push(billed);
          measured[name].jobs.push(countNames(jobs.slice(before)));
        }
      }
      return { events: report.accepted, cards: options.cards, batched: summary(measured.batched), alone: summary(measured.alone) };
    } finally {
      await stack.close();
    }
  } finally {
    await duckdb.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// Private:

interface Measured {
  readonly ms: number[];
  readonly billed: number[];
  readonly jobs: Record<string, number>[];
}

const newSide = (): Measured => ({ ms: [], billed: [], jobs: [] });

function summary({ ms, billed, jobs }: Measured): HttpBatchesSide {
  const totals = jobs.map((counts) => Object.values(counts).reduce((a, b) => a + b, 0));
  const frequency = new Map<string, number>();
  for (const counts of jobs) frequency.set(JSON.stringify(counts), (frequency.get(JSON.stringify(counts)) ?? 0) + 1);
  const [mostFrequent] = [...frequency].sort((a, b) => b[1] - a[1])[0];
  return {
    jobs: JSON.parse(mostFrequent) as Record<string, number>,
    jobsPerDashboard: { mean: mean(totals), min: Math.min(...totals), max: Math.max(...totals) },
    billedBytesPerDashboard: mean(billed),
    p50Ms: percentile(ms, 0.5),
    p95Ms: percentile(ms, 0.95),
  };
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
