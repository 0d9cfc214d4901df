/* Generated from abi/index.ts (ABI_MODULES "shared-info.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_SHARED_INFO_H
#define PVKVM_XEN_ABI_SHARED_INFO_H

#include <stdint.h>

/* pvclock flags */
#define XEN_PVCLOCK_TSC_STABLE_BIT 1
#define XEN_PVCLOCK_GUEST_STOPPED  2

/* vcpu_time_info: 32 bytes (Xen: struct vcpu_time_info). */
struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
    uint8_t pad1[2];
};
_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info: size");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, version) == 0, "vcpu_time_info: offset of version");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, pad0) == 4, "vcpu_time_info: offset of pad0");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, tsc_timestamp) == 8, "vcpu_time_info: offset of tsc_timestamp");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, system_time) == 16, "vcpu_time_info: offset of system_time");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, tsc_to_system_mul) == 24, "vcpu_time_info: offset of tsc_to_system_mul");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, tsc_shift) == 28, "vcpu_time_info: offset of tsc_shift");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, flags) == 29, "vcpu_time_info: offset of flags");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, pad1) == 30, "vcpu_time_info: offset of pad1");

/* vcpu_info: 64 bytes (Xen: struct vcpu_info). */
struct vcpu_info {
    uint8_t evtchn_upcall_pending;
    uint8_t evtchn_upcall_mask;
    uint8_t _pad0[6];
    uint64_t evtchn_pending_sel;
    uint64_t arch_cr2;
    uint64_t arch_pad;
    struct vcpu_time_info time;
};
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info: size");
_Static_assert(__builtin_offsetof(struct vcpu_info, evtchn_upcall_pending) == 0, "vcpu_info: offset of evtchn_upcall_pending");
_Static_assert(__builtin_offsetof(struct vcpu_info, evtchn_upcall_mask) == 1, "vcpu_info: offset of evtchn_upcall_mask");
_Static_assert(__builtin_offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "vcpu_info: offset of evtchn_pending_sel");
_Static_assert(__builtin_offsetof(struct vcpu_info, arch_cr2) == 16, "vcpu_info: offset of arch_cr2");
_Static_assert(__builtin_offsetof(struct vcpu_info, arch_pad) == 24, "vcpu_info: offset of arch_pad");
_Static_assert(__builtin_offsetof(struct vcpu_info, time) == 32, "vcpu_info: offset of time");

/* shared_info: 3136 bytes (Xen: struct shared_info). */
struct shared_info {
    struct vcpu_info vcpu_info[32];
    uint64_t evtchn_pending[64];
    uint64_t evtchn_mask[64];
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t wc_sec_hi;
    uint64_t arch_max_pfn;
    uint64_t arch_pfn_to_mfn_frame_list_list;
    uint64_t arch_nmi_reason;
    uint64_t arch_p2m_cr3;
    uint64_t arch_p2m_vaddr;
    uint64_t arch_p2m_generation;
};
_Static_assert(sizeof(struct shared_info) == 3136, "shared_info: size");
_Static_assert(__builtin_offsetof(struct shared_info, vcpu_info) == 0, "shared_info: offset of vcpu_info");
_Static_assert(__builtin_offsetof(struct shared_info, evtchn_pending) == 2048, "shared_info: offset of evtchn_pending");
_Static_assert(__builtin_offsetof(struct shared_info, evtchn_mask) == 2560, "shared_info: offset of evtchn_mask");
_Static_assert(__builtin_offsetof(struct shared_info, wc_version) == 3072, "shared_info: offset of wc_version");
_Static_assert(__builtin_offsetof(struct shared_info, wc_sec) == 3076, "shared_info: offset of wc_sec");
_Static_assert(__builtin_offsetof(struct shared_info, wc_nsec) == 3080, "shared_info: offset of wc_nsec");
_Static_assert(__builtin_offsetof(struct shared_info, wc_sec_hi) == 3084, "shared_info: offset of wc_sec_hi");
_Static_assert(__builtin_offsetof(struct shared_info, arch_max_pfn) == 3088, "shared_info: offset of arch_max_pfn");
_Static_assert(__builtin_offsetof(struct shared_info, arch_pfn_to_mfn_frame_list_list) == 3096, "shared_info: offset of arch_pfn_to_mfn_frame_list_list");
_Static_assert(__builtin_offsetof(struct shared_info, arch_nmi_reason) == 3104, "shared_info: offset of arch_nmi_reason");
_Static_assert(__builtin_offsetof(struct shared_info, arch_p2m_cr3) == 3112, "shared_info: offset of arch_p2m_cr3");
_Static_assert(__builtin_offsetof(struct shared_info, arch_p2m_vaddr) == 3120, "shared_info: offset of arch_p2m_vaddr");
_Static_assert(__builtin_offsetof(struct shared_info, arch_p2m_generation) == 3128, "shared_info: offset of arch_p2m_generation");

