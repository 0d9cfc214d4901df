/* Generated from abi/index.ts (ABI_MODULES "memory.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_MEMORY_H
#define PVKVM_XEN_ABI_MEMORY_H

#include <stdint.h>

/* memory_op commands */
#define XENMEM_increase_reservation       0
#define XENMEM_decrease_reservation       1
#define XENMEM_maximum_ram_page           2
#define XENMEM_current_reservation        3
#define XENMEM_maximum_reservation        4
#define XENMEM_machphys_mfn_list          5
#define XENMEM_populate_physmap           6
#define XENMEM_add_to_physmap             7
#define XENMEM_memory_map                 9
#define XENMEM_machine_memory_map         10
#define XENMEM_exchange                   11
#define XENMEM_machphys_mapping           12
#define XENMEM_set_memory_map             13
#define XENMEM_maximum_gpfn               14
#define XENMEM_remove_from_physmap        15
#define XENMEM_add_to_physmap_batch       23
#define XENMEM_claim_pages                24
#define XENMEM_get_vnumainfo              26
#define XENMEM_reserved_device_memory_map 27
#define XENMEM_acquire_resource           28

/* memory_op encoding */
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK     63

/* add_to_physmap spaces */
#define XENMAPSPACE_shared_info  0
#define XENMAPSPACE_grant_table  1
#define XENMAPSPACE_gmfn         2
#define XENMAPSPACE_gmfn_range   3
#define XENMAPSPACE_gmfn_foreign 4
#define XENMAPSPACE_dev_mmio     5

/* xen_add_to_physmap: 24 bytes (Xen: struct xen_add_to_physmap). */
struct xen_add_to_physmap {
    uint16_t domid;
    uint16_t size;
    uint32_t space;
    uint64_t idx;
    uint64_t gpfn;
};
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "xen_add_to_physmap: size");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, domid) == 0, "xen_add_to_physmap: offset of domid");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, size) == 2, "xen_add_to_physmap: offset of size");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, space) == 4, "xen_add_to_physmap: offset of space");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, idx) == 8, "xen_add_to_physmap: offset of idx");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, gpfn) == 16, "xen_add_to_physmap: offset of gpfn");

/* xen_remove_from_physmap: 16 bytes (Xen: struct xen_remove_from_physmap). */
struct xen_remove_from_physmap {
    uint16_t domid;
    uint8_t _pad0[6];
    uint64_t gpfn;
};
_Static_assert(sizeof(struct xen_remove_from_physmap) == 16, "xen_remove_from_physmap: size");
_Static_assert(__builtin_offsetof(struct xen_remove_from_physmap, domid) == 0, "xen_remove_from_physmap: offset of domid");
_Static_assert(__builtin_offsetof(struct xen_remove_from_physmap, gpfn) == 8, "xen_remove_from_physmap: offset of gpfn");

/* xen_memory_reservation: 32 bytes (Xen: struct xen_memory_reservation). */
struct xen_memory_reservation {
    uint64_t extent_start;
    uint64_t nr_extents;
    uint32_t extent_order;
    uint32_t mem_flags;
    uint16_t domid;
    uint8_t _pad0[6];
};
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "xen_memory_reservation: size");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, extent_start) == 0, "xen_memory_reservation: offset of extent_start");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, nr_extents) == 8, "xen_memory_reservation: offset of nr_extents");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, extent_order) == 16, "xen_memory_reservation: offset of extent_order");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, mem_flags) == 20, "xen_memory_reservation: offset of mem_flags");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, domid) == 24, "xen_memory_reservation: offset of domid");

/* xen_memory_map: 16 bytes (Xen: struct xen_memory_map). */
struct xen_memory_map {
    uint32_t nr_entries;
    uint8_t _pad0[4];
    uint64_t buffer;
};
_Static_assert(sizeof(struct xen_memory_map) == 16, "xen_memory_map: size");
_Static_assert(__builtin_offsetof(struct xen_memory_map, nr_entries) == 0, "xen_memory_map: offset of nr_entries");
_Static_assert(__builtin_offsetof(struct xen_memory_map, buffer) == 8, "xen_memory_map: offset of buffer");

/* xen_memory_domain: 2 bytes (Xen: struct xen_memory_domain). */
struct xen_memory_domain {
    uint16_t domid;
};
_Static_assert(sizeof(struct xen_memory_domain) == 2, "xen_memory_domain: size");
_Static_assert(__builtin_offsetof(struct xen_memory_domain, domid) == 0, "xen_memory_domain: offset of domid");

