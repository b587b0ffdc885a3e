/**
 * The capacity model: the unit costs `npm run bench -- capacity` measured (capacity.ts), extrapolated
 * to AT_SCALE — printed as the README's "At scale" table. Every figure is a measured unit cost times
 * a count the scale implies; the assumptions are the constants below, printed with the table.
 *
 * - Metadata: today's path re-reads every tenant's metadata in every subgraph process every 5 s
 *   while watched; the shared path reads once per ingest (the writer) and once per hour (the safety
 *   net), whatever the replicas.
 * - Ingest, per batch at scale: the statement minimums the bench measured (its batches are small, so
 *   every statement bills BigQuery's 10 MiB minimum), plus the dedupe reading the `uuid` column of the
 *   day so far and the rollup refresh reading its columns of the day so far (an upper bound: every
 *   actor touched, clustering not counted), both on average half a day of events.
 * - Users: the bench's mix per tenant all day (its response-cache hit rate, no ingest in between: a
 *   lower bound of what users bill), each job's processed bytes scaled by events per day, never below
 *   BigQuery's 10 MiB minimum per job.
 * - Redis and CPU: per operation as measured (the bench checks metadata far more often than every
 *   60 s, so its Redis commands per operation are an upper bound), plus the data-change feed.
 */
import { MIN_BILLED_BYTES_PER_TABLE, bytesToUsd } from '../pricing/billing';
import { WATCHED_TABLES } from '../warehouse/bigquery/metadata';
import type { CapacityResult } from './capacity';

export const AT_SCALE = {
  tenants: 1000,
  eventsPerDay: 20_000_000,
  /** Of each process: gateways, and users, tenants and metrics subgraphs. */
  replicas: 20,
  /** METADATA_CHECK_MS, METADATA_FULL_READ_MS (defaults). */
  checkSeconds: 60,
  fullReadSeconds: 3600,
  /** The Okta poller's default interval: one ingest batch per tenant per minute. */
  ingestSeconds: 60,
  /** Partitions kept (PARTITION_EXPIRATION_DAYS). */
  retentionDays: 730,
  pricePerTibUsd: 6.25,
} as const;

/** BigQuery's documented limits the table is held against. */
const QUOTAS = {
  apiCallsPerSecondPerMethod: 100,
  loadJobsPerTablePerDay: 1500,
  immediateInsertsPerTablePerDay: 1500,
  runningMutatingDmlPerTable: 2,
};

/** Metadata queries in one full read: PARTITIONS of the priced tables and `_partition_stats`. */
const QUERIES_PER_FULL_READ = 2;
const DAY = 86_400;
const SUBGRAPHS_PER_REPLICA = 3;

export type Row = [string, string, string, string];

