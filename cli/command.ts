// command.ts: what a `pvkvm` subcommand is — a name, a one-line synopsis for `pvkvm --help`, its
// own help text, and a handler that returns the exit status — plus the argument helpers they share.
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.ts';
import { ControlClient } from './control-client.ts';
import { defaultRunDir } from './daemons.ts';

export interface Command {
  readonly name: string;
  /** Line(s) for the command list in `pvkvm --help`. */
  readonly synopsis: string;
  /** `pvkvm NAME --help`. */
  readonly help: string;
  run(argv: readonly string[]): Promise<number>;
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export interface Parsed {
  readonly values: { readonly [k: string]: string | boolean | string[] | undefined; readonly 'run-dir'?: string; readonly help?: boolean };
  readonly positionals: string[];
}

/** The toolstack's common option, in every command's help. */
export const RUN_DIR_HELP = '  --run-dir DIR   the daemons\' directory (default $PVKVM_RUN_DIR or /run/pvkvm)';

/** Parse a subcommand's arguments (with --run-dir and --help); a bad flag is a UsageError. */
export function parse(cmd: string, argv: readonly string[], options: OptionSpec): Parsed {
  try {
    return parseArgs({
      args: [...argv], allowPositionals: true, strict: true,
      options: { 'run-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...options },
    }) as Parsed;
  } catch (err) {
    throw new UsageError(`${cmd}: ${(err as Error).message.split('\n')[0]!} (try pvkvm ${cmd} --help)`);
  }
}

export function runDirOf(p: Parsed): string {
  return p.values['run-dir'] ?? defaultRunDir();
}

export function oneDomain(cmd: string, positionals: readonly string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${cmd}: expected one DOMAIN (name or id)`);
  return positionals[0]!;
}

/** Run `fn` with a connection to dom0's toolstack, closed afterwards. */
export async function withClient<T>(runDir: string, fn: (c: ControlClient) => Promise<T>): Promise<T> {
  const c = await ControlClient.connect(runDir);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Print a command's help when asked; true if it did (the caller returns 0). */
export function helpRequested(p: Parsed, cmd: Command): boolean {
  if (p.values.help !== true) return false;
  process.stdout.write(`${cmd.help}\n`);
  return true;
}
