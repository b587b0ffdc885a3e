/**
 * A small hand-written tenant: four people, three days of events with multi-byte strings, NULLs,
 * MFA prompts and explicit authentication steps — and an independent JavaScript computation of
 * what BigQuery would count for them, to check the warehouse's numbers against.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DirectoryUser, LogEvent } from '../../okta/logEvent';
import { scalarBytes } from '../../pricing/billing';
import { type TableSchema, leafColumns, ssoEvents } from '../../pricing/tables';
import type { TenantInfo } from '../../warehouse/datasetWriter';

export interface WarehouseFixture {
  tenant: TenantInfo;
  users: DirectoryUser[];
  events: LogEvent[];
}

export const DAYS = ['2025-03-03', '2025-03-04', '2025-03-05'] as const;

export const people: DirectoryUser[] = [
  { id: '00uceo', email: 'ceo@acme.example.com', displayName: 'Ada Chief', department: 'Executive', title: 'CEO', managerId: null },
  { id: '00umgr', email: 'zoe@acme.example.com', displayName: 'Zoë Manager', department: 'Engineering', title: 'Manager', managerId: '00uceo' },
  { id: '00uic1', email: 'kenji@acme.example.com', displayName: '東京 Kenji', department: 'Engineering', title: 'Engineer', managerId: '00umgr' },
  { id: '00uic2', email: 'sam@acme.example.com', displayName: 'Sam Seller', department: 'Sales', title: 'AE', managerId: '00uceo' },
];

const apps = { mail: ['0oamail', 'Mail'], crm: ['0oacrm', 'CRM ✓'], wiki: ['0oawiki', 'Wiki'] } as const;

let sequence = 0;
export function event(actorId: string, published: string, eventType: string, options: { app?: keyof typeof apps; step?: number; city?: string | null } = {}): LogEvent {
  const person = people.find((p) => p.id === actorId)!;
  sequence++;
  return {
    uuid: `evt-${String(sequence).padStart(4, '0')}`,
    published,
    eventType,
    version: '0',
    severity: 'INFO',
    displayMessage: eventType === 'user.authentication.sso' ? 'User single sign on to app' : 'Authentication event',
    actor: { id: actorId, type: 'User', alternateId: person.email, displayName: person.displayName },
    client: {
      userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' },
      ipAddress: '10.0.0.1',
      geographicalContext: options.city === null ? undefined : { city: options.city ?? 'Zürich', country: 'CH', geolocation: { lat: 47.37, lon: 8.54 } },
    },
    outcome: { result: 'SUCCESS', reason: null },
    target: options.app
      ? [{ id: apps[options.app][0], type: 'AppInstance', alternateId: apps[options.app][1], displayName: apps[options.app][1] }, { id: `0ua${actorId}`, type: 'AppUser', displayName: person.displayName }]
      : [],
    transaction: { type: 'WEB', id: `tx${sequence}` },
    debugContext: { debugData: { requestId: `req${sequence}` } },
    authenticationContext: { authenticationStep: options.step ?? 0, externalSessionId: `s-${actorId}` },
    securityContext: { isProxy: false },
  };
}

export function fixtureEvents(): LogEvent[] {
  sequence = 0;
  const [d1, d2, d3] = DAYS;
  return [
    event('00uceo', `${d1}T08:00:00.000Z`, 'user.session.start'),
    event('00uceo', `${d1}T08:00:05.000Z`, 'user.authentication.auth_via_mfa'),
    event('00uceo', `${d1}T08:01:00.000Z`, 'user.authentication.sso', { app: 'mail' }),
    event('00uceo', `${d1}T09:30:00.000Z`, 'user.authentication.sso', { app: 'crm' }),
    event('00umgr', `${d1}T10:00:00.000Z`, 'user.authentication.sso', { app: 'wiki', city: '東京' }),
    event('00umgr', `${d1}T10:05:00.000Z`, 'user.authentication.verify'),
    event('00umgr', `${d1}T23:59:59.999Z`, 'user.authentication.sso', { app: 'wiki' }),
    event('00uic1', `${d2}T00:00:00.000Z`, 'user.authentication.sso', { app: 'mail', step: 3 }),
    event('00uic1', `${d2}T07:00:00.000Z`, 'user.authentication.sso', { app: 'crm', step: 1, city: null }),
    event('00uic1', `${d2}T07:10:00.000Z`, 'user.authentication.auth_via_mfa'),
    event('00uic2', `${d2}T12:00:00.000Z`, 'app.oauth2.token.grant', { app: 'crm' }),
    event('00uic2', `${d3}T12:00:00.000Z`, 'user.authentication.sso', { app: 'crm' }),
    event('00uic2', `${d3}T12:30:00.000Z`, 'user.authentication.sso', { app: 'mail' }),
    event('00uceo', `${d3}T18:00:00.000Z`, 'user.session.end'),
  ];
}

export function fixture(): WarehouseFixture {
  return { tenant: { id: 'acme', name: 'Acme Corp' }, users: people, events: fixtureEvents() };
}

/** BigQuery logical bytes of `column` summed over `events` — computed in JavaScript from the events. */
export function expectedBytes(events: readonly LogEvent[], column: string, table: TableSchema = ssoEvents): number {
  const leaf = leafColumns(table).find((l) => l.path === column);
  if (!leaf) throw new Error(`no column ${column}`);
  const valueBytes = (value: unknown, segments: string[]): number => {
    if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + valueBytes(item, segments), 0);
    if (segments.length === 0) {
      const stored = value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
      return scalarBytes(leaf.type, stored);
    }
    if (value === null || value === undefined) return 0;
    return valueBytes((value as Record<string, unknown>)[segments[0]], segments.slice(1));
  };
  // A derived column holds a copy of its source's values.
  const field = table.fields.find((f) => f.name === column);
  const source = field && 'derivedFrom' in field && field.derivedFrom ? field.derivedFrom : column;
  return events.reduce((sum, e) => sum + valueBytes(e, source.split('.')), 0);
}

export function eventsOn(events: readonly LogEvent[], ...days: string[]): LogEvent[] {
  return events.filter((e) => days.includes(e.published.slice(0, 10)));
}

export function tempDataDir(): { dataDir: string; remove(): void } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-test-'));
  return { dataDir, remove: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}

export function ndjson(events: readonly LogEvent[]): string[] {
  return events.map((e) => JSON.stringify(e));
}
