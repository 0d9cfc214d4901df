/* Generated from abi/index.ts (ABI_MODULES "hvm.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_HVM_H
#define PVKVM_XEN_ABI_HVM_H

#include <stdint.h>

/* hvm_op commands */
#define HVMOP_set_param                0
#define HVMOP_get_param                1
#define HVMOP_flush_tlbs               5
#define HVMOP_pagetable_dying          9
#define HVMOP_get_time                 10
#define HVMOP_get_mem_type             15
#define HVMOP_set_evtchn_upcall_vector 23
#define HVMOP_guest_request_vm_event   24
#define HVMOP_altp2m                   25

/* HVM parameter indices */
#define HVM_PARAM_CALLBACK_IRQ          0
#define HVM_PARAM_STORE_PFN             1
#define HVM_PARAM_STORE_EVTCHN          2
#define HVM_PARAM_IOREQ_PFN             5
#define HVM_PARAM_BUFIOREQ_PFN          6
#define HVM_PARAM_VIRIDIAN              9
#define HVM_PARAM_TIMER_MODE            10
#define HVM_PARAM_HPET_ENABLED          11
#define HVM_PARAM_IDENT_PT              12
#define HVM_PARAM_ACPI_S_STATE          14
#define HVM_PARAM_VM86_TSS              15
#define HVM_PARAM_VPT_ALIGN             16
#define HVM_PARAM_CONSOLE_PFN           17
#define HVM_PARAM_CONSOLE_EVTCHN        18
#define HVM_PARAM_ACPI_IOPORTS_LOCATION 19
#define HVM_PARAM_PAGING_RING_PFN       27
#define HVM_PARAM_MONITOR_RING_PFN      28
#define HVM_PARAM_SHARING_RING_PFN      29
#define HVM_PARAM_TRIPLE_FAULT_REASON   31
#define HVM_PARAM_IOREQ_SERVER_PFN      32
#define HVM_PARAM_NR_IOREQ_SERVER_PAGES 33
#define HVM_PARAM_VM_GENERATION_ID_ADDR 34
#define HVM_PARAM_ALTP2M                35
#define HVM_PARAM_X87_FIP_WIDTH         36
#define HVM_PARAM_VM86_TSS_SIZED        37
#define HVM_PARAM_MCA_CAP               38

/* Callback IRQ types */
#define HVM_PARAM_CALLBACK_TYPE_GSI      0
#define HVM_PARAM_CALLBACK_TYPE_PCI_INTX 1
#define HVM_PARAM_CALLBACK_TYPE_VECTOR   2

/* Special page frames */
#define PVKVM_SPECIAL_PFN_XENSTORE 0xfeffc
#define PVKVM_SPECIAL_PFN_CONSOLE  0xfefff

/* xen_hvm_param: 16 bytes (Xen: struct xen_hvm_param). */
struct xen_hvm_param {
    uint16_t domid;
    uint16_t pad;
    uint32_t index;
    uint64_t value;
};
_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param: size");
_Static_assert(__builtin_offsetof(struct xen_hvm_param, domid) == 0, "xen_hvm_param: offset of domid");
_Static_assert(__builtin_offsetof(struct xen_hvm_param, pad) == 2, "xen_hvm_param: offset of pad");
_Static_assert(__builtin_offsetof(struct xen_hvm_param, index) == 4, "xen_hvm_param: offset of index");
_Static_assert(__builtin_offsetof(struct xen_hvm_param, value) == 8, "xen_hvm_param: offset of value");

/* xen_hvm_get_time: 8 bytes (Xen: struct xen_hvm_get_time). */
struct xen_hvm_get_time {
    uint64_t now;
};
_Static_assert(sizeof(struct xen_hvm_get_time) == 8, "xen_hvm_get_time: size");
_Static_assert(__builtin_offsetof(struct xen_hvm_get_time, now) == 0, "xen_hvm_get_time: offset of now");

/* xen_hvm_evtchn_upcall_vector: 8 bytes (Xen: struct xen_hvm_evtchn_upcall_vector). */
struct xen_hvm_evtchn_upcall_vector {
    uint32_t vcpu;
    uint8_t vector;
    uint8_t _pad0[3];
};
_Static_assert(sizeof(struct xen_hvm_evtchn_upcall_vector) == 8, "xen_hvm_evtchn_upcall_vector: size");
_Static_assert(__builtin_offsetof(struct xen_hvm_evtchn_upcall_vector, vcpu) == 0, "xen_hvm_evtchn_upcall_vector: offset of vcpu");
_Static_assert(__builtin_offsetof(struct xen_hvm_evtchn_upcall_vector, vector) == 4, "xen_hvm_evtchn_upcall_vector: offset of vector");

/* compat_xen_hvm_evtchn_upcall_vector: 8 bytes (Xen: struct xen_hvm_evtchn_upcall_vector, i386 layout). */
struct compat_xen_hvm_evtchn_upcall_vector {
    uint32_t vcpu;
    uint8_t vector;
    uint8_t _pad0[3];
};
_Static_assert(sizeof(struct compat_xen_hvm_evtchn_upcall_vector) == 8, "compat_xen_hvm_evtchn_upcall_vector: size");
_Static_assert(__builtin_offsetof(struct compat_xen_hvm_evtchn_upcall_vector, vcpu) == 0, "compat_xen_hvm_evtchn_upcall_vector: offset of vcpu");
_Static_assert(__builtin_offsetof(struct compat_xen_hvm_evtchn_upcall_vector, vector) == 4, "compat_xen_hvm_evtchn_upcall_vector: offset of vector");

#endif /* PVKVM_XEN_ABI_HVM_H */
