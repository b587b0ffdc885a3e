/** The configured budget store: PostgreSQL when DATABASE_URL is set (shared by replicas), else the file log in DATA_DIR/budgets. */
import path from 'node:path';
import type { Config } from '../common/config';
import { createFileStore } from './fileStore';
import { createPostgresStore } from './postgresStore';
import type { BudgetStore } from './store';

export function openBudgetStore(config: Config): Promise<BudgetStore> {
  const { databaseUrl } = config.budgets;
  return databaseUrl ? createPostgresStore({ url: databaseUrl }) : createFileStore({ dir: path.join(config.dataDir, 'budgets') });
}
