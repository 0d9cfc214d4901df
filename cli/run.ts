// run.ts: `pvkvm run` — the embedded default: private hypervisor and dom0 daemons, one domain
// created through the toolstack with its console on stdout, then teardown; exits with a code
// derived from the guest's shutdown reason. Same code paths as `pvkvm up` + `create -c`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exitCodeFor, describeEnd } from './exit-codes.ts';
import type { RunOptions } from './run-args.ts';
import { spawnDaemon, waitForDom0, logTail, type DaemonChild } from './daemons.ts';
import { ControlClient, type DomainEndReport } from './control-client.ts';
import { PvkvmError } from '../host/errors.ts';

async function stopDaemons(daemons: readonly DaemonChild[]): Promise<void> {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGTERM');
  const killer = setTimeout(() => { for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL'); }, 5000);
  await Promise.all(daemons.map((d) => d.exited));
  clearTimeout(killer);
}

/** Exit status for a run ended by a signal, as a shell reports it (128 + the signal number). */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** Boot the guest and resolve with the process exit code once it is gone. */
export async function runGuest(opts: RunOptions): Promise<number> {
  // PVKVM_BOOT_TRACE=1: timestamps (epoch ms) of each boot stage on stderr, for `bench boot`.
  const trace = process.env.PVKVM_BOOT_TRACE === '1';
  const mark = (event: string, atMs = performance.timeOrigin + performance.now()): void => {
    if (trace) process.stderr.write(`pvkvm-trace ${event} ${atMs.toFixed(3)}\n`);
  };
  mark('process-start', performance.timeOrigin);
  const runDir = mkdtempSync(join(tmpdir(), 'pvkvm-run-'));
  const daemons = [spawnDaemon('hypervisor', runDir, { withParent: true }), spawnDaemon('dom0', runDir, { withParent: true })];
  mark('hypervisor-start');
  let timedOut = false;
  let client: ControlClient | null = null;
  let created: { domid: number; name: string } | null = null;
  // Ctrl-C (or SIGTERM) at any point: destroy the domain once there is one, then tear down as usual.
  let interrupted: NodeJS.Signals | null = null;
  const destroy = (why: string): void => {
    if (created === null) return;
    const domain = String(created.domid);
    void ControlClient.connect(runDir).then((c) => c.request('destroy', { domain, why }).finally(() => c.close()))
      .catch(() => undefined);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    destroy('interrupted');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const interruptedExit = (): number => {
    const what = created === null ? 'before the domain started' : `domain ${created.domid} (${created.name}) destroyed`;
    process.stderr.write(`pvkvm: interrupted (${interrupted}): ${what}\n`);
    return SIGNAL_EXIT[interrupted!] ?? 130;
  };
  try {
    const dead = (): string | null => {
      const d = daemons.find((x) => x.child.exitCode !== null);
      return d ? `the ${d.kind} daemon exited at start-up:\n${logTail(runDir, d.kind)}` : null;
    };
    try {
      client = await waitForDom0(runDir, 30_000, () => (interrupted !== null ? 'interrupted' : dead()));
    } catch (err) {
      if (interrupted !== null) return interruptedExit();
      throw err;
    }
    let firstOutput = true;
    client.on('output', (bytes) => {
      if (firstOutput) mark('first-output');
      firstOutput = false;
      process.stdout.write(bytes);
    });
    client.on('first-entry', (atMs) => mark('first-instruction', atMs));
    const ended = new Promise<DomainEndReport>((res, rej) => {
      client!.once('end', res);
      client!.once('close', () => rej(new PvkvmError(`dom0 went away:\n${logTail(runDir, 'dom0')}\n${logTail(runDir, 'hypervisor')}`)));
    });
    ended.catch(() => undefined); // observed below; an early failure must not surface twice
    const settings = {
      name: opts.domain.name, kernel: resolve(opts.kernelPath), cmdline: opts.domain.cmdline, memoryMiB: opts.domain.memoryMiB,
      vcpus: opts.domain.vcpus, modules: opts.modulePaths.map((p) => resolve(p)),
      disks: opts.disks.map((d) => ({ ...d, target: resolve(d.target) })),
      vifs: opts.vifs,
      emulatedDisks: opts.emulatedDisks.map((d) => ({ ...d, target: resolve(d.target) })),
      console: opts.console,
      showConsoleIo: opts.showConsoleIo,
      onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy',
    };
    try {
      created = await client.request<{ domid: number; name: string }>('create', { settings, console: true });
    } catch (err) {
      if (interrupted !== null) return interruptedExit();
      throw err;
    }
    if (interrupted !== null) destroy('interrupted');
    const timer = opts.timeoutS > 0 ? setTimeout(() => { timedOut = true; destroy('timeout'); }, opts.timeoutS * 1000) : null;
    let report: DomainEndReport;
    try {
      report = await ended;
    } catch (err) {
      // Interrupted: dom0 may go before it reports the end (the signal reached it too); either way the domain is gone.
      if (interrupted !== null) return interruptedExit();
      throw err;
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
    if (interrupted !== null) return interruptedExit();
    const how = timedOut ? `timed out after ${opts.timeoutS} s` : describeEnd(report);
    if (!opts.quiet) process.stderr.write(`pvkvm: domain ${created.domid} (${created.name}) ${how}\n`);
    mark('guest-end');
    return exitCodeFor(report, timedOut);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    client?.close();
    await stopDaemons(daemons);
    rmSync(runDir, { recursive: true, force: true });
  }
}
