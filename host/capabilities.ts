// capabilities.ts: Linux capability names, the capability masks /proc/PID/status shows, and
// dropping capabilities from the calling thread's bounding set before an execve.
import { readFileSync } from 'node:fs';
import { libc, errno, HostError } from './libc.ts';

/** capability(7) numbers 0..40, in order (CAP_CHOWN is 0); lower case, without the CAP_ prefix. */
export const CAPABILITY_NAMES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
] as const;

export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

const PR_CAPBSET_READ = 23;
const PR_CAPBSET_DROP = 24;

/** The highest capability this kernel knows (newer kernels may know more than CAPABILITY_NAMES). */
function lastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return CAPABILITY_NAMES.length - 1;
  }
}

/** The names of the capabilities in a /proc/PID/status mask (CapEff: 000001ffffffffff). */
export function capabilityNames(mask: bigint): string[] {
  const names: string[] = [];
  for (let i = 0; i < 64; i++) if ((mask >> BigInt(i)) & 1n) names.push(CAPABILITY_NAMES[i] ?? `cap_${i}`);
  return names;
}

/** The mask of `names`. */
export function capabilityMask(names: readonly CapabilityName[]): bigint {
  return names.reduce((m, n) => m | (1n << BigInt(CAPABILITY_NAMES.indexOf(n))), 0n);
}

/**
 * Drop every capability but `keep` from the calling thread's bounding set. Capabilities are
 * per-thread: this is meant for the thread about to execve, whose new program (as root) then
 * holds no capability outside the bounding set. Returns the names dropped; needs CAP_SETPCAP.
 */
export function dropBoundingSet(keep: readonly CapabilityName[]): string[] {
  const keepMask = capabilityMask(keep);
  const dropped: string[] = [];
  for (let cap = 0; cap <= lastCap(); cap++) {
    if ((keepMask >> BigInt(cap)) & 1n) continue;
    if (libc.prctl(PR_CAPBSET_READ, 'unsigned long', cap) !== 1) continue;
    if (libc.prctl(PR_CAPBSET_DROP, 'unsigned long', cap) !== 0) throw new HostError(`drop capability ${CAPABILITY_NAMES[cap] ?? cap}`, errno());
    dropped.push(CAPABILITY_NAMES[cap] ?? `cap_${cap}`);
  }
  return dropped;
}
