/** The signed-in user's own budget today: what everyone may see. */
import { query } from './api';
import { Bytes, Loaded, useLoad } from './common';
import type { Session } from './session';

interface Budget {
  readonly dailyLimitBytes: number | null;
  readonly maxQueryBytes: number | null;
  readonly usedBytes: number;
  readonly remainingBytes: number | null;
  readonly resetsAt: string;
}

export const BUDGET_FIELDS = 'dailyLimitBytes maxQueryBytes usedBytes remainingBytes resetsAt';

export function MyBudget({ session }: { session: Session }) {
  const state = useLoad(() => query<{ myBudget: Budget }>(session, `{ myBudget { ${BUDGET_FIELDS} } }`), [session.token]);
  return (
    <section>
      <h1>My budget today</h1>
      <Loaded state={state}>{({ myBudget }) => <BudgetSummary budget={myBudget} />}</Loaded>
    </section>
  );
}

export function BudgetSummary({ budget }: { budget: Budget }) {
  const share = budget.dailyLimitBytes ? Math.min(1, budget.usedBytes / budget.dailyLimitBytes) : 0;
  return (
    <div className="budget">
      <dl>
        <dt>used</dt><dd><Bytes value={budget.usedBytes} usd /></dd>
        <dt>daily limit</dt><dd><Bytes value={budget.dailyLimitBytes} /></dd>
        <dt>remaining</dt><dd><Bytes value={budget.remainingBytes} /></dd>
        <dt>per-query cap</dt><dd><Bytes value={budget.maxQueryBytes} /></dd>
        <dt>resets at</dt><dd><time dateTime={budget.resetsAt}>{new Date(budget.resetsAt).toLocaleString()}</time></dd>
      </dl>
      {budget.dailyLimitBytes !== null && (
        <meter min={0} max={1} value={share} aria-label={`${Math.round(share * 100)}% of the daily limit used`} />
      )}
    </div>
  );
}
