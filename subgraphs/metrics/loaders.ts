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
  const key = `metrics.productivity:${range.from}:${range.to}`;
  return ctx.perRequest(key, () =>
    new DataLoader((userIds) => ctx.batchLoad(key, userIds, (runner, keys) => runner.aggregates.many('productivity', { days: range }, keys, [], async (missing) => {
      const rows = await runner.warehouse.query<ProductivityRow>(productivityByUser(range, missing));
      return inKeyOrder(missing, rows, (row) => row.actor_id, null);
    }))));
}

/** Per-day rows by user id, ascending by day. */
export function dailyLoader(ctx: SubgraphContext, range: DateRange): DataLoader<string, DailyRow[]> {
  const key = `metrics.daily:${range.from}:${range.to}`;
  return ctx.perRequest(key, () =>
    new DataLoader((userIds) => ctx.batchLoad(key, userIds, (runner, keys) => runner.aggregates.many('daily', { days: range }, keys, [], async (missing) => {
      const rows = await runner.warehouse.query<DailyRow>(dailyByUser(range, missing));
      return groupedInKeyOrder(missing, rows, (row) => row.actor_id);
    }))));
}
