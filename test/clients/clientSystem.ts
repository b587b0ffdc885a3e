/**
 * The real system for client-library tests: one tenant (acme, 30 users, 10 days), started before the
 * file's tests and closed after them. Each `caller()` is a user no earlier test of the file used, so
 * budgets one test sets or spends never reach another.
 */
import { addDays } from '../../common/dates';
import type { Principal } from '../../common/principal';
import { type GeneratorOptions, generateDirectory } from '../../okta/generator';
import type { System } from '../support/system';
import { useSystem } from '../gateway/smallSystem';

const tenant: GeneratorOptions = { tenant: 'acme', users: 30, days: 10, eventsPerUser: 20, start: '2025-05-05', seed: 4 };

export interface ClientSystem {
  /** The gateway's /graphql URL. */
  readonly url: string;
  /** Day `n` of the data (YYYY-MM-DD). */
  day(n: number): string;
  /** A fresh user of the tenant with `role`, its token and the headers carrying it. */
  caller(role?: Principal['roles'][number]): Promise<{ user: string; token: string; headers: Record<string, string> }>;
  /** Sets `user`'s daily limit through the admin API. */
  setDailyLimit(user: string, bytes: number): Promise<void>;
  readonly system: System;
}

/** Registers the file's beforeAll and afterAll; call the function returned inside a test. */
export function clientSystem(): () => ClientSystem {
  const directory = generateDirectory(tenant);
  const ceo = directory.find((u) => u.managerId === null)!;
  const staff = directory.filter((u) => u.managerId !== null);
  let next = 0;
  const running = useSystem(tenant);
  const handle: ClientSystem = {
    get url() {
      return running().gatewayUrl;
    },
    get system() {
      return running();
    },
    day: (n) => addDays(tenant.start, n),
    async caller(role = 'viewer') {
      const user = staff[next++ % staff.length].id;
      const token = await running().tokenOf({ tenant: 'acme', userId: user, roles: [role] });
      return { user, token, headers: { authorization: `Bearer ${token}` } };
    },
    async setDailyLimit(user, bytes) {
      const admin: Principal = { tenant: 'acme', userId: ceo.id, roles: ['executive', 'quota-admin'] };
      const { body } = await running().query(admin, 'mutation($u: ID!, $d: Bytes) { setUserBudget(userId: $u, dailyLimitBytes: $d, reason: "test") { dailyLimitBytes } }', { u: user, d: bytes });
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    },
  };
  return () => handle;
}
