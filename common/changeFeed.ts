/**
 * Announcements to every replica over Redis pub/sub (REDIS_URL), so a change made by one process
 * applies at once in all of them. Best effort: a message lost while Redis is away costs at most the
 * receivers' own refresh interval; nothing waits on it. Two feeds: budget settings
 * (budgets/changeFeed.ts) and data changes (below: what a write changed in a tenant's dataset).
 */
import { createClient } from '@redis/client';
import { isTenantId } from './principal';
import { connectWithin, resilientClientOptions } from './redis';

export interface ChangeFeed<T> {
  /** Announces a change; resolves once sent (or failed to). Never rejects. */
  publish(change: T): Promise<void>;
  /** Calls `listener` with every change announced, by any process (this one included). */
  subscribe(listener: (change: T) => void): void;
  close(): Promise<void>;
}

export interface ChangeFeedOptions<T> {
  readonly channel: string;
  /** Resolve once connected, or after this long (then keep trying in the background); default 1 s. */
  readonly timeoutMs?: number;
  readonly encode: (change: T) => string;
  /** Undefined for a message that is not a change (ignored). */
  readonly decode: (message: string) => T | undefined;
}

export async function openChangeFeed<T>(url: string, options: ChangeFeedOptions<T>): Promise<ChangeFeed<T>> {
  const { channel, encode, decode } = options;
  const publisher = createClient({ url, ...resilientClientOptions(1000) });
  const subscriber = publisher.duplicate();
  for (const client of [publisher, subscriber]) client.on('error', () => undefined); // reconnects by itself
  const listeners: ((change: T) => void)[] = [];
  // Subscribes once the first connection is up (also when Redis only comes up later); node-redis
  // renews the subscription itself after a reconnect.
  let subscribed = false;
  subscriber.on('ready', () => {
    if (subscribed) return;
    subscribed = true;
    subscriber.subscribe(channel, (message) => {
      const change = decode(message);
      if (change !== undefined) for (const listener of listeners) listener(change);
    }).catch(() => (subscribed = false));
  });
  const timeoutMs = options.timeoutMs ?? 1000;
  await Promise.all([connectWithin(publisher, timeoutMs), connectWithin(subscriber, timeoutMs)]);
  return {
    publish(change) {
      return publisher.publish(channel, encode(change)).then(() => undefined, () => undefined);
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    async close() {
      for (const client of [publisher, subscriber]) if (client.isOpen) client.destroy();
    },
  };
}

/**
 * A write to a tenant's dataset: bytegate's own ingest announces the days it wrote (none for a
 * directory or tenant write), and a BigQuery metadata check the outside writes it found.
 */
export interface DataChange {
  readonly tenant: string;
  readonly days: readonly string[];
}

export type DataChangeFeed = ChangeFeed<DataChange>;

export const DATA_CHANGES_CHANNEL = 'bytegate:data-changes';

export function openDataChangeFeed(url: string, options: { channel?: string; timeoutMs?: number } = {}): Promise<DataChangeFeed> {
  return openChangeFeed<DataChange>(url, {
    channel: options.channel ?? DATA_CHANGES_CHANNEL, timeoutMs: options.timeoutMs, encode: JSON.stringify, decode: decodeDataChange,
  });
}

// Private:

function decodeDataChange(message: string): DataChange | undefined {
  try {
    const { tenant, days } = JSON.parse(message) as { tenant?: unknown; days?: unknown };
    if (typeof tenant !== 'string' || !isTenantId(tenant) || !Array.isArray(days) || !days.every((d) => typeof d === 'string')) return undefined;
    return { tenant, days };
  } catch {
    return undefined;
  }
}
