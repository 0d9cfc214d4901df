// guest-pages.ts: dom0's mapping of a guest's special pages (console and xenstore rings) from the
// guest memory file the hypervisor passed over the privileged interface — like Xen's foreign map.
import { libc, mapShared, type NativePointer } from '../host/libc.ts';
import type { MemoryLayoutMsg } from '../abi/privileged.ts';

const PAGE = 4096;

export class GuestPages {
  private readonly ptr: NativePointer;
  private readonly bytes: Uint8Array;
  private readonly len: number;
  private unmapped = false;

  /** Map the special-page group of the guest; closes `memFd` (the mapping keeps the memory). */
  constructor(memFd: number, private readonly layout: MemoryLayoutMsg) {
    this.len = layout.special_pages * PAGE;
    try {
      const m = mapShared(memFd, this.len, layout.special_offset);
      this.ptr = m.ptr;
      this.bytes = m.bytes;
    } finally {
      libc.close(memFd);
    }
  }

  /** The 4 KiB page at guest frame `pfn`, which must be one of the special pages. */
  page(pfn: number): Uint8Array {
    const off = pfn * PAGE - this.layout.special_gpa;
    if (!Number.isInteger(off) || off < 0 || off + PAGE > this.len) throw new RangeError(`pfn ${pfn} is not a special page`);
    return this.bytes.subarray(off, off + PAGE);
  }

  unmap(): void {
    if (this.unmapped) return;
    this.unmapped = true;
    libc.munmap(this.ptr, this.len);
  }
}
