/**
 * A deterministic synthetic Okta org: its directory (people, departments, a manager hierarchy), its app
 * catalog, and the System Log its people produce, one UTC day at a time.
 * Same options give byte-identical output (JSON.stringify-equal); every random choice comes from a
 * `Prng` stream named after the tenant, the seed and its purpose, never from Math.random or the clock.
 * Event shapes follow https://developer.okta.com/docs/reference/api/system-log/#logevent-object
 */
import { addDays, DAY_MS, parseDate } from '../common/dates';
import { BASE_APPS } from './apps';
import type { DirectoryUser, LogActor, LogAuthenticationContext, LogClient, LogEvent, LogTarget } from './logEvent';
import { Prng } from './prng';

export interface GeneratorOptions {
  /** Tenant id, e.g. 'acme': part of every seed (tenants differ) and of emails (`<tenant>.example.com`). */
  tenant: string;
  /** People in the directory, >= 1. */
  users: number;
  /** Days to generate, >= 1. */
  days: number;
  /** Mean events per user per day over the range (DEFAULT_EVENTS_PER_USER), >= 1. */
  eventsPerUser: number;
  /** First day, YYYY-MM-DD (UTC). */
  start: string;
  /** PRNG seed, an integer (the seed CLI defaults to 1). */
  seed: number;
}

export const DEFAULT_EVENTS_PER_USER = 200;

export interface AppInfo {
  /** Okta app instance id (`0oa…`), the `id` of AppInstance targets. */
  id: string;
  /** The app's label: `alternateId` and `displayName` of AppInstance targets. */
  label: string;
  /** Share of popularity (Zipf-like by rank); the catalog's weights sum to 1. */
  weight: number;
}

/** The tenant's ~100 apps, most popular first. Depends on tenant and seed only. */
export function appCatalog(options: Pick<GeneratorOptions, 'tenant' | 'seed'>): AppInfo[] {
  validateTenantAndSeed(options);
  return buildCatalog(options).map(({ id, label, weight }) => ({ id, label, weight }));
}

/**
 * `options.users` people: one CEO (managerId null, department 'Executive'), a head per department
 * reporting to the CEO, then each department filled breadth-first with spans of 4–10, so the hierarchy
 * has no cycles and every managerId is a directory id. Emails are unique (`first.last[N]@<tenant>.example.com`).
 * Depends on tenant, seed and users only.
 */
export function generateDirectory(options: GeneratorOptions): DirectoryUser[] {
  validateOptions(options);
  const rng = new Prng(`${options.tenant}|${options.seed}|directory`);
  const domain = `${options.tenant.toLowerCase().replace(/[^a-z0-9-]/g, '-')}.example.com`;
  const ids = new Set<string>();
  const emails = new Set<string>();
  const person = (department: string | null, managerId: string | null): DirectoryUser => {
    let id: string;
    do id = rng.base62('00u', 20);
    while (ids.has(id));
    ids.add(id);
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const local = `${first}.${last}`.normalize('NFD').toLowerCase().replace(/[^a-z.]/g, ''); // Müller → muller, O'Brien → obrien
    let email = `${local}@${domain}`;
    for (let n = 2; emails.has(email); n++) email = `${local}${n}@${domain}`;
    emails.add(email);
    return { id, email, displayName: `${first} ${last}`, department, title: null, managerId };
  };

  const ceo = { ...person('Executive', null), title: 'Chief Executive Officer' };
  const directory: DirectoryUser[] = [ceo];
  departmentSizes(options.users - 1).forEach((size, d) => {
    const department = DEPARTMENTS[d];
    const members: DirectoryUser[] = [{ ...person(department.name, ceo.id), title: department.head }];
    // Breadth-first: each manager in turn takes the next 4–10 people as direct reports, never leaving
    // 1–3 for the next one, so every span is 4–10 unless the whole department is smaller.
    for (let next = 0; members.length < size; next++) {
      const left = size - members.length;
      let span = Math.min(4 + rng.int(7), left);
      if (left - span > 0 && left - span < 4) span = left - 4 >= 4 ? left - 4 : left;
      for (let i = 0; i < span; i++) members.push(person(department.name, members[next].id));
    }
    const reports = new Map<string, DirectoryUser[]>();
    for (const member of members.slice(1)) reports.set(member.managerId!, [...(reports.get(member.managerId!) ?? []), member]);
    for (const member of members.slice(1)) {
      const own = reports.get(member.id);
      if (!own) member.title = rng.pick(department.roles);
      else member.title = own.some((report) => reports.has(report.id)) ? department.director : department.manager;
    }
    directory.push(...members);
  });
  return directory;
}

/**
 * One batch per day, in day order (or as `batching` says), each day's events sorted by `published`
 * (ties in a fixed order). Lazy: only the current day (or part of a day) is in memory. Volume: each user's expected events per day are
 * `eventsPerUser` × their activity (mean 1 over the directory) × a day weight (weekends ~1/4 of a
 * weekday, normalized over the requested range), so the total is ≈ users × days × eventsPerUser for
 * any range; hence a day's events depend on the whole range, not only on the day.
 * Events share frozen sub-objects (actor, client, targets, …): treat them as read-only.
 */
