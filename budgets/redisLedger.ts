/**
 * The Redis BudgetLedger: production, shared by every gateway replica (REDIS_URL). Passes
 * test/budgets/ledgerContract.ts like the in-memory ledger.
 *
 * Atomicity: reserve and settle are each one Lua script over all the keys they touch, so both the
 * user's and the tenant's counters change together or not at all, and concurrent reserves from any
 * number of replicas never overspend (Redis runs one script at a time; no read-then-write in Node).
 * The clock is the caller's (`now`, passed into every script), never Redis TIME: replicas agree on
 * the budget day they compute, and tests can cross midnight or expire reservations.
 *
 * Keys (P = keyPrefix, default `bytegate:budget:`; the tenant in braces is the Redis Cluster hash
 * tag, so a tenant's keys share a slot and scripts may touch them together; U = the user id escaped
 * by `keyPart`, see below; D = the budget day YYYY-MM-DD):
 *   P{tenant}:D:used     HASH  `t` → the tenant's settled bytes, `u:U` → each user's
 *   P{tenant}:D:held     HASH  `t` / `u:U` → bytes held by unexpired reservations
 *   P{tenant}:D:holds    ZSET  `U:bytes:reservationId` scored by its expiry (ms)
 *   P{tenant}:D:spent    ZSET  U scored by settled bytes, for topSpenders, dailySpend and recentUsers (a usage
 *                             reset keeps it: the bytes were billed); dailySpend of the tenant sums its scores
 *   P{tenant}:D:operations  HASH  `n:O` operations, `e:O` estimated (reserved) bytes and `b:O` billed bytes of
 *                             each operation name O (escaped like U) settled that day, for operationAccuracy: at
 *                             most MAX_OPERATION_NAMES names, the operations of any further one under OTHER_OPERATIONS
 *   P{tenant}:D:settled  ZSET  reservation ids scored by settlement time, so settling twice charges once
 *   P{tenant}:rejections LIST  JSON rejections, newest first, LTRIM'd to MAX_REJECTIONS
 *   P{tenant}:roles      HASH  U → JSON array of the roles the user last reserved with, for recentUsers
 * One hash per day for all the tenant's users (rather than a key per user) makes a tenant-wide reset
 * one DEL, atomic, with no key a script would have to build itself.
 *
 * Expiry: every write sets the day's keys to expire SPEND_HISTORY_DAYS after the day ended in any
 * timezone (ledgerRules.dayExpiresAtMs, as a TTL from the caller's clock); rejections expire
 * SPEND_HISTORY_DAYS after the newest one, roles SPEND_HISTORY_DAYS after the tenant's last reserve.
 * A reservation expires by its score: every script first purges the holds whose expiry ≤ now and
 * takes their bytes off `held`, so a crashed gateway's reservation stops counting after
 * reservationTtlMs without any sweeper. Settled ids are remembered for settledMemoryMs (an hour, or
 * the reservation TTL when longer).
 *
 * Availability: a Redis that cannot be reached or fails a command rejects the call with
 * LedgerUnavailableError, immediately while disconnected (no offline queue) and otherwise after
 * `timeoutMs`. The client reconnects on its own (backoff capped at 0.5 s) and the same ledger works
 * again when Redis returns; 'error' events are only recorded for the next message. A call that timed
 * out may still have been applied by Redis — a reservation's hold then expires on its own.
 * A half-open TCP connection (a partition, no RST) is detected by TCP keep-alive only.
 *
 * The factory resolves once connected, or after the first failed attempt / `timeoutMs`, whichever
 * comes first: a gateway starts while Redis is down and recovers when it comes up. It rejects only
 * for invalid options.
 */
import { randomUUID } from 'node:crypto';
import { type CommandParser, createClient, defineScript } from '@redis/client';
import { inOrderDeadline } from '../common/inOrderDeadline';
import { isRole } from '../common/principal';
import { connectWithin, resilientClientOptions } from '../common/redis';
import { budgetDay, resetsAt } from './budgetDay';
import {
  type BudgetLedger, DEFAULT_RESERVATION_TTL_MS, type LedgerLimits, LedgerUnavailableError, MAX_OPERATION_NAMES, MAX_REJECTIONS, OTHER_OPERATIONS,
  type OperationAccuracy, type RecentUser, type Rejection, type ReserveResult, type Spender, type UsageSnapshot,
} from './ledger';
import {
  REJECTIONS_TTL_MS, byEstimatedBytes, checkBytes, checkDay, checkLimits, checkReservationTtl, checkReserve, checkTenant, checkUserId, dayExpiresAtMs,
  historyDays, keptDays, operationOf, recentDays, settledMemoryMs, usageSnapshot,
} from './ledgerRules';

