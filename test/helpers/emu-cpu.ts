// emu-cpu.ts: a plain-object vCPU for the instruction emulator's tests — registers, segments,
// descriptor tables, an XSAVE image and identity-mapped guest memory, no KVM involved.
import { RegionTable } from '../../hypervisor/memory/regions.ts';
import { PhysMemory } from '../../hypervisor/memory/phys-memory.ts';
import { REG_NAMES, type RegName } from '../../hypervisor/kvm/run-layout.ts';
import type { EmuCpu, Segment, SegName } from '../../hypervisor/vcpu/emulate/cpu-port.ts';
import { XSTATE_BV } from '../../hypervisor/vcpu/emulate/fpu-state.ts';

export const MEM_BYTES = 8 << 20;
/** Page tables live here (PML4, PDPT, PD); everything below 8 MiB is identity-mapped, 2 MiB pages. */
export const PT_BASE = 0x1000;
/** Free memory the tests may use for stacks, tables and operands. */
export const SCRATCH = 0x100000;

export function fakeMemory(bytes = MEM_BYTES): PhysMemory {
  const regions = new RegionTable();
  regions.add({ gpa: 0, size: bytes, fileOffset: 0, slot: 0, kind: 'ram' });
  return new PhysMemory(new Uint8Array(bytes), regions);
}

/** Identity map [0, 8 MiB) with 2 MiB pages: present, writable, user. */
export function identityMap(mem: PhysMemory): bigint {
  const v = mem.view;
  const pml4 = PT_BASE, pdpt = PT_BASE + 0x1000, pd = PT_BASE + 0x2000;
  v.setBigUint64(pml4, BigInt(pdpt) | 7n, true);
  v.setBigUint64(pdpt, BigInt(pd) | 7n, true);
  for (let i = 0; i < 4; i++) v.setBigUint64(pd + i * 8, BigInt(i * 0x200000) | 0x87n, true);
  return BigInt(pml4);
}

export const FLAT64_CODE: Segment = {
  base: 0n, limit: 0xffffffff, selector: 0x08, type: 0xb, present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0, unusable: 0,
};
export const FLAT_DATA: Segment = { ...FLAT64_CODE, selector: 0x10, type: 0x3, l: 0, db: 1 };
export const FLAT32_CODE: Segment = { ...FLAT64_CODE, l: 0, db: 1 };
const NULL_SEG: Segment = { ...FLAT_DATA, selector: 0, unusable: 1, present: 0 };

export const CR0_PE_MP_NE_ET_PG = 0x80000033n;
export const CR4_PAE_OSFXSR_OSXMMEXCPT = 0x620n;
export const EFER_LME_LMA = 0x500n;

export class FakeCpu implements EmuCpu {
  readonly regs = Object.fromEntries(REG_NAMES.map((n) => [n, 0n])) as Record<RegName, bigint>;
  readonly segs: Record<SegName, Segment> = {
    cs: FLAT64_CODE, ds: FLAT_DATA, es: FLAT_DATA, fs: FLAT_DATA, gs: FLAT_DATA, ss: FLAT_DATA,
    tr: { ...NULL_SEG, s: 0, type: 0xb, present: 1, unusable: 0 }, ldt: NULL_SEG,
  };
  readonly cr = { cr0: CR0_PE_MP_NE_ET_PG, cr3: 0n, cr4: CR4_PAE_OSFXSR_OSXMMEXCPT, efer: EFER_LME_LMA };
  readonly tables = { gdt: { base: 0n, limit: 0xffff }, idt: { base: 0n, limit: 0xfff } };
  /** XSAVE image: FXSAVE area, header, and room for the rest (null: the host has none). */
  xsave: Uint8Array | null = new Uint8Array(4096);
  xsaveWrites = 0;

  constructor(readonly mem: PhysMemory = fakeMemory()) {
    this.cr.cr3 = identityMap(mem);
    this.regs.rflags = 2n;
    const v = new DataView(this.xsave!.buffer);
    v.setUint16(0, 0x37f, true);
    v.setUint32(24, 0x1f80, true);
    v.setUint32(28, 0xffff, true);
    v.setBigUint64(XSTATE_BV, 3n, true);
  }

  reg(n: RegName): bigint { return this.regs[n]; }
  setReg(n: RegName, v: bigint): void { this.regs[n] = BigInt.asUintN(64, v); }
  seg(n: SegName): Segment { return { ...this.segs[n] }; }
  setSeg(n: SegName, s: Segment): void { this.segs[n] = { ...s }; }
  sreg(n: 'cr0' | 'cr3' | 'cr4' | 'efer'): bigint { return this.cr[n]; }
  dtable(n: 'gdt' | 'idt'): { base: bigint; limit: number } { return { ...this.tables[n] }; }
  getXsave(): Uint8Array | null { return this.xsave === null ? null : this.xsave.slice(); }
  setXsave(b: Uint8Array): void { this.xsave = b.slice(); this.xsaveWrites++; }

  /** Protected mode without paging, flat 32-bit segments at CPL 0. */
  toProtected32(): this {
    this.cr.cr0 = 0x33n;
    this.cr.cr4 = 0x600n;
    this.cr.efer = 0n;
    this.segs.cs = FLAT32_CODE;
    for (const s of ['ds', 'es', 'fs', 'gs', 'ss'] as const) this.segs[s] = FLAT_DATA;
    return this;
  }

  get xsaveView(): DataView {
    return new DataView(this.xsave!.buffer);
  }
}
