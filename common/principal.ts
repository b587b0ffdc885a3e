/** Who is asking. Built by the gateway from a verified JWT, re-verified by subgraphs from signed headers. */
export interface Principal {
  /** Tenant id; comes only from a verified token, never from arguments. */
  readonly tenant: string;
  /** Okta user id (`sub`), the same id as `actor.id` in the tenant's events. */
  readonly userId: string;
  readonly roles: readonly Role[];
}

export const ROLES = ['viewer', 'manager', 'executive', 'quota-admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Tenant ids name files and BigQuery datasets: lowercase letters, digits and underscores, starting
 * with a letter. https://cloud.google.com/bigquery/docs/datasets#dataset-naming
 */
export const TENANT_ID_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

export function isTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value);
}
