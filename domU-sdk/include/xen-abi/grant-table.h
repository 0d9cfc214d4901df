/* Generated from abi/index.ts (ABI_MODULES "grant-table.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_GRANT_TABLE_H
#define PVKVM_XEN_ABI_GRANT_TABLE_H

#include <stdint.h>

/* grant_table_op commands */
#define GNTTABOP_map_grant_ref     0
#define GNTTABOP_unmap_grant_ref   1
#define GNTTABOP_setup_table       2
#define GNTTABOP_dump_table        3
#define GNTTABOP_transfer          4
#define GNTTABOP_copy              5
#define GNTTABOP_query_size        6
#define GNTTABOP_unmap_and_replace 7
#define GNTTABOP_set_version       8
#define GNTTABOP_get_status_frames 9
#define GNTTABOP_get_version       10
#define GNTTABOP_swap_grant_ref    11
#define GNTTABOP_cache_flush       12

/* Grant entry flags */
#define GTF_invalid         0
#define GTF_permit_access   1
#define GTF_accept_transfer 2
#define GTF_transitive      3
#define GTF_type_mask       3
#define GTF_readonly        4
#define GTF_reading         8
#define GTF_writing         16
#define GTF_PWT             32
#define GTF_PCD             64
#define GTF_PAT             128
#define GTF_sub_page        0x100

/* Grant map flags */
#define GNTMAP_device_map      1
#define GNTMAP_host_map        2
#define GNTMAP_readonly        4
#define GNTMAP_application_map 8
#define GNTMAP_contains_pte    16

/* Grant copy flags */
#define GNTCOPY_source_gref 1
#define GNTCOPY_dest_gref   2

/* Grant operation status codes */
#define GNTST_okay              0
#define GNTST_general_error     (-1)
#define GNTST_bad_domain        (-2)
#define GNTST_bad_gntref        (-3)
#define GNTST_bad_handle        (-4)
#define GNTST_bad_virt_addr     (-5)
#define GNTST_bad_dev_addr      (-6)
#define GNTST_no_device_space   (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page          (-9)
#define GNTST_bad_copy_arg      (-10)
#define GNTST_address_too_big   (-11)
#define GNTST_eagain            (-12)

/* Grant table geometry */
#define GNTTAB_NR_RESERVED_ENTRIES 8

/* pvkvm grant table limits */
#define PVKVM_GNTTAB_MAX_FRAMES           32
#define PVKVM_GNTTAB_ENTRIES_PER_FRAME_V1 0x200

/* grant_entry_v1: 8 bytes (Xen: struct grant_entry_v1). */
struct grant_entry_v1 {
    uint16_t flags;
    uint16_t domid;
    uint32_t frame;
};
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1: size");
_Static_assert(__builtin_offsetof(struct grant_entry_v1, flags) == 0, "grant_entry_v1: offset of flags");
_Static_assert(__builtin_offsetof(struct grant_entry_v1, domid) == 2, "grant_entry_v1: offset of domid");
_Static_assert(__builtin_offsetof(struct grant_entry_v1, frame) == 4, "grant_entry_v1: offset of frame");

/* gnttab_map_grant_ref: 32 bytes (Xen: struct gnttab_map_grant_ref). */
struct gnttab_map_grant_ref {
    uint64_t host_addr;
    uint32_t flags;
    uint32_t ref;
    uint16_t dom;
    int16_t status;
    uint32_t handle;
    uint64_t dev_bus_addr;
};
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "gnttab_map_grant_ref: size");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, host_addr) == 0, "gnttab_map_grant_ref: offset of host_addr");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, flags) == 8, "gnttab_map_grant_ref: offset of flags");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, ref) == 12, "gnttab_map_grant_ref: offset of ref");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, dom) == 16, "gnttab_map_grant_ref: offset of dom");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, status) == 18, "gnttab_map_grant_ref: offset of status");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, handle) == 20, "gnttab_map_grant_ref: offset of handle");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, dev_bus_addr) == 24, "gnttab_map_grant_ref: offset of dev_bus_addr");

