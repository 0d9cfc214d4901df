// ring.ts: the back end of a Xen shared ring (io/ring.h, docs/xen-abi.md §8; layout in
// abi/io/ring.ts) over one or more mapped ring pages — take requests, put responses, with Xen's
// event suppression.
//
// The guest may write anything at any time: every request is copied into a private buffer
// before anyone parses it (no double fetch), and a producer index that claims more requests
// than the ring holds breaks the ring for good. The pages need not be contiguous in our address
// space (each granted page is mapped on its own), so entries that straddle a page boundary are
// copied in pieces.
import { offsetOf } from '../../abi/layout.ts';
import { SringHeader, ringEntries } from '../../abi/io/ring.ts';
import { PAGE_SIZE } from './context.ts';

const HEADER = SringHeader.size;
// Word indices of the shared header, for Atomics on an Int32Array over it.
const REQ_PROD = offsetOf(SringHeader, 'req_prod') / 4;
const REQ_EVENT = offsetOf(SringHeader, 'req_event') / 4;
const RSP_PROD = offsetOf(SringHeader, 'rsp_prod') / 4;
const RSP_EVENT = offsetOf(SringHeader, 'rsp_event') / 4;

/** The frontend published impossible indices; the device must disconnect. */
export class RingOverflowError extends Error {
  override name = 'RingOverflowError';
}

/** RING_SIZE of a ring of `pages` pages: entries that fit after the header, rounded down to a power of two. */
export function ringSize(pages: number, entrySize: number): number {
  return ringEntries(pages * PAGE_SIZE, entrySize);
}

export class BackRing {
  readonly size: number;
  private readonly hdr: Int32Array;
  private reqCons = 0;
  private rspProdPvt = 0;
  private rspPushed = 0;

  /** `pages` are the ring's 4 KiB pages in ring-ref order; each must be 4-byte aligned. */
  constructor(private readonly pages: readonly Uint8Array[], readonly entrySize: number) {
    if (pages.length === 0 || pages.some((p) => p.byteLength < PAGE_SIZE)) throw new RangeError('ring pages must be 4 KiB each');
    this.size = ringSize(pages.length, entrySize);
    if (this.size === 0) throw new RangeError(`ring entries of ${entrySize} bytes do not fit`);
    const p0 = pages[0]!;
    this.hdr = new Int32Array(p0.buffer, p0.byteOffset, RSP_EVENT + 1);
    // The frontend initialised the page; pick up where its indices stand (a reconnect restarts them).
    this.reqCons = this.rspProdPvt = this.rspPushed = Atomics.load(this.hdr, RSP_PROD) >>> 0;
  }

  /**
   * Copy out every request the frontend has published (at most `max`), advancing req_cons.
   * Throws RingOverflowError if req_prod runs more than RING_SIZE ahead of our responses.
   */
  take(max = this.size): Uint8Array[] {
    const prod = Atomics.load(this.hdr, REQ_PROD) >>> 0;
    if (((prod - this.rspProdPvt) >>> 0) > this.size) {
      throw new RingOverflowError(`req_prod ${prod} is ${(prod - this.rspProdPvt) >>> 0} ahead of rsp_prod ${this.rspProdPvt} (ring of ${this.size})`);
    }
    // Never more than the slots we have answered (requests we hold occupy the rest).
    const room = this.size - ((this.reqCons - this.rspProdPvt) >>> 0);
    const n = Math.min((prod - this.reqCons) >>> 0, room, max);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const buf = new Uint8Array(this.entrySize);
      this.copy(this.reqCons + i, buf, true);
      out.push(buf);
    }
    this.reqCons = (this.reqCons + n) >>> 0;
    return out;
  }

  /**
   * Requests published and not yet taken, as far as take() would hand them out (a consumer that
   * needs n entries at once, like a netif RX packet over n buffers, checks before taking).
   * Throws RingOverflowError like take().
   */
  available(): number {
    const prod = Atomics.load(this.hdr, REQ_PROD) >>> 0;
    if (((prod - this.rspProdPvt) >>> 0) > this.size) {
      throw new RingOverflowError(`req_prod ${prod} is ${(prod - this.rspProdPvt) >>> 0} ahead of rsp_prod ${this.rspProdPvt} (ring of ${this.size})`);
    }
    return Math.min((prod - this.reqCons) >>> 0, this.size - ((this.reqCons - this.rspProdPvt) >>> 0));
  }

  /**
   * Copies of up to `max` published requests after the ones taken, without taking them (a
   * backend may look ahead, e.g. to map buffers it will need; it validates them again when taken).
   */
  peek(max: number): Uint8Array[] {
    const n = Math.min(this.available(), max);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const buf = new Uint8Array(this.entrySize);
      this.copy(this.reqCons + i, buf, true);
      out.push(buf);
    }
    return out;
  }

  /** Requests taken and not yet answered. */
  get outstanding(): number {
    return (this.reqCons - this.rspProdPvt) >>> 0;
  }

  /** Write one response into the next response slot (private until push). */
  respond(rsp: Uint8Array): void {
    if (rsp.byteLength > this.entrySize) throw new RangeError('response larger than a ring entry');
    if (this.outstanding === 0) throw new RangeError('response without a request');
    this.copy(this.rspProdPvt, rsp, false);
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
  }

  /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publish responses; true if the frontend wants an event. */
  push(): boolean {
    const old = this.rspPushed;
    const now = this.rspProdPvt;
    if (old === now) return false;
    // Atomics.store is sequentially consistent: the response bytes are visible first, and the
    // read of rsp_event below cannot move above the store (the full barrier the macro needs).
    Atomics.store(this.hdr, RSP_PROD, now | 0);
    this.rspPushed = now;
    const event = Atomics.load(this.hdr, RSP_EVENT) >>> 0;
    return ((now - event) >>> 0) < ((now - old) >>> 0);
  }

  /**
   * RING_FINAL_CHECK_FOR_REQUESTS: true if there is more work. Otherwise asks for an event at
   * the next request, then looks once more, so a request published meanwhile is not missed.
   */
  finalCheck(): boolean {
    if (this.unconsumed() > 0) return true;
    Atomics.store(this.hdr, REQ_EVENT, (this.reqCons + 1) | 0);
    return this.unconsumed() > 0;
  }

  private unconsumed(): number {
    return (Atomics.load(this.hdr, REQ_PROD) - this.reqCons) >>> 0;
  }

  /** Copy between slot `idx` and `buf`, in pieces where the slot crosses a page boundary. */
  private copy(idx: number, buf: Uint8Array, fromRing: boolean): void {
    let at = HEADER + (idx & (this.size - 1)) * this.entrySize;
    let done = 0;
    const len = fromRing ? this.entrySize : buf.byteLength;
    while (done < len) {
      const page = this.pages[Math.floor(at / PAGE_SIZE)]!;
      const off = at % PAGE_SIZE;
      const n = Math.min(len - done, PAGE_SIZE - off);
      if (fromRing) buf.set(page.subarray(off, off + n), done);
      else page.set(buf.subarray(done, done + n), off);
      done += n;
      at += n;
    }
  }
}
