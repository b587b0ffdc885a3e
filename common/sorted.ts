/** Binary searches over ascending string arrays (days YYYY-MM-DD sort as strings). */

/** The first index i with items[i] >= value; items.length when there is none. */
export function lowerBound(items: readonly string[], value: string): number {
  let [lo, hi] = [0, items.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index i with items[i] > value; items.length when there is none. */
export function upperBound(items: readonly string[], value: string): number {
  let [lo, hi] = [0, items.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