export function capacityRows(r: CapacityResult): { rows: Row[]; notes: string[] } {
  const s = AT_SCALE;
  const usd = (bytes: number) => `$${Math.round(bytesToUsd(bytes, s.pricePerTibUsd)).toLocaleString('en-US')}`;
  const tib = (bytes: number) => `${(bytes / 2 ** 40).toFixed(bytes < 2 ** 40 ? 3 : 1)} TiB`;
  const n = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits });

  // Metadata, per tenant per day.
  const queryBytes = r.ingest.metadataQueries > 0 ? (r.ingest.byReason.metadata?.billedBytes ?? 0) / r.ingest.metadataQueries : MIN_BILLED_BYTES_PER_TABLE;
  const benchProcesses = r.replicas * SUBGRAPHS_PER_REPLICA;
  const todayPerProcessSecond = r.today.metadataQueries / r.today.seconds / r.tenants / benchProcesses;
  const todayQueries = todayPerProcessSecond * DAY * s.replicas * SUBGRAPHS_PER_REPLICA * s.tenants;
  const ingestsPerDay = DAY / s.ingestSeconds;
  const queriesPerIngest = r.ingest.metadataQueries / r.tenants;
  const watchedQueriesPerSecond = r.shared.metadataQueries / r.shared.seconds / r.tenants;
  const sharedQueries = (ingestsPerDay * queriesPerIngest + (DAY / s.fullReadSeconds) * QUERIES_PER_FULL_READ + watchedQueriesPerSecond * DAY) * s.tenants;
  const tableGetsPerSecond = (s.tenants * WATCHED_TABLES.length) / s.checkSeconds;

  // Ingest, per batch at scale.
  const ingestMinimums = (r.ingest.byReason.ingest?.billedBytes ?? 0) / r.tenants; // one ingest per tenant in the bench
  const halfDay = s.eventsPerDay / 2;
  const ingestBatchBytes = ingestMinimums + (r.uuidBytesPerEvent + r.rollupBytesPerEvent) * halfDay;
  const ingestBytes = ingestBatchBytes * ingestsPerDay * s.tenants;

  // Users, per tenant per day, from the mix (watched before and after the ingest).
  const mix = [r.shared, r.afterIngest];
  const sum = (pick: (w: CapacityResult['shared']) => number) => mix.reduce((total, w) => total + pick(w), 0);
  const operations = sum((w) => w.operations);
  const opsPerTenantSecond = operations / sum((w) => w.seconds) / r.tenants;
  const scale = s.eventsPerDay / r.eventsPerDay;
  const userBytesPerOperation = Math.max(sum((w) => w.userProcessedBytes) * scale, sum((w) => w.userJobs) * MIN_BILLED_BYTES_PER_TABLE) / operations;
  /** What one operation that ran warehouse jobs (not served from a cache) bills at scale. */
  const userBytesPerMiss = (userBytesPerOperation * operations) / Math.max(1, operations - sum((w) => w.responseCacheHits));
  const operationsPerSecond = opsPerTenantSecond * s.tenants;
  const userBytes = userBytesPerOperation * operationsPerSecond * DAY;
  const benchUserBytes = sum((w) => w.userBilledBytes);
  const benchOverhead = sum((w) => w.overheadBilledBytes) + (r.ingest.byReason.metadata?.billedBytes ?? 0);

  // Redis, CPU, the feed: per operation beyond what the same processes cost idle; idle Redis (the checks) scaled to 60-s checks.
  const idle = (pick: (w: CapacityResult['shared']) => number) => pick(r.idle) / r.idle.seconds;
  const perOperation = (pick: (w: CapacityResult['shared']) => number) => Math.max(0, sum(pick) - idle(pick) * sum((w) => w.seconds)) / operations;
  const redisPerOperation = perOperation((w) => w.redisCommands);
  const idleRedisPerSecond = (idle((w) => w.redisCommands) / r.tenants / r.replicas) * (r.checkMs / (s.checkSeconds * 1000)) * s.tenants * s.replicas;
  const feedMessagesPerSecond = s.tenants / s.ingestSeconds;
  const subscribers = s.replicas * (1 + SUBGRAPHS_PER_REPLICA);
  const redisPerIngest = r.ingest.redisCommands / r.tenants;
  const redisPerSecond = redisPerOperation * operationsPerSecond + idleRedisPerSecond + redisPerIngest * feedMessagesPerSecond + feedMessagesPerSecond * subscribers;
  const gatewayCpuPerOperation = perOperation((w) => w.gatewayCpuSeconds);
  const subgraphCpuPerOperation = perOperation((w) => w.subgraphCpuSeconds);
  const idleCores = (idle((w) => w.gatewayCpuSeconds) + idle((w) => w.subgraphCpuSeconds)) / (r.replicas * (1 + SUBGRAPHS_PER_REPLICA));
  const snapshotBytes = (r.snapshotBytes / r.snapshotDays) * s.retentionDays;

  const rows: Row[] = [
    ['metadata queries while watched, nothing written (per tenant per minute)',
      `${n(watchedQueriesPerSecond * 60, 2)}`, `today's path: ${n(todayPerProcessSecond * 60 * benchProcesses, 1)} (${r.replicas} replicas)`,
      `target 0: ${verdict(r.shared.metadataQueries === 0)}`],
    ['metadata queries per ingest, per changed table',
      `${n(r.ingest.metadataQueries / r.ingest.changedTables, 2)} (${r.ingest.metadataQueries} for ${r.ingest.changedTables} changed tables, ${r.tenants} ingests)`,
      `replicas after it: ${r.afterIngest.metadataQueries} queries${r.afterIngest.newDayServed ? ', new day served by all' : ', NEW DAY NOT SERVED'}`,
      `target ≤ 1: ${verdict(r.ingest.metadataQueries <= r.ingest.changedTables && r.afterIngest.metadataQueries === 0)}`],
    ['bytegate\'s serving overhead / users\' bill (bench mix, small data)',
      `${pct(benchOverhead / benchUserBytes)}`, `${n(benchOverhead / 2 ** 20)} MiB / ${n(benchUserBytes / 2 ** 20)} MiB`, 'dominated by 10 MiB minimums at this size'],
    [`… at scale (${n(s.tenants)} tenants × ${n(s.eventsPerDay / 1e6)} M events/day)`,
      `${pct((sharedQueries * queryBytes) / userBytes)}`,
      `${tib(sharedQueries * queryBytes)} / ${tib(userBytes)} a day; 1% from ${n((sharedQueries * queryBytes * 100) / s.tenants / (userBytesPerMiss))} warehouse-bound operations per tenant a day`,
      `target ≤ 1%: ${verdict((sharedQueries * queryBytes) / userBytes <= 0.01)}`],
    ['metadata queries a day', n(sharedQueries), `today's path: ${n(todayQueries)}`, `${n(todayQueries / sharedQueries)}× fewer`],
    ['metadata billed a day', `${tib(sharedQueries * queryBytes)} (${usd(sharedQueries * queryBytes)})`,
      `today's path: ${tib(todayQueries * queryBytes)} (${usd(todayQueries * queryBytes)})`, `${usd(sharedQueries * queryBytes * 365)} a year`],
    ['tables.get calls (free) per second', n(tableGetsPerSecond, 1), `quota ${QUOTAS.apiCallsPerSecondPerMethod}/s per user and method`,
      `${pct(tableGetsPerSecond / QUOTAS.apiCallsPerSecondPerMethod)} of it`],
    ['ingest transactions billed a day', `${tib(ingestBytes)} (${usd(ingestBytes)})`,
      `${n(ingestBatchBytes / 2 ** 30, 2)} GiB per batch: ${n(ingestMinimums / 2 ** 20)} MiB statement minimums + dedupe and rollup of half a day`,
      `${pct(ingestBytes / userBytes)} of the users' bill`],
    ['users\' bill a day (the bench mix, scaled)', `${tib(userBytes)} (${usd(userBytes)})`,
      `${n(opsPerTenantSecond * DAY)} operations per tenant, ${pct(sum((w) => w.responseCacheHits) / operations)} response-cache hits`, ''],
    ['load jobs per table per day', `main tables 0; each staging table 1`, `${n(ingestsPerDay)} staging tables per tenant a day`,
      `quota ${n(QUOTAS.loadJobsPerTablePerDay)} per table: ${verdict(true)}`],
    ['DML per table per day (one writer per tenant)', `${n(ingestsPerDay)} INSERTs into sso_events`,
      `${n(ingestsPerDay)} mutating (DELETE, MERGE) on productivity_daily, _partition_stats; 1 running at a time`,
      `first ${n(QUOTAS.immediateInsertsPerTablePerDay)} INSERTs run at once; ≤ ${QUOTAS.runningMutatingDmlPerTable} mutating running: ${verdict(ingestsPerDay <= QUOTAS.immediateInsertsPerTablePerDay)}`],
    ['Redis commands per second', n(redisPerSecond),
      `${n(redisPerOperation, 1)} per operation, ${n(idleRedisPerSecond)}/s of checks, ${n(redisPerIngest, 1)} per ingest, feed ${n(feedMessagesPerSecond, 1)} msg/s × ${subscribers} subscribers`,
      `${n(operationsPerSecond)} operations/s`],
    ['metadata snapshots in Redis', `${n(snapshotBytes / 2 ** 20, 1)} MiB per tenant (${s.retentionDays} days)`, `${n((snapshotBytes * s.tenants) / 2 ** 30, 1)} GiB in all`, ''],
    ['gateway CPU per operation (beyond idle)', `${n(gatewayCpuPerOperation * 1000, 2)} ms`, `${n(gatewayCpuPerOperation * operationsPerSecond, 1)} cores at scale`,
      `subgraphs: ${n(subgraphCpuPerOperation * 1000, 2)} ms, ${n(subgraphCpuPerOperation * operationsPerSecond, 1)} cores; idle: ${pct(idleCores)} of a core per process`],
  ];
  const notes = [
    `capacity model: ${n(s.tenants)} tenants × ${n(s.eventsPerDay)} events/day × ${s.replicas} replicas of each process; checks every ${s.checkSeconds} s, full read every ${s.fullReadSeconds / 60} min,`
    + ` one ingest batch per tenant every ${s.ingestSeconds} s (${n(s.eventsPerDay / ingestsPerDay)} events), $${s.pricePerTibUsd}/TiB; users as the bench mix all day (${n(opsPerTenantSecond, 2)} operations/s per tenant).`,
    `capacity measured: ${r.tenants} tenants × ${n(r.eventsPerDay)} events/day, ${r.replicas} replicas; per event: uuid ${n(r.uuidBytesPerEvent, 1)} B, rollup columns ${n(r.rollupBytesPerEvent, 1)} B;`
    + ` ingest jobs by reason: ${Object.entries(r.ingest.byReason).map(([reason, t]) => `${reason} ${t!.jobs} jobs ${n(t!.billedBytes / 2 ** 20)} MiB`).join(', ')}.`,
  ];
  return { rows, notes };
}

// Private:

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction < 0.01 ? 3 : 1)}%`;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'NOT met';
}
