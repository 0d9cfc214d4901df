// grant-state.ts: one domain's grant bookkeeping in the hypervisor-wide shared buffer — table
// geometry, where each grant frame lives, the grant lock, and the maptrack (the mappings this
// domain holds of other domains' grants).
//
// The grant frames themselves (and their active-entry pages) are pages of the domain's memfd, so
// any thread with a DomainHandle reaches them; this slot only records their memfd offsets.
import { GNTTAB_LIMITS } from '../../abi/grant-table.ts';

export const MAX_FRAMES = GNTTAB_LIMITS.values.MAX_FRAMES;
export const ENTRIES_PER_FRAME = GNTTAB_LIMITS.values.ENTRIES_PER_FRAME_V1;
/** Xen x86's INITIAL_NR_GRANT_FRAMES: the table starts at one frame and grows on demand. */
export const INITIAL_FRAMES = 1;
/** Mapping handles per domain; map_grant_ref answers GNTST_no_device_space beyond this. */
export const MAPTRACK_SIZE = 1024;

/** Maptrack entry states. */
export const enum Mt {
  Free = 0,
  /** Handle taken by a map in progress. */
  Reserved = 1,
  Mapped = 2,
  /** The granter died: its page was unmapped from us; the handle waits for the guest's unmap. */
  Orphaned = 3,
}

/** Int32 header words. */
const H = {
  lock: 0, // the grant lock: active entries, GTF_reading/writing, frame placement, growth
  mtLock: 1, // the maptrack lock
  version: 2,
  nrFrames: 3,
  allocated: 4, // frames with storage (home + active page)
  ramPages: 5, // the domain's RAM size, for checking granted frames
  mapped: 6, // maptrack entries not Free
  end: 8,
} as const;

/** Float64 arrays of MAX_FRAMES memfd offsets / GFNs (-1 = none). */
const F = { home: 0, current: 1, active: 2, gfn: 3, count: 4 } as const;
/** Int32 words per maptrack entry: state | readonly << 8, granter domid, ref, KVM slot. */
const MT_WORDS = 4;
const MT_RO = 1 << 8;

const HEADER_BYTES = H.end * 4;
const FRAMES_BYTES = F.count * MAX_FRAMES * 8;
const MT_BYTES = MAPTRACK_SIZE * MT_WORDS * 4;
const MT_GPA_BYTES = MAPTRACK_SIZE * 8;
export const GRANT_STATE_BYTES = HEADER_BYTES + FRAMES_BYTES + MT_BYTES + MT_GPA_BYTES;

export interface MaptrackEntry {
  readonly state: Mt;
  readonly readonly: boolean;
  readonly granter: number;
  readonly ref: number;
  readonly slot: number;
  readonly gpa: number;
}

export class GrantState {
  private readonly hdr: Int32Array;
  private readonly frames: Float64Array;
  private readonly mt: Int32Array;
  private readonly mtGpa: Float64Array;

  /** View `GRANT_STATE_BYTES` of `sab` at `offset` (8-byte aligned). */
  constructor(sab: SharedArrayBuffer, offset: number) {
    this.hdr = new Int32Array(sab, offset, H.end);
    this.frames = new Float64Array(sab, offset + HEADER_BYTES, F.count * MAX_FRAMES);
    this.mt = new Int32Array(sab, offset + HEADER_BYTES + FRAMES_BYTES, MAPTRACK_SIZE * MT_WORDS);
    this.mtGpa = new Float64Array(sab, offset + HEADER_BYTES + FRAMES_BYTES + MT_BYTES, MAPTRACK_SIZE);
  }

  /** A new domain's table: version 1, one frame, no storage yet, no mappings (main thread). */
  reset(): void {
    this.hdr.fill(0);
    this.hdr[H.version] = 1;
    this.hdr[H.nrFrames] = INITIAL_FRAMES;
    this.frames.fill(-1);
    this.mt.fill(0);
    this.mtGpa.fill(0);
  }

  // --- locks (spin/wait; held only for table updates, never across an ioctl on another VM) ---
  lock(): void { spinLock(this.hdr, H.lock); }
  unlock(): void { spinUnlock(this.hdr, H.lock); }
  lockMaptrack(): void { spinLock(this.hdr, H.mtLock); }
  unlockMaptrack(): void { spinUnlock(this.hdr, H.mtLock); }

  // --- geometry (read under the grant lock when it matters) ---
  get version(): number { return Atomics.load(this.hdr, H.version); }
  get nrFrames(): number { return Atomics.load(this.hdr, H.nrFrames); }
  set nrFrames(n: number) { Atomics.store(this.hdr, H.nrFrames, n); }
  get nrEntries(): number { return this.nrFrames * ENTRIES_PER_FRAME; }
  get allocatedFrames(): number { return Atomics.load(this.hdr, H.allocated); }
  get ramPages(): number { return Atomics.load(this.hdr, H.ramPages); }
  set ramPages(n: number) { Atomics.store(this.hdr, H.ramPages, n); }

