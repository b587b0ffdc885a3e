/**
 * The gateway's response cache: whole answers of query operations, so a repeated operation skips
 * pricing, planning, every subgraph fetch and the budget reservation — it bills 0 and no spent budget
 * refuses it. Only complete, error-free answers are stored. Entries live CACHE_TTL_MS in a
 * TieredCache (common/tieredCache.ts): Redis shared by the gateway replicas plus a local level
 * bounded in bytes, or memory alone; a store that fails is a miss, never an error.
 *
 * An entry is never stale for its key, because the key says everything the answer depends on:
 * - the tenant, first and in clear;
 * - whom it may be shared with: the whole tenant for an executive, else the caller alone (a manager's
 *   reporting set and a viewer's self are theirs), and the caller alone whenever a selected field is
 *   `@responseCache(scope: "CALLER")` (`me`); the caller's roles too;
 * - the operation: its document, printed (so spacing and comments do not matter) and hashed, the
 *   operation name, and the variables as canonical JSON;
 * - the data versions of exactly the partitions its planned jobs read — each day of each range that
 *   holds data, each unpartitioned table (the directory, the tenant's info) — plus every day's version
 *   when a selected field is `@responseCache(versionedBy: "ALL_DAYS")` (a data range).
 * An ingest changes the versions of the days it wrote (and the directory's when it adds people), so
 * it changes the keys of exactly the answers over those days; their old entries are never read again.
 * Versions are read from the subgraphs at most `versionsMaxAgeMs` old (COST_STATS_TTL_MS): the
 * freshness bound of a cached answer after an ingest. An operation with a field marked
 * `@responseCache(scope: "NONE")` (budgets, usage) and every mutation are never cached.
 */
import { hash } from 'node:crypto';
import { type DocumentNode, print } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Principal } from '../../common/principal';
import { lowerBound } from '../../common/sorted';
import { createRefreshingCache } from '../../common/refreshingCache';
import { type TieredCache, type TieredCacheStatus, openTieredCache } from '../../common/tieredCache';
import type { OperationPlan } from '../cost/planOperation';

/** Whether a response came from the cache (`extensions.cost.responseCache`, public contract v2). */
export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/** The operation of a request, as Apollo Server resolved it. */
export interface OperationIdentity {
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | undefined;
}

/** One version of a tenant's data: of a day's partitions (`day`), or of an unpartitioned table (`table`). */
export interface DataVersion {
  readonly day: string | null;
  readonly table: string | null;
  readonly version: string;
}

/** A tenant's data versions, as the subgraph serving `_dataVersions` reports them. */
export type FetchDataVersions = (tenant: string) => Promise<DataVersion[]>;

/** A stored answer. */
export interface CachedAnswer {
  /** Its `data`, as JSON text: served as stored. */
  readonly data: string;
  /** A strong ETag of `data`. */
  readonly etag: string;
}

/** What the cache knows of a request it has answered before: enough to key it again without parsing. */
export interface KnownOperation {
  readonly plan: OperationPlan;
  /** operationKeyOf its operation. */
  readonly operationKey: string;
  readonly operationName: string | undefined;
}

/** Where answers are kept: opened once per process (it may connect to Redis), handed to the gateway. */
export type AnswerStore = TieredCache<CachedAnswer>;

export interface AnswerStoreOptions {
  /** REDIS_URL; unset: in this process's memory only. */
  readonly redisUrl?: string;
  /** CACHE_TTL_MS: how long an answer is kept. */
  readonly ttlMs: number;
  /** RESPONSE_CACHE_MAX_BYTES: memory this process gives answers (the local level, or the whole store without Redis). */
  readonly maxBytes: number;
  readonly log?: (message: string) => void;
  /** Redis key prefix; default RESPONSE_KEY_PREFIX. */
  readonly namespace?: string;
}

export interface ResponseCacheOptions {
  /** COST_STATS_TTL_MS: the oldest data versions a key is built from. */
  readonly versionsMaxAgeMs: number;
  /** Where versions come from (the subgraph serving `_dataVersions`). */
  readonly fetchVersions: FetchDataVersions;
  readonly now?: () => number;
}

