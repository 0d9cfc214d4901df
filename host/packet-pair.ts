// packet-pair.ts: a non-blocking SOCK_SEQPACKET socketpair — the wire between an emulated NIC in the
// hypervisor and its port on dom0's switch (one datagram = one Ethernet frame, boundaries kept).
import { libc, errno, EAGAIN, HostError } from './libc.ts';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
/** Larger than any frame either side accepts (1518), so a datagram is never truncated. */
export const PACKET_MAX = 2048;

/** Two connected, non-blocking, close-on-exec ends. */
export function seqpacketPair(): [number, number] {
  const sv = new Int32Array(2);
  if (libc.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) throw new HostError('socketpair', errno());
  return [sv[0]!, sv[1]!];
}

/** One end as a frame pipe: sends never block (a full peer drops the frame), reads return null when empty. */
export class PacketEnd {
  private readonly buf = new Uint8Array(PACKET_MAX);
  /** Frames the peer's queue had no room for, and read errors other than "empty". */
  dropped = 0;

  constructor(readonly fd: number) {}

  send(frame: Uint8Array): boolean {
    if (libc.write(this.fd, frame, frame.length) === frame.length) return true;
    this.dropped++;
    return false;
  }

  /** The next datagram (a copy), or null if none is waiting or the peer has gone. */
  take(): Uint8Array | null {
    const n = libc.read(this.fd, this.buf, PACKET_MAX);
    if (n > 0) return this.buf.slice(0, n);
    if (n < 0 && errno() !== EAGAIN) this.dropped++;
    return null;
  }
}