/* e820entry: 20 bytes (no Xen equivalent). */
struct e820entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct e820entry) == 20, "e820entry: size");
_Static_assert(__builtin_offsetof(struct e820entry, addr) == 0, "e820entry: offset of addr");
_Static_assert(__builtin_offsetof(struct e820entry, size) == 8, "e820entry: offset of size");
_Static_assert(__builtin_offsetof(struct e820entry, type) == 16, "e820entry: offset of type");

/* compat_xen_add_to_physmap: 16 bytes (Xen: struct xen_add_to_physmap, i386 layout). */
struct compat_xen_add_to_physmap {
    uint16_t domid;
    uint16_t size;
    uint32_t space;
    uint32_t idx;
    uint32_t gpfn;
};
_Static_assert(sizeof(struct compat_xen_add_to_physmap) == 16, "compat_xen_add_to_physmap: size");
_Static_assert(__builtin_offsetof(struct compat_xen_add_to_physmap, domid) == 0, "compat_xen_add_to_physmap: offset of domid");
_Static_assert(__builtin_offsetof(struct compat_xen_add_to_physmap, size) == 2, "compat_xen_add_to_physmap: offset of size");
_Static_assert(__builtin_offsetof(struct compat_xen_add_to_physmap, space) == 4, "compat_xen_add_to_physmap: offset of space");
_Static_assert(__builtin_offsetof(struct compat_xen_add_to_physmap, idx) == 8, "compat_xen_add_to_physmap: offset of idx");
_Static_assert(__builtin_offsetof(struct compat_xen_add_to_physmap, gpfn) == 12, "compat_xen_add_to_physmap: offset of gpfn");

/* compat_xen_remove_from_physmap: 8 bytes (Xen: struct xen_remove_from_physmap, i386 layout). */
struct compat_xen_remove_from_physmap {
    uint16_t domid;
    uint8_t _pad0[2];
    uint32_t gpfn;
};
_Static_assert(sizeof(struct compat_xen_remove_from_physmap) == 8, "compat_xen_remove_from_physmap: size");
_Static_assert(__builtin_offsetof(struct compat_xen_remove_from_physmap, domid) == 0, "compat_xen_remove_from_physmap: offset of domid");
_Static_assert(__builtin_offsetof(struct compat_xen_remove_from_physmap, gpfn) == 4, "compat_xen_remove_from_physmap: offset of gpfn");

/* compat_xen_memory_reservation: 20 bytes (Xen: struct xen_memory_reservation, i386 layout). */
struct compat_xen_memory_reservation {
    uint32_t extent_start;
    uint32_t nr_extents;
    uint32_t extent_order;
    uint32_t mem_flags;
    uint16_t domid;
    uint8_t _pad0[2];
};
_Static_assert(sizeof(struct compat_xen_memory_reservation) == 20, "compat_xen_memory_reservation: size");
_Static_assert(__builtin_offsetof(struct compat_xen_memory_reservation, extent_start) == 0, "compat_xen_memory_reservation: offset of extent_start");
_Static_assert(__builtin_offsetof(struct compat_xen_memory_reservation, nr_extents) == 4, "compat_xen_memory_reservation: offset of nr_extents");
_Static_assert(__builtin_offsetof(struct compat_xen_memory_reservation, extent_order) == 8, "compat_xen_memory_reservation: offset of extent_order");
_Static_assert(__builtin_offsetof(struct compat_xen_memory_reservation, mem_flags) == 12, "compat_xen_memory_reservation: offset of mem_flags");
_Static_assert(__builtin_offsetof(struct compat_xen_memory_reservation, domid) == 16, "compat_xen_memory_reservation: offset of domid");

/* compat_xen_memory_map: 8 bytes (Xen: struct xen_memory_map, i386 layout). */
struct compat_xen_memory_map {
    uint32_t nr_entries;
    uint32_t buffer;
};
_Static_assert(sizeof(struct compat_xen_memory_map) == 8, "compat_xen_memory_map: size");
_Static_assert(__builtin_offsetof(struct compat_xen_memory_map, nr_entries) == 0, "compat_xen_memory_map: offset of nr_entries");
_Static_assert(__builtin_offsetof(struct compat_xen_memory_map, buffer) == 4, "compat_xen_memory_map: offset of buffer");

#endif /* PVKVM_XEN_ABI_MEMORY_H */