export function generateDays(options: GeneratorOptions, directory: DirectoryUser[], batching: DayBatching = {}): Generator<DayBatch> {
  validateOptions(options); // now, not at the first next()
  if (directory.length === 0) throw new Error('generateDays: the directory is empty; generate it with generateDirectory(options).');
  const range = rangeDays(options);
  const outside = batching.days?.find((day) => !range.includes(day));
  if (outside !== undefined) throw new Error(`generateDays: ${outside} is not one of the ${options.days} days from ${options.start}.`);
  return dayBatches(options, directory, batching.days ?? range, batching.partEvents ?? Infinity);
}

export interface DayBatching {
  /** Only these days of the range, in this order (a day's events do not depend on the days generated before it). */
  days?: readonly string[];
  /**
   * Yield a day in parts of about this many events (each part: some users' events, sorted by
   * `published`), so that a large day is never in memory whole. The parts hold the same events as
   * the whole day.
   */
  partEvents?: number;
}

export interface DayBatch {
  day: string;
  events: LogEvent[];
  /** Whether this is the day's last part (always, without `partEvents`). */
  dayDone: boolean;
}

/** The range's days, ascending. */
export function rangeDays(options: Pick<GeneratorOptions, 'start' | 'days'>): string[] {
  return Array.from({ length: options.days }, (_, i) => addDays(options.start, i));
}

// Private:

/** Weekend days carry this fraction of a weekday's volume, ... */
const WEEKEND_WEIGHT = 0.25;
/** ... produced by this share of users (the others are off). */
const WEEKEND_ACTIVE_RATE = 0.35;
/** Users at work on a weekday (the others are on leave). */
const WEEKDAY_ACTIVE_RATE = 0.96;
/** Share of a user's events inside their working hours; the rest fall anywhere in the day. */
const WORKDAY_SHARE = 0.9;
/** A user's daily start time varies by up to ± half of this. */
const START_JITTER_MS = 90 * 60_000;
/** Launches of an app outside the user's personal set (catalog popularity decides which). */
const OFF_LIST_APP_RATE = 0.015;
/** Share of an OpenID Connect app's events that are app.oauth2.token.grant rather than an SSO launch. */
const TOKEN_GRANT_RATE = 0.3;
/** Sessions starting with a policy.evaluate_sign_on event. */
const POLICY_RATE = 0.4;
/** Sessions ended by an explicit logout (the others expire silently). */
const SESSION_END_RATE = 0.6;
/** Step-up events that are password verification (user.authentication.verify) rather than MFA. */
const VERIFY_SHARE = 0.35;
/** A session needs this many events before it gets optional header events and a second session is split off. */
const MIN_SESSION_EVENTS = 6;
const MIN_DAILY_APPS = 3;
const MAX_DAILY_APPS = 25;

interface EventKind {
  readonly eventType: string;
  readonly displayMessage: string;
  readonly requestUri: string;
}

const SESSION_START: EventKind = { eventType: 'user.session.start', displayMessage: 'User login to Okta', requestUri: '/idp/idx/identify' };
const SESSION_END: EventKind = { eventType: 'user.session.end', displayMessage: 'User logout from Okta', requestUri: '/login/signout' };
const SSO: EventKind = { eventType: 'user.authentication.sso', displayMessage: 'User single sign on to app', requestUri: '' };
const MFA: EventKind = { eventType: 'user.authentication.auth_via_mfa', displayMessage: 'Authentication of user via MFA', requestUri: '/idp/idx/challenge/answer' };
const VERIFY: EventKind = { eventType: 'user.authentication.verify', displayMessage: 'Verify user identity', requestUri: '/idp/idx/challenge/answer' };
const TOKEN_GRANT: EventKind = { eventType: 'app.oauth2.token.grant', displayMessage: 'OAuth2 token is granted', requestUri: '/oauth2/v1/token' };
const POLICY: EventKind = { eventType: 'policy.evaluate_sign_on', displayMessage: 'Evaluation of sign-on policy', requestUri: '/idp/idx/introspect' };

type Outcome = NonNullable<LogEvent['outcome']>;
// Okta prints absent values as null; we omit them (ingest stores both as NULL) to keep events small.
const SUCCESS: Outcome = Object.freeze({ result: 'SUCCESS' });
const ALLOW: Outcome = Object.freeze({ result: 'ALLOW' });
const INVALID_CREDENTIALS: Outcome = Object.freeze({ result: 'FAILURE', reason: 'INVALID_CREDENTIALS' });
const VERIFICATION_ERROR: Outcome = Object.freeze({ result: 'FAILURE', reason: 'VERIFICATION_ERROR' });
const NO_TARGETS: LogTarget[] = Object.freeze([]) as unknown as LogTarget[];

interface CatalogApp extends AppInfo {
  /** debugData.requestUri of an SSO launch. */
  readonly ssoUri: string;
  readonly oidc: boolean;
  /** The AppInstance target, shared by every event of this app. */
  readonly target: LogTarget;
}

interface Access {
  readonly client: LogClient;
  readonly securityContext: NonNullable<LogEvent['securityContext']>;
}

