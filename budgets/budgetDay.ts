/**
 * Budget days: a tenant's daily usage is counted per calendar day in its IANA timezone and resets at
 * that timezone's next midnight. Pure functions of an instant (ms since the epoch), built on
 * Intl.DateTimeFormat (the tz database Node ships), so every gateway replica agrees without a table.
 *
 * `resetsAt` is the first instant of the next local day, which is not always 24 h away: a day that
 * springs forward lasts 23 h, one that falls back 25 h, and where daylight saving starts at midnight
 * (America/Santiago) the local day begins at 01:00. An unknown timezone is a RangeError naming it.
 * Formatters and the last day seen per timezone are memoized (a hot path: every reserve asks).
 */

/** The budget day (YYYY-MM-DD) that the instant `atMs` falls on in `timezone`. */
export function budgetDay(atMs: number, timezone: string): string {
  return dayAround(atMs, timezone).day;
}

/** The next midnight after `atMs` in `timezone` (the first instant of the next local day), ISO-8601 UTC. */
export function resetsAt(atMs: number, timezone: string): string {
  return new Date(dayAround(atMs, timezone).endMs).toISOString();
}

// Private:

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Formatters are costly to build (tens of µs); timezones in use are few. Bounded against odd spellings. */
const MAX_CACHED_FORMATTERS = 1000;
const formatters = new Map<string, Intl.DateTimeFormat>();
/** The last local day computed per timezone: consecutive calls mostly fall in the same day. */
const lastDays = new Map<string, LocalDay>();

interface LocalDay {
  readonly day: string;
  /** Its first instant. */
  readonly startMs: number;
  /** The first instant of the next day. */
  readonly endMs: number;
}

function dayAround(atMs: number, timezone: string): LocalDay {
  const last = lastDays.get(timezone);
  if (last && last.startMs <= atMs && atMs < last.endMs) return last;
  const day = dayOfWallClock(wallClockMs(atMs, timezone));
  const dayWallMs = Date.parse(`${day}T00:00:00Z`);
  const found = { day, startMs: firstInstantOfDay(dayWallMs, timezone), endMs: firstInstantOfDay(dayWallMs + DAY_MS, timezone) };
  lastDays.set(timezone, found);
  return found;
}

/** The local wall-clock time at `atMs` as if it were UTC (whole seconds): local time = result read in UTC. */
function wallClockMs(atMs: number, timezone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timezone).formatToParts(atMs)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}

function dayOfWallClock(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 10);
}

/**
 * The first instant whose local wall clock reads at least `dayWallMs` (a local midnight). Usually the
 * offset at that midnight gives it (two passes, since the offset may differ on either side); when
 * midnight does not exist or occurs twice, a search over the surrounding hours finds the day's start.
 * Offsets lie within −12 h..+14 h, so 15 h before the wall time is still the previous day and 27 h
 * after it is the day or later.
 */
function firstInstantOfDay(dayWallMs: number, timezone: string): number {
  const startsOn = (atMs: number) => wallClockMs(atMs, timezone) >= dayWallMs;
  const offsetAt = (atMs: number) => wallClockMs(atMs, timezone) - Math.floor(atMs / 1000) * 1000;
  const guess = dayWallMs - offsetAt(dayWallMs - offsetAt(dayWallMs));
  if (startsOn(guess) && !startsOn(guess - 1000)) return guess;
  let before = dayWallMs - 15 * HOUR_MS;
  let after = dayWallMs + 27 * HOUR_MS;
  while (after - before > 1000) {
    const middle = before + Math.floor((after - before) / 2000) * 1000;
    if (startsOn(middle)) after = middle;
    else before = middle;
  }
  return after;
}

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (formatter) return formatter;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch {
    throw new RangeError(`"${String(timezone).slice(0, 60)}" is not an IANA timezone (e.g. UTC, Europe/Paris, America/New_York).`);
  }
  if (formatters.size >= MAX_CACHED_FORMATTERS) {
    formatters.clear();
    lastDays.clear();
  }
  formatters.set(timezone, formatter);
  return formatter;
}