export interface RedisLedgerOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` (REDIS_URL). */
  readonly url: string;
  /** The clock, ms since the epoch; default Date.now. Passed into every script. */
  readonly now?: () => number;
  /** How long an unsettled reservation holds its bytes; default DEFAULT_RESERVATION_TTL_MS (5 minutes). */
  readonly reservationTtlMs?: number;
  /** Prepended to every key; default `bytegate:budget:`. No braces: the tenant is the hash tag. */
  readonly keyPrefix?: string;
  /** How long to wait for a connection or a reply before LedgerUnavailableError; default 1000 ms. */
  readonly timeoutMs?: number;
}

export async function createRedisLedger(options: RedisLedgerOptions): Promise<BudgetLedger> {
  const now = options.now ?? Date.now;
  const reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  const prefix = options.keyPrefix ?? 'bytegate:budget:';
  const timeoutMs = options.timeoutMs ?? 1000;
  checkReservationTtl(reservationTtlMs);
  if (/[{}]/.test(prefix)) throw new RangeError(`keyPrefix must not contain braces (the tenant is the hash tag), got "${prefix}".`);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a whole number of ms > 0, not ${timeoutMs}.`);
  const settledForMs = settledMemoryMs(reservationTtlMs);

  const client = createClient({ url: options.url, ...resilientClientOptions(timeoutMs), scripts: SCRIPTS });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => { lastError = error; });
  client.on('ready', () => { lastError = undefined; });
  await connectWithin(client, timeoutMs);

  const inFlight = new Set<Promise<unknown>>();
  const deadline = inOrderDeadline(timeoutMs);
  /** Runs one Redis round trip under the deadline (at once refused while one is overdue); any failure becomes LedgerUnavailableError. */
  const call = <T>(command: () => Promise<T>): Promise<T> => {
    const result = deadline(command)
      .catch((error: Error) => {
        const cause = lastError && lastError !== error ? ` (last connection error: ${lastError.message})` : '';
        throw new LedgerUnavailableError(`Redis: ${error.message}${cause}`, { cause: error });
      })
      .finally(() => inFlight.delete(result));
    inFlight.add(result);
    return result;
  };

  const dayKey = (tenant: string, day: string, name: string) => `${prefix}{${tenant}}:${day}:${name}`;
  const dayKeys = (tenant: string, day: string) => ['used', 'held', 'holds', 'spent', 'settled', 'operations'].map((name) => dayKey(tenant, day, name));
  const rejectionsKey = (tenant: string) => `${prefix}{${tenant}}:rejections`;
  const rolesKey = (tenant: string) => `${prefix}{${tenant}}:roles`;
  /** Scratch space of the scripts that sum days' spent sets, created and deleted within one script. */
  const spendersKey = (tenant: string) => `${prefix}{${tenant}}:spenders`;

  /** Both counters of today (purging expired holds first). */
  const counters = async (tenant: string, userId: string | null, limits: Omit<LedgerLimits, 'userDailyBytes'>, atMs: number) => {
    const [used, held, holds] = dayKeys(tenant, budgetDay(atMs, limits.timezone));
    const fields = userId === null ? ['t'] : ['t', `u:${keyPart(userId)}`];
    const reply = await call(() => client.counters([used, held, holds], [String(atMs), ...fields]));
    return { tenantUsedBytes: Number(reply[0]), tenantHeldBytes: Number(reply[1]), userUsedBytes: Number(reply[2] ?? 0), userHeldBytes: Number(reply[3] ?? 0) };
  };

  return {
    async reserve(caller, bytes, limits): Promise<ReserveResult> {
      checkReserve(caller, bytes, limits);
      const { tenant, userId } = caller;
      const atMs = now();
      const day = budgetDay(atMs, limits.timezone);
      const id = randomUUID();
      const user = keyPart(userId);
      const [used, held, holds] = dayKeys(tenant, day);
      const [exceeded, userUsed, userHeld, tenantUsed, tenantHeld] = await call(() => client.reserve([used, held, holds, rolesKey(tenant)], [
        String(atMs), String(bytes), limitArgument(limits.userDailyBytes), limitArgument(limits.tenantDailyBytes),
        user, `${user}:${bytes}:${id}`, String(atMs + reservationTtlMs), String(dayExpiresAtMs(day) - atMs),
        caller.roles ? JSON.stringify(caller.roles) : '', String(REJECTIONS_TTL_MS),
      ]));
      const resets = resetsAt(atMs, limits.timezone);
      const snapshots = {
        user: usageSnapshot(limits.userDailyBytes, Number(userUsed), Number(userHeld), resets),
        tenant: usageSnapshot(limits.tenantDailyBytes, Number(tenantUsed), Number(tenantHeld), resets),
      };
      if (exceeded === 'user' || exceeded === 'tenant') return { admitted: false, exceeded, ...snapshots };
      return { admitted: true, reservation: { id, tenant, userId, bytes, day, operation: operationOf(caller.operation) }, ...snapshots };
    },

    async settle(reservation, billedBytes) {
      checkTenant(reservation.tenant);
      checkUserId(reservation.userId);
      checkDay(reservation.day);
      checkBytes('billedBytes', billedBytes);
      const atMs = now();
      const ttlMs = dayExpiresAtMs(reservation.day) - atMs;
      if (ttlMs <= 0) return; // that day is forgotten already
      const user = keyPart(reservation.userId);
      await call(() => client.settle(dayKeys(reservation.tenant, reservation.day), [
        String(atMs), reservation.id, `${user}:${reservation.bytes}:${reservation.id}`, user, String(billedBytes),
        String(ttlMs), String(settledForMs), keyPart(reservation.operation), String(reservation.bytes), String(MAX_OPERATION_NAMES), keyPart(OTHER_OPERATIONS),
      ]));
    },

    async usage({ tenant, userId }, limits) {
      checkTenant(tenant);
      checkUserId(userId);
      checkLimits(limits);
      const atMs = now();
      const counted = await counters(tenant, userId, limits, atMs);
      const resets = resetsAt(atMs, limits.timezone);
      return {
        user: usageSnapshot(limits.userDailyBytes, counted.userUsedBytes, counted.userHeldBytes, resets),
        tenant: usageSnapshot(limits.tenantDailyBytes, counted.tenantUsedBytes, counted.tenantHeldBytes, resets),
      };
    },

    async tenantUsage(tenant, limits): Promise<UsageSnapshot> {
      checkTenant(tenant);
      checkLimits(limits);
      const atMs = now();
      const counted = await counters(tenant, null, limits, atMs);
      return usageSnapshot(limits.tenantDailyBytes, counted.tenantUsedBytes, counted.tenantHeldBytes, resetsAt(atMs, limits.timezone));
    },

    async resetUsage(tenant, userId, timezone) {
      checkTenant(tenant);
      if (userId !== null) checkUserId(userId);
      const used = dayKey(tenant, budgetDay(now(), timezone), 'used');
      if (userId === null) await call(() => client.del(used));
      else await call(() => client.resetUser([used], [`u:${keyPart(userId)}`]));
    },

    async topSpenders(tenant, from, to, limit): Promise<Spender[]> {
      checkTenant(tenant);
      const days = keptDays(from, to, now());
      if (days.length === 0 || limit <= 0) return [];
      const keys = [spendersKey(tenant), ...days.map((day) => dayKey(tenant, day, 'spent'))];
      const reply = await call(() => client.topSpenders(keys, [String(Math.floor(limit))]));
      const spenders: Spender[] = [];
      for (let i = 0; i < reply.length; i += 2) spenders.push({ userId: fromKeyPart(String(reply[i])), usedBytes: Number(reply[i + 1]) });
      return spenders;
    },

    async dailySpend(tenant, from, to, userId) {
      checkTenant(tenant);
      if (userId !== undefined) checkUserId(userId);
      const days = historyDays(from, to);
      const kept = new Set(keptDays(from, to, now()));
      const asked = days.filter((day) => kept.has(day));
      const reply = asked.length === 0 ? [] : await call(() => client.dailySpend(
        asked.map((day) => dayKey(tenant, day, 'spent')),
        userId === undefined ? ['tenant'] : ['user', keyPart(userId)],
      ));
      const billed = new Map(asked.map((day, i) => [day, Number(reply[i])]));
      return days.map((day) => ({ day, billedBytes: billed.get(day) ?? 0 }));
    },

    async operationAccuracy(tenant, from, to) {
      checkTenant(tenant);
      const days = keptDays(from, to, now());
      if (days.length === 0) return [];
      const batch = client.multi();
      for (const day of days) batch.hGetAll(dayKey(tenant, day, 'operations'));
      const replies = (await call(() => batch.exec())) as unknown as Record<string, string>[];
      const totals = new Map<string, { -readonly [K in keyof OperationAccuracy]: OperationAccuracy[K] }>();
      for (const [field, value] of replies.flatMap((fields) => Object.entries(fields))) {
        const operation = fromKeyPart(field.slice(2));
        const sum = totals.get(operation) ?? { operation, operations: 0, estimatedBytes: 0, billedBytes: 0 };
        sum[OPERATION_FIELDS[field[0]]] += Number(value);
        totals.set(operation, sum);
      }
      return [...totals.values()].sort(byEstimatedBytes);
    },

    async recentUsers(tenant, userIds, timezone, limit) {
      const atMs = now();
      const days = recentDays(tenant, userIds, atMs, timezone);
      if (limit <= 0) return [];
      const [used, held, holds] = dayKeys(tenant, budgetDay(atMs, timezone));
      const keys = [spendersKey(tenant), used, held, holds, rolesKey(tenant), ...days.map((day) => dayKey(tenant, day, 'spent'))];
      const reply = await call(() => client.recentUsers(keys, [String(atMs), String(Math.floor(limit)), ...userIds.map(keyPart)]));
      const users: RecentUser[] = [];
      for (let i = 0; i < reply.length; i += 4) {
        const roles = reply[i + 3] === '' ? null : (JSON.parse(String(reply[i + 3])) as string[]).filter(isRole);
        users.push({ userId: fromKeyPart(String(reply[i])), usedBytes: Number(reply[i + 1]), reservedBytes: Number(reply[i + 2]), roles });
      }
      return users;
    },

    async recordRejection(tenant, rejection) {
      checkTenant(tenant);
      const key = rejectionsKey(tenant);
      const entry: Rejection = { at: rejection.at, userId: rejection.userId, requestedBytes: rejection.requestedBytes, exceeded: rejection.exceeded };
      await call(() => client.multi().lPush(key, JSON.stringify(entry)).lTrim(key, 0, MAX_REJECTIONS - 1).pExpire(key, REJECTIONS_TTL_MS).exec());
    },

    async recentRejections(tenant, limit) {
      checkTenant(tenant);
      if (limit <= 0) return [];
      const entries = await call(() => client.lRange(rejectionsKey(tenant), 0, Math.floor(limit) - 1));
      return entries.map((entry) => JSON.parse(entry) as Rejection);
    },

    async close() {
      if (!client.isOpen) return;
      await Promise.allSettled([...inFlight]);
      client.destroy();
    },
  };
}

