/**
 * The aggregate cache as one request uses it. Every key is built here, from:
 * - the tenant — the verified principal's, never an argument — in clear, first;
 * - the aggregate's name and everything else that changes its answer (`parts`: the caller's scope
 *   for tenant-level figures, arguments such as `first` or `eventType`; the user id per entry);
 * - what it was read from, with that data's version (`VersionedBy`):
 *   - `{ days: range }`: the range and the data version of each of its days (Warehouse.dataVersions),
 *     so an ingest makes the ranges it touched miss at once while other ranges stay cached;
 *   - `{ table }`: an unpartitioned table (`users`, `tenant_info`) and its version
 *     (Warehouse.tableVersions), so an upsert makes every read of that table miss at once.
 * The variable part is hashed (SHA-256): hostile strings in arguments cannot shape a key, and parts
 * are JSON-encoded as an array first, so no two different part lists share a key. Values are JSON
 * (a Set or Map must be stored as an array).
 *
 * Hits and misses are counted into the request's warehouse usage (`extensions.warehouse.cacheHits`,
 * `cacheMisses`): a hit runs no warehouse job and bills 0 bytes. A table the warehouse lists no
 * version for is never cached: computed, not counted.
 */
import { createHash } from 'node:crypto';
import { type DateRange, addDays, daysBetween } from '../../common/dates';
import type { UnpartitionedTable } from '../../warehouse/warehouse';
import type { AggregateCache } from './aggregateCache';
import type { TenantWarehouse } from './tenantWarehouse';

/** What an aggregate is read from: day partitions of a range, or a whole unpartitioned table. */
export type VersionedBy = { readonly days: DateRange } | { readonly table: UnpartitionedTable };

export interface RequestAggregates {
  /** One aggregate read from `by`, from the cache or `compute`. */
  one<T>(name: string, by: VersionedBy, parts: readonly unknown[], compute: () => Promise<T>): Promise<T>;
  /** One aggregate per id read from `by` (a DataLoader batch); `computeMissing` gets the missing ids in order. */
  many<T>(name: string, by: VersionedBy, ids: readonly string[], parts: readonly unknown[], computeMissing: (ids: readonly string[]) => Promise<T[]>): Promise<T[]>;
}

/** Bump when the shape of a key or of a cached value changes: entries of the old shape are then never read. */
const KEY_FORMAT = 2;

/** `cache` undefined: caching off, every aggregate computed. */
export function requestAggregates(cache: AggregateCache | undefined, warehouse: TenantWarehouse): RequestAggregates {
  const rangeVersions = new Map<string, Promise<string>>();
  /** The versions of the range's days with data, read once per request and range. */
  const rangeVersion = (range: DateRange): Promise<string> => {
    const key = `${range.from}..${range.to}`;
    let version = rangeVersions.get(key);
    if (!version) {
      version = warehouse.dataVersions().then((versions) => {
        const days: string[] = [];
        // Counted, not compared: a range is validated (dateRange), and dates near the end of the calendar
        // would otherwise walk on into years that no longer sort as YYYY-MM-DD.
        for (let i = 0, day = range.from; i < daysBetween(range.from, range.to); i++, day = addDays(day, 1)) {
          const dayVersion = versions.get(day);
          if (dayVersion !== undefined) days.push(`${day}=${dayVersion}`);
        }
        return days.join(',');
      });
      rangeVersions.set(key, version);
    }
    return version;
  };

  /** The key parts naming what `by` reads and its version; undefined when it has none (not cached). */
  const source = async (by: VersionedBy): Promise<readonly unknown[] | undefined> => {
    if ('days' in by) return ['days', by.days.from, by.days.to, await rangeVersion(by.days)];
    const version = (await warehouse.tableVersions()).get(by.table);
    return version === undefined ? undefined : ['table', by.table, version];
  };

  const many: RequestAggregates['many'] = async (name, by, ids, parts, computeMissing) => {
    if (!cache) return computeMissing(ids);
    const read = await source(by);
    if (!read) return computeMissing(ids);
    const keys = ids.map((id) => keyOf(warehouse.tenant, name, [KEY_FORMAT, ...read, parts, id]));
    const { values, hits } = await cache.loadMany(keys, (missing) => computeMissing(missing.map((i) => ids[i])));
    warehouse.recordCacheLookups(hits, keys.length - hits);
    return values;
  };

  return {
    async one(name, by, parts, compute) {
      const [value] = await many(name, by, [''], parts, () => compute().then((result) => [result]));
      return value;
    },
    many,
  };
}

// Private:

function keyOf(tenant: string, name: string, parts: readonly unknown[]): string {
  return `${tenant}:${name}:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url')}`;
}
