/**
 * Budget changes announced to every gateway replica (common/changeFeed.ts), so an admin's change
 * applies at once everywhere, not only on the replica that made it. A message lost while Redis is
 * away costs at most the gateways' short limits cache (5 s).
 */
import { type ChangeFeed, openChangeFeed } from '../common/changeFeed';

/** Carries the tenant whose budget settings changed. */
export type BudgetChangeFeed = ChangeFeed<string>;

export const BUDGET_CHANGES_CHANNEL = 'bytegate:budget-changes';

export function openBudgetChangeFeed(url: string, options: { channel?: string; timeoutMs?: number } = {}): Promise<BudgetChangeFeed> {
  return openChangeFeed<string>(url, { channel: options.channel ?? BUDGET_CHANGES_CHANNEL, timeoutMs: options.timeoutMs, encode: (tenant) => tenant, decode: (tenant) => tenant });
}
