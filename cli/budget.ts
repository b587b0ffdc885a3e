/**
 * npm run budget -- set --tenant T [--user ID] [--daily AMOUNT|none] [--max-query AMOUNT|none] [--timezone TZ|none] [--reason TEXT]
 * npm run budget -- get --tenant T [--user ID] [--role R[,R2]]
 * npm run budget -- audit --tenant T [--user ID] [--limit N]
 * npm run budget -- usage --tenant T [--user ID] [--role R[,R2]]
 *
 * Quota administration from a shell, on the configured budget store (DATABASE_URL, else
 * DATA_DIR/budgets) — the one the gateway reads; with REDIS_URL the change is announced to the
 * running gateways, which apply it at once (otherwise within their 5 s limits cache). Amounts are
 * binary units or bytes (5GiB, 500MiB, 1048576); `none` clears a setting, so the default applies
 * again. Changes are audited as `cli:<os user>`. `usage` reads today's counters from the Redis
 * ledger (REDIS_URL); without Redis they live in the gateway's memory, out of this process's reach.
 *
 * `set --user` refuses (exit 2) a user the tenant's directory lacks, as the GraphQL API does: this
 * process writes the store itself, so it reads the directory itself, from the configured warehouse
 * (WAREHOUSE: the tenant's DuckDB file opened read-only beside the running subgraphs, or one small
 * BigQuery job). A change that only clears (`none`) is not checked, so old typos can be removed.
 * A `--max-query` above MAX_QUERY_BYTES is stored with a warning: the lower global cap still applies.
 * The warehouse and Redis clients are loaded only by the commands that use them: `get` answers in
 * under half a second.
 */
import os from 'node:os';
import { type Config, loadConfig } from '../common/config';
import { VERSION } from '../common/version';
import { ROLES, type Role, isRole, isTenantId } from '../common/principal';
import type { UsageSnapshot } from '../budgets/ledger';
import { openBudgetStore } from '../budgets/openStore';
import { type EffectiveBudget, effectiveLimits, limitDefaults, needsDirectoryUser, validateBudgetChange } from '../budgets/policy';
import type { AuditEntry, BudgetStore, TenantBudgetSettings } from '../budgets/store';
import { ByteAmountError, bytesForPeople, formatBytes, parseBytes } from '../common/units';
import { type Flags, TENANT_FLAG, type Usage, parseFlags, positiveInt, required, usageText } from '../common/args';
import { UsageError, runMain } from '../common/runMain';

const AMOUNTS = 'AMOUNT: 5GiB, 500MiB, 1TiB or bytes; none clears the setting, so the default applies again.';
const ROLES_NOTE = `roles: ${ROLES.join(', ')}`;

/** Every command's flags; each command takes some of them (USAGE.commands). */
const FLAGS = {
  tenant: TENANT_FLAG,
  user: { type: 'string', value: 'ID', meaning: 'one user of the tenant', default: 'the tenant as a whole' },
  daily: { type: 'string', value: 'AMOUNT|none', meaning: 'the daily limit in billed bytes; none clears it', default: 'unchanged' },
  'max-query': { type: 'string', value: 'AMOUNT|none', meaning: 'the per-query cap; none clears it', default: 'unchanged' },
  timezone: { type: 'string', value: 'TZ|none', meaning: 'the tenant\'s budget day, an IANA timezone (without --user only); none clears it', default: 'unchanged' },
  reason: { type: 'string', value: 'TEXT', meaning: 'why, recorded in the audit trail', default: 'none' },
  role: { type: 'string', value: 'R[,R2]', meaning: 'the roles whose limits apply', default: 'viewer' },
  limit: { type: 'string', value: 'N', meaning: 'how many changes, newest first', default: '20' },
} satisfies Flags;

