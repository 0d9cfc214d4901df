// daemons.ts: test helpers for the toolstack — a private run directory with `pvkvm up`, the CLI
// against it, domain config files, and the daemons' fd/RSS readings.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pvkvm, guestPath, cleanEnv, PVKVM, type RunResult } from './run-guest.ts';
import { spawnDaemon, waitForDom0, logFile, type DaemonChild, type DaemonKind } from '../../cli/daemons.ts';

export interface TestDaemons {
  readonly runDir: string;
  /** Run a pvkvm subcommand against this run directory. */
  cli(args: readonly string[], killAfterMs?: number): Promise<RunResult>;
  /** Write a domain config file and return its path. */
  config(name: string, guest: string, extra?: Record<string, string | number>): string;
  pid(kind: 'hypervisor' | 'dom0'): number;
  down(): Promise<void>;
}

export interface DaemonOptions {
  /**
   * Run both daemons inside this network namespace (`ip netns exec NS node dist/pvkvm.js daemon
   * ...`), so that dom0's TAP devices are created there: one "host" per namespace. The CLI still
   * runs outside; it only talks to the run directory's sockets.
   */
  readonly netns?: string;
  /** More environment for both daemons (e.g. PVKVM_CONFINE_SELFTEST=1). */
  readonly env?: NodeJS.ProcessEnv;
}

/** spawnDaemon (cli/daemons.ts), wrapped in `ip netns exec NS`; stdin stays our pipe (exec keeps it). */
function spawnDaemonInNetns(kind: DaemonKind, runDir: string, netns: string, env: NodeJS.ProcessEnv): DaemonChild {
  const log = openSync(logFile(runDir, kind), 'a', 0o600);
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, PVKVM, 'daemon', kind, '--run-dir', runDir, '--with-parent'], {
    stdio: ['pipe', log, log], env,
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { kind, child, exited };
}

export async function startDaemons(opts: DaemonOptions = {}): Promise<TestDaemons> {
  const runDir = mkdtempSync(join(tmpdir(), 'pvkvm-test-'));
  const env = { PVKVM_RUN_DIR: runDir };
  const cli = (args: readonly string[], killAfterMs?: number): Promise<RunResult> => pvkvm(args, { env, killAfterMs });
  // The daemons `pvkvm up` would start, but tied to this test process (their stdin is a pipe from
  // us): a test killed by its timeout leaves no daemons behind.
  const daemonEnv = { ...cleanEnv(), ...opts.env, ...env };
  const children = (['hypervisor', 'dom0'] as const).map((kind) => (opts.netns === undefined
    ? spawnDaemon(kind, runDir, { withParent: true, script: PVKVM, env: daemonEnv })
    : spawnDaemonInNetns(kind, runDir, opts.netns, daemonEnv)));
  const ready = await waitForDom0(runDir, 30_000, () => {
    const dead = children.find((c) => c.child.exitCode !== null);
    return dead ? `the ${dead.kind} daemon exited at start-up` : null;
  });
  ready.close();
  return {
    runDir,
    cli,
    config(name, guest, extra = {}) {
      const lines = [`name = "${name}"`, `kernel = "${guestPath(guest)}"`];
      if (!('memory' in extra)) lines.push('memory = 32');
      for (const [k, v] of Object.entries(extra)) lines.push(typeof v === 'number' ? `${k} = ${v}` : `${k} = "${v}"`);
      const file = join(runDir, `${name}.cfg`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return file;
    },
    pid(kind) {
      return Number(readFileSync(join(runDir, `${kind}.pid`), 'utf8').trim());
    },
    async down() {
      await cli(['down']);
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/** Does process `pid` exist (signal 0)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function processFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function processRssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Poll `fn` until it returns a value (not undefined) or `ms` pass (then undefined). */
export async function eventually<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}