/* gnttab_unmap_grant_ref: 24 bytes (Xen: struct gnttab_unmap_grant_ref). */
struct gnttab_unmap_grant_ref {
    uint64_t host_addr;
    uint64_t dev_bus_addr;
    uint32_t handle;
    int16_t status;
    uint8_t _pad0[2];
};
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "gnttab_unmap_grant_ref: size");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_grant_ref, host_addr) == 0, "gnttab_unmap_grant_ref: offset of host_addr");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_grant_ref, dev_bus_addr) == 8, "gnttab_unmap_grant_ref: offset of dev_bus_addr");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_grant_ref, handle) == 16, "gnttab_unmap_grant_ref: offset of handle");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_grant_ref, status) == 20, "gnttab_unmap_grant_ref: offset of status");

/* gnttab_setup_table: 24 bytes (Xen: struct gnttab_setup_table). */
struct gnttab_setup_table {
    uint16_t dom;
    uint8_t _pad0[2];
    uint32_t nr_frames;
    int16_t status;
    uint8_t _pad1[6];
    uint64_t frame_list;
};
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "gnttab_setup_table: size");
_Static_assert(__builtin_offsetof(struct gnttab_setup_table, dom) == 0, "gnttab_setup_table: offset of dom");
_Static_assert(__builtin_offsetof(struct gnttab_setup_table, nr_frames) == 4, "gnttab_setup_table: offset of nr_frames");
_Static_assert(__builtin_offsetof(struct gnttab_setup_table, status) == 8, "gnttab_setup_table: offset of status");
_Static_assert(__builtin_offsetof(struct gnttab_setup_table, frame_list) == 16, "gnttab_setup_table: offset of frame_list");

/* gnttab_copy: 40 bytes (Xen: struct gnttab_copy). */
struct gnttab_copy {
    union {
        uint32_t source_u_ref;
        uint64_t source_u_gmfn;
    };
    uint16_t source_domid;
    uint16_t source_offset;
    uint8_t _pad0[4];
    union {
        uint32_t dest_u_ref;
        uint64_t dest_u_gmfn;
    };
    uint16_t dest_domid;
    uint16_t dest_offset;
    uint8_t _pad1[4];
    uint16_t len;
    uint16_t flags;
    int16_t status;
    uint8_t _pad2[2];
};
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy: size");
_Static_assert(__builtin_offsetof(struct gnttab_copy, source_u_ref) == 0, "gnttab_copy: offset of source_u_ref");
_Static_assert(__builtin_offsetof(struct gnttab_copy, source_u_gmfn) == 0, "gnttab_copy: offset of source_u_gmfn");
_Static_assert(__builtin_offsetof(struct gnttab_copy, source_domid) == 8, "gnttab_copy: offset of source_domid");
_Static_assert(__builtin_offsetof(struct gnttab_copy, source_offset) == 10, "gnttab_copy: offset of source_offset");
_Static_assert(__builtin_offsetof(struct gnttab_copy, dest_u_ref) == 16, "gnttab_copy: offset of dest_u_ref");
_Static_assert(__builtin_offsetof(struct gnttab_copy, dest_u_gmfn) == 16, "gnttab_copy: offset of dest_u_gmfn");
_Static_assert(__builtin_offsetof(struct gnttab_copy, dest_domid) == 24, "gnttab_copy: offset of dest_domid");
_Static_assert(__builtin_offsetof(struct gnttab_copy, dest_offset) == 26, "gnttab_copy: offset of dest_offset");
_Static_assert(__builtin_offsetof(struct gnttab_copy, len) == 32, "gnttab_copy: offset of len");
_Static_assert(__builtin_offsetof(struct gnttab_copy, flags) == 34, "gnttab_copy: offset of flags");
_Static_assert(__builtin_offsetof(struct gnttab_copy, status) == 36, "gnttab_copy: offset of status");

