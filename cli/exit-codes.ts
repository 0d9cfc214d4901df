// exit-codes.ts: how a domain's end, as dom0 reports it, becomes `pvkvm run`'s exit status and a
// one-line description (both documented in the README).
import { SHUTDOWN } from '../abi/sched.ts';
import type { DomainEndReport } from '../abi/control.ts';

export const EXIT = {
  /** The guest powered off. */
  poweroff: 0,
  /** pvkvm itself failed (host error, bad image). */
  error: 1,
  /** Bad command line. */
  usage: 2,
  reboot: 11,
  suspend: 12,
  crash: 13,
  watchdog: 14,
  soft_reset: 15,
  /** The guest faulted fatally (triple fault, KVM internal error, unhandled exit). */
  fault: 16,
  /** `--timeout` expired before the guest shut down. */
  timeout: 124,
} as const;

const BY_REASON: Record<number, number> = {
  [SHUTDOWN.values.poweroff]: EXIT.poweroff,
  [SHUTDOWN.values.reboot]: EXIT.reboot,
  [SHUTDOWN.values.suspend]: EXIT.suspend,
  [SHUTDOWN.values.crash]: EXIT.crash,
  [SHUTDOWN.values.watchdog]: EXIT.watchdog,
  [SHUTDOWN.values.soft_reset]: EXIT.soft_reset,
};

export const REASON_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(SHUTDOWN.values).map(([k, v]) => [v, k]),
);

export function exitCodeFor(end: DomainEndReport, timedOut: boolean): number {
  if (timedOut) return EXIT.timeout;
  switch (end.kind) {
    // An unknown reason is treated as a crash: the guest did not power off cleanly.
    case 'shutdown': return BY_REASON[end.reason] ?? EXIT.crash;
    case 'fault': return EXIT.fault;
    default: return EXIT.error;
  }
}

export function describeEnd(e: DomainEndReport): string {
  switch (e.kind) {
    case 'shutdown': return `shut down: ${REASON_NAME[e.reason] ?? `unknown reason ${e.reason}`}`;
    case 'fault': return `faulted on vCPU ${e.fault_vcpu} at rip ${e.fault_rip}: ${e.fault_kind} (${e.detail})`;
    default: return `destroyed: ${e.detail}`;
  }
}

export const EXIT_CODE_HELP = `Exit status:
  0    the guest powered off          11   reboot        12  suspend
  13   crash (or an unknown reason)   14   watchdog      15  soft_reset
  16   the guest faulted (triple fault, KVM internal error, unhandled exit)
  124  --timeout expired              1    pvkvm error   2   usage error`;