// Private:

/**
 * A user id as a key part and set member: `[A-Za-z0-9_.@-]` kept (readable ids stay readable), every
 * other UTF-16 code unit as `%XXXX`. Injective for any string — lone surrogates included, which a
 * UTF-8 round trip would not keep — and free of `:` `{` `}`, so it cannot reach into other keys.
 */
function keyPart(userId: string): string {
  return userId.replace(/[^A-Za-z0-9_.@-]/g, (char) => `%${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function fromKeyPart(part: string): string {
  return part.replace(/%([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The totals a field of an operations hash adds to, by its prefix. */
const OPERATION_FIELDS: Record<string, keyof Omit<OperationAccuracy, 'operation'>> = { n: 'operations', e: 'estimatedBytes', b: 'billedBytes' };

function limitArgument(limitBytes: number | null): string {
  return limitBytes === null ? '' : String(limitBytes);
}

/** Removes the holds whose expiry ≤ now (ARGV[1]) from `holds`, taking their bytes off `held`. Shared by the scripts below. */
const PURGE = `
local function release(held, field, bytes)
  if redis.call('HINCRBY', held, field, -bytes) <= 0 then redis.call('HDEL', held, field) end
end
local function purge(held, holds, now)
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now)
  if #expired == 0 then return end
  local total = 0
  for _, member in ipairs(expired) do
    local user, bytes = string.match(member, '^([^:]*):(%d+):')
    bytes = tonumber(bytes)
    total = total + bytes
    release(held, 'u:' .. user, bytes)
  end
  release(held, 't', total)
  redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
end
`;

/**
 * KEYS used, held, holds, roles; ARGV now, bytes, user limit ('' unlimited), tenant limit, user, hold
 * member, hold expiry, day TTL ms, the user's roles as JSON ('' to leave them), roles TTL ms. Records
 * the roles, then admits only if both counters stay within their limits, and holds the bytes against
 * both. Returns exceeded ('' when admitted, 'user' checked first), then the user's used and held, the
 * tenant's used and held, after the call.
 */
const RESERVE = `${PURGE}
purge(KEYS[2], KEYS[3], ARGV[1])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[5], ARGV[9])
  redis.call('PEXPIRE', KEYS[4], ARGV[10])
