/**
 * Structured JSON logs (pino) on stdout, one logger per process, request-scoped children carrying
 * `reqId`. A request's id is its `x-request-id` header when that is a plain token (a load balancer's
 * or a client's), else a new UUID; the gateway passes it on to every subgraph fetch, the subgraphs
 * log it and label BigQuery jobs with it, so one id finds a request everywhere.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ApolloServerOptions, BaseContext } from '@apollo/server';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger } from 'pino';

/** The logger Apollo Server and Apollo Gateway take (a pino Logger is one); the gateway's own parts log through it too. */
export type ApolloLogger = NonNullable<ApolloServerOptions<BaseContext>['logger']>;

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * `name` is the process's role (gateway, users, …); `destination` defaults to stdout; `pid` to this
 * process's (npm start logs the stray text lines of a process it supervises under that process's pid).
 */
export function createLog(name: string, level: LogLevel, destination?: DestinationStream, pid = process.pid): Logger {
  return pino({ name, level, base: { pid, hostname: os.hostname() }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** The configuration's warnings (dev secrets in use), as one line. */
export function logConfigWarnings(log: Logger, warnings: readonly string[]): void {
  if (warnings.length > 0) log.warn(`warning: ${warnings.join(' ')}`);
}

/** Logs nothing: the default where no logger is given (in-process tests, benchmarks). */
export const silentLog: Logger = pino({ level: 'silent' });

export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^[A-Za-z0-9._:-]{1,64}$/.test(value) ? value : randomUUID();
}
