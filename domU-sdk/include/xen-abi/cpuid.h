/* Generated from abi/index.ts (ABI_MODULES "cpuid.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_CPUID_H
#define PVKVM_XEN_ABI_CPUID_H

#include <stdint.h>

/* Xen CPUID leaves */
#define XEN_CPUID_FIRST_LEAF     0x40000000
#define XEN_CPUID_SIGNATURE_EBX  0x566e6558
#define XEN_CPUID_SIGNATURE_ECX  0x65584d4d
#define XEN_CPUID_SIGNATURE_EDX  0x4d4d566e
#define XEN_CPUID_MAX_NUM_LEAVES 5

/* Xen HVM CPUID flags (leaf base+4 EAX) */
#define XEN_HVM_CPUID_APIC_ACCESS_VIRT 1
#define XEN_HVM_CPUID_X2APIC_VIRT      2
#define XEN_HVM_CPUID_IOMMU_MAPPINGS   4
#define XEN_HVM_CPUID_VCPU_ID_PRESENT  8
#define XEN_HVM_CPUID_DOMID_PRESENT    16
#define XEN_HVM_CPUID_EXT_DEST_ID      32
#define XEN_HVM_CPUID_UPCALL_VECTOR    64

/* pvkvm MSRs */
#define PVKVM_MSR_HYPERCALL_PAGE 0x40000000

/* Reported Xen version */
#define PVKVM_XEN_VERSION_MAJOR 4
#define PVKVM_XEN_VERSION_MINOR 17

#endif /* PVKVM_XEN_ABI_CPUID_H */