export interface ResponseCache {
  /** The key of the answer to an operation (operationKeyOf) with this plan for this caller; undefined when it is never cached. */
  keyOf(plan: OperationPlan, operationKey: string, principal: Principal): Promise<string | undefined>;
  get(key: string): Promise<CachedAnswer | undefined>;
  /**
   * Stores the `data` of a complete, error-free answer; resolves the entry (its ETag) once the store
   * has it — so the next request, through any replica, finds it — or has failed (at most its timeout).
   */
  set(key: string, data: unknown): Promise<CachedAnswer>;
  /** Remembers what a request (its key: requestKeyOf) with these roles is, for the next identical one. */
  remember(requestKey: string, roles: readonly string[], known: KnownOperation): void;
  known(requestKey: string, roles: readonly string[]): KnownOperation | undefined;
  /** The schema changed: plans of remembered requests no longer hold. */
  forgetOperations(): void;
  /** The tenant's data changed (an announced write): its next key is built from versions read afresh. */
  forgetVersions(tenant: string): void;
  status(): TieredCacheStatus;
}

/** Redis keys: `bytegate:response::<key>`. */
export const RESPONSE_KEY_PREFIX = 'bytegate:response';

export function openAnswerStore(options: AnswerStoreOptions): Promise<AnswerStore> {
  return openTieredCache<CachedAnswer>({
    redisUrl: options.redisUrl, namespace: options.namespace ?? RESPONSE_KEY_PREFIX, ttlMs: options.ttlMs, name: 'response cache', log: options.log,
    maxBytes: options.maxBytes, sizeOf: (answer) => answer.data.length + answer.etag.length,
  });
}

export function createResponseCache(store: AnswerStore, options: ResponseCacheOptions): ResponseCache {
  const versions = createRefreshingCache((tenant) => options.fetchVersions(tenant).then(indexVersions), {
    ttlMs: options.versionsMaxAgeMs, stale: 'await', now: options.now,
  });
  let operations = new LRUCache<string, KnownOperation>({ max: KNOWN_OPERATIONS });

  return {
    async keyOf(plan, operationKey, principal) {
      if (plan.cache.scope === 'NONE') return undefined;
      const shared = plan.cache.scope === 'VIEW' && principal.roles.includes('executive');
      const parts = [
        KEY_FORMAT,
        shared ? 'tenant' : `user:${principal.userId}`,
        [...principal.roles].sort(),
        operationKey,
        partitionVersions(plan, await versions.get(principal.tenant)),
      ];
      return `${principal.tenant}:${sha256(JSON.stringify(parts))}`;
    },

    async get(key) {
      const [answer] = await store.getMany([key]);
      return answer;
    },

    async set(key, data) {
      const text = JSON.stringify(data);
      const answer = { data: text, etag: `"${sha256(text).slice(0, 27)}"` };
      await store.setMany([{ key, value: answer }]); // fails open
      return answer;
    },

    remember: (requestKey, roles, known) => void operations.set(`${[...roles].sort().join(',')}|${requestKey}`, known),
    known: (requestKey, roles) => operations.get(`${[...roles].sort().join(',')}|${requestKey}`),
    forgetOperations: () => void (operations = new LRUCache<string, KnownOperation>({ max: KNOWN_OPERATIONS })),
    forgetVersions: (tenant) => versions.invalidate(tenant),
    status: () => store.status(),
  };
}

/** The operation, printed (spacing and comments normalized) and hashed with its name and canonical variables. */
export function operationKeyOf({ document, operationName, variables }: OperationIdentity): string {
  return sha256(JSON.stringify([documentHash(document), operationName ?? null, canonical(variables ?? {})]));
}

/**
 * Identifies a request by what Apollo Server reads of it — a POST's body text, a GET's query string —
 * so an identical request is recognized before it is parsed.
 */
