// unix-fds.ts: the Unix-socket calls Node does not offer — SOCK_SEQPACKET sockets, passing file
// descriptors with SCM_RIGHTS, and reading the peer's credentials (SO_PEERCRED) — through koffi.
//
// Structures are built in one private anonymous page per thread (msghdr, iovec, cmsg, sockaddr),
// so no JS buffer address ever has to be embedded in native memory.
import { libc, mapAnonymous, check, errno, HostError } from './libc.ts';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SO_PEERCRED = 17;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const MSG_CTRUNC = 0x08;
/** More fds than any single reply of the privileged interface carries. */
export const MAX_FDS_PER_MESSAGE = 64;

// Scratch page layout.
const MSGHDR = 0;      // struct msghdr, 56 bytes
const IOVEC = 64;      // struct iovec, 16 bytes
const SOCKADDR = 128;  // struct sockaddr_un, 110 bytes
const INT_OUT = 240;   // socklen_t / small outputs
const CRED = 256;      // struct ucred, 12 bytes
const DATA = 512;      // message payload, up to 1 KiB
const DATA_MAX = 1024;
const CONTROL = 2048;  // cmsghdr (16) + fds
const CONTROL_MAX = 16 + 4 * MAX_FDS_PER_MESSAGE;

let scratch: { addr: bigint; view: DataView; bytes: Uint8Array } | null = null;

function page(): { addr: bigint; view: DataView; bytes: Uint8Array } {
  if (scratch === null) {
    const { addr, bytes } = mapAnonymous(4096, 'mmap scratch page');
    scratch = { addr, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, 4096) };
  }
  return scratch;
}

/** Fill sockaddr_un for `path` in the scratch page; returns its length. */
function sockaddr(path: string): number {
  const s = page();
  const name = Buffer.from(path);
  if (name.length >= 108) throw new HostError(`socket path too long: ${path}`, 36 /* ENAMETOOLONG */);
  s.bytes.fill(0, SOCKADDR, SOCKADDR + 110);
  s.view.setUint16(SOCKADDR, AF_UNIX, true);
  s.bytes.set(name, SOCKADDR + 2);
  return 2 + name.length + 1;
}

