// libc.ts: the one koffi binding of libc — every OS call pvkvm makes that Node does not offer
// (ioctl, mmap, memfd, eventfd, epoll, signals, sockets with SCM_RIGHTS, vectored file I/O,
// and the confinement calls: prctl, unshare, mount, execve, raw syscall).
import koffi from 'koffi';
import { PvkvmError } from './errors.ts';

const lib = koffi.load('libc.so.6');
const ioctlPtrFn = lib.func('ioctl', 'int', ['int', 'unsigned long', 'void *']);

/** Opaque native pointer as koffi hands it back (never dereferenced in JS directly). */
export type NativePointer = unknown;

export const libc = {
  open: lib.func('int open(const char *path, int flags, int mode)') as (p: string, f: number, m: number) => number,
  close: lib.func('int close(int fd)') as (fd: number) => number,
  /** ioctl with no argument or an integer argument. */
  ioctlInt: lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']) as
    (fd: number, req: number, arg: number | bigint) => number,
  /** ioctl with a pointer to a caller-owned buffer. */
  ioctlPtr: ioctlPtrFn as (fd: number, req: number, arg: ArrayBufferView | null) => number,
  mmap: lib.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)') as
    (addr: null, len: number, prot: number, flags: number, fd: number, off: number | bigint) => NativePointer,
  munmap: lib.func('int munmap(void *addr, size_t len)') as (addr: NativePointer, len: number) => number,
  /** By address: the hypervisor changes access to parts of a mapping it knows by its address. */
  mprotect: lib.func('int mprotect(uint64_t addr, size_t len, int prot)') as (addr: bigint, len: number, prot: number) => number,
  memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)') as (n: string, f: number) => number,
  ftruncate: lib.func('int ftruncate(int fd, int64_t len)') as (fd: number, len: number | bigint) => number,
  eventfd: lib.func('int eventfd(unsigned int initval, int flags)') as (v: number, f: number) => number,
  read: lib.func('int64_t read(int fd, void *buf, size_t n)') as (fd: number, b: ArrayBufferView, n: number) => number,
  write: lib.func('int64_t write(int fd, const void *buf, size_t n)') as (fd: number, b: ArrayBufferView, n: number) => number,
  pthreadSelf: lib.func('uint64_t pthread_self()') as () => bigint,
  pthreadKill: lib.func('int pthread_kill(uint64_t thread, int sig)') as (t: bigint, sig: number) => number,
  pthreadSetname: lib.func('int pthread_setname_np(uint64_t thread, const char *name)') as (t: bigint, name: string) => number,
  /** sched_setscheduler(0, …) applies to the calling thread; `param` is struct sched_param (one int). */
  schedSetscheduler: lib.func('int sched_setscheduler(int pid, int policy, const void *param)') as
    (pid: number, policy: number, param: Int32Array) => number,
  /** Hard CPU affinity of thread `tid` (another process's thread too, same user): a cpu_set_t bitmask. */
  schedSetaffinity: lib.func('int sched_setaffinity(int pid, size_t size, const void *mask)') as
    (tid: number, size: number, mask: Uint8Array) => number,
  schedGetaffinity: lib.func('int sched_getaffinity(int pid, size_t size, void *mask)') as
    (tid: number, size: number, mask: Uint8Array) => number,
  strerror: lib.func('const char *strerror(int errnum)') as (e: number) => string,
  getpid: lib.func('int getpid()') as () => number,
  epollCreate1: lib.func('int epoll_create1(int flags)') as (flags: number) => number,
  /** epoll_ctl with a packed struct epoll_event (u32 events, u64 data: 12 bytes on x86_64). */
  epollCtl: lib.func('int epoll_ctl(int epfd, int op, int fd, void *event)') as
    (epfd: number, op: number, fd: number, event: ArrayBufferView | null) => number,
  epollWait: lib.func('int epoll_wait(int epfd, void *events, int max, int timeout)') as
    (epfd: number, events: ArrayBufferView, max: number, timeoutMs: number) => number,
  dup: lib.func('int dup(int fd)') as (fd: number) => number,
  fcntl: lib.func('int fcntl(int fd, int cmd, int arg)') as (fd: number, cmd: number, arg: number) => number,
  lseek: lib.func('int64_t lseek(int fd, int64_t off, int whence)') as (fd: number, off: number, whence: number) => number,
  // Vectored file I/O and the disk calls of host/block-io.ts; iovec arrays live in native memory.
  preadv: lib.func('int64_t preadv(int fd, uintptr_t iov, int cnt, int64_t off)') as (fd: number, iov: bigint, n: number, off: number) => number,
  pwritev: lib.func('int64_t pwritev(int fd, uintptr_t iov, int cnt, int64_t off)') as (fd: number, iov: bigint, n: number, off: number) => number,
  fdatasync: lib.func('int fdatasync(int fd)') as (fd: number) => number,
  fallocate: lib.func('int fallocate(int fd, int mode, int64_t off, int64_t len)') as (fd: number, m: number, off: number, len: number) => number,
  // Sockets (host/unix-fds.ts): every structure is passed by native address, never a JS buffer.
  socket: lib.func('int socket(int domain, int type, int protocol)') as (d: number, t: number, p: number) => number,
  bind: lib.func('int bind(int fd, uintptr_t addr, uint32_t len)') as (fd: number, a: bigint, l: number) => number,
  listen: lib.func('int listen(int fd, int backlog)') as (fd: number, b: number) => number,
  connect: lib.func('int connect(int fd, uintptr_t addr, uint32_t len)') as (fd: number, a: bigint, l: number) => number,
  accept4: lib.func('int accept4(int fd, uintptr_t addr, uintptr_t len, int flags)') as
    (fd: number, a: bigint, l: bigint, f: number) => number,
  sendmsg: lib.func('int64_t sendmsg(int fd, uintptr_t msg, int flags)') as (fd: number, m: bigint, f: number) => number,
  recvmsg: lib.func('int64_t recvmsg(int fd, uintptr_t msg, int flags)') as (fd: number, m: bigint, f: number) => number,
  socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)') as (d: number, t: number, p: number, sv: Int32Array) => number,
  getsockopt: lib.func('int getsockopt(int fd, int level, int name, uintptr_t val, uintptr_t len)') as
    (fd: number, level: number, name: number, v: bigint, l: bigint) => number,
  // Confinement (host/confine.ts). prctl and syscall are variadic: each extra argument is passed
  // as a (type, value) pair, e.g. libc.prctl(PR_CAPBSET_DROP, 'unsigned long', cap).
  prctl: lib.func('int prctl(int option, ...)') as (option: number, ...typedArgs: unknown[]) => number,
  syscall: lib.func('long syscall(long nr, ...)') as (nr: number, ...typedArgs: unknown[]) => number,
  unshare: lib.func('int unshare(int flags)') as (flags: number) => number,
  mount: lib.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const void *data)') as
    (src: string | null, target: string, fstype: string | null, flags: number, data: null) => number,
  /** argv and envp end with null. Returns only on failure. */
  execve: lib.func('int execve(const char *path, const char **argv, const char **envp)') as
    (path: string, argv: (string | null)[], envp: (string | null)[]) => number,
  /** memmove(dst, dst, 0) returns dst: the way to turn a known host address back into a pointer. */
  pointerAt: lib.func('void *memmove(uintptr_t dst, uintptr_t src, size_t n)') as
    (dst: bigint, src: bigint, n: number) => NativePointer,
};

