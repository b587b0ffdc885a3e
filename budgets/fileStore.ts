/**
 * The BudgetStore in a file (embedded default: DATA_DIR/budgets/, when DATABASE_URL is unset).
 *
 * `budgets.jsonl` is an append-only log, one JSON line per change — the AuditEntry itself, `new` being
 * the whole stored budget after the change — so the current settings are its replay: the `new` of
 * each budget's latest `setBudget`. The log is never rewritten.
 *
 * Several processes on one host may use it at once (the gateway and `npm run budget`):
 * - Readers re-read the tail whenever the file grew (by byte offset), before answering.
 * - Writers take `budgets.lock` (created with O_EXCL; a lock whose process is gone, or older than
 *   LOCK_STALE_MS, is broken), catch up, append the entry with ONE write(2) on an O_APPEND descriptor,
 *   and fdatasync it. So each entry's old is the previous entry's new, across processes too.
 * - A line without its newline at the end of the file is one being written (readers wait for it) or,
 *   seen by a writer holding the lock, one cut short by a crash: the writer ends it with a newline
 *   first. A line that does not parse as an entry is skipped with a warning; the others all count.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { applyTenantChange, applyUserChange, validateBudgetChange } from './policy';
import type { AuditEntry, BudgetStore, StoredTenantBudget, StoredUserBudget } from './store';

export interface FileStoreOptions {
  /** Directory of the log, created if missing (DATA_DIR/budgets). */
  readonly dir: string;
  /** Where skipped lines are reported; default console.warn. */
  readonly warn?: (message: string) => void;
}

export const BUDGET_LOG_FILE = 'budgets.jsonl';

export async function createFileStore(options: FileStoreOptions): Promise<BudgetStore> {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  await fs.mkdir(options.dir, { recursive: true });
  const file = path.join(options.dir, BUDGET_LOG_FILE);
  const lockFile = path.join(options.dir, LOCK_FILE);
  const appender = await fs.open(file, 'a');
  const reader = await fs.open(file, 'r');

  const tenants = new Map<string, StoredTenantBudget>();
  const users = new Map<string, Map<string, StoredUserBudget>>();
  const audit = new Map<string, AuditEntry[]>();
  /** Bytes replayed: up to and including the last complete line. */
  let offset = 0;
  let lineNumber = 0;

  const replay = (line: string) => {
    lineNumber += 1;
    if (line.trim() === '') return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = undefined;
    }
    if (!isAuditEntry(entry)) {
      warn(`${file}:${lineNumber}: skipped a line that is not a budget entry (a write cut short?): ${line.slice(0, 80)}`);
      return;
    }
    listOf(audit, entry.tenant).push(entry);
    if (entry.action !== 'setBudget') return;
    // isAuditEntry checked these fields; anything else in `new` is not a setting.
    const next = entry.new as unknown as StoredTenantBudget;
    const amounts = { dailyLimitBytes: next.dailyLimitBytes, maxQueryBytes: next.maxQueryBytes };
    if (entry.target.kind === 'tenant') {
      tenants.set(entry.tenant, { ...amounts, timezone: next.timezone });
    } else {
      if (!users.has(entry.tenant)) users.set(entry.tenant, new Map());
      users.get(entry.tenant)!.set(entry.target.userId, amounts);
    }
  };

  /** Replays the complete lines appended since the last look; resolves to the file's size. Serialized, so no line is replayed twice. */
  let reading: Promise<unknown> = Promise.resolve();
  const catchUp = (): Promise<number> => {
    const run = reading.then(async () => {
      const { size } = await reader.stat();
      if (size <= offset) return size;
      const buffer = Buffer.alloc(size - offset);
      const { bytesRead } = await reader.read(buffer, 0, buffer.length, offset);
      const end = buffer.subarray(0, bytesRead).lastIndexOf(NEWLINE);
      if (end < 0) return size;
      for (const line of buffer.subarray(0, end).toString('utf8').split('\n')) replay(line);
      offset += end + 1;
      return size;
    });
    reading = run.catch(() => undefined);
    return run;
  };

  /** Appends the entry `build` makes from the caught-up state; changes of this store run one at a time. */
  let writing: Promise<unknown> = Promise.resolve();
  const append = <T>(build: () => { entry: AuditEntry; result: T }): Promise<T> => {
    const run = writing.then(() => withLockFile(lockFile, async () => {
      const size = await catchUp();
      const { entry, result } = build();
      // Under the lock no one else is writing: bytes after the last newline are a line cut short.
      const torn = size > offset;
      const bytes = Buffer.from(`${torn ? '\n' : ''}${JSON.stringify(entry)}\n`);
      const { bytesWritten } = await appender.write(bytes, 0, bytes.length);
      if (bytesWritten !== bytes.length) throw new Error(`Only ${bytesWritten} of ${bytes.length} bytes reached ${file} (disk full?).`);
      await appender.datasync();
      await catchUp();
      return result;
    }));
    writing = run.catch(() => undefined);
    return run;
  };

  const newEntry = (fields: Omit<AuditEntry, 'id' | 'at' | 'reason'> & { reason?: string | null }): AuditEntry => ({
    id: randomUUID(), at: new Date().toISOString(), ...fields, reason: fields.reason ?? null,
  });

  await catchUp();

  return {
    async tenantBudget(tenant) {
      await catchUp();
      return tenants.get(tenant) ?? null;
    },

    async userBudget(tenant, userId) {
      await catchUp();
      return users.get(tenant)?.get(userId) ?? null;
    },

    async userOverrides(tenant, limit) {
      await catchUp();
      return [...users.get(tenant) ?? []]
        .filter(([, budget]) => budget.dailyLimitBytes !== null || budget.maxQueryBytes !== null)
        .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .slice(0, Math.max(0, Math.floor(limit)))
        .map(([userId, budget]) => ({ userId, ...budget }));
    },

    async setTenantBudget(tenant, change, by) {
      validateBudgetChange(change);
      return append(() => {
        const old = tenants.get(tenant) ?? null;
        const next = applyTenantChange(old, change);
        const entry = newEntry({ tenant, actor: by.actor, target: { kind: 'tenant' }, action: 'setBudget', old: old && { ...old }, new: { ...next }, reason: by.reason });
        return { entry, result: { old, new: next } };
      });
    },

    async setUserBudget(tenant, userId, change, by) {
      validateBudgetChange(change);
      return append(() => {
        const old = users.get(tenant)?.get(userId) ?? null;
        const next = applyUserChange(old, change);
        const entry = newEntry({ tenant, actor: by.actor, target: { kind: 'user', userId }, action: 'setBudget', old: old && { ...old }, new: { ...next }, reason: by.reason });
        return { entry, result: { old, new: next } };
      });
    },

    recordAudit(fields) {
      return append(() => {
        const entry = newEntry(fields);
        return { entry, result: entry };
      });
    },

    async auditLog(tenant, { limit, userId }) {
      await catchUp();
      const entries = audit.get(tenant) ?? [];
      const found: AuditEntry[] = [];
      for (let i = entries.length - 1; i >= 0 && found.length < limit; i--) {
        const target = entries[i].target;
        if (userId === undefined || (target.kind === 'user' && target.userId === userId)) found.push(entries[i]);
      }
      return found;
    },

    async close() {
      await writing;
      await reading;
      await Promise.all([appender.close(), reader.close()]);
    },
  };
}

