// confine-status.ts: a process's confinement as the kernel reports it in /proc/PID — for
// `pvkvm up`'s summary and for tests, which check the daemons from the outside.
import { readFileSync, readlinkSync } from 'node:fs';
import { capabilityNames } from './capabilities.ts';

export interface ConfinementStatus {
  readonly noNewPrivs: boolean;
  /** 0 none, 1 strict, 2 filter. */
  readonly seccomp: number;
  readonly capEff: bigint;
  readonly capBnd: bigint;
  /** Its mount namespace differs from the reader's. */
  readonly ownMountNamespace: boolean;
}

/** Throws (ENOENT) if the process is gone. */
export function readConfinement(pid: number): ConfinementStatus {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '0';
  let ownMountNamespace = false;
  try {
    ownMountNamespace = readlinkSync(`/proc/${pid}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt');
  } catch {
    // Unreadable (not dumpable and we lack CAP_SYS_PTRACE): say nothing about it.
  }
  return {
    noNewPrivs: field('NoNewPrivs') === '1',
    seccomp: Number(field('Seccomp')),
    capEff: BigInt(`0x${field('CapEff')}`),
    capBnd: BigInt(`0x${field('CapBnd')}`),
    ownMountNamespace,
  };
}

/** One phrase: "seccomp, no_new_privs, own mounts, capabilities: net_admin". */
export function describeStatus(s: ConfinementStatus): string {
  const parts = [s.seccomp === 2 ? 'seccomp' : 'NO seccomp', s.noNewPrivs ? 'no_new_privs' : 'NO no_new_privs'];
  if (s.ownMountNamespace) parts.push('own mount namespace');
  const caps = capabilityNames(s.capEff);
  parts.push(`capabilities: ${caps.length === 0 ? 'none' : caps.length > 8 ? `${caps.length} of them` : caps.join(', ')}`);
  return parts.join(', ');
}
