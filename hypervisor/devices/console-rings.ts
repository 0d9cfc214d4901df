// console-rings.ts: the UART's byte streams between the vCPU thread and the main thread — two single-producer rings in one SharedArrayBuffer.
/**
 * Layout: control words, then the output ring (guest → host) and the input ring (host → guest).
 * Indices are free-running 32-bit counters; `notified` lets the vCPU thread post one wake-up
 * message per batch instead of one per byte.
 */
const W = { OUT_HEAD: 0, OUT_TAIL: 1, NOTIFIED: 2, IN_HEAD: 3, IN_TAIL: 4, OUT_DROPPED: 5 } as const;
const CTRL_BYTES = 64;
export const OUT_RING = 1 << 16;
export const IN_RING = 1 << 12;

export function newConsoleRings(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTRL_BYTES + OUT_RING + IN_RING);
}

class Rings {
  protected readonly ctl: Int32Array;
  protected readonly out: Uint8Array;
  protected readonly inp: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, CTRL_BYTES / 4);
    this.out = new Uint8Array(sab, CTRL_BYTES, OUT_RING);
    this.inp = new Uint8Array(sab, CTRL_BYTES + OUT_RING, IN_RING);
  }

  protected used(head: number, tail: number): number {
    return (Atomics.load(this.ctl, head) - Atomics.load(this.ctl, tail)) >>> 0;
  }
}

/** The vCPU thread's end: writes output, reads input. */
export class ConsoleRingsGuestSide extends Rings {
  /**
   * Append one output byte. Returns true when the host should be woken (the first byte since it
   * last drained). A full ring drops the byte and counts it: the guest never blocks on the host.
   */
  put(byte: number): boolean {
    if (this.used(W.OUT_HEAD, W.OUT_TAIL) >= OUT_RING) {
      Atomics.add(this.ctl, W.OUT_DROPPED, 1);
      return false;
    }
    const head = Atomics.load(this.ctl, W.OUT_HEAD);
    this.out[(head >>> 0) % OUT_RING] = byte;
    Atomics.store(this.ctl, W.OUT_HEAD, (head + 1) | 0);
    return Atomics.compareExchange(this.ctl, W.NOTIFIED, 0, 1) === 0;
  }

  /** Next input byte, or -1. */
  take(): number {
    if (this.used(W.IN_HEAD, W.IN_TAIL) === 0) return -1;
    const tail = Atomics.load(this.ctl, W.IN_TAIL);
    const b = this.inp[(tail >>> 0) % IN_RING]!;
    Atomics.store(this.ctl, W.IN_TAIL, (tail + 1) | 0);
    return b;
  }

  hasInput(): boolean {
    return Atomics.load(this.ctl, W.IN_HEAD) !== Atomics.load(this.ctl, W.IN_TAIL);
  }
}

/** The main thread's end: drains output, queues input. */
export class ConsoleRingsHostSide extends Rings {
  /** Everything written so far. Re-arms the wake-up first, so a byte written meanwhile wakes again. */
  drain(): Uint8Array {
    Atomics.store(this.ctl, W.NOTIFIED, 0);
    const n = this.used(W.OUT_HEAD, W.OUT_TAIL);
    const tail = Atomics.load(this.ctl, W.OUT_TAIL) >>> 0;
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = this.out[(tail + i) % OUT_RING]!;
    Atomics.store(this.ctl, W.OUT_TAIL, (tail + n) | 0);
    return bytes;
  }

  /** Queue input for the UART; returns how many bytes fit (the rest are dropped). */
  push(bytes: Uint8Array): number {
    const room = IN_RING - this.used(W.IN_HEAD, W.IN_TAIL);
    const n = Math.min(room, bytes.length);
    const head = Atomics.load(this.ctl, W.IN_HEAD) >>> 0;
    for (let i = 0; i < n; i++) this.inp[(head + i) % IN_RING] = bytes[i]!;
    Atomics.store(this.ctl, W.IN_HEAD, (head + n) | 0);
    return n;
  }

  /** Output bytes lost because the host did not drain in time. */
  get dropped(): number {
    return Atomics.load(this.ctl, W.OUT_DROPPED);
  }
}