/* compat_vcpu_info: 64 bytes (Xen: struct vcpu_info, i386 layout). */
struct compat_vcpu_info {
    uint8_t evtchn_upcall_pending;
    uint8_t evtchn_upcall_mask;
    uint8_t _pad0[2];
    uint32_t evtchn_pending_sel;
    uint32_t arch_cr2;
    uint32_t arch_pad[5];
    struct vcpu_time_info time;
};
_Static_assert(sizeof(struct compat_vcpu_info) == 64, "compat_vcpu_info: size");
_Static_assert(__builtin_offsetof(struct compat_vcpu_info, evtchn_upcall_pending) == 0, "compat_vcpu_info: offset of evtchn_upcall_pending");
_Static_assert(__builtin_offsetof(struct compat_vcpu_info, evtchn_upcall_mask) == 1, "compat_vcpu_info: offset of evtchn_upcall_mask");
_Static_assert(__builtin_offsetof(struct compat_vcpu_info, evtchn_pending_sel) == 4, "compat_vcpu_info: offset of evtchn_pending_sel");
_Static_assert(__builtin_offsetof(struct compat_vcpu_info, arch_cr2) == 8, "compat_vcpu_info: offset of arch_cr2");
_Static_assert(__builtin_offsetof(struct compat_vcpu_info, arch_pad) == 12, "compat_vcpu_info: offset of arch_pad");
_Static_assert(__builtin_offsetof(struct compat_vcpu_info, time) == 32, "compat_vcpu_info: offset of time");

/* compat_shared_info: 2344 bytes (Xen: struct shared_info, i386 layout). */
struct compat_shared_info {
    struct compat_vcpu_info vcpu_info[32];
    uint32_t evtchn_pending[32];
    uint32_t evtchn_mask[32];
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t arch_max_pfn;
    uint32_t arch_pfn_to_mfn_frame_list_list;
    uint32_t arch_nmi_reason;
    uint32_t arch_p2m_cr3;
    uint32_t arch_p2m_vaddr;
    uint32_t arch_p2m_generation;
    uint32_t arch_wc_sec_hi;
};
_Static_assert(sizeof(struct compat_shared_info) == 2344, "compat_shared_info: size");
_Static_assert(__builtin_offsetof(struct compat_shared_info, vcpu_info) == 0, "compat_shared_info: offset of vcpu_info");
_Static_assert(__builtin_offsetof(struct compat_shared_info, evtchn_pending) == 2048, "compat_shared_info: offset of evtchn_pending");
_Static_assert(__builtin_offsetof(struct compat_shared_info, evtchn_mask) == 2176, "compat_shared_info: offset of evtchn_mask");
_Static_assert(__builtin_offsetof(struct compat_shared_info, wc_version) == 2304, "compat_shared_info: offset of wc_version");
_Static_assert(__builtin_offsetof(struct compat_shared_info, wc_sec) == 2308, "compat_shared_info: offset of wc_sec");
_Static_assert(__builtin_offsetof(struct compat_shared_info, wc_nsec) == 2312, "compat_shared_info: offset of wc_nsec");
_Static_assert(__builtin_offsetof(struct compat_shared_info, arch_max_pfn) == 2316, "compat_shared_info: offset of arch_max_pfn");
_Static_assert(__builtin_offsetof(struct compat_shared_info, arch_pfn_to_mfn_frame_list_list) == 2320, "compat_shared_info: offset of arch_pfn_to_mfn_frame_list_list");
_Static_assert(__builtin_offsetof(struct compat_shared_info, arch_nmi_reason) == 2324, "compat_shared_info: offset of arch_nmi_reason");
_Static_assert(__builtin_offsetof(struct compat_shared_info, arch_p2m_cr3) == 2328, "compat_shared_info: offset of arch_p2m_cr3");
_Static_assert(__builtin_offsetof(struct compat_shared_info, arch_p2m_vaddr) == 2332, "compat_shared_info: offset of arch_p2m_vaddr");
_Static_assert(__builtin_offsetof(struct compat_shared_info, arch_p2m_generation) == 2336, "compat_shared_info: offset of arch_p2m_generation");
_Static_assert(__builtin_offsetof(struct compat_shared_info, arch_wc_sec_hi) == 2340, "compat_shared_info: offset of arch_wc_sec_hi");

#endif /* PVKVM_XEN_ABI_SHARED_INFO_H */
