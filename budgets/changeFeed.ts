/**
 * Budget changes announced to every gateway replica over Redis pub/sub (REDIS_URL), so an admin's
 * change applies at once everywhere, not only on the replica that made it. Best effort: a message
 * lost while Redis is away costs at most the gateways' short limits cache (5 s); nothing waits on it.
 */
import { createClient } from '@redis/client';
import { connectWithin, resilientClientOptions } from '../common/redis';

export interface BudgetChangeFeed {
  /** Announces that `tenant`'s budget settings changed; resolves once sent (or failed to). Never rejects. */
  publish(tenant: string): Promise<void>;
  /** Calls `listener` with the tenant of every change announced, by any replica (this one included). */
  subscribe(listener: (tenant: string) => void): void;
  close(): Promise<void>;
}

export const BUDGET_CHANGES_CHANNEL = 'bytegate:budget-changes';

/** Resolves once connected, or after `timeoutMs` (then it keeps trying in the background). */
export async function openBudgetChangeFeed(url: string, options: { channel?: string; timeoutMs?: number } = {}): Promise<BudgetChangeFeed> {
  const channel = options.channel ?? BUDGET_CHANGES_CHANNEL;
  const timeoutMs = options.timeoutMs ?? 1000;
  const publisher = createClient({ url, ...resilientClientOptions(1000) });
  const subscriber = publisher.duplicate();
  for (const client of [publisher, subscriber]) client.on('error', () => undefined); // reconnects by itself
  const listeners: ((tenant: string) => void)[] = [];
  // Subscribes once the first connection is up (also when Redis only comes up later); node-redis
  // renews the subscription itself after a reconnect.
  let subscribed = false;
  subscriber.on('ready', () => {
    if (subscribed) return;
    subscribed = true;
    subscriber.subscribe(channel, (tenant) => listeners.forEach((listener) => listener(tenant))).catch(() => (subscribed = false));
  });
  await Promise.all([connectWithin(publisher, timeoutMs), connectWithin(subscriber, timeoutMs)]);
  return {
    publish(tenant) {
      return publisher.publish(channel, tenant).then(() => undefined, () => undefined);
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    async close() {
      for (const client of [publisher, subscriber]) if (client.isOpen) client.destroy();
    },
  };
}
