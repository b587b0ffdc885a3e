/** The tenants subgraph's SQL. */
import type { WarehouseQuery } from '../../warehouse/warehouse';

/** The tenant's display name (tenant_info holds one row per dataset). */
export function tenantName(): WarehouseQuery {
  return {
    name: 'tenantName',
    sql: (d) => `SELECT t.name FROM ${d.table('tenant_info')} AS t`,
    params: {},
  };
}
