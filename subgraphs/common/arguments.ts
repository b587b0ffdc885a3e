/** Argument checks shared by the subgraphs: BAD_USER_INPUT with a message a person understands. */
import type { Config } from '../../common/config';
import { type DateRange, dateRange } from '../../common/dates';
import { badUserInput } from '../../common/errors';

/** `first` of a list or connection: 1..config.limits.maxPageSize. */
export function pageSize(first: number, config: Config): number {
  const max = config.limits.maxPageSize;
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw badUserInput(`"first" must be between 1 and ${max}, got ${first}.`, { argument: 'first', maxPageSize: max });
  }
  return first;
}

/** A from..to pair (inclusive), at most config.limits.maxRangeDays long. */
export function range(args: { from: string; to: string }, config: Config): DateRange {
  return dateRange(args.from, args.to, config.limits.maxRangeDays);
}