/** A listening SOCK_SEQPACKET socket at `path` (non-blocking, close-on-exec). */
export function listenSeqpacket(path: string, backlog = 8): number {
  const fd = check(libc.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), 'socket');
  try {
    const len = sockaddr(path);
    check(libc.bind(fd, page().addr + BigInt(SOCKADDR), len), `bind ${path}`);
    check(libc.listen(fd, backlog), 'listen');
    return fd;
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

/**
 * Connect a SOCK_SEQPACKET socket to `path`. Non-blocking: a listener whose backlog is full
 * answers EAGAIN at once instead of hanging the caller.
 */
export function connectSeqpacket(path: string): number {
  const fd = check(libc.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), 'socket');
  try {
    const len = sockaddr(path);
    check(libc.connect(fd, page().addr + BigInt(SOCKADDR), len), `connect ${path}`);
    return fd;
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

/** Accept one pending connection without blocking: the new (non-blocking) fd, or -1 when none is pending. */
export function acceptNonblocking(listenFd: number): number {
  const fd = libc.accept4(listenFd, 0n, 0n, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    const e = errno();
    if (e === 11 /* EAGAIN */ || e === 4 /* EINTR */) return -1;
    throw new HostError('accept4', e);
  }
  return fd;
}

/** Send one record of `data` (≤ 1 KiB) with `fds` attached. */
export function sendWithFds(fd: number, data: Uint8Array, fds: readonly number[]): void {
  if (data.length === 0 || data.length > DATA_MAX) throw new RangeError('sendWithFds: 1..1024 bytes of data');
  if (fds.length > MAX_FDS_PER_MESSAGE) throw new RangeError(`sendWithFds: at most ${MAX_FDS_PER_MESSAGE} fds`);
  const s = page();
  s.bytes.fill(0, 0, DATA);
  s.bytes.set(data, DATA);
  s.view.setBigUint64(IOVEC, s.addr + BigInt(DATA), true);
  s.view.setBigUint64(IOVEC + 8, BigInt(data.length), true);
  s.view.setBigUint64(MSGHDR + 16, s.addr + BigInt(IOVEC), true); // msg_iov
  s.view.setBigUint64(MSGHDR + 24, 1n, true);                     // msg_iovlen
  if (fds.length > 0) {
    const cmsgLen = 16 + 4 * fds.length;
    s.view.setBigUint64(CONTROL, BigInt(cmsgLen), true); // cmsg_len
    s.view.setInt32(CONTROL + 8, SOL_SOCKET, true);
    s.view.setInt32(CONTROL + 12, SCM_RIGHTS, true);
    fds.forEach((f, i) => s.view.setInt32(CONTROL + 16 + 4 * i, f, true));
    s.view.setBigUint64(MSGHDR + 32, s.addr + BigInt(CONTROL), true);            // msg_control
    s.view.setBigUint64(MSGHDR + 40, BigInt((cmsgLen + 7) & ~7), true);          // msg_controllen
  }
  for (;;) {
    const n = libc.sendmsg(fd, s.addr + BigInt(MSGHDR), 0x4000 /* MSG_NOSIGNAL */);
    if (n >= 0) return;
    const e = errno();
    if (e !== 4) throw new HostError('sendmsg', e);
  }
}

/**
 * Receive one record without blocking: its data and attached fds (close-on-exec), or null when
 * nothing is queued. Throws if the peer closed the socket.
 */
export function recvWithFds(fd: number): { data: Uint8Array; fds: number[] } | null {
  const s = page();
  s.bytes.fill(0, 0, DATA);
  s.view.setBigUint64(IOVEC, s.addr + BigInt(DATA), true);
  s.view.setBigUint64(IOVEC + 8, BigInt(DATA_MAX), true);
  s.view.setBigUint64(MSGHDR + 16, s.addr + BigInt(IOVEC), true);
  s.view.setBigUint64(MSGHDR + 24, 1n, true);
  s.view.setBigUint64(MSGHDR + 32, s.addr + BigInt(CONTROL), true);
  s.view.setBigUint64(MSGHDR + 40, BigInt(CONTROL_MAX), true);
  let n: number;
  for (;;) {
    n = libc.recvmsg(fd, s.addr + BigInt(MSGHDR), MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    const e = errno();
    if (e === 11) return null;
    if (e !== 4) throw new HostError('recvmsg', e);
  }
  if (n === 0) throw new HostError('recvmsg: peer closed the fd channel', 0);
  const fds: number[] = [];
  const controlLen = Number(s.view.getBigUint64(MSGHDR + 40, true));
  if (controlLen >= 16 && s.view.getInt32(CONTROL + 8, true) === SOL_SOCKET && s.view.getInt32(CONTROL + 12, true) === SCM_RIGHTS) {
    const cmsgLen = Number(s.view.getBigUint64(CONTROL, true));
    const count = Math.min((cmsgLen - 16) >> 2, MAX_FDS_PER_MESSAGE);
    for (let i = 0; i < count; i++) fds.push(s.view.getInt32(CONTROL + 16 + 4 * i, true));
  }
  if ((s.view.getInt32(MSGHDR + 48, true) & MSG_CTRUNC) !== 0) {
    for (const f of fds) libc.close(f);
    throw new HostError('recvmsg: too many fds in one message', 0);
  }
  return { data: s.bytes.slice(DATA, DATA + n), fds };
}

export interface PeerCredentials { readonly pid: number; readonly uid: number; readonly gid: number }

/** The credentials of the process at the other end of a connected Unix socket. */
export function peerCredentials(fd: number): PeerCredentials {
  const s = page();
  s.view.setUint32(INT_OUT, 12, true);
  check(libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, s.addr + BigInt(CRED), s.addr + BigInt(INT_OUT)), 'getsockopt SO_PEERCRED');
  return { pid: s.view.getInt32(CRED, true), uid: s.view.getUint32(CRED + 4, true), gid: s.view.getUint32(CRED + 8, true) };
}

/** The fd under a connected `net.Socket` (Unix sockets on Linux expose it on the libuv handle). */
export function socketFd(sock: object): number {
  const h = (sock as { _handle?: { fd?: unknown } })._handle;
  return h && typeof h.fd === 'number' ? h.fd : -1;
}
