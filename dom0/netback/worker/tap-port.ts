// tap-port.ts: a bridged vif's host side inside the net worker — frames the guest sends are
// written to its TAP, frames the host sends to the TAP are read (non-blocking) for the guest.
import { libc, errno, EAGAIN } from '../../../host/libc.ts';

/** Largest frame a TAP hands us (IFF_NO_PI: the frame alone). */
const READ_MAX = 65536;

export class TapPort {
  /** epoll said readable, and we have not yet read it dry. */
  readable = true;
  private readonly buf = new Uint8Array(READ_MAX);

  constructor(readonly fd: number) {}

  /** False if the host refused the frame (its queue is full or the device is down). */
  write(frame: Uint8Array): boolean {
    return libc.write(this.fd, frame, frame.length) === frame.length;
  }

  /** Read up to `budget` frames into `sink`; true if the TAP may hold more. */
  read(budget: number, sink: (frame: Uint8Array) => void): boolean {
    for (let i = 0; i < budget; i++) {
      const n = libc.read(this.fd, this.buf, READ_MAX);
      if (n <= 0) {
        // EAGAIN: drained. Anything else (EIO while the link is down…): wait for epoll to say more.
        if (n < 0 && errno() !== EAGAIN) return false;
        return false;
      }
      sink(this.buf.slice(0, n));
    }
    return true;
  }
}