interface UserProfile {
  readonly actor: LogActor;
  /** The target of the user's MFA and verify events. */
  readonly userTarget: LogTarget[];
  /** Relative volume (log-normal): heavy and light users. */
  readonly activity: number;
  /** Catalog indices of the user's regular apps, most used first, and their personal weights. */
  readonly apps: number[];
  readonly appWeights: number[];
  /** Mean distinct apps per active day. */
  readonly appsPerDay: number;
  /** Share of session events that are MFA/verify step-ups. */
  readonly stepUpRate: number;
  readonly mfaAtLoginRate: number;
  readonly failureRate: number;
  /** Mean sessions per day beyond the first. */
  readonly extraSessions: number;
  readonly mobileRate: number;
  readonly workStartMs: number;
  readonly workLengthMs: number;
  readonly computer: Access;
  readonly mobile: Access;
  readonly factor: { readonly credentialProvider: string; readonly credentialType: string };
  /** [AppInstance, AppUser] per catalog index, built on first use. */
  readonly appTargets: (LogTarget[] | undefined)[];
  readonly appUserSeed: string;
}

interface Run {
  readonly catalog: CatalogApp[];
  readonly catalogCumulative: number[];
  readonly policyTargets: LogTarget[];
  /** Scratch for one user-day's event times. */
  times: Float64Array;
  /** Scratch for one user-day's apps (pickDailyApps): sampling keys, catalog indices, cumulative weights. */
  readonly dailyKeys: Float64Array;
  readonly dailyApps: Int32Array;
  readonly dailyCumulative: Float64Array;
}

/** Tenant-wide choices: the headquarters most people work from, the sign-on policy. */
interface Environment {
  readonly hq: City;
  readonly policyTargets: LogTarget[];
}

/** The lazy body of generateDays (options already validated). */
function* dayBatches(options: GeneratorOptions, directory: DirectoryUser[], wanted: readonly string[], partEvents: number): Generator<DayBatch> {
  const catalog = buildCatalog(options);
  const env = environment(options);
  const profiles = directory.map((user) => buildProfile(options, catalog, env, user));
  const meanActivity = profiles.reduce((sum, profile) => sum + profile.activity, 0) / profiles.length;
  const days = rangeDays(options);
  const isWeekend = days.map((day) => [0, 6].includes(new Date(`${day}T00:00:00Z`).getUTCDay()));
  const rangeScale = options.days / isWeekend.reduce((sum, weekend) => sum + (weekend ? WEEKEND_WEIGHT : 1), 0);
  const run: Run = {
    catalog,
    catalogCumulative: cumulative(catalog.map((app) => app.weight)),
    policyTargets: env.policyTargets,
    times: new Float64Array(1024),
    dailyKeys: new Float64Array(catalog.length),
    dailyApps: new Int32Array(catalog.length),
    dailyCumulative: new Float64Array(catalog.length),
  };

  for (const day of wanted) {
    const d = days.indexOf(day);
    const builder = new DayBuilder(new Prng(`${options.tenant}|${options.seed}|day|${day}`), day);
    const rng = builder.rng;
    const activeRate = isWeekend[d] ? WEEKEND_ACTIVE_RATE : WEEKDAY_ACTIVE_RATE;
    const dayMean = (options.eventsPerUser * (isWeekend[d] ? WEEKEND_WEIGHT : 1) * rangeScale) / activeRate / meanActivity;
    for (const profile of profiles) {
      if (rng.next() >= activeRate) continue; // off today (weekend, leave, sick day)
      const expected = dayMean * profile.activity * rng.between(0.75, 1.25);
      const count = Math.floor(expected + rng.next()); // stochastic rounding keeps the mean exact
      if (count > 0) userDay(builder, run, profile, count);
      if (builder.size >= partEvents) yield { day, events: builder.take(), dayDone: false };
    }
    yield { day, events: builder.take(), dayDone: true };
  }
}

function validateOptions(options: GeneratorOptions): void {
  validateTenantAndSeed(options);
  for (const name of ['users', 'days'] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw optionError(name, 'an integer >= 1', options[name]);
  }
  if (!Number.isFinite(options.eventsPerUser) || options.eventsPerUser < 1) throw optionError('eventsPerUser', 'a number >= 1', options.eventsPerUser);
  if (typeof options.start !== 'string' || !parseDate(options.start)) throw optionError('start', 'a calendar date as YYYY-MM-DD', options.start);
}

function validateTenantAndSeed(options: Pick<GeneratorOptions, 'tenant' | 'seed'>): void {
  if (typeof options.tenant !== 'string' || options.tenant.length === 0) throw optionError('tenant', 'a non-empty string', options.tenant);
  if (!Number.isSafeInteger(options.seed)) throw optionError('seed', 'an integer', options.seed);
}

function optionError(name: string, expected: string, value: unknown): Error {
  return new Error(`Invalid generator option "${name}": must be ${expected}, got ${JSON.stringify(value) ?? String(value)}.`);
}

