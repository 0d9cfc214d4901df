// cpuid.ts: the Xen CPUID leaves at 0x40000000 and the hypercall-page MSR (arch-x86/cpuid.h).
import { defineConstants } from './layout.ts';

export const XEN_CPUID = defineConstants('Xen CPUID leaves', 'XEN_CPUID_', {
  FIRST_LEAF: 0x40000000,
  /** Leaf base+0 EBX/ECX/EDX spell "XenVMMXenVMM". */
  SIGNATURE_EBX: 0x566e6558,
  SIGNATURE_ECX: 0x65584d4d,
  SIGNATURE_EDX: 0x4d4d566e,
  MAX_NUM_LEAVES: 5,
}, { inXenHeaders: true });

/** Flags in leaf base+4 EAX (HVM-specific features). */
export const XEN_HVM_CPUID = defineConstants('Xen HVM CPUID flags (leaf base+4 EAX)', 'XEN_HVM_CPUID_', {
  APIC_ACCESS_VIRT: 1 << 0,
  X2APIC_VIRT: 1 << 1,
  IOMMU_MAPPINGS: 1 << 2,
  VCPU_ID_PRESENT: 1 << 3,
  DOMID_PRESENT: 1 << 4,
  EXT_DEST_ID: 1 << 5,
  UPCALL_VECTOR: 1 << 6,
});

export const PVKVM_MSR = defineConstants('pvkvm MSRs', 'PVKVM_MSR_', {
  /** Guest writes the hypercall page's guest-physical address here (leaf base+2 EBX). */
  HYPERCALL_PAGE: 0x40000000,
}, { inXenHeaders: false });

/** The Xen version pvkvm reports: 4.17, the Debian libxen-dev release it is checked against. */
export const PVKVM_XEN_VERSION = defineConstants('Reported Xen version', 'PVKVM_XEN_VERSION_', {
  MAJOR: 4,
  MINOR: 17,
}, { inXenHeaders: false });
