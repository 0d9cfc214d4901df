// confine-selftest.ts: PVKVM_CONFINE_SELFTEST=1 — a confined daemon tries what it should not be
// able to do and logs each outcome, so tests check confinement from inside the daemon. Every
// probe is harmless when it is NOT refused (a pid or path that does not exist, an empty read).
import { constants } from 'node:os';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { libc, errno, O_RDWR, O_CLOEXEC } from './libc.ts';
import { SYSCALLS_X86_64 as NR } from './syscalls-x86_64.ts';

/** Probe name → "ok" or the errno name it failed with. */
export type SelftestResult = Record<string, string>;

const errnoName = (e: number): string =>
  Object.entries(constants.errno).find(([, v]) => v === e)?.[0] ?? `errno ${e}`;

/** A raw-syscall outcome: "ok" for success, else the errno name. */
const outcome = (ret: number): string => (ret < 0 ? errnoName(errno()) : 'ok');

const PTRACE_ATTACH = 16;
/** Above any pid_max: an attach that is not refused fails with ESRCH. */
const NO_SUCH_PID = 0x7ffffff0;
const CLONE_NEWUSER = 0x10000000;
const S_IFCHR = 0o020000;
/** makedev(10, 232): /dev/kvm's device number. */
const KVM_DEV = (10 << 8) | 232;
const long = (v: number | bigint): unknown[] => ['int64_t', BigInt(v)];

function tryOpen(path: string, flags: number): string {
  const fd = libc.open(path, flags | O_CLOEXEC, 0);
  if (fd < 0) return errnoName(errno());
  libc.close(fd);
  return 'ok';
}

/** Reopen every descriptor of another process through /proc: the distinct outcomes, sorted. */
function tryReopenFds(pid: number): string {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  }
  const outcomes = new Set(names.map((n) => tryOpen(`/proc/${pid}/fd/${n}`, O_RDWR)));
  return [...outcomes].sort().join(',') || 'no descriptors';
}

/**
 * Run every probe. `scratchDir` is where a device node may (if not refused) be made and removed;
 * `otherPid`, when given, is a daemon whose /proc files this one should not be able to open.
 */
export function confinementSelftest(scratchDir: string, otherPid: number | null): SelftestResult {
  const r: SelftestResult = {};
  r['open /dev/kvm'] = tryOpen('/dev/kvm', O_RDWR);
  r.ptrace = outcome(libc.syscall(NR.ptrace, ...long(PTRACE_ATTACH), ...long(NO_SUCH_PID), ...long(0), ...long(0)));
  // Zero iovecs from our own pid: succeeds unless refused.
  r.process_vm_readv = outcome(libc.syscall(NR.process_vm_readv, ...long(process.pid), ...long(0), ...long(0), ...long(0), ...long(0), ...long(0)));
  r.mount = outcome(libc.mount('none', '/nonexistent-pvkvm-selftest', 'tmpfs', 0, null));
  r.init_module = outcome(libc.syscall(NR.init_module, ...long(0), ...long(0), ...long(0)));
  r.kexec_load = outcome(libc.syscall(NR.kexec_load, ...long(0), ...long(0), ...long(0), ...long(0)));
  r.bpf = outcome(libc.syscall(NR.bpf, ...long(0x7fff), ...long(0), ...long(0)));
  // The query form (0xffffffff) changes nothing.
  r.personality = outcome(libc.syscall(NR.personality, ...long(0xffffffff)));
  r.setns = outcome(libc.syscall(NR.setns, ...long(-1), ...long(0)));
  // A multi-threaded process may not make a user namespace anyway (EINVAL) unless this is refused first.
  r['unshare(CLONE_NEWUSER)'] = outcome(libc.syscall(NR.unshare, ...long(CLONE_NEWUSER)));
  // A null path: EFAULT unless refused.
  r.execve = outcome(libc.syscall(NR.execve, ...long(0), ...long(0), ...long(0)));
  const node = join(scratchDir, `.selftest-kvm-node-${process.pid}`);
  r['mknod kvm'] = outcome(libc.syscall(NR.mknod, 'const char *', node, ...long(S_IFCHR | 0o600), ...long(KVM_DEV)));
  rmSync(node, { force: true });
  if (otherPid !== null) {
    r['open /proc/OTHER/fd/*'] = tryReopenFds(otherPid);
    r['open /proc/OTHER/mem'] = tryOpen(`/proc/${otherPid}/mem`, 0);
    // Its root, in its mount namespace, where /dev/kvm is not hidden.
    r['open /proc/OTHER/root/dev/kvm'] = tryOpen(`/proc/${otherPid}/root/dev/kvm`, O_RDWR);
  }
  return r;
}