/** Base apps in a per-tenant order (rank perturbed log-normally), weight ∝ 1/rank. */
function buildCatalog(options: Pick<GeneratorOptions, 'tenant' | 'seed'>): CatalogApp[] {
  const rng = new Prng(`${options.tenant}|${options.seed}|apps`);
  const ranked = BASE_APPS.map((app, i) => ({ app, id: rng.base62('0oa', 20), key: (i + 1) * Math.exp(0.5 * rng.gaussian()) }))
    .sort((x, y) => x.key - y.key);
  const raw = ranked.map((_, rank) => 1 / (rank + 1));
  const total = raw.reduce((sum, weight) => sum + weight, 0);
  return ranked.map(({ app, id }, rank) => {
    const slug = app.label.toLowerCase().replace(/[^a-z0-9]+/g, '');
    const oidc = app.signOnMode === 'OpenID Connect';
    return {
      id,
      label: app.label,
      weight: raw[rank] / total,
      oidc,
      ssoUri: oidc ? '/oauth2/v1/authorize' : `/app/${slug}/${id}/sso/saml`,
      target: Object.freeze({ id, type: 'AppInstance', alternateId: app.label, displayName: app.label }),
    };
  });
}

function environment(options: GeneratorOptions): Environment {
  const rng = new Prng(`${options.tenant}|${options.seed}|environment`);
  return {
    hq: rng.pick(CITIES.filter((city) => city.country === 'United States')),
    policyTargets: deepFreeze([
      { id: rng.base62('00p', 20), type: 'PolicyEntity', alternateId: 'unknown', displayName: 'Default Policy' },
      { id: rng.base62('0pr', 20), type: 'PolicyRule', alternateId: 'unknown', displayName: 'Require MFA off network' },
    ]),
  };
}

/** Everything stable about a user's behaviour, drawn from a stream named after their id. */
function buildProfile(options: GeneratorOptions, catalog: CatalogApp[], env: Environment, user: DirectoryUser): UserProfile {
  const rng = new Prng(`${options.tenant}|${options.seed}|user|${user.id}`);
  // Regular apps: a weighted sample without replacement (Efraimidis–Spirakis keys), so popular apps
  // are in most people's sets and near the top of them.
  const personal = Math.min(catalog.length, 8 + rng.int(28));
  const apps = catalog
    .map((app, index) => ({ index, key: -Math.log(1 - rng.next()) / app.weight }))
    .sort((x, y) => x.key - y.key)
    .slice(0, personal)
    .map(({ index }) => index);
  const city = rng.next() < 0.55 ? env.hq : rng.pick(CITIES);
  const isps = ISPS_BY_COUNTRY[city.country];
  const localStartHours = rng.between(7, 10);
  const actor: LogActor = Object.freeze({ id: user.id, type: 'User', alternateId: user.email, displayName: user.displayName });
  return {
    actor,
    userTarget: deepFreeze([{ id: user.id, type: 'User', alternateId: user.email, displayName: user.displayName }]),
    activity: Math.exp(0.45 * rng.gaussian()),
    apps,
    appWeights: apps.map((_, rank) => 1 / (rank + 1)),
    appsPerDay: Math.min(personal, rng.between(MIN_DAILY_APPS, 22)),
    stepUpRate: rng.between(0.015, 0.095),
    mfaAtLoginRate: rng.between(0.5, 1),
    failureRate: rng.between(0.01, 0.06),
    extraSessions: rng.between(0.2, 1.5),
    mobileRate: rng.next() < 0.4 ? rng.between(0.1, 0.4) : 0,
    workStartMs: Math.round((((localStartHours - city.utcOffsetHours) % 24 + 24) % 24) * 3_600_000),
    workLengthMs: Math.round(rng.between(7.5, 10) * 3_600_000),
    computer: access(rng, city, 'Computer', rng.pick(DESKTOP_AGENTS), rng.pick(isps.fixed)),
    mobile: access(rng, city, 'Mobile', rng.pick(MOBILE_AGENTS), rng.pick(isps.mobile)),
    factor: rng.pick(FACTORS),
    appTargets: new Array(catalog.length).fill(undefined),
    appUserSeed: `${options.tenant}|${options.seed}|appuser|${user.id}|`,
  };
}

function access(rng: Prng, city: City, device: 'Computer' | 'Mobile', agent: UserAgent, isp: Isp): Access {
  return deepFreeze({
    client: {
      userAgent: { rawUserAgent: agent.raw, os: agent.os, browser: agent.browser },
      zone: 'null',
      device,
      ipAddress: `${rng.pick(isp.firstOctets)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`,
      geographicalContext: {
        city: city.city,
        state: city.state,
        country: city.country,
        postalCode: city.postalCode,
        geolocation: { lat: round4(city.lat + rng.between(-0.05, 0.05)), lon: round4(city.lon + rng.between(-0.05, 0.05)) },
      },
    },
    securityContext: { asNumber: isp.asNumber, asOrg: isp.asOrg, isp: isp.isp, domain: isp.domain, isProxy: false },
  });
}

