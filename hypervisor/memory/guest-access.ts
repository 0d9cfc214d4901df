// guest-access.ts: copy hypercall arguments in and out of guest-virtual memory, page by page.
import type { PhysMemory } from './phys-memory.ts';
import { translate, type PagingState } from './page-walk.ts';

/** Thrown when a guest pointer cannot be accessed; hypercall handlers turn it into -EFAULT. */
export class GuestFault extends Error {
  constructor(readonly gva: bigint) {
    super(`guest address 0x${gva.toString(16)} is not accessible`);
  }
}

/**
 * Guest-virtual accessor for one vCPU. The paging state (CR0/CR3/CR4/EFER) comes from the
 * vCPU's last exit; it is fetched lazily, so hypercalls that touch no guest memory never pay for it.
 */
export class GuestVirtual {
  private cached: PagingState | null;
  private readonly source: (() => PagingState) | null;

  constructor(readonly mem: PhysMemory, paging: PagingState | (() => PagingState)) {
    this.source = typeof paging === 'function' ? paging : null;
    this.cached = typeof paging === 'function' ? null : paging;
  }

  /** Forget the cached paging state: the vCPU ran since it was read. */
  invalidate(): void {
    if (this.source !== null) this.cached = null;
  }

  get paging(): PagingState {
    if (this.cached === null) this.cached = this.source!();
    return this.cached;
  }

  /** Copy `len` bytes out of guest memory (a private copy: safe against concurrent guest writes). */
  read(gva: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const va = gva + BigInt(done);
      const chunk = Math.min(len - done, 4096 - Number(va & 0xfffn));
      const gpa = translate(this.mem, this.paging, va, false);
      const off = gpa === null ? -1 : this.mem.offsetOf(gpa, chunk);
      if (off < 0) throw new GuestFault(va);
      out.set(this.mem.bytes.subarray(off, off + chunk), done);
      done += chunk;
    }
    return out;
  }

  write(gva: bigint, data: Uint8Array): void {
    // Translate every page first so a fault leaves guest memory untouched.
    const pieces: Array<[number, number, number]> = [];
    let done = 0;
    while (done < data.length) {
      const va = gva + BigInt(done);
      const chunk = Math.min(data.length - done, 4096 - Number(va & 0xfffn));
      const gpa = translate(this.mem, this.paging, va, true);
      const off = gpa === null ? -1 : this.mem.offsetOf(gpa, chunk);
      if (off < 0) throw new GuestFault(va);
      pieces.push([off, done, chunk]);
      done += chunk;
    }
    for (const [off, from, chunk] of pieces) this.mem.bytes.set(data.subarray(from, from + chunk), off);
  }

  /** Read a struct-sized block and return a DataView over the private copy. */
  readView(gva: bigint, len: number): DataView {
    const b = this.read(gva, len);
    return new DataView(b.buffer);
  }

  writeView(gva: bigint, view: DataView): void {
    this.write(gva, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }

  /** Guest-physical address of a guest-virtual one (for placing pages), or throws GuestFault. */
  toPhys(gva: bigint, write: boolean): number {
    const gpa = translate(this.mem, this.paging, gva, write);
    if (gpa === null) throw new GuestFault(gva);
    return gpa;
  }
}