/* gnttab_query_size: 16 bytes (Xen: struct gnttab_query_size). */
struct gnttab_query_size {
    uint16_t dom;
    uint8_t _pad0[2];
    uint32_t nr_frames;
    uint32_t max_nr_frames;
    int16_t status;
    uint8_t _pad1[2];
};
_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size: size");
_Static_assert(__builtin_offsetof(struct gnttab_query_size, dom) == 0, "gnttab_query_size: offset of dom");
_Static_assert(__builtin_offsetof(struct gnttab_query_size, nr_frames) == 4, "gnttab_query_size: offset of nr_frames");
_Static_assert(__builtin_offsetof(struct gnttab_query_size, max_nr_frames) == 8, "gnttab_query_size: offset of max_nr_frames");
_Static_assert(__builtin_offsetof(struct gnttab_query_size, status) == 12, "gnttab_query_size: offset of status");

/* gnttab_set_version: 4 bytes (Xen: struct gnttab_set_version). */
struct gnttab_set_version {
    uint32_t version;
};
_Static_assert(sizeof(struct gnttab_set_version) == 4, "gnttab_set_version: size");
_Static_assert(__builtin_offsetof(struct gnttab_set_version, version) == 0, "gnttab_set_version: offset of version");

/* gnttab_get_version: 8 bytes (Xen: struct gnttab_get_version). */
struct gnttab_get_version {
    uint16_t dom;
    uint8_t _pad0[2];
    uint32_t version;
};
_Static_assert(sizeof(struct gnttab_get_version) == 8, "gnttab_get_version: size");
_Static_assert(__builtin_offsetof(struct gnttab_get_version, dom) == 0, "gnttab_get_version: offset of dom");
_Static_assert(__builtin_offsetof(struct gnttab_get_version, version) == 4, "gnttab_get_version: offset of version");

/* gnttab_swap_grant_ref: 12 bytes (Xen: struct gnttab_swap_grant_ref). */
struct gnttab_swap_grant_ref {
    uint32_t ref_a;
    uint32_t ref_b;
    int16_t status;
    uint8_t _pad0[2];
};
_Static_assert(sizeof(struct gnttab_swap_grant_ref) == 12, "gnttab_swap_grant_ref: size");
_Static_assert(__builtin_offsetof(struct gnttab_swap_grant_ref, ref_a) == 0, "gnttab_swap_grant_ref: offset of ref_a");
_Static_assert(__builtin_offsetof(struct gnttab_swap_grant_ref, ref_b) == 4, "gnttab_swap_grant_ref: offset of ref_b");
_Static_assert(__builtin_offsetof(struct gnttab_swap_grant_ref, status) == 8, "gnttab_swap_grant_ref: offset of status");

/* compat_gnttab_setup_table: 16 bytes (Xen: struct gnttab_setup_table, i386 layout). */
struct compat_gnttab_setup_table {
    uint16_t dom;
    uint8_t _pad0[2];
    uint32_t nr_frames;
    int16_t status;
    uint8_t _pad1[2];
    uint32_t frame_list;
};
_Static_assert(sizeof(struct compat_gnttab_setup_table) == 16, "compat_gnttab_setup_table: size");
_Static_assert(__builtin_offsetof(struct compat_gnttab_setup_table, dom) == 0, "compat_gnttab_setup_table: offset of dom");
_Static_assert(__builtin_offsetof(struct compat_gnttab_setup_table, nr_frames) == 4, "compat_gnttab_setup_table: offset of nr_frames");
_Static_assert(__builtin_offsetof(struct compat_gnttab_setup_table, status) == 8, "compat_gnttab_setup_table: offset of status");
_Static_assert(__builtin_offsetof(struct compat_gnttab_setup_table, frame_list) == 12, "compat_gnttab_setup_table: offset of frame_list");

