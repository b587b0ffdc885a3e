import { addDays } from '../../common/dates';
import { appCatalog, generateDays, generateDirectory, type GeneratorOptions } from '../../okta/generator';
import type { DirectoryUser, LogEvent } from '../../okta/logEvent';

// 2025-01-06 is a Monday: five weekdays, then a weekend.
const OPTIONS: GeneratorOptions = { tenant: 'acme', users: 40, days: 7, eventsPerUser: 60, start: '2025-01-06', seed: 1 };

const EVENT_TYPES = new Set([
  'user.session.start', 'user.session.end', 'user.authentication.sso', 'user.authentication.auth_via_mfa',
  'user.authentication.verify', 'app.oauth2.token.grant', 'policy.evaluate_sign_on',
]);
const APP_EVENTS = new Set(['user.authentication.sso', 'app.oauth2.token.grant']);
const STEP_EVENTS = new Set(['user.authentication.auth_via_mfa', 'user.authentication.verify']);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PUBLISHED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const oktaId = (prefix: string) => new RegExp(`^${prefix}[0-9A-Za-z]{17}$`);

const byUuid = (a: LogEvent, b: LogEvent) => a.uuid.localeCompare(b.uuid);

function run(options: GeneratorOptions) {
  const directory = generateDirectory(options);
  return { directory, days: [...generateDays(options, directory)] };
}

const { directory, days } = run(OPTIONS);
const events = days.flatMap((batch) => batch.events);
const catalog = appCatalog(OPTIONS);

describe('determinism', () => {
  test('the same options give byte-identical output', () => {
    expect(JSON.stringify(run(OPTIONS))).toBe(JSON.stringify({ directory, days }));
    expect(JSON.stringify(appCatalog(OPTIONS))).toBe(JSON.stringify(catalog));
  });

  test('days generated alone or in another order are the same days (a resumed or newest-first seed stores the same data)', () => {
    const newestFirst = [...generateDays(OPTIONS, directory, { days: [...days].reverse().map((d) => d.day) })];
    expect(JSON.stringify(newestFirst)).toBe(JSON.stringify([...days].reverse()));
    const [alone] = generateDays(OPTIONS, directory, { days: [days[3].day] });
    expect(JSON.stringify(alone)).toBe(JSON.stringify(days[3]));
    expect(() => generateDays(OPTIONS, directory, { days: ['2025-01-13'] })).toThrow('2025-01-13 is not one of the 7 days from 2025-01-06');
  });

  test('a day in parts holds the same events as the day whole; each part is sorted and no larger than asked (plus one user-day)', () => {
    const parts = [...generateDays(OPTIONS, directory, { partEvents: 300 })];
    expect(parts.length).toBeGreaterThan(days.length * 2);
    for (const { day, events: whole } of days) {
      const ofDay = parts.filter((part) => part.day === day);
      expect(ofDay.map((part) => part.dayDone)).toEqual([...ofDay.slice(1).map(() => false), true]);
      const stored = ofDay.flatMap((part) => part.events);
      expect(JSON.stringify([...stored].sort(byUuid))).toBe(JSON.stringify([...whole].sort(byUuid)));
      const perUser = new Map<string, number>();
      for (const event of whole) perUser.set(event.actor.id, (perUser.get(event.actor.id) ?? 0) + 1);
      const largestUserDay = Math.max(...perUser.values());
      for (const { events: part, dayDone } of ofDay) {
        expect(part.map((e) => e.published)).toEqual(part.map((e) => e.published).sort());
        // Cut after the user-day that reached 300 events.
        if (!dayDone) expect(part.length).toBeGreaterThanOrEqual(300);
        expect(part.length).toBeLessThan(300 + largestUserDay);
      }
    }
  });

  test.each([
    ['seed', { seed: 2 }],
    ['tenant', { tenant: 'globex' }],
  ])('a different %s gives different data', (_, change) => {
    const other = run({ ...OPTIONS, ...change, days: 1 });
    expect(other.directory.map((user) => user.id)).not.toEqual(directory.map((user) => user.id));
    expect(other.days[0].events.map((event) => event.uuid)).not.toEqual(days[0].events.map((event) => event.uuid));
    expect(appCatalog({ ...OPTIONS, ...change }).map((app) => app.id)).not.toEqual(catalog.map((app) => app.id));
  });
});

