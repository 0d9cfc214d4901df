// balloon.ts: which RAM frames a domain has given back (XENMEM_decrease_reservation) — a bitmap
// and counters in a SharedArrayBuffer every vCPU thread of the domain sees, updated atomically.
//
// A released frame's memory is returned to the host (a hole punched in the guest memory file),
// and the frame is unmapped from the guest (protected-runs.ts), within a bound past which it stays
// mapped and reads as zero. populate_physmap takes it back, zeroed and mapped.
import { ProtectedRuns } from './protected-runs.ts';

/** Counter words before the bitmap. */
const RELEASED = 0;
/** Pages taken by increase_reservation (Xen allocates them without a guest frame for HVM guests). */
const FLOATING = 1;
const HEADER_WORDS = 2;

export class BalloonMap {
  readonly sab: SharedArrayBuffer;
  private readonly w: Int32Array;
  /** The released frames the guest can no longer reach. */
  readonly unmapped: ProtectedRuns;

  constructor(readonly ramPages: number, sab?: SharedArrayBuffer) {
    const words = HEADER_WORDS + Math.ceil(ramPages / 32);
    this.sab = sab ?? new SharedArrayBuffer(words * 4 + ProtectedRuns.BYTES);
    this.w = new Int32Array(this.sab, 0, words);
    this.unmapped = new ProtectedRuns(this.sab, words * 4);
  }

  isReleased(pfn: number): boolean {
    return (Atomics.load(this.w, HEADER_WORDS + (pfn >>> 5)) & (1 << (pfn & 31))) !== 0;
  }

  /** Mark `pfn` released; false if it already was. */
  release(pfn: number): boolean {
    const bit = 1 << (pfn & 31);
    const old = Atomics.or(this.w, HEADER_WORDS + (pfn >>> 5), bit);
    if ((old & bit) !== 0) return false;
    Atomics.add(this.w, RELEASED, 1);
    return true;
  }

  /** Mark `pfn` populated again; false if it was not released. */
  repopulate(pfn: number): boolean {
    const bit = 1 << (pfn & 31);
    const old = Atomics.and(this.w, HEADER_WORDS + (pfn >>> 5), ~bit);
    if ((old & bit) === 0) return false;
    Atomics.sub(this.w, RELEASED, 1);
    return true;
  }

  /** Frames the domain holds: RAM not released, plus pages increase_reservation gave it. */
  currentPages(): number {
    return this.ramPages - Atomics.load(this.w, RELEASED) + Atomics.load(this.w, FLOATING);
  }

  /** Take `n` floating pages if the domain stays within `maxPages`; false otherwise. */
  takeFloating(n: number, maxPages: number): boolean {
    for (;;) {
      const f = Atomics.load(this.w, FLOATING);
      if (this.ramPages - Atomics.load(this.w, RELEASED) + f + n > maxPages) return false;
      if (Atomics.compareExchange(this.w, FLOATING, f, f + n) === f) return true;
    }
  }
}