/* compat_gnttab_copy: 24 bytes (Xen: struct gnttab_copy, i386 layout). */
struct compat_gnttab_copy {
    union {
        uint32_t source_u_ref;
        uint32_t source_u_gmfn;
    };
    uint16_t source_domid;
    uint16_t source_offset;
    union {
        uint32_t dest_u_ref;
        uint32_t dest_u_gmfn;
    };
    uint16_t dest_domid;
    uint16_t dest_offset;
    uint16_t len;
    uint16_t flags;
    int16_t status;
    uint8_t _pad0[2];
};
_Static_assert(sizeof(struct compat_gnttab_copy) == 24, "compat_gnttab_copy: size");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, source_u_ref) == 0, "compat_gnttab_copy: offset of source_u_ref");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, source_u_gmfn) == 0, "compat_gnttab_copy: offset of source_u_gmfn");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, source_domid) == 4, "compat_gnttab_copy: offset of source_domid");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, source_offset) == 6, "compat_gnttab_copy: offset of source_offset");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, dest_u_ref) == 8, "compat_gnttab_copy: offset of dest_u_ref");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, dest_u_gmfn) == 8, "compat_gnttab_copy: offset of dest_u_gmfn");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, dest_domid) == 12, "compat_gnttab_copy: offset of dest_domid");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, dest_offset) == 14, "compat_gnttab_copy: offset of dest_offset");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, len) == 16, "compat_gnttab_copy: offset of len");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, flags) == 18, "compat_gnttab_copy: offset of flags");
_Static_assert(__builtin_offsetof(struct compat_gnttab_copy, status) == 20, "compat_gnttab_copy: offset of status");

/* compat_gnttab_map_grant_ref: 32 bytes (Xen: struct gnttab_map_grant_ref, i386 layout). */
struct compat_gnttab_map_grant_ref {
    uint64_t host_addr;
    uint32_t flags;
    uint32_t ref;
    uint16_t dom;
    int16_t status;
    uint32_t handle;
    uint64_t dev_bus_addr;
};
_Static_assert(sizeof(struct compat_gnttab_map_grant_ref) == 32, "compat_gnttab_map_grant_ref: size");
_Static_assert(__builtin_offsetof(struct compat_gnttab_map_grant_ref, host_addr) == 0, "compat_gnttab_map_grant_ref: offset of host_addr");
_Static_assert(__builtin_offsetof(struct compat_gnttab_map_grant_ref, flags) == 8, "compat_gnttab_map_grant_ref: offset of flags");
_Static_assert(__builtin_offsetof(struct compat_gnttab_map_grant_ref, ref) == 12, "compat_gnttab_map_grant_ref: offset of ref");
_Static_assert(__builtin_offsetof(struct compat_gnttab_map_grant_ref, dom) == 16, "compat_gnttab_map_grant_ref: offset of dom");
_Static_assert(__builtin_offsetof(struct compat_gnttab_map_grant_ref, status) == 18, "compat_gnttab_map_grant_ref: offset of status");
_Static_assert(__builtin_offsetof(struct compat_gnttab_map_grant_ref, handle) == 20, "compat_gnttab_map_grant_ref: offset of handle");
_Static_assert(__builtin_offsetof(struct compat_gnttab_map_grant_ref, dev_bus_addr) == 24, "compat_gnttab_map_grant_ref: offset of dev_bus_addr");

/* compat_gnttab_unmap_grant_ref: 24 bytes (Xen: struct gnttab_unmap_grant_ref, i386 layout). */
struct compat_gnttab_unmap_grant_ref {
    uint64_t host_addr;
    uint64_t dev_bus_addr;
    uint32_t handle;
    int16_t status;
    uint8_t _pad0[2];
};
_Static_assert(sizeof(struct compat_gnttab_unmap_grant_ref) == 24, "compat_gnttab_unmap_grant_ref: size");
_Static_assert(__builtin_offsetof(struct compat_gnttab_unmap_grant_ref, host_addr) == 0, "compat_gnttab_unmap_grant_ref: offset of host_addr");
_Static_assert(__builtin_offsetof(struct compat_gnttab_unmap_grant_ref, dev_bus_addr) == 8, "compat_gnttab_unmap_grant_ref: offset of dev_bus_addr");
_Static_assert(__builtin_offsetof(struct compat_gnttab_unmap_grant_ref, handle) == 16, "compat_gnttab_unmap_grant_ref: offset of handle");
_Static_assert(__builtin_offsetof(struct compat_gnttab_unmap_grant_ref, status) == 20, "compat_gnttab_unmap_grant_ref: offset of status");

#endif /* PVKVM_XEN_ABI_GRANT_TABLE_H */
