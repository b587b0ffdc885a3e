/**
 * The entry of every process bytegate runs (servers and CLIs): one place that turns a main's outcome
 * into an exit code — 0, its own number, 0 with the usage on stdout for `--help`, 2 with the usage on
 * stderr for a UsageError, 1 for anything else.
 */

/** Bad arguments: the usage is printed on stderr and the process exits 2. */
export class UsageError extends Error {}

/** `--help` or `-h` (common/args.ts): `usage` — the process's, or its subcommand's — is printed on stdout and the process exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help requested');
  }
}

/** Runs a process's main: usage errors print the usage and exit 2, other failures exit 1. */
export function runMain(usage: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (error: unknown) => {
      if (error instanceof HelpRequested) {
        process.stdout.write(`usage: ${error.usage}\n`);
        process.exit(0);
      }
      if (error instanceof UsageError) {
        process.stderr.write(`error: ${error.message}\n\nusage: ${usage}\n`);
        process.exit(2);
      }
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Resolves on the first SIGINT or SIGTERM. From then on the process exits (code 1) within `boundMs`
 * whatever still hangs — a stop that cannot finish must not hold a rolling restart.
 */
export async function terminationSignal(boundMs: number): Promise<NodeJS.Signals> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  setTimeout(() => {
    process.stderr.write(`error: still stopping ${boundMs} ms after ${signal}; exiting\n`);
    process.exit(1);
  }, boundMs).unref();
  return signal;
}
