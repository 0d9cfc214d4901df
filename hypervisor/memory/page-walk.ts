// page-walk.ts: guest-virtual → guest-physical translation by walking the guest's own page tables.
//
// Hypercall arguments are guest-virtual. Calling KVM_TRANSLATE per pointer costs a vCPU ioctl
// (~7 µs here), so we walk the tables from CR3 ourselves, as Xen's HVM copy routines do.
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
const P = 1, RW = 2, PS = 0x80;
const TWO32 = 0x1_0000_0000;

/** Physical address field of a 64-bit entry (bits 51:12) as a number. */
function entryAddr(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
}

/**
 * Translate one guest-virtual address. Returns the guest-physical address, or null when the
 * address is non-canonical, unmapped, or (for writes) read-only.
 */
export function translate(mem: PhysMemory, ps: PagingState, gva: bigint, write: boolean): number | null {
  if ((ps.cr0 & CR0_PG) === 0n) return Number(gva & 0xffffffffn);
  if ((ps.efer & EFER_LMA) !== 0n) {
    const five = (ps.cr4 & CR4_LA57) !== 0n;
    const bits = five ? 57 : 48;
    const top = gva >> BigInt(bits - 1);
    if (top !== 0n && top !== (1n << BigInt(65 - bits)) - 1n) return null; // non-canonical
    const va = Number(gva & ((1n << BigInt(bits)) - 1n));
    return walk(mem, Number(ps.cr3 & 0x000ffffffffff000n), va, five ? 5 : 4, write);
  }
  const va = Number(gva & 0xffffffffn);
  if ((ps.cr4 & CR4_PAE) !== 0n) {
    // PAE: a 4-entry PDPT at CR3 (32-byte aligned), then two 9-bit levels.
    const pdpte = mem.offsetOf(Number(ps.cr3 & 0xffffffe0n) + Math.floor(va / 2 ** 30) * 8, 8);
    if (pdpte < 0) return null;
    const lo = mem.view.getUint32(pdpte, true), hi = mem.view.getUint32(pdpte + 4, true);
    if ((lo & P) === 0) return null;
    return walk(mem, entryAddr(lo, hi), va % 2 ** 30, 2, write);
  }
  // Legacy 2-level paging with 4-byte entries.
  const pdeOff = mem.offsetOf(Number(ps.cr3 & 0xfffff000n) + (va >>> 22) * 4, 4);
  if (pdeOff < 0) return null;
  const pde = mem.view.getUint32(pdeOff, true);
  if ((pde & P) === 0 || (write && (pde & RW) === 0)) return null;
  if ((pde & PS) !== 0 && (ps.cr4 & CR4_PSE) !== 0n) return ((pde & 0xffc00000) >>> 0) + (va & 0x3fffff);
  const pteOff = mem.offsetOf(((pde & 0xfffff000) >>> 0) + ((va >>> 12) & 0x3ff) * 4, 4);
  if (pteOff < 0) return null;
  const pte = mem.view.getUint32(pteOff, true);
  if ((pte & P) === 0 || (write && (pte & RW) === 0)) return null;
  return ((pte & 0xfffff000) >>> 0) + (va & 0xfff);
}

/** Walk `levels` levels of 512-entry tables; large pages allowed at the 1 GiB and 2 MiB levels. */
function walk(mem: PhysMemory, table: number, va: number, levels: number, write: boolean): number | null {
  for (let level = levels; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const index = Math.floor(va / 2 ** shift) % 512;
    const off = mem.offsetOf(table + index * 8, 8);
    if (off < 0) return null;
    const lo = mem.view.getUint32(off, true), hi = mem.view.getUint32(off + 4, true);
    if ((lo & P) === 0 || (write && (lo & RW) === 0)) return null;
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
