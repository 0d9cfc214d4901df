// cpu-state.ts: initial vCPU states — PVH entry (32-bit, paging off) and VCPUOP_initialise contexts.
import type { KvmVcpu, Segment } from '../kvm/vcpu.ts';
import type { RegName } from '../kvm/run-layout.ts';
import { VcpuHvmContext } from '../../abi/vcpu.ts';
import { writeSegment } from '../kvm/vcpu.ts';
import { SREGS } from '../kvm/run-layout.ts';

const FLAT_CODE: Segment = {
  base: 0n, limit: 0xffffffff, selector: 0x08, type: 0xb, present: 1, dpl: 0, db: 1, s: 1, l: 0, g: 1, avl: 0, unusable: 0,
};
const FLAT_DATA: Segment = { ...FLAT_CODE, selector: 0x10, type: 0x3 };
/** An active 32-bit TSS, base 0, limit 0x67, as the PVH spec requires. */
const TSS: Segment = { ...FLAT_CODE, selector: 0x18, type: 0xb, s: 0, limit: 0x67, g: 0 };

/**
 * Put a vCPU in the state PVH guests expect at their PHYS32 entry point:
 * CR0.PE only, CR4 = 0, flat 32-bit segments, EBX = hvm_start_info, EFLAGS with IF/TF/VM clear.
 */
/** IA32_MTRR_DEF_TYPE: MTRRs enabled (E), fixed ranges enabled (FE), default type write-back. */
const MSR_MTRR_DEF_TYPE = 0x2ff;
const MTRR_DEF_WB_ENABLED = 0xc06n;

/**
 * Every vCPU starts with MTRRs enabled and write-back as the default type, as Xen gives PVH
 * domUs. KVM's reset state has MTRRs disabled (all memory uncacheable): with shadow paging that
 * makes every guest memory access several thousand cycles.
 */
export function setDefaultMemoryType(vcpu: KvmVcpu): void {
  vcpu.setMsr(MSR_MTRR_DEF_TYPE, MTRR_DEF_WB_ENABLED);
}

export function setPvhEntryState(vcpu: KvmVcpu, entry: number, startInfoGpa: number): void {
  const sregs = vcpu.getSregs();
  const v = new DataView(sregs.buffer);
  writeSegment(v, SREGS.cs, FLAT_CODE);
  for (const s of ['ds', 'es', 'fs', 'gs', 'ss'] as const) writeSegment(v, SREGS[s], FLAT_DATA);
  writeSegment(v, SREGS.tr, TSS);
  v.setBigUint64(SREGS.cr0, 0x11n, true); // PE, plus ET which is hard-wired to 1
  v.setBigUint64(SREGS.cr3, 0n, true);
  v.setBigUint64(SREGS.cr4, 0n, true);
  v.setBigUint64(SREGS.efer, 0n, true);
  vcpu.setSregs(sregs);
  vcpu.setRegs({ rip: BigInt(entry), rbx: BigInt(startInfoGpa), rflags: 2n });
}

const FLAT_CODE64: Segment = { ...FLAT_CODE, l: 1, db: 0 };
/** A busy 64-bit TSS (type 0xb), base 0, limit 0x67. */
const TSS64: Segment = { ...TSS };

/**
 * Load a 64-bit vcpu_hvm_context (VCPUOP_initialise): general registers, RIP, RFLAGS and the
 * control registers from the guest; flat segments (CS 0x08 64-bit, data 0x10) and a TSS as Xen
 * sets them. GDTR/IDTR are left for the guest to load.
 */
export function applyHvmContext(vcpu: KvmVcpu, ctx: DataView): void {
  const r = (name: string): bigint => ctx.getBigUint64(VcpuHvmContext.byName[name as keyof typeof VcpuHvmContext.byName].offset, true);
  const sregs = vcpu.getSregs();
  const v = new DataView(sregs.buffer);
  writeSegment(v, SREGS.cs, FLAT_CODE64);
  for (const s of ['ds', 'es', 'fs', 'gs', 'ss'] as const) writeSegment(v, SREGS[s], FLAT_DATA);
  writeSegment(v, SREGS.tr, TSS64);
  v.setBigUint64(SREGS.cr0, r('cpu_regs.x86_64.cr0'), true);
  v.setBigUint64(SREGS.cr3, r('cpu_regs.x86_64.cr3'), true);
  v.setBigUint64(SREGS.cr4, r('cpu_regs.x86_64.cr4'), true);
  const LME = 1n << 8n, LMA = 1n << 10n, PG = 1n << 31n;
  let efer = r('cpu_regs.x86_64.efer');
  // KVM insists EFER.LMA matches LME && CR0.PG: derive it rather than trust the guest's copy.
  efer = (efer & LME) !== 0n && (r('cpu_regs.x86_64.cr0') & PG) !== 0n ? efer | LMA : efer & ~LMA;
  v.setBigUint64(SREGS.efer, efer, true);
  vcpu.setSregs(sregs);
  const regs: Partial<Record<RegName, bigint>> = {};
  for (const name of ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'rip', 'rflags'] as const) {
    regs[name] = r(`cpu_regs.x86_64.${name}`);
  }
  regs.rflags = (regs.rflags! | 2n) & ~(1n << 17n); // bit 1 is reserved-one; never VM86
  vcpu.setRegs(regs);
  vcpu.setRunnable();
}

/** Checks Xen makes before accepting a 64-bit context: long mode must be fully enabled. */
export function validHvmContext64(ctx: DataView): boolean {
  const f = VcpuHvmContext.byName;
  const cr0 = ctx.getBigUint64(f['cpu_regs.x86_64.cr0'].offset, true);
  const cr4 = ctx.getBigUint64(f['cpu_regs.x86_64.cr4'].offset, true);
  const efer = ctx.getBigUint64(f['cpu_regs.x86_64.efer'].offset, true);
  const PG = 1n << 31n, PE = 1n, PAE = 1n << 5n, LME = 1n << 8n;
  return (cr0 & (PG | PE)) === (PG | PE) && (cr4 & PAE) !== 0n && (efer & LME) !== 0n;
}