const USAGE = {
  command: 'npm run budget --',
  synopsis: ['COMMAND --tenant T [options]'],
  summary: 'Quota administration on the budget store the gateway reads (DATABASE_URL, else DATA_DIR/budgets); with REDIS_URL a change reaches the running gateways at once (else within 5 s). Changes are audited as cli:<os user>.',
  flags: FLAGS,
  notes: [AMOUNTS, ROLES_NOTE],
  examples: [
    'npm run budget -- set --tenant acme --user 00u1 --daily 5GiB --reason "Q3 launch"',
    'npm run budget -- get --tenant acme --user 00u1 --role executive',
  ],
  commands: {
    set: {
      synopsis: '--tenant T [--user ID] [--daily AMOUNT|none] [--max-query AMOUNT|none] [--timezone TZ|none] [--reason TEXT]',
      summary: 'Sets the tenant\'s or a user\'s daily limit, per-query cap or (the tenant\'s) budget timezone; prints old → new.',
      flags: ['tenant', 'user', 'daily', 'max-query', 'timezone', 'reason'],
      notes: [
        AMOUNTS,
        'With --user, the user must be in the tenant\'s directory (read from the configured warehouse, WAREHOUSE), unless the change only clears (none): exit 2 otherwise.',
        'A --max-query above MAX_QUERY_BYTES is stored with a warning on stderr: the lower global cap still applies.',
      ],
      examples: ['npm run budget -- set --tenant acme --daily 2TiB --max-query 50GiB --timezone America/New_York'],
    },
    get: {
      synopsis: '--tenant T [--user ID] [--role R[,R2]]',
      summary: 'The stored settings, and the limits in effect for the user (or one without an override) with those roles.',
      flags: ['tenant', 'user', 'role'],
      notes: [ROLES_NOTE],
      examples: ['npm run budget -- get --tenant acme --user 00u1 --role executive'],
    },
    audit: {
      synopsis: '--tenant T [--user ID] [--limit N]',
      summary: 'The budget changes, newest first: when, who, old → new, reason.',
      flags: ['tenant', 'user', 'limit'],
      examples: ['npm run budget -- audit --tenant acme --limit 50'],
    },
    usage: {
      synopsis: '--tenant T [--user ID] [--role R[,R2]]',
      summary: 'Today\'s usage, from the Redis ledger (REDIS_URL; without it, usage lives in the gateway\'s memory: exit 2).',
      flags: ['tenant', 'user', 'role'],
      notes: [ROLES_NOTE],
      examples: ['REDIS_URL=redis://127.0.0.1:6379 npm run budget -- usage --tenant acme --user 00u1 --role executive'],
    },
  },
} satisfies Usage<typeof FLAGS>;
type Command = keyof typeof USAGE.commands;

runMain(usageText(USAGE), async () => {
  const { values, positionals } = parseFlags(process.argv.slice(2), USAGE);
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('give a command: set, get, audit or usage.');
  if (!Object.hasOwn(USAGE.commands, command)) throw new UsageError(`unknown command "${command}": use set, get, audit or usage.`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}".`);
  const flags: readonly string[] = USAGE.commands[command as Command].flags;
  const misplaced = Object.keys(values).find((flag) => !flags.includes(flag));
  if (misplaced) throw new UsageError(`--${misplaced} does not apply to ${command}.`);

  const tenant = required(values.tenant, 'tenant');
  if (!isTenantId(tenant)) throw new UsageError(`--tenant must be lowercase letters, digits and underscores, starting with a letter; not "${tenant}".`);
  if (values.user === '') throw new UsageError('--user must not be empty.');
  const userId = values.user;
  const config = loadConfig(process.env);

  if (command === 'set') {
    const change = changeOf(values, userId);
    if (userId !== undefined && needsDirectoryUser(change)) {
      const missing = await notInDirectory(config, tenant, userId);
      if (missing) {
        process.stderr.write(`error: ${missing}\n`);
        return 2;
      }
    }
    await withStore(config, (store) => set(store, tenant, userId, change, values.reason ?? null));
    warnAboveGlobalCap(config, change);
    await announce(config, tenant);
    return 0;
  }
  if (command === 'audit') {
    const limit = positiveInt(values.limit, 'limit', 20);
    return withStore(config, (store) => audit(store, tenant, userId, limit));
  }
  const roles = rolesOf(values.role);
  if (command === 'get') return withStore(config, (store) => get(config, store, tenant, userId, roles));
  if (!config.redisUrl) {
    process.stderr.write(
      'error: REDIS_URL is not set, so today\'s usage lives in the gateway\'s memory (the in-memory ledger), out of this command\'s reach.\n'
      + 'Ask the running gateway instead, as a quota-admin: { budgetUsage(from: "YYYY-MM-DD", to: "YYYY-MM-DD") { topSpenders { user { id } usedBytes } recentRejections { at exceeded } } },\n'
      + 'or { tenant { budget { usedBytes remainingBytes resetsAt } } }. With REDIS_URL set (for the gateway too) this command reads the shared ledger.\n',
    );
    return 2;
  }
  const redisUrl = config.redisUrl;
  return withStore(config, (store) => usage(config, store, redisUrl, tenant, userId, roles));
});

