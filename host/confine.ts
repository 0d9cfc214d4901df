// confine.ts: how a pvkvm daemon gives up what it does not need — a private mount namespace
// hiding device files, a smaller capability bounding set and no_new_privs, applied by the main
// thread just before it re-executes the daemon (capabilities and namespaces are per-thread, and
// Node always has several threads); then, in the new program, a seccomp filter on every thread.
import { existsSync } from 'node:fs';
import { libc, errno, HostError } from './libc.ts';
import { dropBoundingSet, CAPABILITY_NAMES, type CapabilityName } from './capabilities.ts';
import { buildFilter, installFilter, type SeccompPolicy } from './seccomp.ts';
import { readConfinement } from './confine-status.ts';

export interface ConfinementPolicy {
  /** Capabilities the daemon keeps (bounding, and so effective, set when run as root). */
  readonly keepCapabilities: readonly CapabilityName[];
  /**
   * Device files made unopenable (EACCES) in a private mount namespace: each is bind-mounted
   * over itself and that mount remounted nodev, read-only.
   */
  readonly hideDevices: readonly string[];
  /**
   * Not dumpable: another process of the same user without CAP_SYS_PTRACE (dom0) can then
   * neither ptrace it nor reopen its files or read its memory through /proc/PID/{fd,mem}.
   */
  readonly undumpable: boolean;
  readonly seccomp: SeccompPolicy;
}

/** What was applied, and what was not (with why), in one-phrase entries. */
export interface ConfinementReport {
  readonly applied: string[];
  readonly notApplied: string[];
}

/** Carries stage one's report to the re-executed daemon (and says it is the re-executed one). */
const STAGE_ENV = 'PVKVM_CONFINE_STAGE';

const CLONE_NEWNS = 0x00020000;
const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_REMOUNT = 0x20;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_SLAVE = 1 << 19;
const PR_SET_DUMPABLE = 4;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_LOWER = 3;
const F_SETFD = 2;

const why = (): string => libc.strerror(errno());

/** True in the re-executed daemon (stage two). */
export function confinementPrepared(): boolean {
  return process.env[STAGE_ENV] !== undefined;
}

/** A private mount namespace in which each of `devices` that exists cannot be opened. */
function hideDevices(devices: readonly string[], report: ConfinementReport): void {
  const present = devices.filter((d) => existsSync(d));
  if (present.length === 0) return;
  // Only this (the main) thread moves to the new namespace: the execve that follows takes it along.
  if (libc.unshare(CLONE_NEWNS) !== 0) {
    report.notApplied.push(`private mount namespace (${why()}): ${present.join(', ')} reachable as their permissions allow`);
    return;
  }
  // Host mounts still propagate in; nothing done here propagates out.
  if (libc.mount(null, '/', null, MS_REC | MS_SLAVE, null) !== 0) {
    report.notApplied.push(`private mount namespace (making / a slave: ${why()})`);
    return;
  }
  for (const dev of present) {
    if (libc.mount(dev, dev, null, MS_BIND, null) !== 0 ||
        libc.mount(null, dev, null, MS_REMOUNT | MS_BIND | MS_NODEV | MS_NOSUID | MS_NOEXEC | MS_RDONLY, null) !== 0) {
      report.notApplied.push(`hiding ${dev} (${why()})`);
      continue;
    }
    report.applied.push(`${dev} hidden (private mount namespace)`);
  }
}

/** Bounding set (and ambient set) down to `keep`. */
function dropCapabilities(keep: readonly CapabilityName[], report: ConfinementReport): void {
  const held = readConfinement(process.pid).capEff;
  for (let cap = 0; cap < CAPABILITY_NAMES.length; cap++) {
    // Ambient capabilities survive execve whatever the bounding set: lower them too (unprivileged).
    if (!keep.includes(CAPABILITY_NAMES[cap]!)) libc.prctl(PR_CAP_AMBIENT, 'unsigned long', PR_CAP_AMBIENT_LOWER, 'unsigned long', cap, 'unsigned long', 0, 'unsigned long', 0);
  }
  try {
    dropBoundingSet(keep);
    report.applied.push(`capabilities limited to ${keep.length === 0 ? 'none' : keep.join(', ')}`);
  } catch (err) {
    // Without CAP_SETPCAP there is no bounding set to shrink; nothing is held to drop either.
    if (held === 0n) report.applied.push('no capabilities held');
    else report.notApplied.push(`capability bounding set (${(err as Error).message})`);
  }
}

/**
 * Stage one: apply the per-thread parts of `policy` to this thread and execute `argv` (by default
 * this very command: same pid, arguments, stdio) with them. Returns only by throwing.
 */
export function reexecConfined(policy: ConfinementPolicy, argv: readonly string[] = [process.execPath, ...process.execArgv, ...process.argv.slice(1)]): never {
  const report: ConfinementReport = { applied: [], notApplied: [] };
  hideDevices(policy.hideDevices, report);
  dropCapabilities(policy.keepCapabilities, report);
  if (libc.prctl(PR_SET_NO_NEW_PRIVS, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) === 0) {
    report.applied.push('no_new_privs');
  } else {
    report.notApplied.push(`no_new_privs (${why()})`);
  }
  const env = Object.entries({ ...process.env, [STAGE_ENV]: JSON.stringify(report) }).map(([k, v]) => `${k}=${v ?? ''}`);
  // Node marks every inherited descriptor close-on-exec at start-up; stdio must survive this one.
  for (const fd of [0, 1, 2]) libc.fcntl(fd, F_SETFD, 0);
  libc.execve(argv[0]!, [...argv, null], [...env, null]);
  throw new HostError(`confinement: executing ${argv[0]}`, errno());
}

/**
 * Stage two, in the re-executed daemon before it starts anything: the process-wide parts
 * (dumpable, the seccomp filter on every thread). Returns the whole report.
 */
export function finishConfinement(policy: ConfinementPolicy): ConfinementReport {
  let report: ConfinementReport = { applied: [], notApplied: [] };
  try {
    const carried = JSON.parse(process.env[STAGE_ENV] ?? '') as ConfinementReport;
    if (Array.isArray(carried.applied) && Array.isArray(carried.notApplied)) report = { applied: [...carried.applied], notApplied: [...carried.notApplied] };
  } catch {
    report.notApplied.push(`stage one's report (${STAGE_ENV} unreadable)`);
  }
  // Not for the processes this daemon starts (dom0's `ip`): they are not re-executed daemons.
  delete process.env[STAGE_ENV];
  if (policy.undumpable) {
    if (libc.prctl(PR_SET_DUMPABLE, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) === 0) {
      report.applied.push('not dumpable');
    } else {
      report.notApplied.push(`not dumpable (${why()})`);
    }
  }
  if (process.arch !== 'x64') {
    report.notApplied.push(`seccomp (no policy for ${process.arch})`);
  } else {
    try {
      installFilter(buildFilter(policy.seccomp));
      report.applied.push(`seccomp (${policy.seccomp.deny.length} system calls refused)`);
    } catch (err) {
      report.notApplied.push(`seccomp (${(err as Error).message})`);
    }
  }
  return report;
}

/** The report as the one log line a daemon writes. */
export function describeReport(r: ConfinementReport): string {
  return `confinement: ${r.applied.join('; ') || 'nothing applied'}` +
    (r.notApplied.length > 0 ? ` — NOT applied: ${r.notApplied.join('; ')}` : '');
}
