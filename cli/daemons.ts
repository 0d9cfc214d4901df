// daemons.ts: starting, finding and stopping pvkvm's two daemons (hypervisor and dom0) — for
// `pvkvm up`/`down`, and as private children of `pvkvm run`.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PvkvmError } from '../host/errors.ts';
import { ControlClient } from './control-client.ts';
import { runDirPath } from '../abi/run-dir.ts';

export type DaemonKind = 'hypervisor' | 'dom0';
export const DEFAULT_RUN_DIR = '/run/pvkvm';

export function defaultRunDir(): string {
  return process.env.PVKVM_RUN_DIR || DEFAULT_RUN_DIR;
}

/** Create the run directory (private to this user) or say clearly why it cannot be. */
export function ensureRunDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new PvkvmError(`cannot create run directory ${dir} (${(err as NodeJS.ErrnoException).code}); set PVKVM_RUN_DIR or --run-dir`);
  }
  return dir;
}

export function pidFile(runDir: string, kind: DaemonKind): string {
  return join(runDir, `${kind}.pid`);
}

export function logFile(runDir: string, kind: DaemonKind): string {
  return join(runDir, `${kind}.log`);
}

/** The pid recorded by a running daemon, or null. */
export function daemonPid(runDir: string, kind: DaemonKind): number | null {
  try {
    const pid = Number(readFileSync(pidFile(runDir, kind), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

export function writePidFile(runDir: string, kind: DaemonKind): () => void {
  const f = pidFile(runDir, kind);
  writeFileSync(f, `${process.pid}\n`, { mode: 0o600 });
  return () => rmSync(f, { force: true });
}

/** This bundle (dist/pvkvm.js): daemons are the same program with another subcommand. */
function selfScript(): string {
  return fileURLToPath(import.meta.url);
}

export interface DaemonChild {
  readonly kind: DaemonKind;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/**
 * Start one daemon. `withParent`: it lives only as long as this process (its stdin is a pipe
 * from us, and it stops when that closes) — `pvkvm run` leaves nothing behind even if killed.
 */
export function spawnDaemon(
  kind: DaemonKind, runDir: string, opts: { withParent: boolean; env?: NodeJS.ProcessEnv; script?: string },
): DaemonChild {
  const log = openSync(logFile(runDir, kind), 'a', 0o600);
  const args = [opts.script ?? selfScript(), 'daemon', kind, '--run-dir', runDir, ...(opts.withParent ? ['--with-parent'] : [])];
  const child = spawn(process.execPath, args, {
    stdio: [opts.withParent ? 'pipe' : 'ignore', log, log],
    detached: !opts.withParent,
    env: opts.env ?? process.env,
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (!opts.withParent) child.unref();
  return { kind, child, exited };
}

/** Connect to dom0's toolstack socket, retrying while the daemons start. */
export async function waitForDom0(runDir: string, timeoutMs: number, alive: () => string | null = () => null): Promise<ControlClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = alive();
    if (dead !== null) throw new PvkvmError(dead);
    if (existsSync(runDirPath(runDir, 'controlSocket'))) {
      try {
        return await ControlClient.connect(runDir);
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    if (Date.now() > deadline) throw new PvkvmError(`the daemons did not start within ${timeoutMs} ms (logs in ${runDir})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The last lines of a daemon's log, for an error report. */
export function logTail(runDir: string, kind: DaemonKind, lines = 5): string {
  try {
    return readFileSync(logFile(runDir, kind), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
