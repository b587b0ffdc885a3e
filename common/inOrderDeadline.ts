/**
 * Deadlines for calls over one connection whose server answers in order (a Redis client): while a
 * call is past its deadline and still unanswered, every call sent after it would be answered later
 * still — so each fails at once instead of waiting out a deadline of its own. A frozen or partitioned
 * Redis then costs a request nothing instead of a full deadline per round trip; the first reply (or
 * the connection's failure) that settles the overdue calls lets calls through again.
 */
import { withDeadline } from './deadline';

export interface InOrderDeadline {
  /** Runs `work` under the deadline; rejects at once while an earlier call is overdue. */
  <T>(work: () => Promise<T>): Promise<T>;
  /** Calls past their deadline and still unanswered. */
  overdue(): number;
}

export function inOrderDeadline(ms: number): InOrderDeadline {
  let overdue = 0;
  const run = <T>(work: () => Promise<T>): Promise<T> => {
    if (overdue > 0) return Promise.reject(new Error(`an earlier command has had no reply for over ${ms} ms`));
    const reply = Promise.resolve().then(work);
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      overdue += 1;
    }, ms);
    const settled = () => {
      clearTimeout(timer);
      if (late) overdue -= 1;
    };
    reply.then(settled, settled);
    return withDeadline(() => reply, ms);
  };
  return Object.assign(run, { overdue: () => overdue });
}