// Private:

const LOCK_FILE = 'budgets.lock';
const NEWLINE = 0x0a;
/** A writer holds the lock for a catch-up, one write and an fdatasync: milliseconds. */
const LOCK_STALE_MS = 10_000;
const LOCK_TIMEOUT_MS = 15_000;

/**
 * Runs `work` holding `lockFile`, which holds `pid token`. A lock is broken when its process is gone
 * (this host's processes: DATA_DIR is local) or it is older than LOCK_STALE_MS (a reused pid).
 */
async function withLockFile<T>(lockFile: string, work: () => Promise<T>): Promise<T> {
  const token = `${process.pid} ${randomUUID()}`;
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      await fs.writeFile(lockFile, token, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (Date.now() > deadline) throw new Error(`The budget store is locked by another process (${lockFile}); try again.`);
    await breakIfStale(lockFile);
    await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8));
  }
  try {
    return await work();
  } finally {
    // Only our own lock: had ours been broken as stale, the file is someone else's now.
    if ((await readIfExists(lockFile)) === token) await fs.rm(lockFile, { force: true });
  }
}

async function breakIfStale(lockFile: string): Promise<void> {
  const holder = await readIfExists(lockFile);
  const stat = await fs.stat(lockFile).catch(() => undefined);
  if (holder === undefined || stat === undefined) return;
  const pid = Number(holder.split(' ')[0]);
  const gone = Number.isSafeInteger(pid) && pid > 0 && !isRunning(pid);
  if (!gone && Date.now() - stat.mtimeMs < LOCK_STALE_MS) return;
  // Another waiter may have broken it and taken a new one meanwhile: remove only the one judged stale.
  if ((await readIfExists(lockFile)) === holder) await fs.rm(lockFile, { force: true });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function listOf<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}

/** The shape a line must have to count; a setBudget entry's `new` must hold the stored fields. */
function isAuditEntry(value: unknown): value is AuditEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  const target = entry.target as Record<string, unknown> | null | undefined;
  const isObjectOrNull = (field: unknown) => field === null || (typeof field === 'object' && !Array.isArray(field));
  const shaped = typeof entry.id === 'string' && typeof entry.at === 'string' && typeof entry.tenant === 'string' && typeof entry.actor === 'string'
    && (entry.reason === null || typeof entry.reason === 'string')
    && (target?.kind === 'tenant' || (target?.kind === 'user' && typeof target.userId === 'string'))
    && (entry.action === 'setBudget' || entry.action === 'resetUsage')
    && isObjectOrNull(entry.old) && isObjectOrNull(entry.new);
  if (!shaped || entry.action !== 'setBudget') return shaped;
  const next = entry.new as Record<string, unknown> | null;
  const amount = (field: unknown) => field === null || typeof field === 'number';
  return next !== null && amount(next.dailyLimitBytes) && amount(next.maxQueryBytes)
    && (target!.kind === 'user' || next.timezone === null || typeof next.timezone === 'string');
}