end
local bytes = tonumber(ARGV[2])
local user = 'u:' .. ARGV[5]
local used = redis.call('HMGET', KEYS[1], user, 't')
local held = redis.call('HMGET', KEYS[2], user, 't')
local userUsed, tenantUsed = tonumber(used[1]) or 0, tonumber(used[2]) or 0
local userHeld, tenantHeld = tonumber(held[1]) or 0, tonumber(held[2]) or 0
if ARGV[3] ~= '' and userUsed + userHeld + bytes > tonumber(ARGV[3]) then
  return { 'user', userUsed, userHeld, tenantUsed, tenantHeld }
end
if ARGV[4] ~= '' and tenantUsed + tenantHeld + bytes > tonumber(ARGV[4]) then
  return { 'tenant', userUsed, userHeld, tenantUsed, tenantHeld }
end
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[6])
userHeld = redis.call('HINCRBY', KEYS[2], user, ARGV[2])
tenantHeld = redis.call('HINCRBY', KEYS[2], 't', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('PEXPIRE', KEYS[3], ARGV[8])
return { '', userUsed, userHeld, tenantUsed, tenantHeld }
`;

/**
 * KEYS used, held, holds, spent, settled, operations; ARGV now, reservation id, hold member, user,
 * billed bytes, day TTL ms, settled memory ms, operation name, estimated bytes, MAX_OPERATION_NAMES,
 * OTHER_OPERATIONS. Nothing if the id was settled already; otherwise releases the hold if still there
 * (never more than it held), charges the billed bytes to the user and the tenant, and counts the
 * operation with its estimate and billed bytes under its name (or OTHER_OPERATIONS once the day has
 * MAX_OPERATION_NAMES names).
 */
const SETTLE = `${PURGE}
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[7]))
if redis.call('ZSCORE', KEYS[5], ARGV[2]) then return 0 end
purge(KEYS[2], KEYS[3], ARGV[1])
if redis.call('ZREM', KEYS[3], ARGV[3]) == 1 then
  local bytes = tonumber(string.match(ARGV[3], '^[^:]*:(%d+):'))
  release(KEYS[2], 'u:' .. ARGV[4], bytes)
  release(KEYS[2], 't', bytes)
