/** What every view shares: the page's configuration, byte amounts shown in human units, loading and errors. */
import { type ReactNode, createContext, useContext, useEffect, useState } from 'react';
import { exactBytes, formatBytes, formatUsd } from './format';

/** /console/config.json (gateway/console/routes.ts ConsoleConfig). */
export interface ConsoleConfig {
  readonly pricePerTibUsd: number;
  readonly maxQueryBytes: number;
  readonly signIn: { readonly dev: boolean; readonly oidc: { issuer: string; clientId: string; audience: string } | null };
}

export const ConfigContext = createContext<ConsoleConfig>({ pricePerTibUsd: 6.25, maxQueryBytes: 0, signIn: { dev: false, oidc: null } });

/** A byte amount in binary units, the exact count on hover; null reads "unlimited". */
export function Bytes({ value, usd = false }: { value: number | null | undefined; usd?: boolean }) {
  const { pricePerTibUsd } = useContext(ConfigContext);
  if (value === null || value === undefined) return <span className="muted">unlimited</span>;
  return (
    <span title={exactBytes(value)} data-bytes={value}>
      {formatBytes(value)}
      {usd && <span className="muted"> · {formatUsd(value, pricePerTibUsd)}</span>}
    </span>
  );
}

/** The result of `load`, run again whenever `deps` change or `reload()` is called. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): { data?: T; error?: string; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState({});
    load().then((data) => current && setState({ data }), (error: unknown) => current && setState({ error: String((error as Error).message ?? error) }));
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

/** `children(data)` once loaded; until then a loading line, or the error with a way to try again. */
export function Loaded<T>({ state, children }: { state: { data?: T; error?: string; reload?: () => void }; children: (data: T) => ReactNode }) {
  if (state.error) {
    return (
      <div role="alert" className="error">
        <p>{state.error}</p>
        {state.reload && <button type="button" onClick={state.reload}>Try again</button>}
      </div>
    );
  }
  if (state.data === undefined) return <p className="muted" aria-live="polite">Loading…</p>;
  return <>{children(state.data)}</>;
}
