/**
 * Budget changes announced to every gateway replica over Redis pub/sub (REDIS_URL), so an admin's
 * change applies at once everywhere, not only on the replica that made it. Best effort: a message
 * lost while Redis is away costs at most the gateways' short limits cache (5 s); nothing waits on it.
 */
import { createClient } from '@redis/client';

export interface BudgetChangeFeed {
  /** Announces that `tenant`'s budget settings changed. Never throws. */
  publish(tenant: string): void;
  /** Calls `listener` with the tenant of every change announced, by any replica (this one included). */
  subscribe(listener: (tenant: string) => void): void;
  close(): Promise<void>;
}

export const BUDGET_CHANGES_CHANNEL = 'bytegate:budget-changes';

/** Resolves once connected, or after `timeoutMs` (then it keeps trying in the background). */
export async function openBudgetChangeFeed(url: string, options: { channel?: string; timeoutMs?: number } = {}): Promise<BudgetChangeFeed> {
  const channel = options.channel ?? BUDGET_CHANGES_CHANNEL;
  const socket = { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) };
  const publisher = createClient({ url, disableOfflineQueue: true, socket });
  const subscriber = publisher.duplicate();
  for (const client of [publisher, subscriber]) client.on('error', () => undefined); // reconnects by itself
  const listeners: ((tenant: string) => void)[] = [];
  const connected = Promise.all([
    publisher.connect(),
    subscriber.connect().then(() => subscriber.subscribe(channel, (tenant) => listeners.forEach((listener) => listener(tenant)))),
  ]).catch(() => undefined);
  await Promise.race([connected, new Promise((resolve) => setTimeout(resolve, options.timeoutMs ?? 1000).unref())]);
  return {
    publish(tenant) {
      publisher.publish(channel, tenant).catch(() => undefined);
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    async close() {
      for (const client of [publisher, subscriber]) if (client.isOpen) client.destroy();
    },
  };
}
