/**
 * `/readyz` of the gateway: ready once the schema is loaded. Subgraph reachability (GET <subgraph
 * origin>/healthz), the budget ledger's and the response cache's state are reported but do not gate readiness: with one
 * subgraph down, operations on the others still succeed, and a ledger outage is handled by its
 * failure policy, so taking the gateway out of rotation would only widen the outage. Nor does data
 * still loading (the first run's demo data): what is loaded is served.
 */
import type { DemoLoadingReport } from '../common/demoLoading';
import type { Readiness } from '../common/http/graphqlHttpServer';
import type { TieredCacheStatus } from '../common/tieredCache';
import type { LedgerStatus } from './admission/budgetGuard';

/** How long /readyz waits for a subgraph's /healthz. */
const SUBGRAPH_PROBE_TIMEOUT_MS = 1000;

export async function readiness(
  schemaLoaded: boolean,
  subgraphUrls: ReadonlyMap<string, string>,
  budgets: LedgerStatus | undefined,
  responseCache: TieredCacheStatus | undefined,
  loading: DemoLoadingReport | undefined,
): Promise<Readiness> {
  const probes = await Promise.all([...subgraphUrls].map(async ([name, url]) => [name, await probe(new URL('/healthz', url))] as const));
  return {
    ready: schemaLoaded,
    checks: { schema: schemaLoaded ? 'loaded' : 'loading', subgraphs: Object.fromEntries(probes), ...(budgets ? { budgets } : {}), ...(responseCache ? { responseCache } : {}), ...(loading ? { loading } : {}) },
  };
}

// Private:

async function probe(url: URL): Promise<{ url: string; reachable: boolean; detail?: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(SUBGRAPH_PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.ok ? { url: url.href, reachable: true } : { url: url.href, reachable: false, detail: `HTTP ${response.status}` };
  } catch (error) {
    // fetch reports "fetch failed"; its cause says why (ECONNREFUSED, …).
    const { message, cause } = error as { message?: string; cause?: { code?: string } };
    return { url: url.href, reachable: false, detail: cause?.code ?? message ?? String(error) };
  }
}