describe('events', () => {
  test('one batch per day, in order, each sorted by published and inside its UTC day', () => {
    expect(days.map((batch) => batch.day)).toEqual(Array.from({ length: OPTIONS.days }, (_, i) => addDays(OPTIONS.start, i)));
    for (const { day, events: batch } of days) {
      expect(batch.length).toBeGreaterThan(0);
      const wrong = batch.filter((event, i) =>
        !PUBLISHED.test(event.published) ||
        event.published.slice(0, 10) !== day ||
        new Date(event.published).toISOString() !== event.published || // a real time of day
        (i > 0 && event.published < batch[i - 1].published));
      expect(wrong.map((event) => event.published)).toEqual([]);
    }
  });

  test('every event has the Okta LogEvent shape', () => {
    const users = new Map(directory.map((user) => [user.id, user]));
    const apps = new Map(catalog.map((app) => [app.id, app]));
    const problems = events.flatMap((event) => shapeProblems(event, users, apps)).slice(0, 10);
    expect(problems).toEqual([]);
  });

  test('uuids are v4 and unique across the run', () => {
    expect(events.every((event) => UUID_V4.test(event.uuid))).toBe(true);
    expect(new Set(events.map((event) => event.uuid)).size).toBe(events.length);
  });

  test('a session belongs to one user and day and has one successful sign-on before its app launches', () => {
    const sessions = new Map<string, LogEvent[]>();
    for (const event of events) {
      const id = event.authenticationContext!.externalSessionId!;
      sessions.set(id, [...(sessions.get(id) ?? []), event]);
    }
    expect(sessions.size).toBeGreaterThan(OPTIONS.users);
    for (const session of sessions.values()) {
      expect(new Set(session.map((event) => `${event.actor.id} ${event.published.slice(0, 10)}`)).size).toBe(1);
      const starts = session.flatMap((event, i) => (event.eventType === 'user.session.start' && event.outcome?.result === 'SUCCESS' ? [i] : []));
      expect(starts).toHaveLength(1);
      expect(session.slice(0, starts[0]).some((event) => APP_EVENTS.has(event.eventType))).toBe(false);
      const end = session.findIndex((event) => event.eventType === 'user.session.end');
      if (end >= 0) expect(end).toBe(session.length - 1);
    }
  });

  test('the mix: mostly app launches, a minority of MFA/verify varying by user, some failures', () => {
    const count = (predicate: (event: LogEvent) => boolean) => events.filter(predicate).length;
    expect(new Set(events.map((event) => event.eventType))).toEqual(EVENT_TYPES);
    expect(count((event) => event.eventType === 'user.authentication.sso') / events.length).toBeGreaterThan(0.75);
    expect(count((event) => event.outcome?.result === 'FAILURE')).toBeGreaterThan(0);

    const shares = perUser((list) => list.filter((event) => STEP_EVENTS.has(event.eventType)).length / list.length, 100);
    expect(Math.min(...shares)).toBeGreaterThanOrEqual(0.005);
    expect(Math.max(...shares)).toBeLessThanOrEqual(0.15);
    expect(Math.max(...shares)).toBeGreaterThan(2 * Math.min(...shares));
  });

  test('distinct apps per user per day vary between people', () => {
    const unique = new Map<string, Set<string>>();
    for (const event of days[0].events) {
      const app = event.target?.find((target) => target.type === 'AppInstance');
      if (app) unique.set(event.actor.id, (unique.get(event.actor.id) ?? new Set()).add(app.id));
    }
    const sizes = [...unique.values()].map((apps) => apps.size);
    expect(Math.min(...sizes)).toBeLessThanOrEqual(7);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(15);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(30); // 25 regular apps plus a few off-list launches
  });

  test('app popularity is skewed: the top app is used far more than the median app', () => {
    const launches = new Map<string, number>();
    for (const event of events) {
      const app = event.target?.find((target) => target.type === 'AppInstance');
      if (app) launches.set(app.id, (launches.get(app.id) ?? 0) + 1);
    }
    const counts = catalog.map((app) => launches.get(app.id) ?? 0).sort((a, b) => b - a);
    const median = counts[Math.floor(counts.length / 2)];
    expect(counts[0]).toBeGreaterThan(10 * Math.max(median, 1));
    // The most launched app is one of the catalog's most popular.
    const top = [...launches].sort((a, b) => b[1] - a[1])[0][0];
    expect(catalog.slice(0, 5).map((app) => app.id)).toContain(top);
  });

  test('most of a user-day falls in working hours', () => {
    const byUserDay = new Map<string, number[]>();
    for (const event of events) {
      const key = `${event.actor.id} ${event.published.slice(0, 10)}`;
      const hours = byUserDay.get(key) ?? new Array<number>(24).fill(0);
      hours[Number(event.published.slice(11, 13))]++;
      byUserDay.set(key, hours);
    }
    for (const hours of byUserDay.values()) {
      const total = hours.reduce((sum, n) => sum + n, 0);
      if (total < 50) continue;
      // The busiest 12-hour window (wrapping around midnight UTC) holds most events.
      const busiest = Math.max(...hours.map((_, h) => hours.concat(hours).slice(h, h + 12).reduce((sum, n) => sum + n, 0)));
      expect(busiest / total).toBeGreaterThan(0.75);
    }
  });
});

