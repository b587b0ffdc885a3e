/** A quota admin's change to a daily limit and per-query cap, with the reason the audit trail keeps. */
import { type FormEvent, useState } from 'react';
import { ByteAmountError, parseBytes } from '../../../../common/units';
import { exactBytes } from '../format';

export interface BudgetChange {
  /** null clears the setting (back to the default). */
  readonly dailyLimitBytes: number | null;
  readonly maxQueryBytes: number | null;
  readonly reason: string;
}

export function BudgetForm({ idPrefix, current, onSubmit }: {
  idPrefix: string;
  current: { dailyLimitBytes: number | null; maxQueryBytes: number | null };
  onSubmit: (change: BudgetChange) => Promise<void>;
}) {
  const [daily, setDaily] = useState(current.dailyLimitBytes === null ? '' : String(current.dailyLimitBytes));
  const [cap, setCap] = useState(current.maxQueryBytes === null ? '' : String(current.maxQueryBytes));
  const [reason, setReason] = useState('');
  const [status, setStatus] = useState<{ error?: string; done?: string }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const change = { dailyLimitBytes: amount(daily), maxQueryBytes: amount(cap), reason: reason.trim() };
      if (!change.reason) throw new Error('Give a reason: the audit trail keeps it.');
      await onSubmit(change);
      setReason('');
      setStatus({ done: 'Saved.' });
    } catch (failure) {
      setStatus({ error: (failure as Error).message });
    }
  };
  return (
    <form className="budget-form" onSubmit={(e) => void submit(e)}>
      <label htmlFor={`${idPrefix}-daily`}>Daily limit (e.g. 50 GiB; empty: the default)</label>
      <input id={`${idPrefix}-daily`} value={daily} onChange={(e) => setDaily(e.target.value)} placeholder="default" aria-describedby={`${idPrefix}-daily-exact`} />
      <small id={`${idPrefix}-daily-exact`}>{preview(daily)}</small>
      <label htmlFor={`${idPrefix}-cap`}>Per-query cap (empty: the default)</label>
      <input id={`${idPrefix}-cap`} value={cap} onChange={(e) => setCap(e.target.value)} placeholder="default" aria-describedby={`${idPrefix}-cap-exact`} />
      <small id={`${idPrefix}-cap-exact`}>{preview(cap)}</small>
      <label htmlFor={`${idPrefix}-reason`}>Reason (required)</label>
      <input id={`${idPrefix}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} required />
      <button type="submit">Save</button>
      {status.error && <p role="alert" className="error">{status.error}</p>}
      {status.done && <p role="status">{status.done}</p>}
    </form>
  );
}

function amount(text: string): number | null {
  return text.trim() === '' ? null : parseBytes(text);
}

function preview(text: string): string {
  try {
    const bytes = amount(text);
    return bytes === null ? 'the default applies' : exactBytes(bytes);
  } catch (error) {
    return error instanceof ByteAmountError ? error.message : '';
  }
}
