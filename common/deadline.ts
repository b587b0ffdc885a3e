/**
 * Runs `work`, rejecting when it takes longer than `ms` — with `timeoutError()`, or "no reply within
 * N ms". The timer never outlives the work. The work itself is not stopped: cancel it where it runs.
 */
export function withDeadline<T>(work: () => Promise<T>, ms: number, timeoutError?: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError?.() ?? new Error(`no reply within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve().then(work), deadline]).finally(() => clearTimeout(timer));
}