describe('volume', () => {
  test.each([
    ['a week', OPTIONS],
    ['a single Saturday', { ...OPTIONS, start: '2025-01-11', days: 1 }],
    ['three days, more users', { ...OPTIONS, users: 150, days: 3, eventsPerUser: 20 }],
  ])('%s totals users × days × eventsPerUser within 15%%', (_, options) => {
    const expected = options.users * options.days * options.eventsPerUser;
    const total = options === OPTIONS ? events.length : run(options).days.reduce((sum, batch) => sum + batch.events.length, 0);
    expect(Math.abs(total / expected - 1)).toBeLessThan(0.15);
  });

  test('weekends are lighter, and some users are much heavier than others', () => {
    const [monday, , , , , saturday] = days.map((batch) => batch.events.length);
    expect(saturday).toBeLessThan(0.5 * monday);
    const totals = perUser((list) => list.length, 0);
    expect(Math.max(...totals)).toBeGreaterThan(2.5 * Math.min(...totals));
  });
});

describe('directory', () => {
  test.each([1, 2, 7, 40, 300])('%i users: unique people, one root, a tree with sane spans', (users) => {
    const people = generateDirectory({ ...OPTIONS, users });
    expect(people).toHaveLength(users);
    expect(new Set(people.map((user) => user.id)).size).toBe(users);
    expect(new Set(people.map((user) => user.email)).size).toBe(users);
    for (const user of people) {
      expect(user.id).toMatch(oktaId('00u'));
      expect(user.email).toMatch(/^[a-z]+\.[a-z]+\d*@acme\.example\.com$/);
      expect(user.displayName).toMatch(/^\S+ \S+$/);
      expect(user.department).toEqual(expect.any(String));
      expect(user.title).toEqual(expect.any(String));
    }

    const byId = new Map(people.map((user) => [user.id, user]));
    const roots = people.filter((user) => user.managerId === null);
    expect(roots.map((user) => user.title)).toEqual(['Chief Executive Officer']);
    const depthOf = (user: DirectoryUser): number => {
      let depth = 0;
      for (let at = user; at.managerId !== null; depth++) {
        const manager = byId.get(at.managerId);
        if (!manager) throw new Error(`${at.id} reports to unknown ${at.managerId}`);
        if (depth > users) throw new Error(`cycle through ${user.id}`);
        at = manager;
      }
      return depth;
    };
    expect(Math.max(...people.map(depthOf))).toBeLessThanOrEqual(users <= 40 ? 3 : 5);

    const reports = new Map<string, DirectoryUser[]>();
    for (const user of people) if (user.managerId) reports.set(user.managerId, [...(reports.get(user.managerId) ?? []), user]);
    for (const [managerId, direct] of reports) {
      expect(direct.length).toBeLessThanOrEqual(10);
      const manager = byId.get(managerId)!;
      // Department heads report to the CEO; everyone else to someone in their own department.
      if (manager.managerId !== null) expect(new Set(direct.map((user) => user.department))).toEqual(new Set([manager.department]));
    }
    if (users === 300) {
      expect(new Set(people.map((user) => user.department)).size).toBeGreaterThanOrEqual(8);
      const spans = [...reports.values()].map((direct) => direct.length);
      expect(spans.filter((span) => span < 4)).toEqual([]);
    }
  });

  test('events are by directory people, with their ids, emails and names', () => {
    const byId = new Map(directory.map((user) => [user.id, user]));
    const wrong = events.filter((event) => {
      const user = byId.get(event.actor.id);
      return user?.email !== event.actor.alternateId || user?.displayName !== event.actor.displayName;
    });
    expect(wrong.map((event) => event.actor)).toEqual([]);
  });
});

describe('appCatalog', () => {
  test('about 100 apps, unique ids and labels, Zipf-like weights summing to 1', () => {
    expect(catalog.length).toBeGreaterThanOrEqual(90);
    expect(catalog.every((app) => oktaId('0oa').test(app.id))).toBe(true);
    expect(new Set(catalog.map((app) => app.id)).size).toBe(catalog.length);
    expect(new Set(catalog.map((app) => app.label)).size).toBe(catalog.length);
    expect(catalog.reduce((sum, app) => sum + app.weight, 0)).toBeCloseTo(1, 9);
    catalog.slice(1).forEach((app, i) => expect(app.weight).toBeLessThanOrEqual(catalog[i].weight));
    expect(catalog[0].weight).toBeGreaterThan(20 * catalog[50].weight);
  });
});

