/** Calendar dates as `YYYY-MM-DD` strings in UTC: the unit of partitions and of every range argument. */
import { badUserInput } from './errors';

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
export const DAY_MS = 86_400_000;
/** No range may reach it: the day after a range's end must still be a date. */
const LAST_DATE = '9999-12-31';

/** The date, if `value` is a real calendar date in YYYY-MM-DD form. */
export function parseDate(value: string): string | undefined {
  const match = DATE_PATTERN.exec(value);
  if (!match) return undefined;
  const [, year, month, day] = match;
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day));
  const date = new Date(ms);
  if (date.getUTCFullYear() !== Number(year) || date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) return undefined;
  return value;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Days from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

export interface DateRange {
  readonly from: string;
  readonly to: string;
}

/** Validates a from..to argument pair; BAD_USER_INPUT with a message a person understands otherwise. */
export function dateRange(from: string, to: string, maxRangeDays: number): DateRange {
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (!parseDate(value)) throw badUserInput(`"${name}" must be a calendar date as YYYY-MM-DD, got "${truncate(value)}".`, { argument: name });
  }
  if (from > to) throw badUserInput(`"from" (${from}) is after "to" (${to}).`, { argument: 'from' });
  // The day after `to` bounds timestamps (BigQuery's TIMESTAMP ends with 9999-12-31).
  if (to >= LAST_DATE) throw badUserInput(`"to" must be before ${LAST_DATE}, got "${to}".`, { argument: 'to' });
  const days = daysBetween(from, to);
  if (days > maxRangeDays) {
    throw badUserInput(`The range ${from}..${to} spans ${days} days; at most ${maxRangeDays} are allowed.`, { argument: 'to', maxRangeDays });
  }
  return { from, to };
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
