// memory.ts: guest linear memory for one instruction — paging with the CPU's permission checks, #PF
// error codes, accessed/dirty bits, and writes held back until the instruction commits.
import type { PhysMemory } from '../../memory/phys-memory.ts';
import { walkPages, type PagingState } from '../../memory/page-walk.ts';
import { GuestException, NotEmulated, VEC } from './errors.ts';
import { CR0, CR4, EFER } from './mode.ts';

export interface AccessKind {
  readonly write: boolean;
  /** An instruction fetch. */
  readonly fetch?: boolean;
  /** A user-mode access (CPL 3 and not an implicit supervisor access such as a descriptor read). */
  readonly user: boolean;
  /** Descriptor-table and TSS reads: supervisor accesses that SMAP always checks. */
  readonly implicit?: boolean;
}

export interface LinearPaging extends PagingState {
  /** RFLAGS.AC, which lets explicit supervisor accesses reach user pages under SMAP. */
  readonly ac: boolean;
}

const PF = { P: 1, W: 2, U: 4, I: 16 } as const;
const ACCESSED = 0x20, DIRTY = 0x40;
const PAGE = 4096n;

export class GuestLinear {
  private readonly pending: Array<{ off: number; data: Uint8Array }> = [];
  private words: Int32Array | null = null;

  constructor(private readonly mem: PhysMemory, private readonly paging: LinearPaging) {}

  /** Linear addresses wrap at 4 GiB outside IA-32e mode. */
  private wrap(linear: bigint): bigint {
    return (this.paging.efer & EFER.LMA) !== 0n ? BigInt.asUintN(64, linear) : BigInt.asUintN(32, linear);
  }

  /** Copy `len` bytes out (a private copy). Throws #PF as the CPU would. */
  read(linear: bigint, len: number, access: AccessKind): Uint8Array {
    const out = new Uint8Array(len);
    for (const { off, from, n } of this.pieces(linear, len, access)) out.set(this.mem.bytes.subarray(off, off + n), from);
    return out;
  }

  /** Check and translate a write now (so it faults before anything changes); store it at commit. */
  write(linear: bigint, data: Uint8Array, access: Omit<AccessKind, 'write'>): void {
    for (const { off, from, n } of this.pieces(linear, data.length, { ...access, write: true })) {
      this.pending.push({ off, data: data.slice(from, from + n) });
    }
  }

  commit(): void {
    for (const { off, data } of this.pending) this.mem.bytes.set(data, off);
    this.pending.length = 0;
  }

  private pieces(linear: bigint, len: number, access: AccessKind): Array<{ off: number; from: number; n: number }> {
    const out: Array<{ off: number; from: number; n: number }> = [];
    let done = 0;
    while (done < len) {
      const la = this.wrap(linear + BigInt(done));
      const n = Math.min(len - done, Number(PAGE - (la % PAGE)));
      const gpa = this.translate(la, access);
      const off = this.mem.offsetOf(gpa, n);
      // Device (MMIO) space: emulated loads and stores reach RAM only; say so rather than
      // invent a value.
      if (off < 0) throw new NotEmulated(`memory operand at guest-physical 0x${gpa.toString(16)} is not RAM`);
      out.push({ off, from: done, n });
      done += n;
    }
    return out;
  }

  private translate(la: bigint, access: AccessKind): number {
    const ps = this.paging;
    const w = walkPages(this.mem, ps, la);
    const code = (access.write ? PF.W : 0) | (access.user ? PF.U : 0) |
      (access.fetch === true && ((ps.efer & EFER.NXE) !== 0n || (ps.cr4 & CR4.SMEP) !== 0n) ? PF.I : 0);
    if (w === 'non-canonical') throw new GuestException(VEC.GP, 0);
    if (w === 'not-present') throw new GuestException(VEC.PF, code, la);
    if ((ps.cr0 & CR0.PG) !== 0n && !this.allowed(w, access)) throw new GuestException(VEC.PF, code | PF.P, la);
    this.markUsed(w.entries, access.write);
    return w.gpa;
  }

  private allowed(w: { writable: boolean; user: boolean; noExec: boolean }, access: AccessKind): boolean {
    const ps = this.paging;
    if (access.user && !w.user) return false;
    if (access.fetch === true) {
      if ((ps.efer & EFER.NXE) !== 0n && w.noExec) return false;
      return access.user || !w.user || (ps.cr4 & CR4.SMEP) === 0n;
    }
    if (!access.user && w.user && (ps.cr4 & CR4.SMAP) !== 0n && (access.implicit === true || !ps.ac)) return false;
    if (access.write && !w.writable && (access.user || (ps.cr0 & CR0.WP) !== 0n)) return false;
    return true;
  }

  /** Set accessed bits down the walk and the dirty bit on the last entry, as the CPU does. */
  private markUsed(entries: readonly number[], write: boolean): void {
    const bytes = this.mem.bytes;
    if (entries.length === 0 || (bytes.byteOffset & 3) !== 0) return;
    // Atomically: another vCPU may be updating the same entries.
    this.words ??= new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    entries.forEach((off, i) => {
      const bits = ACCESSED | (write && i === entries.length - 1 ? DIRTY : 0);
      if ((off & 3) !== 0 || (bytes[off]! & bits) === bits) return;
      Atomics.or(this.words!, off >>> 2, bits);
    });
  }
}
