/**
 * Command-line flags for the CLIs and the server processes, parsed and documented from one declaration, the CLI's `Usage`:
 * typed, strict, a UsageError (exit code 2, the usage on stderr) on bad input; `--help` or `-h` prints
 * the same usage on stdout and exits 0 (common/runMain.ts).
 */
import { parseArgs } from 'node:util';
import { HelpRequested, UsageError } from './runMain';

/** One flag, as parseArgs reads it and the usage shows it. */
export interface Flag {
  readonly type: 'string' | 'boolean';
  /** Its value's placeholder in the usage (`T`, `SECONDS`); string flags only. */
  readonly value?: string;
  /** What it sets, and whether it is required. */
  readonly meaning: string;
  /** What applies without it, shown as `(default: …)`. */
  readonly default?: string;
}

export type Flags = Readonly<Record<string, Flag>>;

/** `--tenant T`, as every CLI but start and schema takes it (common/principal.ts isTenantId). */
export const TENANT_FLAG = { type: 'string', value: 'T', meaning: 'the tenant: lowercase letters, digits and underscores; required' } as const satisfies Flag;

/** What `--help` prints, and what follows a usage error. */
export interface Usage<F extends Flags = Flags> {
  /** How it is run, e.g. `npm run budget --`. */
  readonly command: string;
  /** Its argument lines after `command`, optional parts in brackets; none when it takes no flags. */
  readonly synopsis: readonly string[];
  /** It takes positional arguments, named in its synopsis, and checks them itself (bench's scenario names). */
  readonly operands?: true;
  /** What it does, in a sentence or two. */
  readonly summary: string;
  readonly flags: F;
  /** Lines after the flags: value formats, the environment it reads. */
  readonly notes?: readonly string[];
  readonly examples: readonly string[];
  /** Subcommands, named by the first positional argument: `COMMAND --help` prints the command's own usage. */
  readonly commands?: Readonly<Record<string, Subcommand<keyof F & string>>>;
}

/** A subcommand: its arguments after its name, and which of the CLI's flags it takes. */
export interface Subcommand<Name extends string = string> {
  readonly synopsis: string;
  readonly summary: string;
  readonly flags: readonly Name[];
  readonly notes?: readonly string[];
  readonly examples: readonly string[];
}

type Values<F extends Flags> = { [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : string };

/** `argv` read against `usage.flags`; with `--help` or `-h`, throws HelpRequested with the usage (a subcommand's own after its name). */
export function parseFlags<F extends Flags>(argv: string[], usage: Usage<F>): { values: Values<F>; positionals: string[] } {
  const options = Object.fromEntries(Object.entries(usage.flags).map(([name, { type }]) => [name, { type }]));
  let parsed;
  try {
    // Only a CLI with subcommands (its command's name) or operands takes positional arguments.
    const allowPositionals = usage.commands !== undefined || usage.operands !== undefined;
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { help, ...values } = parsed.values;
  if (help) {
    const [name] = parsed.positionals;
    const subcommand = usage.commands && name !== undefined && Object.hasOwn(usage.commands, name) ? usage.commands[name] : undefined;
    throw new HelpRequested(subcommand ? subcommandUsageText(usage, name, subcommand) : usageText(usage));
  }
  return { values: values as Values<F>, positionals: parsed.positionals };
}

/** The usage as printed after `usage: `: synopsis, summary, subcommands, each flag with its meaning and default, notes, examples. */
export function usageText<F extends Flags>(usage: Usage<F>): string {
  const commands = Object.entries(usage.commands ?? {});
  const width = Math.max(0, ...commands.map(([name]) => name.length)) + 2;
  return sections([
    synopsisLines(usage.command, usage.synopsis),
    [usage.summary],
    commands.length === 0 ? [] : ['commands:', ...commands.flatMap(([name, { synopsis, summary }]) => [`  ${name.padEnd(width)}${synopsis}`, `  ${' '.repeat(width)}${summary}`])],
    flagLines(usage.flags),
    usage.notes ?? [],
    exampleLines(usage.examples),
    commands.length === 0 ? [] : [`${usage.command} COMMAND --help prints a command's own flags and examples.`],
  ]);
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required.`);
  return value;
}

export function positiveInt(value: string | undefined, flag: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${flag} is required.`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, not "${value}".`);
  return n;
}

// Private:

function subcommandUsageText<F extends Flags>(usage: Usage<F>, name: string, subcommand: Subcommand<keyof F & string>): string {
  const flags = Object.fromEntries(subcommand.flags.map((flag) => [flag, usage.flags[flag]]));
  return sections([
    synopsisLines(`${usage.command} ${name}`, [subcommand.synopsis]),
    [subcommand.summary],
    flagLines(flags),
    subcommand.notes ?? [],
    exampleLines(subcommand.examples),
  ]);
}

/** The first line follows `usage: `; the others align under it. */
function synopsisLines(command: string, synopsis: readonly string[]): string[] {
  const lines = synopsis.length === 0 ? [command] : synopsis.map((args) => `${command} ${args}`);
  return lines.map((line, i) => (i === 0 ? line : `${' '.repeat('usage: '.length)}${line}`));
}

function flagLines(flags: Flags): string[] {
  const rows: [string, string][] = Object.entries(flags).map(([name, flag]) => [
    flag.value === undefined ? `--${name}` : `--${name} ${flag.value}`,
    flag.default === undefined ? flag.meaning : `${flag.meaning} (default: ${flag.default})`,
  ]);
  rows.push(['-h, --help', 'prints this usage']);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return ['flags:', ...rows.map(([label, meaning]) => `  ${label.padEnd(width)}${meaning}`)];
}

function exampleLines(examples: readonly string[]): string[] {
  return [examples.length === 1 ? 'example:' : 'examples:', ...examples.map((example) => `  ${example}`)];
}

function sections(parts: readonly (readonly string[])[]): string {
  return parts.filter((lines) => lines.length > 0).map((lines) => lines.join('\n')).join('\n\n');
}
