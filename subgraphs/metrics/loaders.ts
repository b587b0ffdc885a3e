/**
 * The metrics subgraph's per-request loaders. One loader per distinct date range, so every user
 * asking for the same range in one operation lands in the same batch: 100 users' productivity
 * is one warehouse query — over the users the aggregate cache does not already hold.
 */
import DataLoader from 'dataloader';
import type { DateRange } from '../../common/dates';
import type { SubgraphContext } from '../common/context';
import { groupedInKeyOrder, inKeyOrder } from '../common/loaders';
import { type DailyRow, type ProductivityRow, dailyByUser, productivityByUser } from './queries';

/** Range totals by user id (null: no activity in the range). */
export function productivityLoader(ctx: SubgraphContext, range: DateRange): DataLoader<string, ProductivityRow | null> {
  return ctx.perRequest(`metrics.productivity:${range.from}:${range.to}`, () =>
    new DataLoader((userIds) => ctx.aggregates.many('productivity', { days: range }, userIds, [], async (missing) => {
      const rows = await ctx.warehouse.query<ProductivityRow>(productivityByUser(range, missing));
      return inKeyOrder(missing, rows, (row) => row.actor_id, null);
    })));
}

/** Per-day rows by user id, ascending by day. */
export function dailyLoader(ctx: SubgraphContext, range: DateRange): DataLoader<string, DailyRow[]> {
  return ctx.perRequest(`metrics.daily:${range.from}:${range.to}`, () =>
    new DataLoader((userIds) => ctx.aggregates.many('daily', { days: range }, userIds, [], async (missing) => {
      const rows = await ctx.warehouse.query<DailyRow>(dailyByUser(range, missing));
      return groupedInKeyOrder(missing, rows, (row) => row.actor_id);
    })));
}
