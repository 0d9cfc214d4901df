/* Generated from abi/index.ts (ABI_MODULES "hypercall.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_HYPERCALL_H
#define PVKVM_XEN_ABI_HYPERCALL_H

#include <stdint.h>

/* Hypercall numbers */
#define __HYPERVISOR_set_trap_table                0
#define __HYPERVISOR_mmu_update                    1
#define __HYPERVISOR_set_gdt                       2
#define __HYPERVISOR_stack_switch                  3
#define __HYPERVISOR_set_callbacks                 4
#define __HYPERVISOR_fpu_taskswitch                5
#define __HYPERVISOR_sched_op_compat               6
#define __HYPERVISOR_platform_op                   7
#define __HYPERVISOR_set_debugreg                  8
#define __HYPERVISOR_get_debugreg                  9
#define __HYPERVISOR_update_descriptor             10
#define __HYPERVISOR_memory_op                     12
#define __HYPERVISOR_multicall                     13
#define __HYPERVISOR_update_va_mapping             14
#define __HYPERVISOR_set_timer_op                  15
#define __HYPERVISOR_event_channel_op_compat       16
#define __HYPERVISOR_xen_version                   17
#define __HYPERVISOR_console_io                    18
#define __HYPERVISOR_physdev_op_compat             19
#define __HYPERVISOR_grant_table_op                20
#define __HYPERVISOR_vm_assist                     21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                          23
#define __HYPERVISOR_vcpu_op                       24
#define __HYPERVISOR_set_segment_base              25
#define __HYPERVISOR_mmuext_op                     26
#define __HYPERVISOR_xsm_op                        27
#define __HYPERVISOR_nmi_op                        28
#define __HYPERVISOR_sched_op                      29
#define __HYPERVISOR_callback_op                   30
#define __HYPERVISOR_event_channel_op              32
#define __HYPERVISOR_physdev_op                    33
#define __HYPERVISOR_hvm_op                        34
#define __HYPERVISOR_sysctl                        35
#define __HYPERVISOR_domctl                        36
#define __HYPERVISOR_kexec_op                      37
#define __HYPERVISOR_argo_op                       39
#define __HYPERVISOR_xenpmu_op                     40
#define __HYPERVISOR_dm_op                         41
#define __HYPERVISOR_hypfs_op                      42

/* Hypercall page geometry */
#define PVKVM_HYPERCALL_STUB_SIZE 32
#define PVKVM_HYPERCALL_NR_STUBS  128
#define PVKVM_HYPERCALL_TRAP_PORT 232
#define PVKVM_HYPERCALL_SEND_PORT 231

/* Debug console */
#define XEN_HVM_DEBUGCONS_IOPORT 233

/* Multicall */
#define PVKVM_MULTICALL_MAX_ENTRIES 0x200

/* Special domain ids */
#define DOMID_FIRST_RESERVED 0x7ff0
#define DOMID_SELF           0x7ff0
#define DOMID_IO             0x7ff1
#define DOMID_XEN            0x7ff2
#define DOMID_COW            0x7ff3
#define DOMID_INVALID        0x7ff4
#define DOMID_IDLE           0x7fff

/* vm_assist commands and types */
#define VMASST_CMD_enable                0
#define VMASST_CMD_disable               1
#define VMASST_TYPE_4gb_segments         0
#define VMASST_TYPE_4gb_segments_notify  1
#define VMASST_TYPE_writable_pagetables  2
#define VMASST_TYPE_pae_extended_cr3     3
#define VMASST_TYPE_architectural_iopl   4
#define VMASST_TYPE_runstate_update_flag 5
#define VMASST_TYPE_m2p_strict           32

/* multicall_entry: 64 bytes (Xen: struct multicall_entry). */
struct multicall_entry {
    uint64_t op;
    uint64_t result;
    uint64_t args[6];
};
_Static_assert(sizeof(struct multicall_entry) == 64, "multicall_entry: size");
_Static_assert(__builtin_offsetof(struct multicall_entry, op) == 0, "multicall_entry: offset of op");
_Static_assert(__builtin_offsetof(struct multicall_entry, result) == 8, "multicall_entry: offset of result");
_Static_assert(__builtin_offsetof(struct multicall_entry, args) == 16, "multicall_entry: offset of args");

/* compat_multicall_entry: 32 bytes (Xen: struct multicall_entry, i386 layout). */
struct compat_multicall_entry {
    uint32_t op;
    uint32_t result;
    uint32_t args[6];
};
_Static_assert(sizeof(struct compat_multicall_entry) == 32, "compat_multicall_entry: size");
_Static_assert(__builtin_offsetof(struct compat_multicall_entry, op) == 0, "compat_multicall_entry: offset of op");
_Static_assert(__builtin_offsetof(struct compat_multicall_entry, result) == 4, "compat_multicall_entry: offset of result");
_Static_assert(__builtin_offsetof(struct compat_multicall_entry, args) == 8, "compat_multicall_entry: offset of args");

#endif /* PVKVM_XEN_ABI_HYPERCALL_H */