/** One user's events of one day: 1–3 sessions over their working hours, mostly app launches. */
function userDay(builder: DayBuilder, run: Run, profile: UserProfile, count: number): void {
  const rng = builder.rng;
  if (run.times.length < count) run.times = new Float64Array(count * 2);
  const start = profile.workStartMs + (rng.next() - 0.5) * START_JITTER_MS;
  for (let i = 0; i < count; i++) {
    const t = rng.next() < WORKDAY_SHARE ? start + rng.next() * profile.workLengthMs : rng.next() * DAY_MS;
    run.times[i] = Math.floor(t >= DAY_MS ? t - DAY_MS : t < 0 ? t + DAY_MS : t); // wraps: a late shift spills into the next UTC morning
  }
  const times = run.times.subarray(0, count).sort();
  const appCount = pickDailyApps(rng, run, profile);

  const sessions = Math.max(1, Math.min(1 + Math.floor(profile.extraSessions + rng.next()), Math.floor(count / MIN_SESSION_EVENTS)));
  for (let s = 0, lo = 0; s < sessions; s++) {
    const left = sessions - s;
    const share = Math.round(((count - lo) / left) * rng.between(0.6, 1.4));
    const hi = left === 1 ? count : lo + Math.min(Math.max(share, 1), count - lo - (left - 1));
    session(builder, run, profile, times, lo, hi, appCount);
    lo = hi;
  }
}

/** Events lo..hi-1 of the user's day: sign-on, MFA, app launches with step-ups, maybe a logout. */
function session(builder: DayBuilder, run: Run, profile: UserProfile, times: Float64Array, lo: number, hi: number, appCount: number): void {
  const rng = builder.rng;
  const sessionId = rng.base62('102', 25);
  const via = rng.next() < profile.mobileRate ? profile.mobile : profile.computer;
  // authenticationStep is always 0 in real logs (Okta's documentation): MFA shows up as events instead.
  const none: LogAuthenticationContext = Object.freeze({ authenticationStep: 0, externalSessionId: sessionId });
  const password = sessionContext('OKTA_AUTHENTICATION_PROVIDER', 'OKTA_CREDENTIAL_PROVIDER', 'PASSWORD', sessionId);
  const factor = sessionContext('FACTOR_PROVIDER', profile.factor.credentialProvider, profile.factor.credentialType, sessionId);
  const actor = profile.actor;
  const end = hi - lo >= 3 && rng.next() < SESSION_END_RATE ? hi - 1 : hi;
  const roomy = end - lo >= MIN_SESSION_EVENTS;
  let i = lo;

  if (roomy && rng.next() < POLICY_RATE) builder.push(times[i++], POLICY, ALLOW, actor, via, run.policyTargets, none);
  if (roomy && rng.next() < profile.failureRate) builder.push(times[i++], SESSION_START, INVALID_CREDENTIALS, actor, via, NO_TARGETS, password);
  builder.push(times[i++], SESSION_START, SUCCESS, actor, via, NO_TARGETS, password);
  if (i < end && rng.next() < profile.mfaAtLoginRate) builder.push(times[i++], MFA, SUCCESS, actor, via, profile.userTarget, factor);
  for (; i < end; i++) {
    if (rng.next() < profile.stepUpRate) {
      const verify = rng.next() < VERIFY_SHARE;
      const outcome = rng.next() >= profile.failureRate ? SUCCESS : verify ? INVALID_CREDENTIALS : VERIFICATION_ERROR;
      builder.push(times[i], verify ? VERIFY : MFA, outcome, actor, via, profile.userTarget, verify ? password : factor);
      continue;
    }
    const appIndex = rng.next() < OFF_LIST_APP_RATE ? pickCumulative(run.catalogCumulative, run.catalogCumulative.length, rng.next()) : run.dailyApps[pickCumulative(run.dailyCumulative, appCount, rng.next())];
    const app = run.catalog[appIndex];
    const targets = profile.appTargets[appIndex] ?? appTargets(run, profile, appIndex);
    if (app.oidc && rng.next() < TOKEN_GRANT_RATE) builder.push(times[i], TOKEN_GRANT, SUCCESS, actor, via, targets, none);
    else builder.push(times[i], SSO, SUCCESS, actor, via, targets, none, app.ssoUri);
  }
  if (end < hi) builder.push(times[end], SESSION_END, SUCCESS, actor, via, NO_TARGETS, none);
}

function sessionContext(authenticationProvider: string, credentialProvider: string, credentialType: string, externalSessionId: string): LogAuthenticationContext {
  return Object.freeze({ authenticationProvider, credentialProvider, credentialType, authenticationStep: 0, externalSessionId });
}

/** Today's apps into run.dailyApps/dailyCumulative, returning how many: a weighted sample of the user's regular apps. */
function pickDailyApps(rng: Prng, run: Run, profile: UserProfile): number {
  const { dailyKeys, dailyApps, dailyCumulative } = run;
  const personal = profile.apps.length;
  const count = Math.max(Math.min(MIN_DAILY_APPS, personal), Math.min(Math.round(profile.appsPerDay * rng.between(0.7, 1.3)), MAX_DAILY_APPS, personal));
  for (let i = 0; i < personal; i++) dailyKeys[i] = -Math.log(1 - rng.next()) / profile.appWeights[i];
  let total = 0;
  for (let k = 0; k < count; k++) {
    let best = 0;
    for (let i = 1; i < personal; i++) if (dailyKeys[i] < dailyKeys[best]) best = i;
    dailyKeys[best] = Infinity;
    dailyApps[k] = profile.apps[best];
    dailyCumulative[k] = total += profile.appWeights[best];
  }
  for (let k = 0; k < count; k++) dailyCumulative[k] /= total;
  return count;
}

