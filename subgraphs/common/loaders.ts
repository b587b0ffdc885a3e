/** Helpers for per-request DataLoaders (created through SubgraphContext.perRequest, never at module level). */

/**
 * The batch result DataLoader expects: one entry per key, in key order, `missing` for keys
 * without a row. https://github.com/graphql/dataloader#batch-function
 */
export function inKeyOrder<Row, Missing>(keys: readonly string[], rows: readonly Row[], keyOf: (row: Row) => string, missing: Missing): (Row | Missing)[] {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => byKey.get(key) ?? missing);
}

/** Rows grouped by key, in key order (an empty list for keys without rows). */
export function groupedInKeyOrder<Row>(keys: readonly string[], rows: readonly Row[], keyOf: (row: Row) => string): Row[][] {
  const groups = new Map<string, Row[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key)!);
}
