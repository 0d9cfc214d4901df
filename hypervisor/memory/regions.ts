// regions.ts: a domain's guest-physical map (RAM, special pages, extra slots), shared by all threads.
//
// The table lives in a SharedArrayBuffer so vCPU workers that add a slot (e.g. shared_info placed
// beyond RAM) publish it to every other thread. Each region is backed by a range of the domain's
// memfd, so a file offset is the same in every thread's mapping of that memfd.

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** RAM, special and extra pages, plus one region per grant mapping the domain holds. */
const MAX_REGIONS = 1280;
const HDR_I32 = 4; // lock, count, generation, pool pages used
const ENTRY_I64 = 4; // gpa, size, fileOffset, slot

export interface Region {
  gpa: number;
  size: number;
  fileOffset: number;
  slot: number;
  kind: RegionKind;
}

/**
 * 'foreign' regions are another domain's page mapped here (grant maps): they occupy guest-physical
 * space and a KVM slot, but are not this domain's memory, so `find` never returns them and their
 * file offset is -1.
 */
export type RegionKind = 'ram' | 'special' | 'extra' | 'foreign';
const KIND_CODE: Record<RegionKind, number> = { ram: 0, special: 1, extra: 2, foreign: 3 };
const KIND_NAME: RegionKind[] = ['ram', 'special', 'extra', 'foreign'];

/** Layout of the SharedArrayBuffer: an Int32 header, then MAX_REGIONS entries of 4 × f64 + kind. */
export class RegionTable {
  readonly sab: SharedArrayBuffer;
  private readonly hdr: Int32Array;
  private readonly ent: Float64Array;
  private readonly kinds: Int32Array;
  private cache: Region[] = [];
  private cacheGen = -1;

  constructor(sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(HDR_I32 * 4 + MAX_REGIONS * (ENTRY_I64 * 8 + 4) + 4);
    this.hdr = new Int32Array(this.sab, 0, HDR_I32);
    this.ent = new Float64Array(this.sab, HDR_I32 * 4, MAX_REGIONS * ENTRY_I64);
    this.kinds = new Int32Array(this.sab, HDR_I32 * 4 + MAX_REGIONS * ENTRY_I64 * 8, MAX_REGIONS);
  }

  /** Regions sorted by gpa; cached per generation so lookups on hot paths allocate nothing. */
  list(): readonly Region[] {
    const gen = Atomics.load(this.hdr, 2);
    if (gen !== this.cacheGen) {
      this.withLock(() => {
        const n = this.hdr[1]!;
        const out: Region[] = [];
        for (let i = 0; i < n; i++) {
          const o = i * ENTRY_I64;
          out.push({
            gpa: this.ent[o]!, size: this.ent[o + 1]!, fileOffset: this.ent[o + 2]!, slot: this.ent[o + 3]!,
            kind: KIND_NAME[this.kinds[i]!]!,
          });
        }
        out.sort((a, b) => a.gpa - b.gpa);
        this.cache = out;
        this.cacheGen = Atomics.load(this.hdr, 2);
      });
    }
    return this.cache;
  }

  /**
   * Find the region of this domain's own memory holding [gpa, gpa+len); null when any byte falls
   * outside it (foreign mappings included: hypercall arguments never resolve into them).
   */
  find(gpa: number, len: number): Region | null {
    for (const r of this.list()) {
      if (gpa >= r.gpa && gpa + len <= r.gpa + r.size) return r.kind === 'foreign' ? null : r;
    }
    return null;
  }

  /** Add a region; throws if it overlaps an existing one (KVM slots must not overlap). */
  add(r: Region): void {
    this.withLock(() => this.insert(r));
  }

  /**
   * Add a region under the lowest KVM slot number no region uses, chosen under the table lock so
   * two threads adding at once never pick the same slot. Returns the slot, or null on overlap or
   * when the table is full.
   */
  addWithFreeSlot(r: Omit<Region, 'slot'>): number | null {
    return this.withLock(() => {
      const n = this.hdr[1]!;
      const used = new Set<number>();
      for (let i = 0; i < n; i++) used.add(this.ent[i * ENTRY_I64 + 3]!);
      let slot = 0;
      while (used.has(slot)) slot++;
      try {
        this.insert({ ...r, slot });
      } catch {
        return null;
      }
      return slot;
    });
  }

  /** Remove the region starting at `gpa` with KVM slot `slot`; returns false if there is none. */
  remove(gpa: number, slot: number): boolean {
    return this.withLock(() => {
      const n = this.hdr[1]!;
      for (let i = 0; i < n; i++) {
        const o = i * ENTRY_I64;
        if (this.ent[o] !== gpa || this.ent[o + 3] !== slot) continue;
        const last = (n - 1) * ENTRY_I64;
        for (let k = 0; k < ENTRY_I64; k++) this.ent[o + k] = this.ent[last + k]!;
        this.kinds[i] = this.kinds[n - 1]!;
        this.hdr[1] = n - 1;
        Atomics.add(this.hdr, 2, 1);
        return true;
      }
      return false;
    });
  }

  /** Caller holds the lock. */
  private insert(r: Region): void {
    const n = this.hdr[1]!;
    if (n >= MAX_REGIONS) throw new Error('too many memory regions');
    for (let i = 0; i < n; i++) {
      const g = this.ent[i * ENTRY_I64]!, s = this.ent[i * ENTRY_I64 + 1]!;
      if (r.gpa < g + s && g < r.gpa + r.size) throw new Error(`region at ${r.gpa.toString(16)} overlaps`);
    }
    const o = n * ENTRY_I64;
    this.ent[o] = r.gpa; this.ent[o + 1] = r.size; this.ent[o + 2] = r.fileOffset; this.ent[o + 3] = r.slot;
    this.kinds[n] = KIND_CODE[r.kind];
    this.hdr[1] = n + 1;
    Atomics.add(this.hdr, 2, 1);
  }

  /** Next free KVM slot number. */
  nextSlot(): number {
    return this.list().reduce((m, r) => Math.max(m, r.slot + 1), 0);
  }

  /** Take `pages` pages from the domain's spare pool; returns the pool-relative page index. */
  allocPoolPages(pages: number, poolPages: number): number | null {
    return this.withLock(() => {
      const used = this.hdr[3]!;
      if (used + pages > poolPages) return null;
      this.hdr[3] = used + pages;
      return used;
    });
  }

  private withLock<T>(fn: () => T): T {
    while (Atomics.compareExchange(this.hdr, 0, 0, 1) !== 0) Atomics.wait(this.hdr, 0, 1, 1);
    try {
      return fn();
    } finally {
      Atomics.store(this.hdr, 0, 0);
      Atomics.notify(this.hdr, 0);
    }
  }
}
