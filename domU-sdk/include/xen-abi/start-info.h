/* Generated from abi/index.ts (ABI_MODULES "start-info.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_START_INFO_H
#define PVKVM_XEN_ABI_START_INFO_H

#include <stdint.h>

/* Xen ELF note types */
#define XEN_ELFNOTE_INFO               0
#define XEN_ELFNOTE_ENTRY              1
#define XEN_ELFNOTE_HYPERCALL_PAGE     2
#define XEN_ELFNOTE_VIRT_BASE          3
#define XEN_ELFNOTE_PADDR_OFFSET       4
#define XEN_ELFNOTE_XEN_VERSION        5
#define XEN_ELFNOTE_GUEST_OS           6
#define XEN_ELFNOTE_GUEST_VERSION      7
#define XEN_ELFNOTE_LOADER             8
#define XEN_ELFNOTE_PAE_MODE           9
#define XEN_ELFNOTE_FEATURES           10
#define XEN_ELFNOTE_BSD_SYMTAB         11
#define XEN_ELFNOTE_HV_START_LOW       12
#define XEN_ELFNOTE_L1_MFN_VALID       13
#define XEN_ELFNOTE_SUSPEND_CANCEL     14
#define XEN_ELFNOTE_INIT_P2M           15
#define XEN_ELFNOTE_MOD_START_PFN      16
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17
#define XEN_ELFNOTE_PHYS32_ENTRY       18
#define XEN_ELFNOTE_PHYS32_RELOC       19

/* hvm_start_info */
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578

/* Start-info flags */
#define SIF_PRIVILEGED      1
#define SIF_INITDOMAIN      2
#define SIF_MULTIBOOT_MOD   4
#define SIF_MOD_START_PFN   8
#define SIF_VIRT_P2M_4TOOLS 16

/* Memory map entry types (E820/ACPI numbering) */
#define XEN_HVM_MEMMAP_TYPE_RAM      1
#define XEN_HVM_MEMMAP_TYPE_RESERVED 2
#define XEN_HVM_MEMMAP_TYPE_ACPI     3
#define XEN_HVM_MEMMAP_TYPE_NVS      4
#define XEN_HVM_MEMMAP_TYPE_UNUSABLE 5
#define XEN_HVM_MEMMAP_TYPE_DISABLED 6
#define XEN_HVM_MEMMAP_TYPE_PMEM     7

/* hvm_start_info: 56 bytes (Xen: struct hvm_start_info). */
struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info: size");
_Static_assert(__builtin_offsetof(struct hvm_start_info, magic) == 0, "hvm_start_info: offset of magic");
_Static_assert(__builtin_offsetof(struct hvm_start_info, version) == 4, "hvm_start_info: offset of version");
_Static_assert(__builtin_offsetof(struct hvm_start_info, flags) == 8, "hvm_start_info: offset of flags");
_Static_assert(__builtin_offsetof(struct hvm_start_info, nr_modules) == 12, "hvm_start_info: offset of nr_modules");
_Static_assert(__builtin_offsetof(struct hvm_start_info, modlist_paddr) == 16, "hvm_start_info: offset of modlist_paddr");
_Static_assert(__builtin_offsetof(struct hvm_start_info, cmdline_paddr) == 24, "hvm_start_info: offset of cmdline_paddr");
_Static_assert(__builtin_offsetof(struct hvm_start_info, rsdp_paddr) == 32, "hvm_start_info: offset of rsdp_paddr");
_Static_assert(__builtin_offsetof(struct hvm_start_info, memmap_paddr) == 40, "hvm_start_info: offset of memmap_paddr");
_Static_assert(__builtin_offsetof(struct hvm_start_info, memmap_entries) == 48, "hvm_start_info: offset of memmap_entries");
_Static_assert(__builtin_offsetof(struct hvm_start_info, reserved) == 52, "hvm_start_info: offset of reserved");

/* hvm_modlist_entry: 32 bytes (Xen: struct hvm_modlist_entry). */
struct hvm_modlist_entry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry: size");
_Static_assert(__builtin_offsetof(struct hvm_modlist_entry, paddr) == 0, "hvm_modlist_entry: offset of paddr");
_Static_assert(__builtin_offsetof(struct hvm_modlist_entry, size) == 8, "hvm_modlist_entry: offset of size");
_Static_assert(__builtin_offsetof(struct hvm_modlist_entry, cmdline_paddr) == 16, "hvm_modlist_entry: offset of cmdline_paddr");
_Static_assert(__builtin_offsetof(struct hvm_modlist_entry, reserved) == 24, "hvm_modlist_entry: offset of reserved");

/* hvm_memmap_table_entry: 24 bytes (Xen: struct hvm_memmap_table_entry). */
struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry: size");
_Static_assert(__builtin_offsetof(struct hvm_memmap_table_entry, addr) == 0, "hvm_memmap_table_entry: offset of addr");
_Static_assert(__builtin_offsetof(struct hvm_memmap_table_entry, size) == 8, "hvm_memmap_table_entry: offset of size");
_Static_assert(__builtin_offsetof(struct hvm_memmap_table_entry, type) == 16, "hvm_memmap_table_entry: offset of type");
_Static_assert(__builtin_offsetof(struct hvm_memmap_table_entry, reserved) == 20, "hvm_memmap_table_entry: offset of reserved");

#endif /* PVKVM_XEN_ABI_START_INFO_H */
