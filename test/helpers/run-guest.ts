// run-guest.ts: run `pvkvm run` on a built guest image as a subprocess and capture what it did.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PVKVM = join(ROOT, 'dist', 'pvkvm.js');

export function guestPath(name: string): string {
  return join(ROOT, 'dist', 'guests', `${name}.elf`);
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

/** Boot dist/guests/NAME.elf with a wall-clock limit so a broken guest cannot hang the suite. */
export function runGuest(name: string, extra: readonly string[] = []): Promise<RunResult> {
  return pvkvm(['run', guestPath(name), '--timeout', '30', ...extra]);
}

/** The single `Test result: X` line a test guest prints, or null. */
export function testResult(out: string): string | null {
  const lines = out.split('\n').filter((l) => l.startsWith('Test result: '));
  return lines.length === 1 ? lines[0]!.slice('Test result: '.length).trim() : null;
}
