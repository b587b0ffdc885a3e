/** The configured ledger: Redis when REDIS_URL is set (shared by every gateway replica), else in-memory. */
import type { Config } from '../common/config';
import type { BudgetLedger } from './ledger';
import { createMemoryLedger } from './memoryLedger';
import { createRedisLedger } from './redisLedger';

export async function openLedger(config: Config): Promise<BudgetLedger> {
  const reservationTtlMs = config.budgets.reservationTtlMs;
  return config.redisUrl ? createRedisLedger({ url: config.redisUrl, reservationTtlMs }) : createMemoryLedger({ reservationTtlMs });
}
