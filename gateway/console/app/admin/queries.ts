/** The budgets admin API the quota-admin views read and write (gateway/admin: quota-admin only). */
import { query } from '../api';
import type { DailyBytes } from '../Chart';
import { isoDay } from '../format';
import type { Session } from '../session';
import type { BudgetChange } from './BudgetForm';

/** The charts' span: 30 budget days, ending today. */
export function lastDays(days = 30): { from: string; to: string } {
  const today = new Date();
  return { from: isoDay(today, -(days - 1)), to: isoDay(today) };
}

export function budgetHistory(session: Session, userId?: string): Promise<DailyBytes[]> {
  return query<{ budgetHistory: DailyBytes[] }>(session, `query BudgetHistory($from: Date!, $to: Date!, $userId: ID) {
    budgetHistory(from: $from, to: $to, userId: $userId) { date billedBytes } }`, { ...lastDays(), userId }).then((d) => d.budgetHistory);
}

/**
 * Users as the budgets API names them: by id. Their directory entries (names, emails) are not asked
 * for: a quota admin without another role may not read the directory (subgraphs/common/scope.ts).
 */
export interface UserRef {
  readonly id: string;
}

export const USER_FIELDS = 'id';

export function setUserBudget(session: Session, userId: string, change: BudgetChange): Promise<unknown> {
  return query(session, `mutation SetUserBudget($userId: ID!, $daily: Bytes, $cap: Bytes, $reason: String) {
    setUserBudget(userId: $userId, dailyLimitBytes: $daily, maxQueryBytes: $cap, reason: $reason) { usedBytes } }`,
  { userId, daily: change.dailyLimitBytes, cap: change.maxQueryBytes, reason: change.reason });
}

export function setTenantBudget(session: Session, change: BudgetChange): Promise<unknown> {
  return query(session, `mutation SetTenantBudget($daily: Bytes, $cap: Bytes, $reason: String) {
    setTenantBudget(dailyLimitBytes: $daily, maxQueryBytes: $cap, reason: $reason) { usedBytes } }`,
  { daily: change.dailyLimitBytes, cap: change.maxQueryBytes, reason: change.reason });
}

export function resetUsage(session: Session, userId: string | null, reason: string): Promise<unknown> {
  return query(session, `mutation ResetBudgetUsage($userId: ID, $reason: String) {
    resetBudgetUsage(userId: $userId, reason: $reason) { usedBytes } }`, { userId, reason });
}