/** Index of the first cumulative weight above u (weights normalized to end at 1). */
function pickCumulative(cumulativeWeights: ArrayLike<number>, length: number, u: number): number {
  for (let i = 0; i < length - 1; i++) if (u < cumulativeWeights[i]) return i;
  return length - 1;
}

function cumulative(weights: number[]): number[] {
  let total = 0;
  return weights.map((weight) => (total += weight));
}

/** [AppInstance, AppUser] for one user and app; the AppUser id depends only on the seed, user and app. */
function appTargets(run: Run, profile: UserProfile, appIndex: number): LogTarget[] {
  const app = run.catalog[appIndex];
  const appUser = { id: new Prng(profile.appUserSeed + app.id).base62('0ua', 20), type: 'AppUser', alternateId: profile.actor.alternateId, displayName: profile.actor.displayName };
  return (profile.appTargets[appIndex] = deepFreeze([app.target, appUser]));
}

/** Collects one day's events with their times, then orders them by time. */
class DayBuilder {
  private readonly events: LogEvent[] = [];
  private readonly times: number[] = [];
  /** `YYYY-MM-DDT00:00:00.000Z` as char codes; published() overwrites the time digits. */
  private readonly publishedCodes: number[];

  constructor(readonly rng: Prng, day: string) {
    this.publishedCodes = Array.from(`${day}T00:00:00.000Z`, (ch) => ch.charCodeAt(0));
  }

  push(ms: number, kind: EventKind, outcome: Outcome, actor: LogActor, via: Access, target: LogTarget[], authenticationContext: LogAuthenticationContext, requestUri = kind.requestUri): void {
    const requestId = this.rng.base62('', 20);
    this.times.push(ms);
    this.events.push({
      uuid: this.rng.uuid(),
      published: this.published(ms),
      eventType: kind.eventType,
      version: '0',
      severity: outcome.result === 'FAILURE' ? 'WARN' : 'INFO',
      displayMessage: kind.displayMessage,
      actor,
      client: via.client,
      outcome,
      target,
      transaction: { type: 'WEB', id: requestId },
      debugContext: { debugData: { requestId, requestUri, threatSuspected: 'false' } },
      authenticationContext,
      securityContext: via.securityContext,
    });
  }

  get size(): number {
    return this.events.length;
  }

  /** The events pushed since the last take, by time; equal times keep push order (the sort key is time × n + index). */
  take(): LogEvent[] {
    const n = this.events.length;
    // Exact while DAY_MS × n < 2^53, i.e. below ~10^8 events per day.
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = this.times[i] * n + i;
    keys.sort();
    const sorted = new Array<LogEvent>(n);
    for (let i = 0; i < n; i++) sorted[i] = this.events[keys[i] % n];
    this.events.length = 0;
    this.times.length = 0;
    return sorted;
  }

  /** ISO-8601 with milliseconds and Z, as one flat string (no Date, no concatenation). */
  private published(ms: number): string {
    const c = this.publishedCodes;
    const hours = Math.floor(ms / 3_600_000);
    const minutes = Math.floor(ms / 60_000) % 60;
    const seconds = Math.floor(ms / 1000) % 60;
    const millis = ms % 1000;
    c[11] = 48 + Math.floor(hours / 10);
    c[12] = 48 + (hours % 10);
    c[14] = 48 + Math.floor(minutes / 10);
    c[15] = 48 + (minutes % 10);
    c[17] = 48 + Math.floor(seconds / 10);
    c[18] = 48 + (seconds % 10);
    c[20] = 48 + Math.floor(millis / 100);
    c[21] = 48 + (Math.floor(millis / 10) % 10);
    c[22] = 48 + (millis % 10);
    // Explicit arguments: measurably faster than spreading the array.
    return String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16], c[17], c[18], c[19], c[20], c[21], c[22], c[23]);
  }
}

