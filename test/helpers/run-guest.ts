// run-guest.ts: run `pvkvm run` on a built guest image as a subprocess and capture what it did.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PVKVM = join(ROOT, 'dist', 'pvkvm.js');

export function guestPath(name: string): string {
  return join(ROOT, 'dist', 'guests', `${name}.elf`);
}

/** How to run a guest, from its directory's guest.json (see domU-sdk/README.md). */
export interface GuestMeta {
  /** `pvkvm run --timeout`, in seconds. */
  readonly timeout: number;
  /** Extra `pvkvm run` arguments, before the caller's. */
  readonly args: readonly string[];
}

/** What a guest without guest.json gets (as domU-sdk/build-guests.mjs's DEFAULT_GUEST_TIMEOUT_S). */
const DEFAULT_META: GuestMeta = { timeout: 120, args: [] };

/** Slack between a guest's time limit and killing its pvkvm process: time to tear the domain down. */
const KILL_SLACK_MS = 30_000;

/** The guest's metadata as the build wrote it beside the ELF (dist/guests/NAME.json). */
export function guestMeta(name: string): GuestMeta {
  const file = join(ROOT, 'dist', 'guests', `${name}.json`);
  if (!existsSync(file)) return DEFAULT_META;
  const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<GuestMeta>;
  return { timeout: m.timeout ?? DEFAULT_META.timeout, args: m.args ?? DEFAULT_META.args };
}

/** The value of the last `--timeout` in args (the one pvkvm uses), or undefined. */
function lastTimeout(args: readonly string[]): number | undefined {
  const i = args.lastIndexOf('--timeout');
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : undefined;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment for pvkvm subprocesses, without tap's process-tracking hooks: they load into
 * every child through NODE_OPTIONS and are no part of what a user runs.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const k of Object.keys(env)) if (k.startsWith('_TAPJS_')) delete env[k];
  return env;
}

/** Run the pvkvm CLI with `args`; a safety timeout kills it so a hung guest fails the test. */
export function pvkvm(args: readonly string[], opts: { killAfterMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PVKVM, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...cleanEnv(), ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Boot dist/guests/NAME.elf with a wall-clock limit so a broken guest cannot hang the suite: the
 * guest's guest.json gives the limit and its own arguments; `extra` follows them, so a caller's
 * --timeout, --cmdline, --memory or --vcpus wins. The process is killed a little after the limit.
 */
export function runGuest(name: string, extra: readonly string[] = []): Promise<RunResult> {
  const meta = guestMeta(name);
  const args = ['--timeout', String(meta.timeout), ...meta.args, ...extra];
  const limitS = lastTimeout(args) || meta.timeout; /* --timeout 0 means none: keep the guest's */
  return pvkvm(['run', guestPath(name), ...args], { killAfterMs: limitS * 1000 + KILL_SLACK_MS });
}

/** The single `Test result: X` line a test guest prints, or null. */
export function testResult(out: string): string | null {
  const lines = out.split('\n').filter((l) => l.startsWith('Test result: '));
  return lines.length === 1 ? lines[0]!.slice('Test result: '.length).trim() : null;
}