export function requestKeyOf(method: string | undefined, search: string, rawBody: string): string {
  return sha256(method === 'GET' ? `GET ${search}` : `POST ${rawBody}`);
}

/**
 * `Cache-Control: no-cache` (or `no-store`) on a request: the client wants the operation run again,
 * not a stored answer. Not on a conditional request (If-None-Match): fetch() adds `no-cache` to every
 * request it sends with If-None-Match (https://fetch.spec.whatwg.org/#http-network-or-cache-fetch),
 * and a stored answer is current by construction — its key carries the versions of the data it reads
 * — so the revalidation is answered from the cache, with a 304 when the client's copy is the same.
 */
export function wantsFreshAnswer(cacheControl: string | undefined, ifNoneMatch: string | undefined): boolean {
  return !ifNoneMatch && cacheControl !== undefined && /(^|,)\s*no-(cache|store)\s*(,|$)/i.test(cacheControl);
}

/** Whether an `If-None-Match` header names `etag` (or is `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}

// Private:

/** Bump when the key's parts or the stored shape change: old entries are then never read. */
const KEY_FORMAT = 1;
/** Request bodies remembered (each holds a plan): enough for many dashboards, bounded against sprayed queries. */
const KNOWN_OPERATIONS = 10_000;

/** A tenant's versions, indexed: day partitions ascending, and unpartitioned tables by name. */
interface IndexedVersions {
  readonly days: readonly string[];
  /** partitionVersions of each plan keyed with these versions: worked out once per plan until the versions are read again. */
  readonly byPlan: WeakMap<OperationPlan, string>;
  readonly dayVersions: ReadonlyMap<string, string>;
  readonly tables: ReadonlyMap<string, string>;
  /** Every day's version, joined: for answers that change with any day. */
  readonly allDays: string;
}

function indexVersions(entries: readonly DataVersion[]): IndexedVersions {
  const dayVersions = new Map<string, string>();
  const tables = new Map<string, string>();
  for (const { day, table, version } of entries) {
    if (day !== null) dayVersions.set(day, version);
    else if (table !== null) tables.set(table, version);
  }
  const days = [...dayVersions.keys()].sort();
  return { days, dayVersions, tables, allDays: sha256(days.map((day) => `${day}@${dayVersions.get(day)}`).join(',')), byPlan: new WeakMap() };
}

/** The versions of the partitions the plan's jobs read — days (of any partitioned table) in their ranges, unpartitioned tables — hashed. */
function partitionVersions(plan: OperationPlan, versions: IndexedVersions): string {
  let digest = versions.byPlan.get(plan);
  if (digest === undefined) versions.byPlan.set(plan, (digest = sha256(JSON.stringify(readPartitions(plan, versions)))));
  return digest;
}

function readPartitions(plan: OperationPlan, versions: IndexedVersions): string[] {
  const days = new Set<string>();
  const tables = new Set<string>();
  for (const job of plan.jobs) {
    for (const { table, days: range } of job.tables) {
      if (range === null) {
        tables.add(table);
        continue;
      }
      // Days with data only: a day that gains data gains a version, which changes the key.
      for (let i = lowerBound(versions.days, range.from ?? ''); i < versions.days.length && (range.to === undefined || versions.days[i] <= range.to); i++) {
        days.add(versions.days[i]);
      }
    }
  }
  return [
    ...[...days].sort().map((day) => `${day}@${versions.dayVersions.get(day)}`),
    ...[...tables].sort().map((table) => `${table}@${versions.tables.get(table) ?? '-'}`),
    ...(plan.cache.allDays ? [`*@${versions.allDays}`] : []),
  ];
}

const documentHashes = new WeakMap<DocumentNode, string>();

/** The document printed (spacing and comments normalized) and hashed, once per parsed document. */
function documentHash(document: DocumentNode): string {
  let hash = documentHashes.get(document);
  if (hash === undefined) documentHashes.set(document, (hash = sha256(print(document))));
  return hash;
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are one key. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v);
}

function sha256(text: string): string {
  return hash('sha256', text, 'base64url');
}
