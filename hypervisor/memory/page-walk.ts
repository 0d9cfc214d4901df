// page-walk.ts: guest-virtual → guest-physical translation by walking the guest's own page tables.
//
// Hypercall arguments are guest-virtual. Calling KVM_TRANSLATE per pointer costs a vCPU ioctl
// (~7 µs here), so we walk the tables from CR3 ourselves, as Xen's HVM copy routines do. The
// instruction emulator needs more than an address: the rights every level grants (to build a
// #PF error code) and where the entries are (to set their accessed/dirty bits).
import type { PhysMemory } from './phys-memory.ts';

export interface PagingState {
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
}

const CR0_PG = 1n << 31n;
const CR4_PSE = 1n << 4n;
const CR4_PAE = 1n << 5n;
const CR4_LA57 = 1n << 12n;
const EFER_LMA = 1n << 10n;
const P = 1, RW = 2, US = 4, PS = 0x80;
const XD_HI = 0x80000000;
const TWO32 = 0x1_0000_0000;

/** A successful walk: the address and the rights that every level granted. */
export interface PageWalk {
  readonly gpa: number;
  readonly writable: boolean;
  readonly user: boolean;
  /** Some level had its XD bit set (meaningful only with EFER.NXE). */
  readonly noExec: boolean;
  /** File offsets of the entries used, top level first, and whether each is 8 bytes. */
  readonly entries: readonly number[];
  readonly wide: boolean;
}

/** Why a walk failed: a non-present (or unbacked) entry, or a non-canonical address. */
export type WalkFailure = 'not-present' | 'non-canonical';

/** Physical address field of a 64-bit entry (bits 51:12) as a number. */
function entryAddr(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
}

/** Rights accumulated down the walk. */
class Rights {
  writable = true;
  user = true;
  noExec = false;
  readonly entries: number[] = [];
  take(lo: number, hi: number, off: number): void {
    if ((lo & RW) === 0) this.writable = false;
    if ((lo & US) === 0) this.user = false;
    if ((hi & XD_HI) !== 0) this.noExec = true;
    this.entries.push(off);
  }
}

/** Walk the guest's tables for `gva`, checking nothing but presence. */
export function walkPages(mem: PhysMemory, ps: PagingState, gva: bigint): PageWalk | WalkFailure {
  if ((ps.cr0 & CR0_PG) === 0n) {
    return { gpa: Number(gva & 0xffffffffn), writable: true, user: true, noExec: false, entries: [], wide: false };
  }
  const rights = new Rights();
  if ((ps.efer & EFER_LMA) !== 0n) {
    const five = (ps.cr4 & CR4_LA57) !== 0n;
    const bits = five ? 57 : 48;
    const top = gva >> BigInt(bits - 1);
    if (top !== 0n && top !== (1n << BigInt(65 - bits)) - 1n) return 'non-canonical';
    const va = Number(gva & ((1n << BigInt(bits)) - 1n));
    const gpa = walk(mem, Number(ps.cr3 & 0x000ffffffffff000n), va, five ? 5 : 4, rights);
    return gpa === null ? 'not-present' : done(gpa, rights, true);
  }
  const va = Number(gva & 0xffffffffn);
  if ((ps.cr4 & CR4_PAE) !== 0n) {
    // PAE: a 4-entry PDPT at CR3 (32-byte aligned; its entries grant no rights), then two levels.
    const pdpte = mem.offsetOf(Number(ps.cr3 & 0xffffffe0n) + Math.floor(va / 2 ** 30) * 8, 8);
    if (pdpte < 0) return 'not-present';
    const lo = mem.view.getUint32(pdpte, true), hi = mem.view.getUint32(pdpte + 4, true);
    if ((lo & P) === 0) return 'not-present';
    const gpa = walk(mem, entryAddr(lo, hi), va % 2 ** 30, 2, rights);
    return gpa === null ? 'not-present' : done(gpa, rights, true);
  }
  // Legacy 2-level paging with 4-byte entries.
  const pdeOff = mem.offsetOf(Number(ps.cr3 & 0xfffff000n) + (va >>> 22) * 4, 4);
  if (pdeOff < 0) return 'not-present';
  const pde = mem.view.getUint32(pdeOff, true);
  if ((pde & P) === 0) return 'not-present';
  rights.take(pde, 0, pdeOff);
  if ((pde & PS) !== 0 && (ps.cr4 & CR4_PSE) !== 0n) return done(((pde & 0xffc00000) >>> 0) + (va & 0x3fffff), rights, false);
  const pteOff = mem.offsetOf(((pde & 0xfffff000) >>> 0) + ((va >>> 12) & 0x3ff) * 4, 4);
  if (pteOff < 0) return 'not-present';
  const pte = mem.view.getUint32(pteOff, true);
  if ((pte & P) === 0) return 'not-present';
  rights.take(pte, 0, pteOff);
  return done(((pte & 0xfffff000) >>> 0) + (va & 0xfff), rights, false);
}

function done(gpa: number, r: Rights, wide: boolean): PageWalk {
  return { gpa, writable: r.writable, user: r.user, noExec: r.noExec, entries: r.entries, wide };
}

/**
 * Translate one guest-virtual address for a hypercall argument. Returns the guest-physical
 * address, or null when the address is non-canonical, unmapped, or (for writes) read-only.
 */
export function translate(mem: PhysMemory, ps: PagingState, gva: bigint, write: boolean): number | null {
  const w = walkPages(mem, ps, gva);
  if (typeof w === 'string' || (write && !w.writable)) return null;
  return w.gpa;
}

/** Walk `levels` levels of 512-entry tables; large pages allowed at the 1 GiB and 2 MiB levels. */
function walk(mem: PhysMemory, table: number, va: number, levels: number, rights: Rights): number | null {
  for (let level = levels; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const index = Math.floor(va / 2 ** shift) % 512;
    const off = mem.offsetOf(table + index * 8, 8);
    if (off < 0) return null;
    const lo = mem.view.getUint32(off, true), hi = mem.view.getUint32(off + 4, true);
    if ((lo & P) === 0) return null;
    rights.take(lo, hi, off);
    const addr = entryAddr(lo, hi);
    if (level === 1) return addr + (va % 4096);
    if ((lo & PS) !== 0 && level <= 3) {
      const pageSize = 2 ** shift;
      return addr - (addr % pageSize) + (va % pageSize);
    }
    table = addr;
  }
  return null;
}
