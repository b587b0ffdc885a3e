/** Every budget change of the tenant — who, when, old → new, why — filterable. */
import { useState } from 'react';
import { query } from '../api';
import { Loaded, useLoad } from '../common';
import type { Session } from '../session';
import { lastDays } from './queries';

interface Change {
  readonly at: string;
  readonly actor: string;
  readonly user: { readonly id: string } | null;
  readonly action: string;
  readonly old: string | null;
  readonly new: string | null;
  readonly reason: string | null;
}

export function Audit({ session }: { session: Session }) {
  const changes = useLoad(() => query<{ budgetUsage: { changes: Change[] } }>(session, `query AuditTrail($from: Date!, $to: Date!) {
    budgetUsage(from: $from, to: $to) { changes { at actor user { id } action old new reason } } }`, lastDays()).then((d) => d.budgetUsage.changes), [session.token]);
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  return (
    <>
      <h1>Audit trail</h1>
      <div className="toolbar">
        <label htmlFor="audit-filter">Filter</label>
        <input id="audit-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="user, admin, action or reason" />
      </div>
      <Loaded state={changes}>{(all) => (
        <table className="audit">
          <thead><tr><th scope="col">when</th><th scope="col">who</th><th scope="col">for</th><th scope="col">action</th><th scope="col">old → new</th><th scope="col">reason</th></tr></thead>
          <tbody>{all.filter((c) => !needle || [c.actor, c.user?.id, c.action, c.reason].some((text) => text?.toLowerCase().includes(needle))).map((c) => (
            <tr key={`${c.at}${c.action}${c.user?.id ?? ''}`}>
              <td><time dateTime={c.at}>{new Date(c.at).toLocaleString()}</time></td>
              <td>{c.actor}</td>
              <td>{c.user?.id ?? 'the tenant'}</td>
              <td>{c.action}</td>
              <td><code>{c.old ?? '—'}</code> → <code>{c.new ?? '—'}</code></td>
              <td>{c.reason}</td>
            </tr>
          ))}</tbody>
        </table>
      )}</Loaded>
    </>
  );
}
