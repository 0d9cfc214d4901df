// run.ts: `pvkvm run` — boot one guest, stream its console, exit with its shutdown reason.
import { Hypervisor } from '../domain/hypervisor.ts';
import type { DomainEnd } from '../domain/domain.ts';
import { exitCodeFor, REASON_NAME } from './exit-codes.ts';
import type { RunOptions } from './run-args.ts';

function describe(end: DomainEnd, timedOut: boolean, timeoutS: number): string {
  if (timedOut) return `timed out after ${timeoutS} s`;
  switch (end.kind) {
    case 'shutdown': return `shut down: ${REASON_NAME[end.reason] ?? `unknown reason ${end.reason}`}`;
    case 'fault': return `faulted on vCPU ${end.fault.vcpuId} at rip ${end.fault.rip}: ${end.fault.kind} (${end.fault.detail})`;
    case 'destroyed': return `destroyed: ${end.why}`;
  }
}

/** Boot the guest and resolve with the process exit code once it is gone. */
export async function runGuest(opts: RunOptions, workerUrl?: URL): Promise<number> {
  const hv = new Hypervisor(workerUrl);
  // PVKVM_BOOT_TRACE=1: timestamps (epoch ms) of each boot stage on stderr, for `bench boot`.
  const trace = process.env.PVKVM_BOOT_TRACE === '1';
  const mark = (event: string, atMs = performance.timeOrigin + performance.now()): void => {
    if (trace) process.stderr.write(`pvkvm-trace ${event} ${atMs.toFixed(3)}\n`);
  };
  mark('process-start', performance.timeOrigin);
  mark('hypervisor-start');
  let timedOut = false;
  try {
    const dom = hv.createDomain(opts.domain);
    let firstOutput = true;
    dom.on('console', (text) => {
      if (firstOutput) mark('first-output');
      firstOutput = false;
      process.stdout.write(text);
    });
    dom.on('first-entry', (atMs) => mark('first-instruction', atMs));
    const stopOnSignal = (): void => dom.destroy('interrupted');
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
    const timer = opts.timeoutS > 0 ? setTimeout(() => { timedOut = true; dom.destroy('timeout'); }, opts.timeoutS * 1000) : null;
    const end = await new Promise<DomainEnd>((resolve) => dom.once('dead', resolve));
    if (timer !== null) clearTimeout(timer);
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    if (!opts.quiet) process.stderr.write(`pvkvm: domain ${dom.domid} (${dom.name}) ${describe(end, timedOut, opts.timeoutS)}\n`);
    mark('guest-end');
    return exitCodeFor(end, timedOut);
  } finally {
    await hv.close();
  }
}
