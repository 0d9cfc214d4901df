// xen-cpuid.ts: the CPUID table a vCPU sees — the host's, minus KVM's own signature, plus Xen's.
import { XEN_CPUID, XEN_HVM_CPUID, PVKVM_MSR, PVKVM_XEN_VERSION } from '../../abi/cpuid.ts';
import type { CpuidEntry } from '../kvm/system.ts';

const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;
const HYPERVISOR_BIT = 1 << 31;

export interface CpuidParams {
  vcpuId: number;
  domid: number;
  tscKhz: number;
  /** pvclock multiplier/shift for the TSC → ns conversion (leaf base+3 sub-leaf 1). */
  tscMul: number;
  tscShift: number;
}

export function buildCpuid(host: readonly CpuidEntry[], p: CpuidParams): CpuidEntry[] {
  const base = XEN_CPUID.values.FIRST_LEAF;
  const out = host
    .filter((e) => e.function < base || e.function > base + 0xffff)
    .map((e) => ({ ...e }));
  for (const e of out) {
    if (e.function === 1) {
      e.ecx |= HYPERVISOR_BIT;
      e.ebx = ((e.ebx & 0x00ffffff) | (p.vcpuId << 24)) >>> 0; // initial APIC id
    }
    if (e.function === 0xb || e.function === 0x1f) e.edx = p.vcpuId; // x2APIC id
  }
  const leaf = (off: number, index: number, eax: number, ebx: number, ecx: number, edx: number, indexed = false): CpuidEntry => ({
    function: base + off, index, flags: indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
    eax: eax >>> 0, ebx: ebx >>> 0, ecx: ecx >>> 0, edx: edx >>> 0,
  });
  const { MAJOR, MINOR } = PVKVM_XEN_VERSION.values;
  const hvm = XEN_HVM_CPUID.values;
  out.push(
    leaf(0, 0, base + XEN_CPUID.values.MAX_NUM_LEAVES, XEN_CPUID.values.SIGNATURE_EBX,
      XEN_CPUID.values.SIGNATURE_ECX, XEN_CPUID.values.SIGNATURE_EDX),
    leaf(1, 0, (MAJOR << 16) | MINOR, 0, 0, 0),
    leaf(2, 0, 1, PVKVM_MSR.values.HYPERCALL_PAGE, 0, 0),
    // Time leaf: TSC not emulated, host TSC reliable; tsc_mode 0; guest kHz; incarnation 0.
    leaf(3, 0, 1 << 1, 0, p.tscKhz, 0, true),
    leaf(3, 1, 0, 0, p.tscMul, p.tscShift & 0xff, true),
    leaf(3, 2, p.tscKhz, 0, 0, 0, true),
    leaf(4, 0, hvm.VCPU_ID_PRESENT | hvm.DOMID_PRESENT | hvm.UPCALL_VECTOR, p.vcpuId, p.domid, 0, true),
    leaf(5, 0, 0, 0, 0, 0),
  );
  return out;
}
