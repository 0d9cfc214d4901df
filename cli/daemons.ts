// daemons.ts: starting, finding and stopping pvkvm's two daemons (hypervisor and dom0) — for
// `pvkvm up`/`down`, and as private children of `pvkvm run`.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PvkvmError } from '../host/errors.ts';
import { ControlClient } from './control-client.ts';
import { runDirPath } from '../abi/run-dir.ts';
import { confinementWanted } from './daemon-policies.ts';

export type DaemonKind = 'hypervisor' | 'dom0';
/** dist/daemon-confine.js (cli/daemon-prelaunch.ts): a confined daemon's first stage. */
const PRELAUNCH_BUNDLE = 'daemon-confine.js';

export const DEFAULT_RUN_DIR = '/run/pvkvm';

export function defaultRunDir(): string {
  return process.env.PVKVM_RUN_DIR || DEFAULT_RUN_DIR;
}

/**
 * mkdir -p, one level at a time: Node 20's recursive mkdirSync never returns for a path under
 * /proc (it retries forever), which made `PVKVM_RUN_DIR=/proc/nope pvkvm up` spin.
 */
function mkdirParents(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    mkdirParents(parent);
    mkdirSync(dir, { mode: 0o700 });
  }
}

/** Create the run directory (private to this user) or say clearly, in one line, why it cannot be. */
export function ensureRunDir(dir: string): string {
  const fail = (why: string): never => {
    throw new PvkvmError(`cannot use run directory ${dir} (${why}); set PVKVM_RUN_DIR or --run-dir`);
  };
  try {
    mkdirParents(resolve(dir));
  } catch (err) {
    fail((err as NodeJS.ErrnoException).code ?? 'error');
  }
  try {
    if (!statSync(dir).isDirectory()) fail('not a directory');
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof PvkvmError) throw err;
    fail((err as NodeJS.ErrnoException).code ?? 'error');
  }
  return dir;
}

export function pidFile(runDir: string, kind: DaemonKind): string {
  return join(runDir, `${kind}.pid`);
}

export function logFile(runDir: string, kind: DaemonKind): string {
  return join(runDir, `${kind}.log`);
}

/**
 * The pid recorded by a running daemon, or null. A pid file can outlive its daemon: a daemon
 * killed with SIGKILL leaves a zombie until its parent reaps it (kill(pid, 0) still succeeds), and
 * a pid may be reused by another process. Both count as not running.
 */
export function daemonPid(runDir: string, kind: DaemonKind): number | null {
  try {
    const pid = Number(readFileSync(pidFile(runDir, kind), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return isLiveDaemon(pid, kind) ? pid : null;
  } catch {
    return null;
  }
}

/** /proc says `pid` is a live (not zombie) `pvkvm daemon KIND`; true when /proc cannot tell. */
function isLiveDaemon(pid: number, kind: DaemonKind): boolean {
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return existsSync('/proc/self') ? false : true;
  }
  // Field 3, after the parenthesised command name (which may itself hold spaces or ')').
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  return cmdline.split('\0').join(' ').includes(`daemon ${kind}`);
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
  kind: DaemonKind, runDir: string, opts: { withParent: boolean; env?: NodeJS.ProcessEnv; script?: string; noConfine?: boolean },
): DaemonChild {
  const log = openSync(logFile(runDir, kind), 'a', 0o600);
  const script = opts.script ?? selfScript();
  const env = opts.env ?? process.env;
  const args = [script, 'daemon', kind, '--run-dir', runDir,
    ...(opts.withParent ? ['--with-parent'] : []), ...(opts.noConfine ? ['--no-confine'] : [])];
  // Confined daemons start through the small stage-one bundle beside the CLI's, which applies the
  // per-thread part of confinement and executes the daemon (docs/confinement.md).
  const confined = confinementWanted(opts.noConfine === true, env);
  const child = spawn(process.execPath, confined ? [join(dirname(script), PRELAUNCH_BUNDLE), ...args] : args, {
    stdio: [opts.withParent ? 'pipe' : 'ignore', log, log],
    // Always a process group of its own: a Ctrl-C on the terminal reaches `pvkvm run` alone, which
    // then tears down in order (destroy the domain, then stop the daemons) instead of racing them.
    detached: true,
    env,
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
