// ring.ts: the backend's side of one xencons_interface page — drain `out`, fill `in`.
//
// The page is shared with a guest that may write anything at any time, so every index is read
// exactly once per operation (no double fetch), every buffer access is masked, and a producer
// index that claims more than the ring can hold marks the ring broken for good, as xenconsoled
// does. Indices go through Atomics so that data copies are ordered against index updates:
// the guest must see our bytes before the index that publishes them, and we must read its
// bytes only after the index that published them.
import { offsetOf } from '../../abi/layout.ts';
import { XENCONS as XENCONS_SIZES, XenconsInterface } from '../../abi/io/console.ts';

/** Byte offsets and sizes of xencons_interface (abi/io/console.ts). */
const XENCONS = {
  IN_OFFSET: offsetOf(XenconsInterface, 'in'),
  IN_SIZE: XENCONS_SIZES.values.IN_SIZE,
  OUT_OFFSET: offsetOf(XenconsInterface, 'out'),
  OUT_SIZE: XENCONS_SIZES.values.OUT_SIZE,
  IN_CONS: offsetOf(XenconsInterface, 'in_cons'),
  IN_PROD: offsetOf(XenconsInterface, 'in_prod'),
  OUT_CONS: offsetOf(XenconsInterface, 'out_cons'),
  OUT_PROD: offsetOf(XenconsInterface, 'out_prod'),
  /** sizeof(struct xencons_interface), with the newer connection byte (pvkvm leaves it alone). */
  STRUCT_SIZE: XenconsInterface.size,
} as const;
/** Masks for the free-running indices: both ring sizes are powers of two. */
const IN_MASK = XENCONS.IN_SIZE - 1;
const OUT_MASK = XENCONS.OUT_SIZE - 1;

const EMPTY = new Uint8Array(0);

/** Int32Array slot of a byte offset within the page. */
const slot = (byteOffset: number): number => byteOffset >> 2;

export class ConsoleRing {
  private readonly page: Uint8Array;
  private readonly words: Int32Array;
  private brokenReason: string | null = null;

  /** `page` views the ring page (at least sizeof(xencons_interface) bytes, 4-byte aligned). */
  constructor(page: Uint8Array) {
    if (page.byteLength < XENCONS.STRUCT_SIZE) {
      throw new RangeError(`console ring page is ${page.byteLength} bytes, needs ${XENCONS.STRUCT_SIZE}`);
    }
    // Atomics need an Int32Array, whose offset into the buffer must be a multiple of 4.
    if (page.byteOffset % 4 !== 0) throw new RangeError('console ring page is not 4-byte aligned');
    this.page = page;
    this.words = new Int32Array(page.buffer, page.byteOffset, XENCONS.STRUCT_SIZE >> 2);
  }

  /** True once the guest has published impossible indices; the ring is then left alone. */
  get broken(): boolean {
    return this.brokenReason !== null;
  }

  get reason(): string | null {
    return this.brokenReason;
  }

  /** Copy out everything the guest has produced and hand the space back to it. */
  drainOutput(): Uint8Array {
    if (this.brokenReason !== null) return EMPTY;
    const cons = this.load(XENCONS.OUT_CONS);
    const prod = this.load(XENCONS.OUT_PROD);
    const avail = (prod - cons) >>> 0;
    if (avail > XENCONS.OUT_SIZE) {
      this.breakRing(`out ring: prod ${prod} is ${avail} bytes ahead of cons ${cons}`);
      return EMPTY;
    }
    if (avail === 0) return EMPTY;
    const out = this.copyOut(XENCONS.OUT_OFFSET, OUT_MASK, cons, avail);
    // Only after the copy: the guest may overwrite the bytes as soon as it sees the new cons.
    this.store(XENCONS.OUT_CONS, cons + avail);
    return out;
  }

  /** Bytes the guest has produced and not yet been drained (0 if broken). */
  pendingOutput(): number {
    if (this.brokenReason !== null) return 0;
    const avail = (this.load(XENCONS.OUT_PROD) - this.load(XENCONS.OUT_CONS)) >>> 0;
    return avail > XENCONS.OUT_SIZE ? 0 : avail;
  }

  /** Copy as much of `bytes` as fits into the guest's input ring; returns how many were taken. */
  pushInput(bytes: Uint8Array): number {
    const space = this.inputSpace();
    if (space === null) return 0;
    const n = Math.min(space.free, bytes.length);
    if (n === 0) return 0;
    const first = Math.min(n, XENCONS.IN_SIZE - (space.prod & IN_MASK));
    this.page.set(bytes.subarray(0, first), XENCONS.IN_OFFSET + (space.prod & IN_MASK));
    if (n > first) this.page.set(bytes.subarray(first, n), XENCONS.IN_OFFSET);
    // Release: the bytes above are visible before the guest can see the index that covers them.
    this.store(XENCONS.IN_PROD, space.prod + n);
    return n;
  }

  hasInputSpace(): boolean {
    const space = this.inputSpace();
    return space !== null && space.free > 0;
  }

  /** Free space in `in`, or null when broken. We own in_prod but the guest can scribble on it. */
  private inputSpace(): { prod: number; free: number } | null {
    if (this.brokenReason !== null) return null;
    const cons = this.load(XENCONS.IN_CONS);
    const prod = this.load(XENCONS.IN_PROD);
    const used = (prod - cons) >>> 0;
    if (used > XENCONS.IN_SIZE) {
      this.breakRing(`in ring: prod ${prod} is ${used} bytes ahead of cons ${cons}`);
      return null;
    }
    return { prod, free: XENCONS.IN_SIZE - used };
  }

  /** Copy `len` bytes starting at free-running index `from` out of a ring, in at most two pieces. */
  private copyOut(base: number, mask: number, from: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const start = from & mask;
    const first = Math.min(len, mask + 1 - start);
    out.set(this.page.subarray(base + start, base + start + first), 0);
    if (len > first) out.set(this.page.subarray(base, base + len - first), first);
    return out;
  }

  private breakRing(reason: string): void {
    this.brokenReason = reason;
  }

  private load(byteOffset: number): number {
    return Atomics.load(this.words, slot(byteOffset)) >>> 0;
  }

  private store(byteOffset: number, value: number): void {
    Atomics.store(this.words, slot(byteOffset), value | 0);
  }
}
