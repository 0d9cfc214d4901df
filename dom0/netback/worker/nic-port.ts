// nic-port.ts: an emulated NIC's port on the internal switch — the dom0 end of the SOCK_SEQPACKET
// wire to the hypervisor's NE2000 model (one datagram per frame). Frames from it are checked as a
// vif's are (length, source MAC); frames to it are written without blocking (a full wire drops).
import { libc, errno, EAGAIN } from '../../../host/libc.ts';
import { CNT, type NicAttach } from '../messages.ts';

const READ_MAX = 2048;

export class NicPort {
  readonly key: string;
  readonly counters: Float64Array;
  /** epoll said readable and we have not read it dry. */
  readable = true;
  /** The hypervisor closed its end (the domain is gone): ignored until detached. */
  broken = false;
  private readonly mac: Uint8Array;
  private readonly buf = new Uint8Array(READ_MAX);

  constructor(readonly cfg: NicAttach, private readonly maxFrame: number) {
    this.key = cfg.key;
    this.mac = Uint8Array.from(cfg.mac);
    this.counters = new Float64Array(cfg.counters);
  }

  /** The switch's delivery: straight onto the wire (the card's ring is the queue, as on a LAN). */
  enqueueRx(data: Uint8Array, _flags: number): void {
    if (this.broken || data.length > this.maxFrame || libc.write(this.cfg.fd, data, data.length) !== data.length) {
      this.counters[CNT.rxDropped]!++;
      return;
    }
    this.counters[CNT.rxPackets]!++;
    this.counters[CNT.rxBytes]! += data.length;
  }

  /** Up to `budget` frames the guest sent, each passed to `emit` if it is well-formed; true if more may wait. */
  read(budget: number, emit: (frame: Uint8Array) => void): boolean {
    for (let i = 0; i < budget; i++) {
      const n = libc.read(this.cfg.fd, this.buf, READ_MAX);
      if (n === 0) {
        this.broken = true; // the hypervisor's end is closed
        return false;
      }
      if (n < 0) {
        if (errno() !== EAGAIN) this.counters[CNT.txErrors]!++;
        return false;
      }
      const f = this.buf.subarray(0, n);
      // The guest controls every byte: runts, giants and forged source addresses go no further.
      if (n < 14 || n > this.maxFrame || !this.ownSource(f)) {
        this.counters[CNT.txDropped]!++;
        continue;
      }
      this.counters[CNT.txPackets]!++;
      this.counters[CNT.txBytes]! += n;
      emit(f.slice());
    }
    return true;
  }

  private ownSource(f: Uint8Array): boolean {
    for (let i = 0; i < 6; i++) if (f[6 + i] !== this.mac[i]) return false;
    return true;
  }
}
