// guest-memory.ts: a data-path worker's view of guest memory — dom0's mapping of the whole
// guest memory file, addressed by the byte offsets grant maps return.
import { viewAt } from '../../../host/libc.ts';
import { PAGE_SIZE } from '../context.ts';

/** JS views are made per 1 GiB chunk: one view of a large guest would exceed typed-array limits. */
const CHUNK = 1 << 30;

export class GuestMemory {
  private readonly chunks = new Map<number, Uint8Array>();

  constructor(readonly base: bigint, readonly size: number) {}

  /** True if [offset, offset + len) lies inside guest memory. */
  contains(offset: number, len: number): boolean {
    return Number.isSafeInteger(offset) && offset >= 0 && len >= 0 && offset + len <= this.size;
  }

  /** Host address of a byte of guest memory, for host I/O straight into guest pages. */
  addr(offset: number): bigint {
    if (!this.contains(offset, 0)) throw new RangeError(`guest offset ${offset} outside memory`);
    return this.base + BigInt(offset);
  }

  /** A JS view of the 4 KiB page at a page-aligned offset (e.g. a mapped grant). */
  page(offset: number): Uint8Array {
    if (offset % PAGE_SIZE !== 0 || !this.contains(offset, PAGE_SIZE)) throw new RangeError(`bad guest page offset ${offset}`);
    const c = Math.floor(offset / CHUNK);
    let view = this.chunks.get(c);
    if (view === undefined) {
      const start = c * CHUNK;
      view = viewAt(this.base + BigInt(start), Math.min(CHUNK, this.size - start));
      this.chunks.set(c, view);
    }
    const at = offset - c * CHUNK;
    return view.subarray(at, at + PAGE_SIZE);
  }
}
