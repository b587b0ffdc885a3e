/** The tenant's users and their budgets: search, sort, and for one user their 30 days, limits and a usage reset. */
import { useMemo, useState } from 'react';
import { query } from '../api';
import { DailyBytesChart } from '../Chart';
import { Bytes, Loaded, useLoad } from '../common';
import type { Session } from '../session';
import { BudgetForm } from './BudgetForm';
import { USER_FIELDS, type UserRef, budgetHistory, resetUsage, setUserBudget } from './queries';

export interface UserBudget {
  readonly user: UserRef;
  readonly usedBytes: number;
  readonly remainingBytes: number | null;
  readonly dailyLimitBytes: number | null;
  readonly maxQueryBytes: number;
  readonly limitSource: 'OVERRIDE' | 'ROLE_DEFAULT';
  readonly roles: readonly string[];
}

type SortKey = 'used' | 'remaining' | 'limit';
const SORTS: Readonly<Record<SortKey, { label: string; value: (u: UserBudget) => number }>> = {
  used: { label: 'used today', value: (u) => u.usedBytes },
  remaining: { label: 'remaining', value: (u) => u.remainingBytes ?? Number.MAX_SAFE_INTEGER },
  limit: { label: 'daily limit', value: (u) => u.dailyLimitBytes ?? Number.MAX_SAFE_INTEGER },
};

export function Users({ session }: { session: Session }) {
  const users = useLoad(() => query<{ budgetUsers: UserBudget[] }>(session, `{ budgetUsers {
    user { ${USER_FIELDS} } usedBytes remainingBytes dailyLimitBytes maxQueryBytes limitSource roles } }`).then((d) => d.budgetUsers), [session.token]);
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'used', descending: true });
  const [selected, setSelected] = useState<string | null>(null);
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const matching = (users.data ?? []).filter((u) => !needle || u.user.id.toLowerCase().includes(needle) || u.roles.some((role) => role.includes(needle)));
    const value = SORTS[sort.key].value;
    return matching.sort((a, b) => (sort.descending ? value(b) - value(a) : value(a) - value(b)));
  }, [users.data, search, sort]);
  const chosen = users.data?.find((u) => u.user.id === selected);
  return (
    <>
      <h1>Users</h1>
      <div className="toolbar">
        <label htmlFor="user-search">Search</label>
        <input id="user-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="user id or role" />
      </div>
      <Loaded state={users}>{() => (
        <table className="users">
          <caption className="muted">{shown.length} users with a setting or spend in the last 35 days</caption>
          <thead>
            <tr>
              <th scope="col">user</th>
              {(Object.keys(SORTS) as SortKey[]).map((key) => (
                <th scope="col" key={key} aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" className="link" onClick={() => setSort({ key, descending: sort.key === key ? !sort.descending : true })}>{SORTS[key].label}</button>
                </th>
              ))}
              <th scope="col">limit from</th>
              <th scope="col">per-query cap</th>
            </tr>
          </thead>
          <tbody>{shown.map((u) => (
            <tr key={u.user.id} data-user={u.user.id} className={u.user.id === selected ? 'selected' : undefined}>
              <td><button type="button" className="link" onClick={() => setSelected(u.user.id)}>{u.user.id}</button></td>
              <td><Bytes value={u.usedBytes} /></td>
              <td><Bytes value={u.remainingBytes} /></td>
              <td data-field="limit"><Bytes value={u.dailyLimitBytes} /></td>
              <td data-field="source">{u.limitSource === 'OVERRIDE' ? 'override' : `role default (${u.roles.join(', ') || 'no role seen'})`}</td>
              <td><Bytes value={u.maxQueryBytes} /></td>
            </tr>
          ))}</tbody>
        </table>
      )}</Loaded>
      {chosen && <UserDetail key={chosen.user.id} session={session} user={chosen} onChanged={users.reload} />}
    </>
  );
}

function UserDetail({ session, user, onChanged }: { session: Session; user: UserBudget; onChanged: () => void }) {
  const history = useLoad(() => budgetHistory(session, user.user.id), [session.token, user.user.id]);
  const [resetReason, setResetReason] = useState('');
  const [resetStatus, setResetStatus] = useState<string>();
  const override = user.limitSource === 'OVERRIDE';
  return (
    <section className="detail" aria-labelledby="user-detail">
      <h2 id="user-detail">{user.user.id}</h2>
      <Loaded state={history}>{(days) => <DailyBytesChart title={`${user.user.id}: billed per day`} days={days} />}</Loaded>
      <h3>Limits</h3>
      <BudgetForm idPrefix="user" current={{ dailyLimitBytes: override ? user.dailyLimitBytes : null, maxQueryBytes: null }} onSubmit={async (change) => {
        await setUserBudget(session, user.user.id, change);
        onChanged();
      }} />
      <h3>Reset today's usage</h3>
      <form className="budget-form" onSubmit={(event) => {
        event.preventDefault();
        resetUsage(session, user.user.id, resetReason.trim()).then(() => {
          setResetStatus('Usage reset.');
          setResetReason('');
          onChanged();
        }, (failure: Error) => setResetStatus(failure.message));
      }}>
        <label htmlFor="reset-reason">Reason (required)</label>
        <input id="reset-reason" value={resetReason} onChange={(e) => setResetReason(e.target.value)} required />
        <button type="submit">Reset usage</button>
        {resetStatus && <p role="status">{resetStatus}</p>}
      </form>
    </section>
  );
}
