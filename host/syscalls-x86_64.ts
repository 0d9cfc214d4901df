// syscalls-x86_64.ts: the x86_64 system call numbers that pvkvm's seccomp policies and the
// confinement self-test name (from the kernel's arch/x86/entry/syscalls/syscall_64.tbl).
export const SYSCALLS_X86_64 = {
  socket: 41, clone: 56, execve: 59, ptrace: 101, syslog: 103, mknod: 133, uselib: 134, personality: 135,
  ustat: 136, sysfs: 139, vhangup: 153, pivot_root: 155, _sysctl: 156, adjtimex: 159, chroot: 161, acct: 163,
  settimeofday: 164, mount: 165, umount2: 166, swapon: 167, swapoff: 168, reboot: 169, sethostname: 170,
  setdomainname: 171, iopl: 172, ioperm: 173, init_module: 175, delete_module: 176, quotactl: 179,
  lookup_dcookie: 212, clock_settime: 227, kexec_load: 246, add_key: 248, request_key: 249, keyctl: 250,
  mknodat: 259, unshare: 272, perf_event_open: 298, fanotify_init: 300, name_to_handle_at: 303,
  open_by_handle_at: 304, clock_adjtime: 305, setns: 308, process_vm_readv: 310, process_vm_writev: 311,
  kcmp: 312, finit_module: 313, seccomp: 317, kexec_file_load: 320, bpf: 321, execveat: 322, userfaultfd: 323,
  io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, open_tree: 428, move_mount: 429,
  fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, clone3: 435, pidfd_getfd: 438, mount_setattr: 442,
  quotactl_fd: 443,
} as const;

export type SyscallName = keyof typeof SYSCALLS_X86_64;