// Private:

async function withStore(config: Config, work: (store: BudgetStore) => Promise<void>): Promise<void> {
  const store = await openBudgetStore(config);
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

function changeOf(values: { daily?: string; 'max-query'?: string; timezone?: string }, userId: string | undefined): TenantBudgetSettings {
  const change: { dailyLimitBytes?: number | null; maxQueryBytes?: number | null; timezone?: string | null } = {};
  if (values.daily !== undefined) change.dailyLimitBytes = amountOf(values.daily, 'daily');
  if (values['max-query'] !== undefined) change.maxQueryBytes = amountOf(values['max-query'], 'max-query');
  if (values.timezone !== undefined) {
    if (userId !== undefined) throw new UsageError('--timezone is the tenant\'s budget day: leave out --user.');
    change.timezone = values.timezone === 'none' ? null : values.timezone;
  }
  if (Object.keys(change).length === 0) throw new UsageError('give --daily, --max-query or --timezone (none clears one).');
  try {
    validateBudgetChange(change);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return change;
}

function amountOf(text: string, flag: string): number | null {
  if (text === 'none') return null;
  try {
    return parseBytes(text);
  } catch (error) {
    if (error instanceof ByteAmountError) throw new UsageError(`--${flag}: ${error.message}`);
    throw error;
  }
}

function rolesOf(text: string | undefined): Role[] {
  const roles = (text ?? 'viewer').split(',').map((role) => role.trim());
  const unknown = roles.filter((role) => !isRole(role));
  if (unknown.length > 0) throw new UsageError(`unknown role(s) ${unknown.join(', ')}; roles are ${ROLES.join(', ')}.`);
  return roles.filter(isRole);
}

async function set(store: BudgetStore, tenant: string, userId: string | undefined, change: TenantBudgetSettings, reason: string | null): Promise<void> {
  const by = { actor: `cli:${osUser()}`, reason };
  const { old, new: next } = userId === undefined
    ? await store.setTenantBudget(tenant, change, by)
    : await store.setUserBudget(tenant, userId, { dailyLimitBytes: change.dailyLimitBytes, maxQueryBytes: change.maxQueryBytes }, by);
  console.log(`${subjectOf(tenant, userId)}: changed by ${shown(by.actor)}${reason === null ? '' : `, reason ${shown(reason, true)}`}`);
  for (const line of changeLines(old, next)) console.log(`  ${line}`);
}

/** Why the tenant's directory does not hold `userId`; undefined when it does. Throws when the warehouse cannot tell. */
async function notInDirectory(config: Config, tenant: string, userId: string): Promise<string | undefined> {
  const [{ openWarehouse }, { usersById }] = await Promise.all([import('../warehouse/openWarehouse'), import('../subgraphs/users/queries')]);
  const warehouse = await openWarehouse(config, VERSION);
  try {
    if (!(await warehouse.hasTenant(tenant))) return `tenant ${tenant} has no dataset (seed or ingest it first), so its directory holds no user ${shown(userId)}.`;
    const { rows } = await warehouse.query(tenant, usersById([userId]));
    return rows.length > 0 ? undefined : `no user ${shown(userId)} in tenant ${tenant}'s directory; check the id (--daily none and --max-query none clear a setting of any id).`;
  } catch (error) {
    throw new Error(`the directory of tenant ${tenant} cannot be read to check --user, so nothing was changed; retry shortly (${(error as Error).message})`);
  } finally {
    await warehouse.close();
  }
}

/** MAX_QUERY_BYTES as this process reads it, like every setting; a stored cap only ever lowers it (budgets/policy.ts). */
function warnAboveGlobalCap(config: Config, change: TenantBudgetSettings): void {
  const cap = change.maxQueryBytes;
  if (cap === undefined || cap === null || cap <= config.maxQueryBytes) return;
  process.stderr.write(`warning: --max-query ${bytesForPeople(cap)} is above MAX_QUERY_BYTES, ${bytesForPeople(config.maxQueryBytes)}: the lower global cap still applies.\n`);
}

/** With REDIS_URL, running gateways drop their cached limits at once (else within 5 s). */
async function announce(config: Config, tenant: string): Promise<void> {
  if (!config.redisUrl) return;
  const { openBudgetChangeFeed } = await import('../budgets/changeFeed');
  const feed = await openBudgetChangeFeed(config.redisUrl);
  await feed.publish(tenant);
  await feed.close();
}

async function get(config: Config, store: BudgetStore, tenant: string, userId: string | undefined, roles: Role[]): Promise<void> {
  const [tenantBudget, userBudget] = await storedBudgets(store, tenant, userId);
  console.log(`tenant ${tenant}${tenantBudget ? '' : ': nothing stored, defaults apply'}`);
  if (tenantBudget) printFields(tenantBudget);
  if (userId !== undefined) {
    console.log(`user ${shown(userId)}${userBudget ? '' : ': nothing stored, defaults apply'}`);
    if (userBudget) printFields(userBudget);
  }
  const limits = effectiveLimits(limitDefaults(config), tenantBudget, userBudget, roles);
  console.log(`in effect for ${userId === undefined ? 'a user without an override' : `user ${shown(userId)}`} as ${roles.join(', ')}`);
  printLimits(limits);
}

async function audit(store: BudgetStore, tenant: string, userId: string | undefined, limit: number): Promise<void> {
  const entries = await store.auditLog(tenant, { limit, ...(userId === undefined ? {} : { userId }) });
  if (entries.length === 0) console.log(`no budget changes recorded for ${subjectOf(tenant, userId)}`);
  for (const entry of entries) printEntry(entry);
}

async function usage(config: Config, store: BudgetStore, redisUrl: string, tenant: string, userId: string | undefined, roles: Role[]): Promise<void> {
  const [tenantBudget, userBudget] = await storedBudgets(store, tenant, userId);
  const limits = effectiveLimits(limitDefaults(config), tenantBudget, userBudget, roles);
  const { createRedisLedger } = await import('../budgets/redisLedger');
  const ledger = await createRedisLedger({ url: redisUrl, reservationTtlMs: config.budgets.reservationTtlMs });
  try {
    const counters = userId === undefined ? { tenant: await ledger.tenantUsage(tenant, limits) } : await ledger.usage({ tenant, userId }, limits);
    console.log(`usage today in ${tenant} (budget day in ${limits.timezone}, resets at ${counters.tenant.resetsAt})`);
    console.log(`  ${column('tenant')}${usageLine(counters.tenant)}`);
    if ('user' in counters) console.log(`  ${column(`user ${shown(userId!)}`)}${usageLine(counters.user)}`);
  } finally {
    await ledger.close();
  }
}

function storedBudgets(store: BudgetStore, tenant: string, userId: string | undefined) {
  return Promise.all([store.tenantBudget(tenant), userId === undefined ? null : store.userBudget(tenant, userId)]);
}

const LABEL_WIDTH = 16;

/** A label padded to the value column, and at least one space from its value when longer. */
function column(label: string): string {
  return `${label} `.padEnd(LABEL_WIDTH);
}

const LABELS: Readonly<Record<string, string>> = {
  dailyLimitBytes: 'daily limit', maxQueryBytes: 'per-query cap', timezone: 'timezone', usedBytes: 'used today',
};

function printFields(stored: object): void {
  for (const [field, value] of Object.entries(stored)) console.log(`  ${column(LABELS[field] ?? field)}${valueText(field, value)}`);
}

function printLimits(limits: EffectiveBudget): void {
  const rows: [string, string][] = [
    ['user daily', limitText(limits.userDailyBytes)],
    ['tenant daily', limitText(limits.tenantDailyBytes)],
    ['per-query cap', bytesText(limits.maxQueryBytes)],
    ['timezone', limits.timezone],
  ];
  for (const [label, text] of rows) console.log(`  ${column(label)}${text}`);
}

function printEntry(entry: AuditEntry): void {
  const target = entry.target.kind === 'tenant' ? 'tenant' : `user ${shown(entry.target.userId)}`;
  console.log(`${entry.at}  ${shown(entry.actor)}  ${target}  ${entry.action}`);
  for (const line of changeLines(entry.old, entry.new)) console.log(`  ${line}`);
  if (entry.reason !== null) console.log(`  reason: ${shown(entry.reason, true)}`);
}

/** One line per field: `old → new`, or the value alone when it did not change. */
function changeLines(old: object | null, next: object | null): string[] {
  const before: Record<string, unknown> = { ...old };
  const after: Record<string, unknown> = { ...next };
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields.map((field) => {
    const label = column(LABELS[field] ?? field);
    const [was, is] = [valueText(field, before[field] ?? null), valueText(field, after[field] ?? null)];
    return was === is ? `${label}${is} (unchanged)` : `${label}${was} → ${is}`;
  });
}

function valueText(field: string, value: unknown): string {
  if (value === null) return 'not set';
  if (typeof value === 'number' && field.endsWith('Bytes')) return bytesText(value);
  return typeof value === 'string' ? shown(value) : JSON.stringify(value);
}

function limitText(bytes: number | null): string {
  return bytes === null ? 'unlimited' : bytesText(bytes);
}

/** Human units and the exact bytes, e.g. `5 GiB (5368709120 bytes)`. */
function bytesText(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${formatBytes(bytes)} (${bytes} bytes)`;
}

function usageLine(snapshot: UsageSnapshot): string {
  const remaining = snapshot.remainingBytes === null ? 'no limit' : `remaining ${bytesText(snapshot.remainingBytes)} of ${limitText(snapshot.limitBytes)}`;
  return `used ${bytesText(snapshot.usedBytes)} · reserved ${bytesText(snapshot.reservedBytes)} · ${remaining}`;
}

function subjectOf(tenant: string, userId: string | undefined): string {
  return userId === undefined ? `tenant ${tenant}` : `${tenant} user ${shown(userId)}`;
}

/**
 * Text from the store as it may be shown on a terminal: ids and reasons come from any quota admin, so
 * control characters and bidi overrides are escaped; anything but a plain id is quoted.
 */
function shown(text: string, quote = false): string {
  if (!quote && /^[\w.@:/+-]+$/.test(text)) return text;
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The OS account running the CLI; a container's uid may have no passwd entry. */
function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid${process.getuid?.() ?? ''}`;
  }
}
