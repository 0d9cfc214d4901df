// cpu-state.ts: the PVH entry state of the boot vCPU (32-bit protected mode, paging off).
import type { KvmVcpu, Segment } from '../kvm/vcpu.ts';
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
