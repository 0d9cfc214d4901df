// protected-runs.ts: which runs of a domain's RAM frames are unmapped from the guest (PROT_NONE in
// the mapping KVM uses) after XENMEM_decrease_reservation — a bounded interval table in a
// SharedArrayBuffer that every vCPU thread of the domain updates under one lock.
//
// Each run costs the hypervisor process up to two memory mappings (VMAs), and the process's limit
// (vm.max_map_count, 65530 by default) is shared by every domain: so a domain gets at most
// MAX_RUNS runs. Past that a released frame keeps its mapping (it reads as zero, its memory still
// goes back to the host) instead of failing the hypercall.

/** Runs one domain may hold unmapped. */
export const MAX_RUNS = 512;
const LOCK = 0;
const COUNT = 1;
const HEADER = 2;

/** Change the guest's access to frames [first, end): the caller mprotects the KVM mapping. */
export type SetAccess = (first: number, end: number, accessible: boolean) => boolean;

export class ProtectedRuns {
  /** Bytes the table takes in a SharedArrayBuffer. */
  static readonly BYTES = (HEADER + 2 * MAX_RUNS) * 4;
  private readonly w: Int32Array;

  constructor(sab: SharedArrayBuffer = new SharedArrayBuffer(ProtectedRuns.BYTES), byteOffset = 0) {
    this.w = new Int32Array(sab, byteOffset, HEADER + 2 * MAX_RUNS);
  }

  get count(): number {
    return Atomics.load(this.w, COUNT);
  }

  /** Runs as [first, end) pairs, in order (for tests and reports). */
  list(): Array<[number, number]> {
    return this.locked(() => this.runs().map((i) => [this.start(i), this.end(i)] as [number, number]));
  }

  /** True when frame `pfn` is unmapped from the guest. */
  has(pfn: number): boolean {
    return this.locked(() => this.runs().some((i) => pfn >= this.start(i) && pfn < this.end(i)));
  }

  /**
   * Frames [first, end) were released: unmap them if the table has room (merging with neighbours
   * takes none). Returns whether they were unmapped.
   */
  release(first: number, end: number, set: SetAccess): boolean {
    return this.locked(() => {
      const runs = this.runs();
      const touching = runs.filter((i) => this.start(i) <= end && this.end(i) >= first);
      if (touching.length === 0 && runs.length >= MAX_RUNS) return false;
      if (!set(first, end, false)) return false;
      let lo = first;
      let hi = end;
      for (const i of touching) {
        lo = Math.min(lo, this.start(i));
        hi = Math.max(hi, this.end(i));
      }
      const kept = runs.filter((i) => !touching.includes(i)).map((i) => [this.start(i), this.end(i)] as [number, number]);
      kept.push([lo, hi]);
      this.store(kept);
      return true;
    });
  }

  /**
   * Frames [first, end) were populated again: map them back. A run they split in two needs a
   * second slot; with the table full the whole run is mapped back instead (its other frames then
   * read as zero, as released frames past the limit do).
   */
  populate(first: number, end: number, set: SetAccess): boolean {
    return this.locked(() => {
      const out: Array<[number, number]> = [];
      let ok = true;
      const runs = this.runs();
      let slots = runs.length;
      for (const i of runs) {
        const s = this.start(i);
        const e = this.end(i);
        if (e <= first || s >= end) {
          out.push([s, e]);
          continue;
        }
        const left: [number, number] | null = s < first ? [s, first] : null;
        const right: [number, number] | null = e > end ? [end, e] : null;
        if (left && right && slots >= MAX_RUNS) {
          ok = set(s, e, true) && ok; // no room to split: the whole run comes back
          slots--;
          continue;
        }
        ok = set(Math.max(s, first), Math.min(e, end), true) && ok;
        if (left) out.push(left);
        if (right) out.push(right);
        if (left && right) slots++;
        if (!left && !right) slots--;
      }
      this.store(out);
      return ok;
    });
  }

  private start(i: number): number {
    return this.w[HEADER + 2 * i]!;
  }

  private end(i: number): number {
    return this.w[HEADER + 2 * i + 1]!;
  }

  private runs(): number[] {
    return Array.from({ length: Atomics.load(this.w, COUNT) }, (_, i) => i);
  }

  private store(runs: Array<[number, number]>): void {
    runs.sort((a, b) => a[0] - b[0]);
    runs.forEach(([s, e], i) => {
      this.w[HEADER + 2 * i] = s;
      this.w[HEADER + 2 * i + 1] = e;
    });
    Atomics.store(this.w, COUNT, runs.length);
  }

  /** A plain lock word: vCPU threads of one domain only, held for a table edit and an mprotect. */
  private locked<T>(fn: () => T): T {
    while (Atomics.compareExchange(this.w, LOCK, 0, 1) !== 0) Atomics.wait(this.w, LOCK, 1, 1);
    try {
      return fn();
    } finally {
      Atomics.store(this.w, LOCK, 0);
      Atomics.notify(this.w, LOCK, 1);
    }
  }
}