end
if tonumber(ARGV[5]) > 0 then
  redis.call('HINCRBY', KEYS[1], 'u:' .. ARGV[4], ARGV[5])
  redis.call('HINCRBY', KEYS[1], 't', ARGV[5])
  redis.call('ZINCRBY', KEYS[4], ARGV[5], ARGV[4])
end
local operation = ARGV[8]
if redis.call('HEXISTS', KEYS[6], 'n:' .. operation) == 0 and redis.call('HLEN', KEYS[6]) >= 3 * tonumber(ARGV[10]) then operation = ARGV[11] end
redis.call('HINCRBY', KEYS[6], 'n:' .. operation, 1)
redis.call('HINCRBY', KEYS[6], 'e:' .. operation, ARGV[9])
redis.call('HINCRBY', KEYS[6], 'b:' .. operation, ARGV[5])
redis.call('ZADD', KEYS[5], ARGV[1], ARGV[2])
for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
return 1
`;

/** KEYS used, held, holds; ARGV now, then hash fields. Returns used and held of each field, after purging expired holds. */
const COUNTERS = `${PURGE}
purge(KEYS[2], KEYS[3], ARGV[1])
local counted = {}
for i = 2, #ARGV do
  table.insert(counted, tonumber(redis.call('HGET', KEYS[1], ARGV[i])) or 0)
  table.insert(counted, tonumber(redis.call('HGET', KEYS[2], ARGV[i])) or 0)