  /** Give frame `allocatedFrames` its storage: its home page and its active-entry page. */
  addFrameStorage(home: number, active: number): void {
    const i = this.allocatedFrames;
    this.frames[F.home * MAX_FRAMES + i] = home;
    this.frames[F.current * MAX_FRAMES + i] = home;
    this.frames[F.active * MAX_FRAMES + i] = active;
    Atomics.store(this.hdr, H.allocated, i + 1);
  }

  /** Frame `i`'s active-entry page (memfd offset). */
  frameActive(i: number): number { return this.frames[F.active * MAX_FRAMES + i]!; }

  /** Hypervisor-private page the frame returns to when its GFN is taken by another frame. */
  frameHome(i: number): number { return this.frames[F.home * MAX_FRAMES + i]!; }
  /** Where the frame's entries are now (its home, or the page at the GFN the guest chose). */
  frameOffset(i: number): number { return this.frames[F.current * MAX_FRAMES + i]!; }
  setFrameOffset(i: number, off: number): void { this.frames[F.current * MAX_FRAMES + i] = off; }
  frameGfn(i: number): number { return this.frames[F.gfn * MAX_FRAMES + i]!; }
  setFrameGfn(i: number, gfn: number): void { this.frames[F.gfn * MAX_FRAMES + i] = gfn; }

  /** Memfd offset of grant entry `ref` (8 bytes), or -1 when its frame has no storage. */
  entryOffset(ref: number): number {
    const f = Math.floor(ref / ENTRIES_PER_FRAME);
    if (f >= this.allocatedFrames) return -1;
    return this.frameOffset(f) + (ref % ENTRIES_PER_FRAME) * 8;
  }

  /** Memfd offset of active entry `ref` (8 bytes: pin word, frame), or -1 without storage. */
  activeOffset(ref: number): number {
    const f = Math.floor(ref / ENTRIES_PER_FRAME);
    if (f >= this.allocatedFrames) return -1;
    return this.frames[F.active * MAX_FRAMES + f]! + (ref % ENTRIES_PER_FRAME) * 8;
  }

  // --- maptrack (under the maptrack lock) ---
  get mappedCount(): number { return Atomics.load(this.hdr, H.mapped); }

  /** Take a free handle for a map in progress; -1 when all MAPTRACK_SIZE are in use. */
  reserveHandle(): number {
    for (let h = 0; h < MAPTRACK_SIZE; h++) {
      if ((this.mt[h * MT_WORDS]! & 0xff) !== Mt.Free) continue;
      this.mt[h * MT_WORDS] = Mt.Reserved;
      Atomics.add(this.hdr, H.mapped, 1);
      return h;
    }
    return -1;
  }

  entry(handle: number): MaptrackEntry {
    const o = handle * MT_WORDS;
    const w = this.mt[o]!;
    return {
      state: (w & 0xff) as Mt, readonly: (w & MT_RO) !== 0, granter: this.mt[o + 1]!, ref: this.mt[o + 2]!,
      slot: this.mt[o + 3]!, gpa: this.mtGpa[handle]!,
    };
  }

  setMapped(handle: number, m: { granter: number; ref: number; slot: number; gpa: number; readonly: boolean }): void {
    const o = handle * MT_WORDS;
    this.mt[o + 1] = m.granter;
    this.mt[o + 2] = m.ref;
    this.mt[o + 3] = m.slot;
    this.mtGpa[handle] = m.gpa;
    this.mt[o] = Mt.Mapped | (m.readonly ? MT_RO : 0);
  }

  setOrphaned(handle: number): void {
    const o = handle * MT_WORDS;
    this.mt[o] = (this.mt[o]! & ~0xff) | Mt.Orphaned;
  }

  freeHandle(handle: number): void {
    if ((this.mt[handle * MT_WORDS]! & 0xff) === Mt.Free) return;
    this.mt.fill(0, handle * MT_WORDS, (handle + 1) * MT_WORDS);
    this.mtGpa[handle] = 0;
    Atomics.sub(this.hdr, H.mapped, 1);
  }
}

function spinLock(a: Int32Array, i: number): void {
  while (Atomics.compareExchange(a, i, 0, 1) !== 0) Atomics.wait(a, i, 1, 1);
}

function spinUnlock(a: Int32Array, i: number): void {
  Atomics.store(a, i, 0);
  Atomics.notify(a, i, 1);
}
