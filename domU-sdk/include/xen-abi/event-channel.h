/* Generated from abi/index.ts (ABI_MODULES "event-channel.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_EVENT_CHANNEL_H
#define PVKVM_XEN_ABI_EVENT_CHANNEL_H

#include <stdint.h>

/* event_channel_op commands */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_bind_pirq        2
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_bind_ipi         7
#define EVTCHNOP_bind_vcpu        8
#define EVTCHNOP_unmask           9
#define EVTCHNOP_reset            10
#define EVTCHNOP_init_control     11
#define EVTCHNOP_expand_array     12
#define EVTCHNOP_set_priority     13

/* Event channel status values */
#define EVTCHNSTAT_closed      0
#define EVTCHNSTAT_unbound     1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq        3
#define EVTCHNSTAT_virq        4
#define EVTCHNSTAT_ipi         5

/* Virtual IRQs */
#define VIRQ_TIMER      0
#define VIRQ_DEBUG      1
#define VIRQ_CONSOLE    2
#define VIRQ_DOM_EXC    3
#define VIRQ_TBUF       4
#define VIRQ_DEBUGGER   6
#define VIRQ_XENOPROF   7
#define VIRQ_CON_RING   8
#define VIRQ_PCPU_STATE 9
#define VIRQ_MEM_EVENT  10
#define VIRQ_ARGO       11
#define VIRQ_ENOMEM     12
#define VIRQ_XENPMU     13

/* 2-level event channel limits */
#define PVKVM_EVTCHN_2L_NR_CHANNELS_64 0x1000
#define PVKVM_EVTCHN_2L_NR_CHANNELS_32 0x400

/* FIFO event channels */
#define EVTCHN_FIFO_PRIORITY_MAX     0
#define EVTCHN_FIFO_PRIORITY_DEFAULT 7
#define EVTCHN_FIFO_PRIORITY_MIN     15
#define EVTCHN_FIFO_MAX_QUEUES       16
#define EVTCHN_FIFO_PENDING          31
#define EVTCHN_FIFO_MASKED           30
#define EVTCHN_FIFO_LINKED           29
#define EVTCHN_FIFO_BUSY             28
#define EVTCHN_FIFO_LINK_BITS        17
#define EVTCHN_FIFO_LINK_MASK        0x1ffff
#define EVTCHN_FIFO_NR_CHANNELS      0x20000

/* evtchn_alloc_unbound: 8 bytes (Xen: struct evtchn_alloc_unbound). */
struct evtchn_alloc_unbound {
    uint16_t dom;
    uint16_t remote_dom;
    uint32_t port;
};
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "evtchn_alloc_unbound: size");
_Static_assert(__builtin_offsetof(struct evtchn_alloc_unbound, dom) == 0, "evtchn_alloc_unbound: offset of dom");
_Static_assert(__builtin_offsetof(struct evtchn_alloc_unbound, remote_dom) == 2, "evtchn_alloc_unbound: offset of remote_dom");
_Static_assert(__builtin_offsetof(struct evtchn_alloc_unbound, port) == 4, "evtchn_alloc_unbound: offset of port");

/* evtchn_bind_interdomain: 12 bytes (Xen: struct evtchn_bind_interdomain). */
struct evtchn_bind_interdomain {
    uint16_t remote_dom;
    uint8_t _pad0[2];
    uint32_t remote_port;
    uint32_t local_port;
};
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "evtchn_bind_interdomain: size");
_Static_assert(__builtin_offsetof(struct evtchn_bind_interdomain, remote_dom) == 0, "evtchn_bind_interdomain: offset of remote_dom");
_Static_assert(__builtin_offsetof(struct evtchn_bind_interdomain, remote_port) == 4, "evtchn_bind_interdomain: offset of remote_port");
_Static_assert(__builtin_offsetof(struct evtchn_bind_interdomain, local_port) == 8, "evtchn_bind_interdomain: offset of local_port");

/* evtchn_bind_virq: 12 bytes (Xen: struct evtchn_bind_virq). */
struct evtchn_bind_virq {
    uint32_t virq;
    uint32_t vcpu;
    uint32_t port;
};
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "evtchn_bind_virq: size");
_Static_assert(__builtin_offsetof(struct evtchn_bind_virq, virq) == 0, "evtchn_bind_virq: offset of virq");
_Static_assert(__builtin_offsetof(struct evtchn_bind_virq, vcpu) == 4, "evtchn_bind_virq: offset of vcpu");
_Static_assert(__builtin_offsetof(struct evtchn_bind_virq, port) == 8, "evtchn_bind_virq: offset of port");

/* evtchn_bind_ipi: 8 bytes (Xen: struct evtchn_bind_ipi). */
struct evtchn_bind_ipi {
    uint32_t vcpu;
    uint32_t port;
};
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "evtchn_bind_ipi: size");
_Static_assert(__builtin_offsetof(struct evtchn_bind_ipi, vcpu) == 0, "evtchn_bind_ipi: offset of vcpu");
_Static_assert(__builtin_offsetof(struct evtchn_bind_ipi, port) == 4, "evtchn_bind_ipi: offset of port");

/* evtchn_close: 4 bytes (Xen: struct evtchn_close). */
struct evtchn_close {
    uint32_t port;
};
_Static_assert(sizeof(struct evtchn_close) == 4, "evtchn_close: size");
_Static_assert(__builtin_offsetof(struct evtchn_close, port) == 0, "evtchn_close: offset of port");

