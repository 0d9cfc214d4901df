// confine-baseline.ts: the system calls neither pvkvm daemon (nor a program dom0 runs, such as
// `ip`) ever makes — measured with strace over guests with disks, bridged vifs, save/restore —
// refused to both. Each daemon's policy adds its own refusals to these.
import type { SyscallName } from './syscalls-x86_64.ts';
import { CLONE_NAMESPACE_FLAGS, type SeccompPolicy } from './seccomp.ts';

export const BASELINE_DENY: readonly SyscallName[] = [
  // Reading or writing other processes.
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd',
  // The kernel itself: modules, kexec, reboot, swap, BPF, perf, keyrings, the log, clocks, names.
  'init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load', 'reboot', 'swapon', 'swapoff',
  'bpf', 'perf_event_open', 'keyctl', 'add_key', 'request_key', 'syslog', 'acct', 'quotactl', 'quotactl_fd',
  'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'sethostname', 'setdomainname', 'iopl', 'ioperm',
  'lookup_dcookie', 'uselib', 'ustat', 'sysfs', '_sysctl', 'vhangup', 'personality', 'userfaultfd', 'fanotify_init',
  // Mounts and namespaces: a daemon's view of the file system is fixed once it runs.
  'mount', 'umount2', 'pivot_root', 'chroot', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree',
  'mount_setattr', 'unshare', 'setns',
  // Files by handle (bypass path checks) and device nodes (a new /dev/kvm).
  'name_to_handle_at', 'open_by_handle_at', 'mknod', 'mknodat',
  // io_uring performs file and socket operations that no seccomp filter sees (libuv falls back).
  'io_uring_setup', 'io_uring_enter', 'io_uring_register',
];

/** The baseline as a policy: the list above, and no new namespaces through clone(). */
export function baselinePolicy(extraDeny: readonly SyscallName[] = [], socketFamilies?: readonly number[]): SeccompPolicy {
  return { deny: [...BASELINE_DENY, ...extraDeny], denyCloneFlags: CLONE_NAMESPACE_FLAGS, ...(socketFamilies ? { socketFamilies } : {}) };
}