describe('option validation', () => {
  test.each<[string, Partial<GeneratorOptions>]>([
    ['users', { users: 0 }],
    ['users', { users: 2.5 }],
    ['days', { days: 0 }],
    ['eventsPerUser', { eventsPerUser: 0.5 }],
    ['eventsPerUser', { eventsPerUser: Number.NaN }],
    ['start', { start: '2025-02-30' }],
    ['start', { start: '2025/01/06' }],
    ['seed', { seed: 1.5 }],
    ['tenant', { tenant: '' }],
  ])('a bad "%s" (%o) is rejected by name, eagerly', (name, change) => {
    const options = { ...OPTIONS, ...change };
    const message = new RegExp(`"${name}"`);
    expect(() => generateDirectory(options)).toThrow(message);
    expect(() => generateDays(options, directory)).toThrow(message);
  });

  test('appCatalog checks tenant and seed; generateDays needs a directory', () => {
    expect(() => appCatalog({ tenant: 'acme', seed: Number.NaN })).toThrow(/"seed"/);
    expect(() => generateDays(OPTIONS, [])).toThrow(/directory is empty/);
  });
});

// Private:

/** Values of `measure` per actor, over actors with at least `minEvents` events in the run. */
function perUser(measure: (events: LogEvent[]) => number, minEvents: number): number[] {
  const byActor = new Map<string, LogEvent[]>();
  for (const event of events) byActor.set(event.actor.id, [...(byActor.get(event.actor.id) ?? []), event]);
  return [...byActor.values()].filter((list) => list.length >= minEvents).map(measure);
}

/** Human-readable differences from the expected shape; empty when the event is fine. */
function shapeProblems(event: LogEvent, users: Map<string, DirectoryUser>, apps: Map<string, { label: string }>): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => ok || problems.push(`${event.uuid} ${event.eventType}: ${what}`);
  const isString = (value: unknown) => typeof value === 'string' && value.length > 0;

  check(EVENT_TYPES.has(event.eventType), 'unknown eventType');
  check(event.version === '0', 'version');
  check(isString(event.displayMessage), 'displayMessage');
  check(event.severity === (event.outcome?.result === 'FAILURE' ? 'WARN' : 'INFO'), 'severity');
  check(event.actor.type === 'User' && users.has(event.actor.id), 'actor');

  const client = event.client;
  check(['Computer', 'Mobile'].includes(client?.device ?? '') && client?.zone === 'null', 'client device/zone');
  check(isString(client?.userAgent?.rawUserAgent) && isString(client?.userAgent?.os) && isString(client?.userAgent?.browser), 'userAgent');
  check(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(client?.ipAddress ?? '') && client!.ipAddress!.split('.').every((octet) => Number(octet) <= 255), 'ipAddress');
  const geo = client?.geographicalContext;
  check(isString(geo?.city) && isString(geo?.state) && isString(geo?.country) && isString(geo?.postalCode), 'geographicalContext');
  check(Math.abs(geo?.geolocation?.lat ?? 99) <= 90 && Math.abs(geo?.geolocation?.lon ?? 999) <= 180, 'geolocation');

  const outcome = event.outcome;
  check(['SUCCESS', 'FAILURE', 'ALLOW'].includes(outcome?.result ?? ''), 'outcome.result');
  check(outcome?.result !== 'FAILURE' || ['INVALID_CREDENTIALS', 'VERIFICATION_ERROR'].includes(outcome.reason ?? ''), 'failure reason');

  const targets = event.target ?? [];
  if (APP_EVENTS.has(event.eventType)) {
    const [app, appUser] = targets;
    check(targets.length === 2 && app.type === 'AppInstance' && appUser.type === 'AppUser', 'app targets');
    check(apps.get(app?.id)?.label === app?.displayName && app?.alternateId === app?.displayName, 'AppInstance is a catalog app');
    check(oktaId('0ua').test(appUser?.id) && appUser?.alternateId === event.actor.alternateId, 'AppUser');
  } else if (STEP_EVENTS.has(event.eventType)) {
    check(targets.length === 1 && targets[0].type === 'User' && targets[0].id === event.actor.id, 'User target');
  } else if (event.eventType === 'policy.evaluate_sign_on') {
    check(targets.map((target) => target.type).join() === 'PolicyEntity,PolicyRule', 'policy targets');
  } else {
    check(targets.length === 0, 'no targets');
  }

  const context = event.authenticationContext;
  check(context?.authenticationStep === 0, 'authenticationStep is 0');
  check(/^102[0-9A-Za-z]{22}$/.test(context?.externalSessionId ?? ''), 'externalSessionId');
  check(event.transaction?.type === 'WEB' && isString(event.transaction.id), 'transaction');
  const debugData = event.debugContext?.debugData ?? {};
  check(debugData.requestId === event.transaction?.id && debugData.threatSuspected === 'false', 'debugData');
  check(typeof debugData.requestUri === 'string' && debugData.requestUri.startsWith('/'), 'requestUri');
  const security = event.securityContext;
  check(Number.isInteger(security?.asNumber) && isString(security?.isp) && isString(security?.domain) && security?.isProxy === false, 'securityContext');
  return problems;
}
