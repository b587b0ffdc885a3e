/** What the operation being edited would cost, whether it would be refused, and — once run — what it billed. */
import { useContext } from 'react';
import type { Cost, GraphqlResponse, Job } from '../api';
import { Bytes, ConfigContext } from '../common';
import { formatUsd } from '../format';

/** The gateway's answer to `x-cost-mode: estimate` for `query`, or why there is none. */
export interface Priced {
  readonly query: string;
  readonly response?: GraphqlResponse<unknown>;
  readonly failed?: string;
}

export function CostPanel({ estimate, actual, stale }: { estimate?: Priced; actual?: Cost; stale: boolean }) {
  const { pricePerTibUsd } = useContext(ConfigContext);
  const cost = estimate?.response?.extensions?.cost ?? estimate?.response?.errors?.[0]?.extensions?.cost;
  const errors = estimate?.response?.errors ?? [];
  return (
    <aside className="cost-panel" aria-labelledby="cost-title" aria-busy={stale} tabIndex={0}>
      <h2 id="cost-title">Price before it runs</h2>
      {!estimate && <p className="muted">Pricing…</p>}
      {estimate?.failed && <p role="alert" className="error">{estimate.failed}</p>}
      {errors.length > 0 && (
        <ul className="errors" aria-label="What the gateway says">
          {errors.map((e, i) => <li key={i} className="error"><strong>{e.extensions?.code ?? 'ERROR'}</strong> {e.message}</li>)}
        </ul>
      )}
      {cost && (
        <div data-testid="estimate">
          <dl className="figures">
            <dt>estimated scan</dt><dd data-field="estimatedBytes"><Bytes value={cost.estimatedBytes ?? 0} /></dd>
            <dt>estimated bill</dt><dd data-field="estimatedBilledBytes"><Bytes value={cost.estimatedBilledBytes ?? 0} /> · {formatUsd(cost.estimatedBilledBytes ?? 0, pricePerTibUsd)}</dd>
            <dt>warehouse jobs</dt><dd>{cost.estimatedWarehouseQueries ?? cost.jobs?.length ?? 0}</dd>
            <dt>demand-control points</dt><dd>{cost.points ?? 0}{cost.limitPoints ? ` of ${cost.limitPoints}` : ''}</dd>
          </dl>
          <Verdicts cost={cost} />
          {cost.jobs && cost.jobs.length > 0 && <Jobs jobs={cost.jobs} />}
        </div>
      )}
      <h2>After it ran</h2>
      {actual ? (
        <dl className="figures" data-testid="actual">
          <dt>billed</dt><dd data-field="billedBytes"><Bytes value={actual.billedBytes ?? 0} /> · {formatUsd(actual.billedBytes ?? 0, pricePerTibUsd)}</dd>
          <dt>scanned</dt><dd><Bytes value={actual.actualBytes ?? 0} /></dd>
          <dt>estimate was</dt><dd><Bytes value={actual.estimatedBilledBytes ?? 0} /></dd>
          <dt>warehouse jobs</dt><dd>{actual.warehouseQueries ?? 0}{actual.cacheHits ? ` (+${actual.cacheHits} from the aggregate cache)` : ''}</dd>
          <dt>response cache</dt><dd>{actual.responseCache ?? '—'}</dd>
          {actual.budget?.user && <><dt>your budget left</dt><dd><Bytes value={actual.budget.user.remainingBytes} /></dd></>}
        </dl>
      ) : <p className="muted">Run the operation (▶) to see what it billed.</p>}
    </aside>
  );
}

function Verdicts({ cost }: { cost: Cost }) {
  const billed = cost.estimatedBilledBytes ?? 0;
  const overCap = cost.limitBytes !== undefined && billed > cost.limitBytes;
  const remaining = [cost.budget?.user?.remainingBytes, cost.budget?.tenant?.remainingBytes].filter((r): r is number => typeof r === 'number');
  const overBudget = remaining.some((r) => billed > r);
  return (
    <ul className="verdicts">
      <li className={overCap ? 'bad' : 'good'}>
        {overCap ? 'Over' : 'Within'} the per-query cap{cost.limitBytes !== undefined && <> of <Bytes value={cost.limitBytes} /></>}
      </li>
      <li className={overBudget ? 'bad' : 'good'}>
        {remaining.length === 0 ? 'No daily budget limits it' : <>{overBudget ? 'Over' : 'Within'} the remaining daily budget of <Bytes value={Math.min(...remaining)} /></>}
      </li>
    </ul>
  );
}

function Jobs({ jobs }: { jobs: readonly Job[] }) {
  return (
    <>
      <h3>Warehouse jobs it would run</h3>
      <ol className="jobs">{jobs.map((job, i) => (
        <li key={i}>
          <div><strong>{job.subgraph} · {job.query}</strong>{job.times > 1 ? ` × ${job.times}` : ''} — scans <Bytes value={job.processedBytes} />, bills <Bytes value={job.billedBytes} /></div>
          <div className="muted">for {job.path}</div>
          {job.tables.map((t) => (
            <div key={t.table}>
              <code>{t.table}</code>: {t.days ? `${dayCount(t.days)} days (${t.days.from} – ${t.days.to})` : 'the whole table'}
              {t.columns.length === 0 ? <div className="muted">no column (a row count)</div> : (
                <ul className="columns-cost">{[...t.columns].sort((a, b) => (t.columnBytes?.[b] ?? 0) - (t.columnBytes?.[a] ?? 0)).map((column) => (
                  <li key={column}><code>{column}</code> {t.columnBytes && <Bytes value={t.columnBytes[column] ?? 0} />}</li>
                ))}</ul>
              )}
            </div>
          ))}
        </li>
      ))}</ol>
    </>
  );
}

function dayCount({ from, to }: { from: string; to: string }): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1;
}
