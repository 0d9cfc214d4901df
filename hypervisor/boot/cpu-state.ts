// cpu-state.ts: initial vCPU states — PVH entry (32-bit, paging off) and VCPUOP_initialise contexts.
import type { KvmVcpu, Segment } from '../kvm/vcpu.ts';
import type { RegName } from '../kvm/run-layout.ts';
import { VcpuHvmContext, VcpuHvmX86_32, VCPU_HVM_MODE, VCPU_HVM_CONTEXT_REGS_OFFSET } from '../../abi/vcpu.ts';
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
  if (ctx.getUint32(VcpuHvmContext.byName.mode.offset, true) === VCPU_HVM_MODE.values['32B']) {
    applyHvmContext32(vcpu, ctx);
    return;
  }
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

// ---- 32-bit contexts (mode 32B) ----

const F32 = VcpuHvmX86_32.byName;
type Seg32 = 'cs' | 'ds' | 'ss' | 'es' | 'tr';

function u32(ctx: DataView, name: keyof typeof F32): number {
  return ctx.getUint32(VCPU_HVM_CONTEXT_REGS_OFFSET + F32[name].offset, true);
}

/** A segment from the context's base, byte-granular limit and Xen's 12-bit attribute format. */
function segment32(ctx: DataView, seg: Seg32, selector: number): Segment {
  const ar = ctx.getUint16(VCPU_HVM_CONTEXT_REGS_OFFSET + F32[`${seg}_ar`].offset, true);
  return {
    base: BigInt(u32(ctx, `${seg}_base`)), limit: u32(ctx, `${seg}_limit`), selector,
    type: ar & 0xf, s: (ar >> 4) & 1, dpl: (ar >> 5) & 3, present: (ar >> 7) & 1, avl: (ar >> 8) & 1,
    l: (ar >> 9) & 1, db: (ar >> 10) & 1, g: (ar >> 11) & 1, unusable: (ar >> 7) & 1 ? 0 : 1,
  };
}

/**
 * Xen's checks on a 32B context (arch_set_info_hvm_guest): CR0.PE set and, without long mode,
 * no EFER.LME; CS a present code segment; SS a present writable data segment; DS/ES null or usable
 * data (or readable code) segments; TR a present busy 32-bit TSS; with G set a limit's low 12 bits
 * must all be ones. Returns false for anything else.
 */
export function validHvmContext32(ctx: DataView): boolean {
  const PE = 1, LME = 1n << 8n;
  if ((u32(ctx, 'cr0') & PE) === 0) return false;
  if ((ctx.getBigUint64(VCPU_HVM_CONTEXT_REGS_OFFSET + F32.efer.offset, true) & LME) !== 0n) return false;
  const ok = (seg: Seg32): boolean => {
    const s = segment32(ctx, seg, 0);
    if (s.present === 0) return seg === 'ds' || seg === 'es';
    if (s.g === 1 && (s.limit & 0xfff) !== 0xfff) return false;
    if (s.g === 0 && s.limit > 0xfffff) return false;
    const code = (s.type & 0x8) !== 0;
    switch (seg) {
      case 'cs': return s.s === 1 && code;
      case 'ss': return s.s === 1 && !code && (s.type & 0x2) !== 0;
      case 'tr': return s.s === 0 && s.type === 0xb;
      default: return s.s === 1 && (!code || (s.type & 0x2) !== 0);
    }
  };
  return (['cs', 'ds', 'ss', 'es', 'tr'] as const).every(ok);
}

/** Load a validated 32B context: 32-bit registers and EIP, control registers, and the segments. */
export function applyHvmContext32(vcpu: KvmVcpu, ctx: DataView): void {
  const sregs = vcpu.getSregs();
  const v = new DataView(sregs.buffer);
  writeSegment(v, SREGS.cs, segment32(ctx, 'cs', 0x08));
  writeSegment(v, SREGS.ss, segment32(ctx, 'ss', 0x10));
  writeSegment(v, SREGS.ds, segment32(ctx, 'ds', 0x10));
  writeSegment(v, SREGS.es, segment32(ctx, 'es', 0x10));
  writeSegment(v, SREGS.fs, segment32(ctx, 'ds', 0x10));
  writeSegment(v, SREGS.gs, segment32(ctx, 'ds', 0x10));
  writeSegment(v, SREGS.tr, segment32(ctx, 'tr', 0x18));
  v.setBigUint64(SREGS.cr0, BigInt(u32(ctx, 'cr0')) | 0x10n, true); // ET is hard-wired to 1
  v.setBigUint64(SREGS.cr3, BigInt(u32(ctx, 'cr3')), true);
  v.setBigUint64(SREGS.cr4, BigInt(u32(ctx, 'cr4')), true);
  v.setBigUint64(SREGS.efer, ctx.getBigUint64(VCPU_HVM_CONTEXT_REGS_OFFSET + F32.efer.offset, true), true);
  vcpu.setSregs(sregs);
  const regs: Partial<Record<RegName, bigint>> = {};
  const names = [['rax', 'eax'], ['rcx', 'ecx'], ['rdx', 'edx'], ['rbx', 'ebx'], ['rsp', 'esp'], ['rbp', 'ebp'],
    ['rsi', 'esi'], ['rdi', 'edi'], ['rip', 'eip'], ['rflags', 'eflags']] as const;
  for (const [reg, field] of names) regs[reg] = BigInt(u32(ctx, field));
  regs.rflags = (regs.rflags! | 2n) & ~(1n << 17n);
  vcpu.setRegs(regs);
  vcpu.setRunnable();
}
