/** The caller's tenant: taken from the verified principal, never from arguments. */
import type { ResolverMap } from '../../common/graphql/subgraphSchema';
import type { DateRange } from '../../common/dates';
import type { SubgraphContext } from '../common/context';
import { ownTenant } from '../common/scope';
import { tenantName } from './queries';

interface TenantRef {
  id: string;
}

export function tenantsResolvers(): ResolverMap<SubgraphContext> {
  return {
    Query: {
      tenant: async (_root, _args, ctx: SubgraphContext): Promise<TenantRef> => {
        await ctx.warehouse.checkTenant();
        return { id: ctx.principal.tenant };
      },
    },

    Tenant: {
      __resolveReference: async (reference: TenantRef, ctx: SubgraphContext) => ownTenant(ctx.principal, reference.id),

      /** Once per request, however many times the operation asks; cached until a write touches tenant_info. */
      name: (tenant: TenantRef, _args, ctx: SubgraphContext) =>
        ctx.perRequest('tenants.name', async () => {
          const name = await ctx.aggregates.one('tenantName', { table: 'tenant_info' }, [], async () => {
            const [row] = await ctx.warehouse.query<{ name: string | null }>(tenantName());
            return row?.name ?? null;
          });
          return name ?? tenant.id;
        }),

      /** From the recorded partition statistics of sso_events: no table scan, nothing billed. */
      dataRange: async (_tenant: TenantRef, _args, ctx: SubgraphContext): Promise<DateRange | null> => {
        const days = (await ctx.warehouse.partitionStats())
          .filter((stat) => stat.table === 'sso_events' && stat.day !== null && stat.rows > 0)
          .map((stat) => stat.day!)
          .sort();
        return days.length ? { from: days[0], to: days[days.length - 1] } : null;
      },
    },
  };
}