end
return counted
`;

/** KEYS used; ARGV the user's field. Sets the user's settled bytes to 0 and takes them off the tenant's. */
const RESET_USER = `
local bytes = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0
if bytes == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HINCRBY', KEYS[1], 't', -bytes) <= 0 then redis.call('HDEL', KEYS[1], 't') end
return bytes
`;

/** KEYS a scratch key, then the days' spent sets; ARGV limit. Members and summed scores, most first. */
const TOP_SPENDERS = `
redis.call('ZUNIONSTORE', KEYS[1], #KEYS - 1, unpack(KEYS, 2))
local top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
redis.call('DEL', KEYS[1])
return top
`;

/** KEYS the days' spent sets; ARGV 'tenant', or 'user' and the user. Each day's sum of scores, or the user's score (0 when none). */
const DAILY_SPEND = `
local days = {}
for i, key in ipairs(KEYS) do
  local total = 0
  if ARGV[1] == 'user' then
    total = tonumber(redis.call('ZSCORE', key, ARGV[2])) or 0
  else
    local scores = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for j = 2, #scores, 2 do total = total + tonumber(scores[j]) end
  end
  days[i] = total
end
return days
`;

/**
 * KEYS a scratch key, today's used, held, holds, roles, then the recent days' spent sets; ARGV now,
 * limit, then users asked for. The users asked for, then the other spenders, most first, at most
 * limit: each as user, used, held (after purging expired holds), roles JSON ('' when unknown).
 */
const RECENT_USERS = `${PURGE}
purge(KEYS[3], KEYS[4], ARGV[1])
local limit = tonumber(ARGV[2])
local chosen, seen = {}, {}
local function choose(user)
  if #chosen < limit and not seen[user] then
    seen[user] = true
    table.insert(chosen, user)
  end
end
for i = 3, #ARGV do choose(ARGV[i]) end
if #KEYS > 5 and #chosen < limit then
  redis.call('ZUNIONSTORE', KEYS[1], #KEYS - 5, unpack(KEYS, 6))
  for _, user in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, limit - 1)) do choose(user) end
  redis.call('DEL', KEYS[1])
end
local users = {}
for _, user in ipairs(chosen) do
  table.insert(users, user)
  table.insert(users, tonumber(redis.call('HGET', KEYS[2], 'u:' .. user)) or 0)
  table.insert(users, tonumber(redis.call('HGET', KEYS[3], 'u:' .. user)) or 0)
  table.insert(users, redis.call('HGET', KEYS[5], user) or '')
end
return users
`;

function script<Reply>(source: string) {
  return defineScript({
    SCRIPT: source,
    parseCommand(parser: CommandParser, keys: string[], args: string[]) {
      parser.pushKeysLength(keys);
      parser.push(...args);
    },
    transformReply: (reply: unknown) => reply as Reply,
  });
}

const SCRIPTS = {
  reserve: script<[string, number, number, number, number]>(RESERVE),
  settle: script<number>(SETTLE),
  counters: script<number[]>(COUNTERS),
  resetUser: script<number>(RESET_USER),
  topSpenders: script<string[]>(TOP_SPENDERS),
  dailySpend: script<number[]>(DAILY_SPEND),
  recentUsers: script<(string | number)[]>(RECENT_USERS),
};
