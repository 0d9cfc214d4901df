/* Generated from abi/index.ts (ABI_MODULES "version.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_VERSION_H
#define PVKVM_XEN_ABI_VERSION_H

#include <stdint.h>

/* xen_version commands */
#define XENVER_version             0
#define XENVER_extraversion        1
#define XENVER_compile_info        2
#define XENVER_capabilities        3
#define XENVER_changeset           4
#define XENVER_platform_parameters 5
#define XENVER_get_features        6
#define XENVER_pagesize            7
#define XENVER_guest_handle        8
#define XENVER_commandline         9
#define XENVER_build_id            10
#define XENVER_extraversion2       11
#define XENVER_capabilities2       12
#define XENVER_changeset2          13
#define XENVER_commandline2        14

/* xen_version buffer sizes */
#define PVKVM_XENVER_LEN_extraversion 16
#define PVKVM_XENVER_LEN_compile_info 144
#define PVKVM_XENVER_LEN_capabilities 0x400
#define PVKVM_XENVER_LEN_changeset    64
#define PVKVM_XENVER_LEN_guest_handle 16
#define PVKVM_XENVER_LEN_commandline  0x400

/* Feature bits (submap 0) */
#define XENFEAT_writable_page_tables       0
#define XENFEAT_writable_descriptor_tables 1
#define XENFEAT_auto_translated_physmap    2
#define XENFEAT_supervisor_mode_kernel     3
#define XENFEAT_pae_pgdir_above_4gb        4
#define XENFEAT_mmu_pt_update_preserve_ad  5
#define XENFEAT_highmem_assist             6
#define XENFEAT_gnttab_map_avail_bits      7
#define XENFEAT_hvm_callback_vector        8
#define XENFEAT_hvm_safe_pvclock           9
#define XENFEAT_hvm_pirqs                  10
#define XENFEAT_dom0                       11
#define XENFEAT_grant_map_identity         12
#define XENFEAT_memory_op_vnode_supported  13

/* xen_compile_info: 144 bytes (Xen: struct xen_compile_info). */
struct xen_compile_info {
    uint8_t compiler[64];
    uint8_t compile_by[16];
    uint8_t compile_domain[32];
    uint8_t compile_date[32];
};
_Static_assert(sizeof(struct xen_compile_info) == 144, "xen_compile_info: size");
_Static_assert(__builtin_offsetof(struct xen_compile_info, compiler) == 0, "xen_compile_info: offset of compiler");
_Static_assert(__builtin_offsetof(struct xen_compile_info, compile_by) == 64, "xen_compile_info: offset of compile_by");
_Static_assert(__builtin_offsetof(struct xen_compile_info, compile_domain) == 80, "xen_compile_info: offset of compile_domain");
_Static_assert(__builtin_offsetof(struct xen_compile_info, compile_date) == 112, "xen_compile_info: offset of compile_date");

/* xen_platform_parameters: 8 bytes (Xen: struct xen_platform_parameters). */
struct xen_platform_parameters {
    uint64_t virt_start;
};
_Static_assert(sizeof(struct xen_platform_parameters) == 8, "xen_platform_parameters: size");
_Static_assert(__builtin_offsetof(struct xen_platform_parameters, virt_start) == 0, "xen_platform_parameters: offset of virt_start");

/* xen_feature_info: 8 bytes (Xen: struct xen_feature_info). */
struct xen_feature_info {
    uint32_t submap_idx;
    uint32_t submap;
};
_Static_assert(sizeof(struct xen_feature_info) == 8, "xen_feature_info: size");
_Static_assert(__builtin_offsetof(struct xen_feature_info, submap_idx) == 0, "xen_feature_info: offset of submap_idx");
_Static_assert(__builtin_offsetof(struct xen_feature_info, submap) == 4, "xen_feature_info: offset of submap");

/* xen_varbuf: 4 bytes (Xen: struct xen_build_id). */
struct xen_varbuf {
    uint32_t len;
};
_Static_assert(sizeof(struct xen_varbuf) == 4, "xen_varbuf: size");
_Static_assert(__builtin_offsetof(struct xen_varbuf, len) == 0, "xen_varbuf: offset of len");

/* compat_xen_platform_parameters: 4 bytes (Xen: struct xen_platform_parameters, i386 layout). */
struct compat_xen_platform_parameters {
    uint32_t virt_start;
};
_Static_assert(sizeof(struct compat_xen_platform_parameters) == 4, "compat_xen_platform_parameters: size");
_Static_assert(__builtin_offsetof(struct compat_xen_platform_parameters, virt_start) == 0, "compat_xen_platform_parameters: offset of virt_start");

#endif /* PVKVM_XEN_ABI_VERSION_H */
