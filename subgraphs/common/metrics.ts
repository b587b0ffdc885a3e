/**
 * What a subgraph process tells operators on `/metrics` (Prometheus text): bytegate's own warehouse
 * bill, the jobs this process ran for itself rather than for a user's query (warehouse/overhead.ts) —
 *
 *   bytegate_overhead_billed_bytes_total{tenant,reason}   what BigQuery billed for them
 *   bytegate_overhead_jobs_total{tenant,reason}           how many (dry runs and load jobs bill 0)
 *
 * — plus prom-client's default process metrics. The users' own bill is the gateway's
 * `bytegate_billed_bytes_total`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { OverheadMeter } from '../../warehouse/overhead';

export function subgraphMetricsRoute(overhead: OverheadMeter, options: { processMetrics?: boolean } = {}): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'bytegate_' });
  const fromMeter = (name: string, help: string, value: (total: ReturnType<OverheadMeter['totals']>[number]) => number) => new Counter({
    name, help, labelNames: ['tenant', 'reason'], registers: [registry],
    // Read from the meter at each scrape: the meter holds the totals.
    collect() {
      this.reset();
      for (const total of overhead.totals()) this.inc({ tenant: total.tenant, reason: total.reason }, value(total));
    },
  });
  fromMeter('bytegate_overhead_billed_bytes_total', 'Bytes BigQuery billed for jobs bytegate ran for itself (metadata, dry runs, provisioning, loads, ingest).', (t) => t.billedBytes);
  fromMeter('bytegate_overhead_jobs_total', 'Jobs bytegate ran for itself.', (t) => t.jobs);
  return async (_request, response) => {
    const text = await registry.metrics();
    response.writeHead(200, { 'content-type': registry.contentType });
    response.end(text);
  };
}
