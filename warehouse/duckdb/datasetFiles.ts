/**
 * Where each tenant's DuckDB database lives, and the cross-process protocol that lets an ingest
 * write it while subgraph processes serve it.
 *
 * DuckDB lets one process hold a file read-write, or many processes hold it read-only, never both.
 * A writer first drops a marker file `<db>.writing` (holding its pid); readers that see it close
 * their handles and wait; the writer opens read-write once the readers are gone, and removes the
 * marker when done. Readers reopen when the file changed, so they serve the new data at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { badUserInput } from '../../common/errors';
import { isTenantId } from '../../common/principal';

export const DUCKDB_OPTIONS = { autoinstall_known_extensions: 'false', autoload_known_extensions: 'true' } as const;

export function tenantsDir(dataDir: string): string {
  return path.join(dataDir, 'tenants');
}

/** The tenant's database file; BAD_USER_INPUT for a tenant id that could not name one. */
export function datasetPath(dataDir: string, tenant: string): string {
  if (!isTenantId(tenant)) throw badUserInput(`"${tenant.slice(0, 64)}" is not a valid tenant id (lowercase letters, digits, underscores).`);
  return path.join(tenantsDir(dataDir), `${tenant}.duckdb`);
}

export function writerMarkerPath(databasePath: string): string {
  return `${databasePath}.writing`;
}

/** True while a live writer holds the marker. A marker left by a dead process is removed. */
export function writerActive(databasePath: string): boolean {
  const marker = writerMarkerPath(databasePath);
  let pid: number;
  try {
    pid = Number(fs.readFileSync(marker, 'utf8'));
  } catch {
    return false;
  }
  if (pid === process.pid || processAlive(pid)) return true;
  fs.rmSync(marker, { force: true });
  return false;
}

export interface WriterOptions {
  /** How long to wait for other writers and for readers to let go, default 120 s. */
  timeoutMs?: number;
  onWait?: (reason: string) => void;
  /** DUCKDB_MEMORY_LIMIT / DUCKDB_THREADS for the write; memory defaults to WRITER_MEMORY_LIMIT_BYTES. */
  limits?: ReaderLimits;
}

/**
 * A write's DuckDB memory when DUCKDB_MEMORY_LIMIT is unset: seed and ingest stream in batches, and
 * past this DuckDB spills to disk; with the writers' V8 heap capped (package.json: 384 MiB), a seed or
 * ingest process stays under 1 GiB whatever the input's size.
 */
export const WRITER_MEMORY_LIMIT_BYTES = 320 * 2 ** 20;

/**
 * How much WAL a write lets grow before DuckDB checkpoints (its default: 16 MiB). A batch commits
 * ~50 MiB, so the default checkpointed after every batch, each time rewriting the last, partly filled
 * row group: the seed ran ~20% faster (and peaked lower) at 64 MiB–1 GiB. The closing CHECKPOINT
 * writes the rest.
 */
export const WRITER_CHECKPOINT_THRESHOLD = '256MiB';

/**
 * A write's DuckDB hands freed memory back to the system after every task (its default: only after
 * one that peaked above 128 MiB), with background threads doing so meanwhile. Measured on a seed of
 * 1.6M events (1,000 users, 200,000 events a day): peak RSS 932 MiB instead of 1,006 MiB, no slower.
 * https://duckdb.org/docs/stable/configuration/overview#global-configuration-options
 */
const WRITER_ALLOCATOR = { allocator_flush_threshold: '1MiB', allocator_background_threads: 'true' } as const;

/**
 * Runs `write` with the tenant's database open read-write (created if missing), under the writer
 * marker; checkpoints and closes before returning so readers see a complete file.
 */
export async function withDatasetWriter<T>(
  dataDir: string,
  tenant: string,
  write: (instance: DuckDBInstance) => Promise<T>,
  options: WriterOptions = {},
): Promise<T> {
  const databasePath = datasetPath(dataDir, tenant);
  fs.mkdirSync(path.dirname(databasePath), { recursive: true });
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const marker = writerMarkerPath(databasePath);
  while (!tryCreateMarker(marker)) {
    if (!writerActive(databasePath)) continue;
    if (Date.now() > deadline) throw new Error(`Another ingest is writing tenant ${tenant}; gave up waiting.`);
    options.onWait?.('another writer');
    await sleep(100);
  }
  try {
    const limits = { ...options.limits, memoryLimitBytes: options.limits?.memoryLimitBytes ?? WRITER_MEMORY_LIMIT_BYTES };
    const settings = { ...withLimits(DUCKDB_OPTIONS, limits), checkpoint_threshold: WRITER_CHECKPOINT_THRESHOLD, ...WRITER_ALLOCATOR };
    const instance = await retryOnLock(() => DuckDBInstance.create(databasePath, settings), deadline, () => options.onWait?.('readers to close'));
    try {
      const result = await write(instance);
      const connection = await instance.connect();
      await connection.run('CHECKPOINT');
      connection.closeSync();
      return result;
    } finally {
      instance.closeSync();
    }
  } finally {
    fs.rmSync(marker, { force: true });
  }
}

/**
 * How much a read-only handle may use. Each handle is a DuckDB instance of its own, so both bounds
 * apply per tenant open in the process; unset, DuckDB's defaults (80% of RAM, one thread per core).
 * https://duckdb.org/docs/stable/configuration/overview#global-configuration-options
 */
export interface ReaderLimits {
  /** DuckDB `memory_limit`: its buffer pool and operators' working memory (not the allocator's free lists). */
  readonly memoryLimitBytes?: number;
  /** DuckDB `threads`: the handle's worker threads (its queries' parallelism), started when it opens. */
  readonly threads?: number;
}

/** Opens the database read-only, retrying while a writer holds it (until `deadline`). */
export function openReadOnly(databasePath: string, deadline: number, limits: ReaderLimits = {}): Promise<DuckDBInstance> {
  return retryOnLock(() => DuckDBInstance.create(databasePath, withLimits({ ...DUCKDB_OPTIONS, access_mode: 'READ_ONLY' }, limits)), deadline);
}

/** DuckDB's options with the limits set. */
function withLimits(options: Readonly<Record<string, string>>, limits: ReaderLimits): Record<string, string> {
  return {
    ...options,
    ...(limits.memoryLimitBytes !== undefined ? { memory_limit: `${limits.memoryLimitBytes}B` } : {}),
    ...(limits.threads !== undefined ? { threads: String(limits.threads) } : {}),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Private:

function tryCreateMarker(marker: string): boolean {
  try {
    fs.writeFileSync(marker, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function retryOnLock<T>(open: () => Promise<T>, deadline: number, onWait?: () => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const locked = /Could not set lock|Conflicting lock/i.test(String(error));
      if (!locked || Date.now() > deadline) throw error;
      onWait?.();
      await sleep(Math.min(20 * 2 ** attempt, 250));
    }
  }
}
