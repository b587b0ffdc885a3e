/**
 * Two small hand-written tenants for the subgraph tests.
 *
 * acme (reporting lines):            events (UTC days D1..D3 = 2025-03-03..05):
 *   00uceo  Ada Chief (executive)      D1: ceo session.start, auth_via_mfa, sso Mail, sso CRM
 *   ├─ 00uvp   Victor VP               D1: mgr sso Wiki, verify, sso Wiki
 *   │  └─ 00umgr  Mia Manager          D2: ic1 sso Mail (step 3), sso CRM (step 1), auth_via_mfa
 *   │     ├─ 00uic1  Ivan Engineer     D2: ic2 sso CRM          D3: ic2 sso Mail
 *   │     └─ 00uic2  Iris Engineer     D3: sales sso CRM twice
 *   └─ 00usales  Sara Sales           D3: every staff member one sso Wiki
 *      └─ 00ustaff000 … 00ustaff099 (100 people, for batching)
 *   (00uvp has no events.)
 *
 * globex reuses the id 00uceo for a different person, with its own app, so a leak shows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DirectoryUser, LogEvent } from '../../okta/logEvent';
import { createTenantDataset, ingestEvents, upsertUsers } from '../../warehouse/duckdb/tenantDataset';

export const DAYS = ['2025-03-03', '2025-03-04', '2025-03-05'] as const;
const [D1, D2, D3] = DAYS;

const person = (id: string, displayName: string, department: string, managerId: string | null): DirectoryUser => ({
  id, email: `${id.slice(3)}@example.com`, displayName, department, title: null, managerId,
});

export const STAFF_IDS = Array.from({ length: 100 }, (_, i) => `00ustaff${String(i).padStart(3, '0')}`);

export const ACME_USERS: DirectoryUser[] = [
  person('00uceo', 'Ada Chief', 'Executive', null),
  person('00uvp', 'Victor VP', 'Engineering', '00uceo'),
  person('00umgr', 'Mia Manager', 'Engineering', '00uvp'),
  person('00uic1', 'Ivan Engineer', 'Engineering', '00umgr'),
  person('00uic2', 'Iris Engineer', 'Engineering', '00umgr'),
  person('00usales', 'Sara Sales', 'Sales', '00uceo'),
  ...STAFF_IDS.map((id, i) => person(id, `Staff ${i}`, 'Support', '00usales')),
];

/** Mia Manager's scope: herself and her reports. */
export const MANAGER_TEAM = ['00uic1', '00uic2', '00umgr'];

const APPS = { mail: ['0oamail', 'Mail'], crm: ['0oacrm', 'CRM'], wiki: ['0oawiki', 'Wiki'], globex: ['0oaglobex', 'Globex Portal'] } as const;

export function acmeEvents(): LogEvent[] {
  const events = eventLog('acme');
  events.add('00uceo', `${D1}T08:00:00Z`, 'user.session.start');
  events.add('00uceo', `${D1}T08:00:05Z`, 'user.authentication.auth_via_mfa');
  events.add('00uceo', `${D1}T08:01:00Z`, 'user.authentication.sso', { app: 'mail' });
  events.add('00uceo', `${D1}T09:30:00Z`, 'user.authentication.sso', { app: 'crm' });
  events.add('00umgr', `${D1}T10:00:00Z`, 'user.authentication.sso', { app: 'wiki' });
  events.add('00umgr', `${D1}T10:05:00Z`, 'user.authentication.verify');
  events.add('00umgr', `${D1}T23:59:59Z`, 'user.authentication.sso', { app: 'wiki' });
  events.add('00uic1', `${D2}T00:00:00Z`, 'user.authentication.sso', { app: 'mail', step: 3 });
  events.add('00uic1', `${D2}T07:00:00Z`, 'user.authentication.sso', { app: 'crm', step: 1 });
  events.add('00uic1', `${D2}T07:10:00Z`, 'user.authentication.auth_via_mfa');
  events.add('00uic2', `${D2}T12:00:00Z`, 'user.authentication.sso', { app: 'crm' });
  events.add('00uic2', `${D3}T12:00:00Z`, 'user.authentication.sso', { app: 'mail' });
  events.add('00usales', `${D3}T09:00:00Z`, 'user.authentication.sso', { app: 'crm' });
  events.add('00usales', `${D3}T15:00:00Z`, 'user.authentication.sso', { app: 'crm' });
  for (const id of STAFF_IDS) events.add(id, `${D3}T10:00:00Z`, 'user.authentication.sso', { app: 'wiki' });
  return events.list;
}

export const GLOBEX_USERS: DirectoryUser[] = [
  person('00uceo', 'Globex Boss', 'Executive', null),
  person('00uglx', 'Gil Globex', 'Operations', '00uceo'),
];

export function globexEvents(): LogEvent[] {
  const events = eventLog('globex');
  for (let i = 0; i < 5; i++) events.add('00uceo', `${D1}T0${i}:00:00Z`, 'user.authentication.sso', { app: 'globex' });
  events.add('00uglx', `${D2}T08:00:00Z`, 'user.authentication.sso', { app: 'globex' });
  return events.list;
}

/** A data directory holding acme, globex and `empty` (a tenant without events or users). */
export async function createFixtureDataDir(): Promise<{ dataDir: string; remove(): void }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bytegate-subgraphs-'));
  const tenants = [
    { tenant: { id: 'acme', name: 'Acme Corp' }, users: ACME_USERS, events: acmeEvents() },
    { tenant: { id: 'globex', name: 'Globex' }, users: GLOBEX_USERS, events: globexEvents() },
  ];
  for (const { tenant, users, events } of tenants) {
    await createTenantDataset(dataDir, tenant);
    await upsertUsers(dataDir, tenant.id, users);
    const report = await ingestEvents(dataDir, tenant.id, events.map((e) => JSON.stringify(e)));
    if (report.rejected.length) throw new Error(`fixture events rejected: ${JSON.stringify(report.rejected)}`);
  }
  await createTenantDataset(dataDir, { id: 'empty', name: 'Empty Inc' });
  return { dataDir, remove: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}

// Private:

function eventLog(tenant: string) {
  const list: LogEvent[] = [];
  const add = (actorId: string, published: string, eventType: string, options: { app?: keyof typeof APPS; step?: number } = {}) => {
    const app = options.app && APPS[options.app];
    list.push({
      uuid: `${tenant}-${String(list.length).padStart(4, '0')}`,
      published,
      eventType,
      actor: { id: actorId, type: 'User', alternateId: `${actorId}@example.com` },
      outcome: { result: 'SUCCESS' },
      target: app ? [{ id: app[0], type: 'AppInstance', displayName: app[1] }, { id: `0ua${actorId}`, type: 'AppUser' }] : [],
      authenticationContext: { authenticationStep: options.step ?? 0 },
    });
  };
  return { list, add };
}