function departmentSizes(people: number): number[] {
  if (people === 0) return [];
  const count = Math.min(DEPARTMENTS.length, Math.ceil(people / 12));
  const weights = DEPARTMENTS.slice(0, count).map((department) => department.weight);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  // Largest remainder over the people beyond the heads, so each department has at least its head.
  const exact = weights.map((weight) => ((people - count) * weight) / total);
  const sizes = exact.map((share) => 1 + Math.floor(share));
  const order = exact.map((share, d) => ({ d, rest: share - Math.floor(share) })).sort((x, y) => y.rest - x.rest || x.d - y.d);
  for (let k = 0, missing = people - sizes.reduce((sum, size) => sum + size, 0); k < missing; k++) sizes[order[k].d]++;
  return sizes;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

interface City {
  readonly city: string;
  readonly state: string;
  readonly country: string;
  readonly postalCode: string;
  readonly lat: number;
  readonly lon: number;
  /** Standard time; daylight saving is ignored. */
  readonly utcOffsetHours: number;
}

interface Isp {
  readonly isp: string;
  readonly asOrg: string;
  readonly asNumber: number;
  readonly domain: string;
  readonly firstOctets: readonly number[];
}

interface UserAgent {
  readonly raw: string;
  readonly os: string;
  readonly browser: string;
}

const city = (name: string, state: string, country: string, postalCode: string, lat: number, lon: number, utcOffsetHours: number): City =>
  ({ city: name, state, country, postalCode, lat, lon, utcOffsetHours });

const CITIES: readonly City[] = [
  city('New York', 'New York', 'United States', '10001', 40.7128, -74.006, -5),
  city('Boston', 'Massachusetts', 'United States', '02110', 42.3601, -71.0589, -5),
  city('Atlanta', 'Georgia', 'United States', '30303', 33.749, -84.388, -5),
  city('Chicago', 'Illinois', 'United States', '60601', 41.8781, -87.6298, -6),
  city('Austin', 'Texas', 'United States', '78701', 30.2672, -97.7431, -6),
  city('Denver', 'Colorado', 'United States', '80202', 39.7392, -104.9903, -7),
  city('San Francisco', 'California', 'United States', '94105', 37.7749, -122.4194, -8),
  city('Seattle', 'Washington', 'United States', '98101', 47.6062, -122.3321, -8),
  city('Toronto', 'Ontario', 'Canada', 'M5H', 43.6532, -79.3832, -5),
  city('London', 'England', 'United Kingdom', 'EC1A', 51.5074, -0.1278, 0),
  city('Dublin', 'Leinster', 'Ireland', 'D02', 53.3498, -6.2603, 0),
  city('Berlin', 'Land Berlin', 'Germany', '10115', 52.52, 13.405, 1),
  city('Bengaluru', 'Karnataka', 'India', '560001', 12.9716, 77.5946, 5.5),
];

const isp = (name: string, asOrg: string, asNumber: number, domain: string, firstOctets: number[]): Isp => ({ isp: name, asOrg, asNumber, domain, firstOctets });

const ISPS_BY_COUNTRY: Readonly<Record<string, { fixed: readonly Isp[]; mobile: readonly Isp[] }>> = {
  'United States': {
    fixed: [
      isp('comcast cable communications llc', 'comcast', 7922, 'comcast.net', [24, 73, 98]),
      isp('verizon business', 'verizon', 701, 'verizon.net', [71, 108]),
      isp('at&t services inc.', 'at&t', 7018, 'att.net', [99, 107]),
      isp('charter communications inc', 'charter', 20115, 'spectrum.com', [75, 97]),
    ],
    mobile: [isp('t-mobile usa inc.', 't-mobile', 21928, 't-mobile.com', [172]), isp('verizon wireless', 'verizon wireless', 22394, 'verizonwireless.com', [174])],
  },
  Canada: { fixed: [isp('rogers communications canada inc.', 'rogers', 812, 'rogers.com', [99]), isp('bell canada', 'bell', 577, 'bell.ca', [70])], mobile: [isp('rogers communications canada inc.', 'rogers', 812, 'rogers.com', [99])] },
  'United Kingdom': { fixed: [isp('british telecommunications plc', 'bt', 2856, 'bt.com', [81, 86]), isp('virgin media limited', 'virgin media', 5089, 'virginmedia.com', [82])], mobile: [isp('vodafone limited', 'vodafone', 25135, 'vodafone.co.uk', [92])] },
  Ireland: { fixed: [isp('eircom limited', 'eir', 5466, 'eir.ie', [86])], mobile: [isp('vodafone ireland limited', 'vodafone', 15502, 'vodafone.ie', [89])] },
  Germany: { fixed: [isp('deutsche telekom ag', 'deutsche telekom', 3320, 'telekom.de', [79, 91])], mobile: [isp('telefonica germany gmbh', 'telefonica', 6805, 'telefonica.de', [77])] },
  India: { fixed: [isp('bharti airtel ltd.', 'airtel', 24560, 'airtel.in', [122])], mobile: [isp('reliance jio infocomm limited', 'jio', 55836, 'jio.com', [49])] },
};

const DESKTOP_AGENTS: readonly UserAgent[] = [
  { raw: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', os: 'Mac OS X', browser: 'CHROME' },
  { raw: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', os: 'Windows 10', browser: 'CHROME' },
  { raw: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80', os: 'Windows 10', browser: 'EDGE_CHROMIUM' },
  { raw: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', os: 'Mac OS X', browser: 'SAFARI' },
  { raw: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', os: 'Windows 10', browser: 'FIREFOX' },
  { raw: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', os: 'Linux', browser: 'CHROME' },
];

const MOBILE_AGENTS: readonly UserAgent[] = [
  { raw: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', os: 'iOS', browser: 'MOBILE_SAFARI' },
  { raw: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36', os: 'Android', browser: 'CHROME' },
];

/** MFA factors as Okta logs them (credentialProvider, credentialType). */
const FACTORS: readonly UserProfile['factor'][] = [
  { credentialProvider: 'OKTA_CREDENTIAL_PROVIDER', credentialType: 'OTP' }, // Okta Verify
  { credentialProvider: 'OKTA_CREDENTIAL_PROVIDER', credentialType: 'OTP' },
  { credentialProvider: 'OKTA_CREDENTIAL_PROVIDER', credentialType: 'SMS' },
  { credentialProvider: 'GOOGLE_CREDENTIAL_PROVIDER', credentialType: 'OTP' },
  { credentialProvider: 'YUBIKEY_CREDENTIAL_PROVIDER', credentialType: 'OTP' },
  { credentialProvider: 'OKTA_CREDENTIAL_PROVIDER', credentialType: 'EMAIL' },
];

interface Department {
  readonly name: string;
  /** Relative headcount. */
  readonly weight: number;
  readonly head: string;
  /** Title of a manager of managers. */
  readonly director: string;
  readonly manager: string;
  readonly roles: readonly string[];
}

/** Largest first: a small directory gets the first few. */
const DEPARTMENTS: readonly Department[] = [
  { name: 'Engineering', weight: 28, head: 'VP of Engineering', director: 'Director of Engineering', manager: 'Engineering Manager', roles: ['Software Engineer', 'Senior Software Engineer', 'Staff Software Engineer', 'Site Reliability Engineer', 'QA Engineer'] },
  { name: 'Sales', weight: 18, head: 'VP of Sales', director: 'Director of Sales', manager: 'Sales Manager', roles: ['Account Executive', 'Senior Account Executive', 'Sales Development Representative', 'Sales Engineer'] },
  { name: 'Support', weight: 11, head: 'VP of Customer Support', director: 'Director of Support', manager: 'Support Manager', roles: ['Support Engineer', 'Customer Support Specialist', 'Technical Account Manager'] },
  { name: 'Marketing', weight: 9, head: 'VP of Marketing', director: 'Director of Marketing', manager: 'Marketing Manager', roles: ['Product Marketing Manager', 'Content Strategist', 'Growth Marketer', 'Brand Designer'] },
  { name: 'Product', weight: 8, head: 'VP of Product', director: 'Director of Product', manager: 'Group Product Manager', roles: ['Product Manager', 'Senior Product Manager', 'Product Designer'] },
  { name: 'Operations', weight: 7, head: 'VP of Operations', director: 'Director of Operations', manager: 'Operations Manager', roles: ['Operations Analyst', 'Program Manager', 'Business Operations Associate'] },
  { name: 'IT', weight: 6, head: 'VP of IT', director: 'Director of IT', manager: 'IT Manager', roles: ['IT Support Specialist', 'Systems Administrator', 'Security Engineer'] },
  { name: 'Finance', weight: 6, head: 'Chief Financial Officer', director: 'Controller', manager: 'Finance Manager', roles: ['Financial Analyst', 'Accountant', 'Payroll Specialist'] },
  { name: 'HR', weight: 4, head: 'Chief People Officer', director: 'Director of People', manager: 'HR Manager', roles: ['HR Business Partner', 'Recruiter', 'People Operations Specialist'] },
  { name: 'Legal', weight: 3, head: 'General Counsel', director: 'Deputy General Counsel', manager: 'Legal Manager', roles: ['Corporate Counsel', 'Paralegal', 'Contracts Manager'] },
];

const FIRST_NAMES: readonly string[] = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan',
  'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Christopher', 'Lisa', 'Daniel', 'Nancy', 'Matthew', 'Betty', 'Anthony', 'Sandra',
  'Mark', 'Margaret', 'Donald', 'Ashley', 'Steven', 'Kimberly', 'Andrew', 'Emily', 'Paul', 'Donna', 'Joshua', 'Michelle', 'Kenneth', 'Carol',
  'Kevin', 'Amanda', 'Brian', 'Melissa', 'George', 'Deborah', 'Timothy', 'Stephanie', 'Ronald', 'Rebecca', 'Jason', 'Laura', 'Edward', 'Sharon',
  'Jeffrey', 'Cynthia', 'Ryan', 'Kathleen', 'Jacob', 'Amy', 'Gary', 'Angela', 'Nicholas', 'Shirley', 'Eric', 'Anna', 'Jonathan', 'Ruth',
  'Priya', 'Arjun', 'Wei', 'Mei', 'Hiroshi', 'Yuki', 'Carlos', 'Sofia', 'Mateo', 'Lucia', 'Ahmed', 'Fatima', 'Olga', 'Ivan', 'Siobhan', 'Liam',
  'Chloe', 'Noah', 'Aisha', 'Omar', 'Ingrid', 'Lars', 'Ana', 'Diego', 'Zoe', 'Ethan', 'Grace', 'Hannah', 'Leo', 'Maya',
];

const LAST_NAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez',
  'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark',
  'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green',
  'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', 'Patel', 'Shah', 'Kumar', 'Singh', 'Chen',
  'Wang', 'Li', 'Zhang', 'Tanaka', 'Sato', 'Suzuki', 'Kim', 'Park', 'Choi', "O'Brien", 'Murphy', 'Kelly', 'Byrne', 'Schmidt', 'Schneider',
  'Fischer', 'Weber', 'Müller', 'Rossi', 'Russo', 'Ferrari', 'Silva', 'Santos', 'Costa', 'Dubois', 'Moreau', 'Laurent', 'Novak', 'Kowalski',
  'Ivanov', 'Petrov', 'Larsen', 'Andersen', 'Johansson', 'Nielsen', 'Cohen', 'Levi', 'Haddad', 'Khan', 'Ali', 'Okafor', 'Mensah', 'Abebe',
];
