// libc.ts: the libc entry points pvkvm calls through koffi (ioctl, mmap, memfd, eventfd, signals).
import koffi from 'koffi';
import { PvkvmError } from '../errors.ts';

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
  memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)') as (n: string, f: number) => number,
  ftruncate: lib.func('int ftruncate(int fd, int64_t len)') as (fd: number, len: number | bigint) => number,
  eventfd: lib.func('int eventfd(unsigned int initval, int flags)') as (v: number, f: number) => number,
  read: lib.func('int64_t read(int fd, void *buf, size_t n)') as (fd: number, b: ArrayBufferView, n: number) => number,
  write: lib.func('int64_t write(int fd, const void *buf, size_t n)') as (fd: number, b: ArrayBufferView, n: number) => number,
  pthreadSelf: lib.func('uint64_t pthread_self()') as () => bigint,
  pthreadKill: lib.func('int pthread_kill(uint64_t thread, int sig)') as (t: bigint, sig: number) => number,
  strerror: lib.func('const char *strerror(int errnum)') as (e: number) => string,
  getpid: lib.func('int getpid()') as () => number,
  epollCreate1: lib.func('int epoll_create1(int flags)') as (flags: number) => number,
  /** epoll_ctl with a packed struct epoll_event (u32 events, u64 data: 12 bytes on x86_64). */
  epollCtl: lib.func('int epoll_ctl(int epfd, int op, int fd, void *event)') as
    (epfd: number, op: number, fd: number, event: ArrayBufferView | null) => number,
  epollWait: lib.func('int epoll_wait(int epfd, void *events, int max, int timeout)') as
    (epfd: number, events: ArrayBufferView, max: number, timeoutMs: number) => number,
  /** memmove(dst, dst, 0) returns dst: the way to turn a known host address back into a pointer. */
  pointerAt: lib.func('void *memmove(uintptr_t dst, uintptr_t src, size_t n)') as
    (dst: bigint, src: bigint, n: number) => NativePointer,
};

export const O_RDWR = 0o2;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_FAILED = -1n;
export const MFD_CLOEXEC = 1;
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
export const SIGUSR2 = 12;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLLIN = 1;
export const EPOLL_CLOEXEC = 0o2000000;
export const EINTR = 4;
export const EAGAIN = 11;

/** An OS call failed; `errno` is the raw host errno. */
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

/** Map `len` bytes of `fd` shared read/write and return both the pointer and a JS view on it. */
export function mapShared(fd: number, len: number, offset = 0): { ptr: NativePointer; addr: bigint; bytes: Uint8Array } {
  const ptr = libc.mmap(null, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
  const addr = koffi.address(ptr) as bigint;
  if (addr === 0xffffffffffffffffn || addr === MAP_FAILED) throw new HostError('mmap', koffi.errno());
  const bytes = new Uint8Array(koffi.view(ptr, len) as ArrayBuffer);
  return { ptr, addr, bytes };
}
