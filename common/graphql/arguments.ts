/** Argument checks every server shares: BAD_USER_INPUT with a message a person understands. */
import type { OperationLimits } from '../config';
import { type DateRange, dateRange } from '../dates';
import { badUserInput } from '../errors';

/** The bounds argument values are checked against: MAX_PAGE_SIZE and MAX_RANGE_DAYS. */
export type ArgumentLimits = Pick<OperationLimits, 'maxPageSize' | 'maxRangeDays'>;

/** `first` of a list or connection: 1..maxPageSize. */
export function pageSize(first: number, limits: ArgumentLimits): number {
  const max = limits.maxPageSize;
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw badUserInput(`"first" must be between 1 and ${max}, got ${first}.`, { argument: 'first', maxPageSize: max });
  }
  return first;
}

/** A from..to pair (inclusive), at most maxRangeDays long. */
export function range(args: { from: string; to: string }, limits: ArgumentLimits): DateRange {
  return dateRange(args.from, args.to, limits.maxRangeDays);
}
