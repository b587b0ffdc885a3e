/**
 * Lookups shared by the requests serving one client HTTP batch. The gateway runs each operation of a
 * batch on its own, so each sends its own subgraph requests with their own DataLoaders; their batch
 * functions meet here. Those of one caller's batch, for one loader (same key: same query and range),
 * dispatched close together (BATCH_QUIET_MS, BATCH_WAIT_MS), run as one warehouse query over the union of their
 * keys — N users' productivity asked by N operations of a batch is one job, as it is within one operation.
 *
 * The query runs under the first request's context: it bills that request's meter under that request's
 * caps, and that request is still waiting for it, so the bytes reach the gateway with its answer and
 * are charged once (the others' estimates were reserved and are released unbilled).
 */
/**
 * How long a gathering waits: until no request of the batch has joined for BATCH_QUIET_MS, and at most
 * BATCH_WAIT_MS after the first. Ten operations of a batch reached a subgraph over 5–14 ms, mostly
 * 0.5 ms apart, at times 5 ms (bench/httpBatches.ts: gateway and subgraphs in one process on 2 cores);
 * one that comes later runs its own query. Requests sent alone never wait.
 */
export const BATCH_QUIET_MS = 5;
export const BATCH_WAIT_MS = 25;

/** A DataLoader batch function run under a request's context `ctx`: one value (or Error) per key, in key order. */
export type BatchLoad<Ctx, V> = (ctx: Ctx, keys: readonly string[]) => Promise<readonly (V | Error)[]>;

export interface BatchedLoads<Ctx> {
  /** `load` of `keys`, joined with the loads of the same `group` (caller, batch, loader) that start close to it. */
  load<V>(group: string, ctx: Ctx, keys: readonly string[], load: BatchLoad<Ctx, V>): Promise<readonly (V | Error)[]>;
}

export function batchedLoads<Ctx>(quietMs = BATCH_QUIET_MS, waitMs = BATCH_WAIT_MS): BatchedLoads<Ctx> {
  const open = new Map<string, Gathering<Ctx>>();
  return {
    load<V>(group: string, ctx: Ctx, keys: readonly string[], load: BatchLoad<Ctx, V>) {
      let gathering = open.get(group);
      if (!gathering) {
        const started: Gathering<Ctx> = {
          ctx, load: load as BatchLoad<Ctx, unknown>, parts: [], deadline: performance.now() + waitMs,
          run: () => {
            open.delete(group);
            void runTogether(started);
          },
        };
        open.set(group, started);
        gathering = started;
      }
      clearTimeout(gathering.timer);
      gathering.timer = setTimeout(gathering.run, Math.max(0, Math.min(quietMs, gathering.deadline - performance.now())));
      const parts = gathering.parts;
      return new Promise<readonly (V | Error)[]>((resolve, reject) => parts.push({ keys, resolve: resolve as Part['resolve'], reject }));
    },
  };
}

// Private:

interface Part {
  readonly keys: readonly string[];
  resolve(values: readonly unknown[]): void;
  reject(error: unknown): void;
}

interface Gathering<Ctx> {
  /** The first request's context: the one the query runs (and bills) under. */
  readonly ctx: Ctx;
  readonly load: BatchLoad<Ctx, unknown>;
  readonly parts: Part[];
  /** performance.now() past which it runs, whoever else may come. */
  readonly deadline: number;
  readonly run: () => void;
  timer?: NodeJS.Timeout;
}

async function runTogether<Ctx>({ ctx, load, parts }: Gathering<Ctx>): Promise<void> {
  const keys = [...new Set(parts.flatMap((part) => part.keys))];
  try {
    const values = await load(ctx, keys);
    const byKey = new Map(keys.map((key, i) => [key, values[i]]));
    for (const part of parts) part.resolve(part.keys.map((key) => byKey.get(key)));
  } catch (error) {
    for (const part of parts) part.reject(error);
  }
}
