/**
 * Metrics over the caller's scope. A user's own metrics outside the scope are FORBIDDEN;
 * tenant-level figures are computed over the scope only (executive: everyone, manager: their
 * team, viewer: themselves), so they never reveal anyone else's activity.
 */
import type { ResolverMap } from '../../common/graphql/subgraphSchema';
import type { DateRange } from '../../common/dates';
import { type ArgumentLimits, pageSize, range } from '../../common/graphql/arguments';
import type { SubgraphContext } from '../common/context';
import { forbidden, inScope, ownTenant, scopeKey } from '../common/scope';
import { dailyLoader, productivityLoader } from './loaders';
import { type AppUsageRow, type EventCountRow, type ProductivityRow, type TimeWasterRow, appUsage, eventCounts, topTimeWasters } from './queries';

interface RangeArgs {
  from: string;
  to: string;
}

export function metricsResolvers(limits: ArgumentLimits): ResolverMap<SubgraphContext> {
  /** The validated range, once the user is known to be in the caller's scope. */
  const userRange = async (userId: string, args: RangeArgs, ctx: SubgraphContext): Promise<DateRange> => {
    const checked = range(args, limits);
    if (!inScope(await ctx.scope(), userId)) throw forbidden(`The metrics of user "${userId}" are outside your scope.`);
    return checked;
  };

  return {
    Query: {
      /** For the gateway's estimator only (@inaccessible: not in the API schema); the tenant is the signed one. */
      _scanStatistics: (_root, _args, ctx: SubgraphContext) => ctx.warehouse.partitionStats(),
      /** For the gateway only (@inaccessible): days by date, then tables by name. */
      _dataVersions: async (_root, _args, ctx: SubgraphContext) => {
        const [days, tables] = await Promise.all([ctx.warehouse.dataVersions(), ctx.warehouse.tableVersions()]);
        return [
          ...[...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, version]) => ({ day, table: null, version })),
          ...[...tables].sort(([a], [b]) => a.localeCompare(b)).map(([table, version]) => ({ day: null, table, version })),
        ];
      },
    },

    User: {
      /** Nothing to look up: metrics are keyed by the user id alone. */
      __resolveReference: (reference: { id: string }) => ({ id: reference.id }),

      productivity: async (user: { id: string }, args: RangeArgs, ctx: SubgraphContext) => {
        const row = await productivityLoader(ctx, await userRange(user.id, args, ctx)).load(user.id);
        return totals(row ?? NO_ACTIVITY);
      },

      daily: async (user: { id: string }, args: RangeArgs, ctx: SubgraphContext) => {
        const rows = await dailyLoader(ctx, await userRange(user.id, args, ctx)).load(user.id);
        return rows.map((row) => ({ date: row.day, ...totals(row) }));
      },
    },

    Tenant: {
      __resolveReference: async (reference: { id: string }, ctx: SubgraphContext) => ownTenant(ctx.principal, reference.id),

      // Tenant-level figures cover the caller's scope, so the scope is part of their cache key.
      topTimeWasters: async (_tenant, args: RangeArgs & { first: number }, ctx: SubgraphContext) => {
        const [checked, first, scope] = [range(args, limits), pageSize(args.first, limits), await ctx.scope()];
        return ctx.aggregates.one('topTimeWasters', { days: checked }, [scopeKey(scope), first], async () =>
          (await ctx.warehouse.query<TimeWasterRow>(topTimeWasters(checked, scope, first))).map((row) => {
            const [auth, contextSwitch] = [Number(row.auth_waste_hours), Number(row.context_switch_waste_hours)];
            return { user: { id: row.actor_id }, authWasteHours: auth, contextSwitchWasteHours: contextSwitch, totalWasteHours: auth + contextSwitch };
          }));
      },

      appUsage: async (_tenant, args: RangeArgs & { first: number }, ctx: SubgraphContext) => {
        const [checked, first, scope] = [range(args, limits), pageSize(args.first, limits), await ctx.scope()];
        return ctx.aggregates.one('appUsage', { days: checked }, [scopeKey(scope), first], async () =>
          (await ctx.warehouse.query<AppUsageRow>(appUsage(checked, scope, first))).map((row) => ({
            app: { id: row.app_id, name: row.app_name },
            events: Number(row.events),
            users: Number(row.users),
          })));
      },

      eventCounts: async (_tenant, args: RangeArgs & { eventType?: string | null }, ctx: SubgraphContext) => {
        const [checked, eventType, scope] = [range(args, limits), args.eventType ?? null, await ctx.scope()];
        return ctx.aggregates.one('eventCounts', { days: checked }, [scopeKey(scope), eventType], async () =>
          (await ctx.warehouse.query<EventCountRow>(eventCounts(checked, scope, eventType))).map((row) => ({ date: row.day, eventType, count: Number(row.events) })));
      },
    },
  };
}

// Private:

const NO_ACTIVITY = { total_events: 0, unique_apps: 0, auth_waste_hours: 0, context_switch_waste_hours: 0 };

/** GraphQL's figures from a rollup row; numbers converted here, whatever the adapter returned them as. */
function totals(row: Omit<ProductivityRow, 'actor_id'>) {
  const [auth, contextSwitch] = [Number(row.auth_waste_hours), Number(row.context_switch_waste_hours)];
  return {
    totalEvents: Number(row.total_events),
    uniqueApps: Number(row.unique_apps),
    authWasteHours: auth,
    contextSwitchWasteHours: contextSwitch,
    totalWasteHours: auth + contextSwitch,
  };
}
