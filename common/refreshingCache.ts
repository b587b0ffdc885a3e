/**
 * One value per key (a tenant's statistics, its data versions), loaded on first use and reloaded once
 * older than `ttlMs` — one load at a time per key. On expiry, `stale: 'serve'` answers the previous
 * value while the reload runs in the background (a request never waits after the first); `'await'`
 * makes the caller wait for the reload (nothing older than `ttlMs` is ever answered). A failed first
 * load is retried by the next call; a failed reload keeps the previous value (served, or awaited
 * again after another `ttlMs`).
 */
export interface RefreshingCache<T> {
  get(key: string): Promise<T>;
  /** Forgets the key: the next get loads it anew. */
  invalidate(key: string): void;
}

export interface RefreshingCacheOptions {
  readonly ttlMs: number;
  readonly stale: 'serve' | 'await';
  readonly now?: () => number;
}

export function createRefreshingCache<T>(load: (key: string) => Promise<T>, options: RefreshingCacheOptions): RefreshingCache<T> {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: Promise<T>; loadedAt: number; reloading?: Promise<T> }>();

  const reload = (key: string, entry: { value: Promise<T>; loadedAt: number; reloading?: Promise<T> }): Promise<T> => {
    entry.reloading ??= load(key).then(
      (fresh) => {
        entries.set(key, { value: Promise.resolve(fresh), loadedAt: now() });
        return fresh;
      },
      () => {
        entry.reloading = undefined;
        entry.loadedAt = now(); // keep the previous value; try again after another ttl
        return entry.value;
      },
    );
    return entry.reloading;
  };

  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) {
        const value = load(key);
        entries.set(key, { value, loadedAt: now() });
        value.catch(() => entries.delete(key)); // the next call tries again
        return value;
      }
      if (now() - entry.loadedAt <= options.ttlMs) return entry.value;
      const reloaded = reload(key, entry);
      return options.stale === 'await' ? reloaded : entry.value;
    },
    invalidate(key) {
      entries.delete(key);
    },
  };
}
