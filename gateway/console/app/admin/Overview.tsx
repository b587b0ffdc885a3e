/** A quota admin's view of the tenant today: usage against the limit, 30 days of billed bytes, who spends, who was refused, how good the estimates are. */
import { query } from '../api';
import { DailyBytesChart } from '../Chart';
import { Bytes, Loaded, useLoad } from '../common';
import { BUDGET_FIELDS, BudgetSummary } from '../MyBudget';
import type { Session } from '../session';
import { BudgetForm } from './BudgetForm';
import { USER_FIELDS, type UserRef, budgetHistory, lastDays, setTenantBudget } from './queries';

interface Usage {
  readonly tenant: { readonly name: string; readonly budget: { dailyLimitBytes: number | null; maxQueryBytes: number | null; usedBytes: number; remainingBytes: number | null; resetsAt: string } | null };
  readonly budgetUsage: {
    readonly topSpenders: readonly { user: UserRef; usedBytes: number }[];
    readonly recentRejections: readonly { at: string; user: UserRef; requestedBytes: number; exceeded: string }[];
  };
  readonly estimatorAccuracy: readonly { operationName: string; operations: number; estimatedBytes: number; billedBytes: number }[];
}

export function Overview({ session }: { session: Session }) {
  const usage = useLoad(() => query<Usage>(session, `query TenantOverview($from: Date!, $to: Date!) {
    tenant { name budget { ${BUDGET_FIELDS} } }
    budgetUsage(from: $from, to: $to, first: 10) {
      topSpenders { user { ${USER_FIELDS} } usedBytes }
      recentRejections { at user { ${USER_FIELDS} } requestedBytes exceeded }
    }
    estimatorAccuracy(from: $from, to: $to) { operationName operations estimatedBytes billedBytes }
  }`, lastDays()), [session.token]);
  const history = useLoad(() => budgetHistory(session), [session.token]);
  return (
    <>
      <h1>Tenant overview</h1>
      <Loaded state={usage}>{(data) => (
        <>
          <section aria-labelledby="today">
            <h2 id="today">{data.tenant.name} today</h2>
            {data.tenant.budget && <BudgetSummary budget={data.tenant.budget} />}
            <details>
              <summary>Change the tenant's limits</summary>
              {data.tenant.budget && (
                <BudgetForm idPrefix="tenant" current={{ dailyLimitBytes: null, maxQueryBytes: null }} onSubmit={async (change) => {
                  await setTenantBudget(session, change);
                  usage.reload();
                }} />
              )}
            </details>
          </section>
          <section aria-labelledby="history">
            <h2 id="history">Billed bytes, last 30 days</h2>
            <Loaded state={history}>{(days) => <DailyBytesChart title={`${data.tenant.name}: billed per day`} days={days} />}</Loaded>
          </section>
          <div className="columns">
            <section aria-labelledby="spenders">
              <h2 id="spenders">Top spenders, last 30 days</h2>
              <table>
                <thead><tr><th scope="col">user</th><th scope="col">billed</th></tr></thead>
                <tbody>{data.budgetUsage.topSpenders.map((s) => <tr key={s.user.id}><td>{s.user.id}</td><td><Bytes value={s.usedBytes} usd /></td></tr>)}</tbody>
              </table>
            </section>
            <section aria-labelledby="rejections">
              <h2 id="rejections">Recent BUDGET_EXCEEDED refusals</h2>
              {data.budgetUsage.recentRejections.length === 0 ? <p className="muted">None.</p> : (
                <table>
                  <thead><tr><th scope="col">when</th><th scope="col">user</th><th scope="col">asked for</th><th scope="col">budget</th></tr></thead>
                  <tbody>{data.budgetUsage.recentRejections.map((r) => (
                    <tr key={`${r.at}${r.user.id}`}><td><time dateTime={r.at}>{new Date(r.at).toLocaleString()}</time></td><td>{r.user.id}</td><td><Bytes value={r.requestedBytes} /></td><td>{r.exceeded}</td></tr>
                  ))}</tbody>
                </table>
              )}
            </section>
          </div>
          <section aria-labelledby="accuracy">
            <h2 id="accuracy">Estimated vs billed, per operation (last 30 days)</h2>
            <table>
              <thead><tr><th scope="col">operation</th><th scope="col">runs</th><th scope="col">estimated</th><th scope="col">billed</th><th scope="col">billed / estimated</th></tr></thead>
              <tbody>{data.estimatorAccuracy.map((op) => (
                <tr key={op.operationName}>
                  <td>{op.operationName}</td><td>{op.operations}</td><td><Bytes value={op.estimatedBytes} /></td><td><Bytes value={op.billedBytes} /></td>
                  <td>{op.estimatedBytes > 0 ? (op.billedBytes / op.estimatedBytes).toFixed(2) : '—'}</td>
                </tr>
              ))}</tbody>
            </table>
          </section>
        </>
      )}</Loaded>
    </>
  );
}