/* evtchn_send: 4 bytes (Xen: struct evtchn_send). */
struct evtchn_send {
    uint32_t port;
};
_Static_assert(sizeof(struct evtchn_send) == 4, "evtchn_send: size");
_Static_assert(__builtin_offsetof(struct evtchn_send, port) == 0, "evtchn_send: offset of port");

/* evtchn_unmask: 4 bytes (Xen: struct evtchn_unmask). */
struct evtchn_unmask {
    uint32_t port;
};
_Static_assert(sizeof(struct evtchn_unmask) == 4, "evtchn_unmask: size");
_Static_assert(__builtin_offsetof(struct evtchn_unmask, port) == 0, "evtchn_unmask: offset of port");

/* evtchn_bind_vcpu: 8 bytes (Xen: struct evtchn_bind_vcpu). */
struct evtchn_bind_vcpu {
    uint32_t port;
    uint32_t vcpu;
};
_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8, "evtchn_bind_vcpu: size");
_Static_assert(__builtin_offsetof(struct evtchn_bind_vcpu, port) == 0, "evtchn_bind_vcpu: offset of port");
_Static_assert(__builtin_offsetof(struct evtchn_bind_vcpu, vcpu) == 4, "evtchn_bind_vcpu: offset of vcpu");

/* evtchn_reset: 2 bytes (Xen: struct evtchn_reset). */
struct evtchn_reset {
    uint16_t dom;
};
_Static_assert(sizeof(struct evtchn_reset) == 2, "evtchn_reset: size");
_Static_assert(__builtin_offsetof(struct evtchn_reset, dom) == 0, "evtchn_reset: offset of dom");

/* evtchn_status: 24 bytes (Xen: struct evtchn_status). */
struct evtchn_status {
    uint16_t dom;
    uint8_t _pad0[2];
    uint32_t port;
    uint32_t status;
    uint32_t vcpu;
    uint32_t u_virq;
    uint32_t u_interdomain_port;
};
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status: size");
_Static_assert(__builtin_offsetof(struct evtchn_status, dom) == 0, "evtchn_status: offset of dom");
_Static_assert(__builtin_offsetof(struct evtchn_status, port) == 4, "evtchn_status: offset of port");
_Static_assert(__builtin_offsetof(struct evtchn_status, status) == 8, "evtchn_status: offset of status");
_Static_assert(__builtin_offsetof(struct evtchn_status, vcpu) == 12, "evtchn_status: offset of vcpu");
_Static_assert(__builtin_offsetof(struct evtchn_status, u_virq) == 16, "evtchn_status: offset of u_virq");
_Static_assert(__builtin_offsetof(struct evtchn_status, u_interdomain_port) == 20, "evtchn_status: offset of u_interdomain_port");

/* evtchn_init_control: 24 bytes (Xen: struct evtchn_init_control). */
struct evtchn_init_control {
    uint64_t control_gfn;
    uint32_t offset;
    uint32_t vcpu;
    uint8_t link_bits;
    uint8_t _pad[7];
};
_Static_assert(sizeof(struct evtchn_init_control) == 24, "evtchn_init_control: size");
_Static_assert(__builtin_offsetof(struct evtchn_init_control, control_gfn) == 0, "evtchn_init_control: offset of control_gfn");
_Static_assert(__builtin_offsetof(struct evtchn_init_control, offset) == 8, "evtchn_init_control: offset of offset");
_Static_assert(__builtin_offsetof(struct evtchn_init_control, vcpu) == 12, "evtchn_init_control: offset of vcpu");
_Static_assert(__builtin_offsetof(struct evtchn_init_control, link_bits) == 16, "evtchn_init_control: offset of link_bits");
_Static_assert(__builtin_offsetof(struct evtchn_init_control, _pad) == 17, "evtchn_init_control: offset of _pad");

/* evtchn_expand_array: 8 bytes (Xen: struct evtchn_expand_array). */
struct evtchn_expand_array {
    uint64_t array_gfn;
};
_Static_assert(sizeof(struct evtchn_expand_array) == 8, "evtchn_expand_array: size");
_Static_assert(__builtin_offsetof(struct evtchn_expand_array, array_gfn) == 0, "evtchn_expand_array: offset of array_gfn");

/* evtchn_set_priority: 8 bytes (Xen: struct evtchn_set_priority). */
struct evtchn_set_priority {
    uint32_t port;
    uint32_t priority;
};
_Static_assert(sizeof(struct evtchn_set_priority) == 8, "evtchn_set_priority: size");
_Static_assert(__builtin_offsetof(struct evtchn_set_priority, port) == 0, "evtchn_set_priority: offset of port");
_Static_assert(__builtin_offsetof(struct evtchn_set_priority, priority) == 4, "evtchn_set_priority: offset of priority");

/* evtchn_fifo_control_block: 72 bytes (Xen: struct evtchn_fifo_control_block). */
struct evtchn_fifo_control_block {
    uint32_t ready;
    uint32_t _rsvd;
    uint32_t head[16];
};
_Static_assert(sizeof(struct evtchn_fifo_control_block) == 72, "evtchn_fifo_control_block: size");
_Static_assert(__builtin_offsetof(struct evtchn_fifo_control_block, ready) == 0, "evtchn_fifo_control_block: offset of ready");
_Static_assert(__builtin_offsetof(struct evtchn_fifo_control_block, _rsvd) == 4, "evtchn_fifo_control_block: offset of _rsvd");
_Static_assert(__builtin_offsetof(struct evtchn_fifo_control_block, head) == 8, "evtchn_fifo_control_block: offset of head");

#endif /* PVKVM_XEN_ABI_EVENT_CHANNEL_H */
