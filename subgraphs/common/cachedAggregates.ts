/**
 * The aggregate cache as one request uses it. Every key is built here, from:
 * - the tenant — the verified principal's, never an argument — in clear, first;
 * - the aggregate's name and everything else that changes its answer (`parts`: the caller's scope
 *   for tenant-level figures, arguments such as `first` or `eventType`; the user id per entry);
 * - the range and the data version of each of its days (Warehouse.dataVersions), so an ingest makes
 *   the ranges it touched miss at once while other ranges stay cached.
 * The variable part is hashed (SHA-256): hostile strings in arguments cannot shape a key, and parts
 * are JSON-encoded as an array first, so no two different part lists share a key.
 *
 * Hits and misses are counted into the request's warehouse usage (`extensions.warehouse.cacheHits`,
 * `cacheMisses`): a hit runs no warehouse job and bills 0 bytes.
 */
import { createHash } from 'node:crypto';
import { type DateRange, addDays, daysBetween } from '../../common/dates';
import type { AggregateCache } from './aggregateCache';
import type { TenantWarehouse } from './tenantWarehouse';

export interface RequestAggregates {
  /** One aggregate over `range`, from the cache or `compute`. */
  one<T>(name: string, range: DateRange, parts: readonly unknown[], compute: () => Promise<T>): Promise<T>;
  /** One aggregate per id over `range` (a DataLoader batch); `computeMissing` gets the missing ids in order. */
  many<T>(name: string, range: DateRange, ids: readonly string[], parts: readonly unknown[], computeMissing: (ids: readonly string[]) => Promise<T[]>): Promise<T[]>;
}

/** Bump when the shape of a cached value changes: entries of the old shape are then never read. */
const KEY_FORMAT = 1;

/** `cache` undefined: caching off, every aggregate computed. */
export function requestAggregates(cache: AggregateCache | undefined, warehouse: TenantWarehouse): RequestAggregates {
  const rangeVersions = new Map<string, Promise<string>>();
  /** The versions of the range's days with data, read once per request and range. */
  const versionOf = (range: DateRange): Promise<string> => {
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

  const many: RequestAggregates['many'] = async (name, range, ids, parts, computeMissing) => {
    if (!cache) return computeMissing(ids);
    const version = await versionOf(range);
    const keys = ids.map((id) => keyOf(warehouse.tenant, name, [KEY_FORMAT, range.from, range.to, version, parts, id]));
    const { values, hits } = await cache.loadMany(keys, (missing) => computeMissing(missing.map((i) => ids[i])));
    warehouse.recordCacheLookups(hits, keys.length - hits);
    return values;
  };

  return {
    async one(name, range, parts, compute) {
      const [value] = await many(name, range, [''], parts, () => compute().then((result) => [result]));
      return value;
    },
    many,
  };
}

// Private:

function keyOf(tenant: string, name: string, parts: readonly unknown[]): string {
  return `${tenant}:${name}:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url')}`;
}
