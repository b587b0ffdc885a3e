/**
 * The state of a dependency that can go away (Redis for the budget ledger and the aggregate cache):
 * the first failure is reported once, the recovery once with how long it lasted, and `since` tells
 * /readyz when it began. Calls in between say nothing, so an outage is two log lines, not thousands.
 */
export interface Outage {
  /** Records a successful call (ends an outage). */
  ok(): void;
  /** Records a failed call (begins an outage, unless one is on). */
  failed(error: Error): void;
  /** When the current outage began; undefined when reachable. */
  since(): number | undefined;
}

export function trackOutage(report: { down(error: Error): void; up(seconds: number): void }, now: () => number = Date.now): Outage {
  let since: number | undefined;
  return {
    ok() {
      if (since === undefined) return;
      report.up(Math.round((now() - since) / 1000));
      since = undefined;
    },
    failed(error) {
      if (since !== undefined) return;
      since = now();
      report.down(error);
    },
    since: () => since,
  };
}
