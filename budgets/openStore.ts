/** The configured budget store: PostgreSQL when DATABASE_URL is set (shared by replicas), else the file log in DATA_DIR/budgets. */
import path from 'node:path';
import type { Config } from '../common/config';
import { createFileStore } from './fileStore';
import type { BudgetStore } from './store';

export async function openBudgetStore(config: Config): Promise<BudgetStore> {
  const { databaseUrl } = config.budgets;
  if (!databaseUrl) return createFileStore({ dir: path.join(config.dataDir, 'budgets') });
  // pg is loaded only when used: a CLI on the file store starts without it.
  const { createPostgresStore } = await import('./postgresStore');
  return createPostgresStore({ url: databaseUrl });
}
