/**
 * node-redis settings shared by every Redis user in bytegate (budget ledger, aggregate cache, budget
 * change feed): commands fail at once while disconnected (no offline queue — a request must never
 * wait for Redis to come back), and the client reconnects by itself, backing off to at most ~0.5 s
 * (jittered, so replicas do not reconnect in step).
 */
import type { EventEmitter } from 'node:events';

export function resilientClientOptions(connectTimeoutMs: number) {
  return {
    disableOfflineQueue: true,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) + Math.floor(Math.random() * 50) },
  };
}

/**
 * Starts connecting and resolves once connected, at the first connection error, or after
 * `timeoutMs` — never rejects: a Redis that is down at start-up is no reason not to start, and the
 * client keeps reconnecting in the background.
 */
export function connectWithin(client: Pick<EventEmitter, 'once' | 'off'> & { connect(): Promise<unknown> }, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('error', done);
    client.connect().then(done, done);
  });
}