export const O_RDWR = 0o2;
export const O_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_FAILED = -1n;
export const MFD_CLOEXEC = 1;
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
export const SIGUSR2 = 12;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 1;
/** Report once, then stay disabled until EPOLL_CTL_MOD re-arms (one wake-up per burst). */
export const EPOLLONESHOT = 1 << 30;
export const EPOLL_CLOEXEC = 0o2000000;
export const EINTR = 4;
export const EFAULT = 14;
export const EAGAIN = 11;

/** An OS call failed; `errno` is the raw host errno. */
/**
 * Name the calling thread (its /proc/PID/task/TID/comm, at most 15 bytes), so per-thread CPU time
 * and profiles say which vCPU, relay or data path a thread is. Best effort: a refusal is ignored.
 */
export function nameThread(name: string): void {
  libc.pthreadSetname(libc.pthreadSelf(), name.slice(0, 15));
}

const SCHED_BATCH = 3;

/**
 * Make the calling thread SCHED_BATCH (same priority, same share of the CPU): when something
 * wakes it, it does not preempt the thread running on that CPU, it runs on an idle CPU or at the
 * next scheduling point. For helper threads that guest sends wake and whose work need not come
 * first (the relay thread, dom0's event thread): otherwise each wake-up can preempt the very vCPU
 * thread that sent, which then pays a context switch and KVM's vCPU reload (~7 µs here,
 * docs/host-kvm.md §1.2) per event. Best effort: false if the kernel refused.
 */
export function batchWakeups(): boolean {
  return libc.schedSetscheduler(0, SCHED_BATCH, new Int32Array(1)) === 0;
}

export class HostError extends PvkvmError {
  constructor(readonly what: string, readonly errno: number) {
    super(errno !== 0 ? `${what}: ${libc.strerror(errno)} (errno ${errno})` : `${what} failed`);
  }
}

export function errno(): number {
  return koffi.errno();
}

/** Throw a HostError when a libc call returned -1. */
export function check(ret: number, what: string): number {
  if (ret < 0) throw new HostError(what, koffi.errno());
  return ret;
}

/**
 * A JS view of `len` bytes at host address `addr` — memory another thread mapped (this process's
 * address space is shared by all threads). The caller guarantees the mapping outlives the view.
 */
export function viewAt(addr: bigint, len: number): Uint8Array {
  return new Uint8Array(koffi.view(libc.pointerAt(addr, addr, 0), len) as ArrayBuffer);
}

/**
 * A mapping: the pointer (for munmap), its host address, and a JS view of it. The view is made on
 * first use: a typed array cannot span a mapping of 2 GiB or more, and whole-guest mappings
 * used only by address never need one.
 */
export interface HostMapping {
  readonly ptr: NativePointer;
  readonly addr: bigint;
  readonly bytes: Uint8Array;
}

function mapped(ptr: NativePointer, len: number, what: string): HostMapping {
  const addr = koffi.address(ptr) as bigint;
  if (addr === 0xffffffffffffffffn || addr === MAP_FAILED) throw new HostError(what, koffi.errno());
  let view: Uint8Array | null = null;
  return {
    ptr, addr,
    get bytes(): Uint8Array {
      view ??= new Uint8Array(koffi.view(ptr, len) as ArrayBuffer);
      return view;
    },
  };
}

/** Map `len` bytes of `fd` at `offset`, shared and read/write. */
export function mapShared(fd: number, len: number, offset = 0): HostMapping {
  return mapped(libc.mmap(null, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset), len, 'mmap');
}

/**
 * Private zeroed native memory: for structures handed to the kernel by address (iovecs, msghdrs)
 * and buffers that must not move, which JS buffers may.
 */
export function mapAnonymous(len: number, what = 'mmap anonymous memory'): HostMapping {
  return mapped(libc.mmap(null, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), len, what);
}
