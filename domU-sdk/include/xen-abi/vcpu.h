/* Generated from abi/index.ts (ABI_MODULES "vcpu.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_VCPU_H
#define PVKVM_XEN_ABI_VCPU_H

#include <stdint.h>

/* vcpu_op commands */
#define VCPUOP_initialise                     0
#define VCPUOP_up                             1
#define VCPUOP_down                           2
#define VCPUOP_is_up                          3
#define VCPUOP_get_runstate_info              4
#define VCPUOP_register_runstate_memory_area  5
#define VCPUOP_set_periodic_timer             6
#define VCPUOP_stop_periodic_timer            7
#define VCPUOP_set_singleshot_timer           8
#define VCPUOP_stop_singleshot_timer          9
#define VCPUOP_register_vcpu_info             10
#define VCPUOP_send_nmi                       11
#define VCPUOP_get_physid                     12
#define VCPUOP_register_vcpu_time_memory_area 13

/* Singleshot timer flags */
#define VCPU_SSHOTTMR_future 1

/* vCPU run states */
#define RUNSTATE_running  0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked  2
#define RUNSTATE_offline  3

/* vcpu_hvm_context modes */
#define VCPU_HVM_MODE_32B 0
#define VCPU_HVM_MODE_64B 1

/* vcpu_set_singleshot_timer: 16 bytes (Xen: struct vcpu_set_singleshot_timer). */
struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;
    uint32_t flags;
    uint8_t _pad0[4];
};
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "vcpu_set_singleshot_timer: size");
_Static_assert(__builtin_offsetof(struct vcpu_set_singleshot_timer, timeout_abs_ns) == 0, "vcpu_set_singleshot_timer: offset of timeout_abs_ns");
_Static_assert(__builtin_offsetof(struct vcpu_set_singleshot_timer, flags) == 8, "vcpu_set_singleshot_timer: offset of flags");

/* vcpu_set_periodic_timer: 8 bytes (Xen: struct vcpu_set_periodic_timer). */
struct vcpu_set_periodic_timer {
    uint64_t period_ns;
};
_Static_assert(sizeof(struct vcpu_set_periodic_timer) == 8, "vcpu_set_periodic_timer: size");
_Static_assert(__builtin_offsetof(struct vcpu_set_periodic_timer, period_ns) == 0, "vcpu_set_periodic_timer: offset of period_ns");

/* vcpu_register_vcpu_info: 16 bytes (Xen: struct vcpu_register_vcpu_info). */
struct vcpu_register_vcpu_info {
    uint64_t mfn;
    uint32_t offset;
    uint32_t rsvd;
};
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "vcpu_register_vcpu_info: size");
_Static_assert(__builtin_offsetof(struct vcpu_register_vcpu_info, mfn) == 0, "vcpu_register_vcpu_info: offset of mfn");
_Static_assert(__builtin_offsetof(struct vcpu_register_vcpu_info, offset) == 8, "vcpu_register_vcpu_info: offset of offset");
_Static_assert(__builtin_offsetof(struct vcpu_register_vcpu_info, rsvd) == 12, "vcpu_register_vcpu_info: offset of rsvd");

/* vcpu_runstate_info: 48 bytes (Xen: struct vcpu_runstate_info). */
struct vcpu_runstate_info {
    int32_t state;
    uint8_t _pad0[4];
    uint64_t state_entry_time;
    uint64_t time[4];
};
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info: size");
_Static_assert(__builtin_offsetof(struct vcpu_runstate_info, state) == 0, "vcpu_runstate_info: offset of state");
_Static_assert(__builtin_offsetof(struct vcpu_runstate_info, state_entry_time) == 8, "vcpu_runstate_info: offset of state_entry_time");
_Static_assert(__builtin_offsetof(struct vcpu_runstate_info, time) == 16, "vcpu_runstate_info: offset of time");

/* vcpu_hvm_context: 128 bytes (Xen: struct vcpu_hvm_context). */
struct vcpu_hvm_context {
    uint32_t mode;
    uint8_t _pad0[4];
    uint64_t cpu_regs_x86_64_rax;
    uint64_t cpu_regs_x86_64_rcx;
    uint64_t cpu_regs_x86_64_rdx;
    uint64_t cpu_regs_x86_64_rbx;
    uint64_t cpu_regs_x86_64_rsp;
    uint64_t cpu_regs_x86_64_rbp;
    uint64_t cpu_regs_x86_64_rsi;
    uint64_t cpu_regs_x86_64_rdi;
    uint64_t cpu_regs_x86_64_rip;
    uint64_t cpu_regs_x86_64_rflags;
    uint64_t cpu_regs_x86_64_cr0;
    uint64_t cpu_regs_x86_64_cr3;
    uint64_t cpu_regs_x86_64_cr4;
    uint64_t cpu_regs_x86_64_efer;
    uint8_t _pad1[8];
};
_Static_assert(sizeof(struct vcpu_hvm_context) == 128, "vcpu_hvm_context: size");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, mode) == 0, "vcpu_hvm_context: offset of mode");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rax) == 8, "vcpu_hvm_context: offset of cpu_regs_x86_64_rax");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rcx) == 16, "vcpu_hvm_context: offset of cpu_regs_x86_64_rcx");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rdx) == 24, "vcpu_hvm_context: offset of cpu_regs_x86_64_rdx");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rbx) == 32, "vcpu_hvm_context: offset of cpu_regs_x86_64_rbx");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rsp) == 40, "vcpu_hvm_context: offset of cpu_regs_x86_64_rsp");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rbp) == 48, "vcpu_hvm_context: offset of cpu_regs_x86_64_rbp");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rsi) == 56, "vcpu_hvm_context: offset of cpu_regs_x86_64_rsi");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rdi) == 64, "vcpu_hvm_context: offset of cpu_regs_x86_64_rdi");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rip) == 72, "vcpu_hvm_context: offset of cpu_regs_x86_64_rip");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_rflags) == 80, "vcpu_hvm_context: offset of cpu_regs_x86_64_rflags");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_cr0) == 88, "vcpu_hvm_context: offset of cpu_regs_x86_64_cr0");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_cr3) == 96, "vcpu_hvm_context: offset of cpu_regs_x86_64_cr3");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_cr4) == 104, "vcpu_hvm_context: offset of cpu_regs_x86_64_cr4");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_context, cpu_regs_x86_64_efer) == 112, "vcpu_hvm_context: offset of cpu_regs_x86_64_efer");

/* vcpu_hvm_x86_32: 120 bytes (Xen: struct vcpu_hvm_x86_32). */
struct vcpu_hvm_x86_32 {
    uint32_t eax;
    uint32_t ecx;
    uint32_t edx;
    uint32_t ebx;
    uint32_t esp;
    uint32_t ebp;
    uint32_t esi;
    uint32_t edi;
    uint32_t eip;
    uint32_t eflags;
    uint32_t cr0;
    uint32_t cr3;
    uint32_t cr4;
    uint8_t _pad0[4];
    uint64_t efer;
    uint32_t cs_base;
    uint32_t ds_base;
    uint32_t ss_base;
    uint32_t es_base;
    uint32_t tr_base;
    uint32_t cs_limit;
    uint32_t ds_limit;
    uint32_t ss_limit;
    uint32_t es_limit;
    uint32_t tr_limit;
    uint16_t cs_ar;
    uint16_t ds_ar;
    uint16_t ss_ar;
    uint16_t es_ar;
    uint16_t tr_ar;
    uint8_t _pad1[6];
};
_Static_assert(sizeof(struct vcpu_hvm_x86_32) == 120, "vcpu_hvm_x86_32: size");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, eax) == 0, "vcpu_hvm_x86_32: offset of eax");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ecx) == 4, "vcpu_hvm_x86_32: offset of ecx");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, edx) == 8, "vcpu_hvm_x86_32: offset of edx");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ebx) == 12, "vcpu_hvm_x86_32: offset of ebx");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, esp) == 16, "vcpu_hvm_x86_32: offset of esp");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ebp) == 20, "vcpu_hvm_x86_32: offset of ebp");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, esi) == 24, "vcpu_hvm_x86_32: offset of esi");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, edi) == 28, "vcpu_hvm_x86_32: offset of edi");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, eip) == 32, "vcpu_hvm_x86_32: offset of eip");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, eflags) == 36, "vcpu_hvm_x86_32: offset of eflags");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, cr0) == 40, "vcpu_hvm_x86_32: offset of cr0");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, cr3) == 44, "vcpu_hvm_x86_32: offset of cr3");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, cr4) == 48, "vcpu_hvm_x86_32: offset of cr4");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, efer) == 56, "vcpu_hvm_x86_32: offset of efer");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, cs_base) == 64, "vcpu_hvm_x86_32: offset of cs_base");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ds_base) == 68, "vcpu_hvm_x86_32: offset of ds_base");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ss_base) == 72, "vcpu_hvm_x86_32: offset of ss_base");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, es_base) == 76, "vcpu_hvm_x86_32: offset of es_base");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, tr_base) == 80, "vcpu_hvm_x86_32: offset of tr_base");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, cs_limit) == 84, "vcpu_hvm_x86_32: offset of cs_limit");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ds_limit) == 88, "vcpu_hvm_x86_32: offset of ds_limit");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ss_limit) == 92, "vcpu_hvm_x86_32: offset of ss_limit");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, es_limit) == 96, "vcpu_hvm_x86_32: offset of es_limit");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, tr_limit) == 100, "vcpu_hvm_x86_32: offset of tr_limit");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, cs_ar) == 104, "vcpu_hvm_x86_32: offset of cs_ar");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ds_ar) == 106, "vcpu_hvm_x86_32: offset of ds_ar");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, ss_ar) == 108, "vcpu_hvm_x86_32: offset of ss_ar");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, es_ar) == 110, "vcpu_hvm_x86_32: offset of es_ar");
_Static_assert(__builtin_offsetof(struct vcpu_hvm_x86_32, tr_ar) == 112, "vcpu_hvm_x86_32: offset of tr_ar");

/* compat_vcpu_set_singleshot_timer: 12 bytes (Xen: struct vcpu_set_singleshot_timer, i386 layout). */
struct compat_vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;
    uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct compat_vcpu_set_singleshot_timer) == 12, "compat_vcpu_set_singleshot_timer: size");
_Static_assert(__builtin_offsetof(struct compat_vcpu_set_singleshot_timer, timeout_abs_ns) == 0, "compat_vcpu_set_singleshot_timer: offset of timeout_abs_ns");
_Static_assert(__builtin_offsetof(struct compat_vcpu_set_singleshot_timer, flags) == 8, "compat_vcpu_set_singleshot_timer: offset of flags");

/* compat_vcpu_runstate_info: 44 bytes (Xen: struct vcpu_runstate_info, i386 layout). */
struct compat_vcpu_runstate_info {
    int32_t state;
    uint64_t state_entry_time;
    uint64_t time[4];
} __attribute__((packed));
_Static_assert(sizeof(struct compat_vcpu_runstate_info) == 44, "compat_vcpu_runstate_info: size");
_Static_assert(__builtin_offsetof(struct compat_vcpu_runstate_info, state) == 0, "compat_vcpu_runstate_info: offset of state");
_Static_assert(__builtin_offsetof(struct compat_vcpu_runstate_info, state_entry_time) == 4, "compat_vcpu_runstate_info: offset of state_entry_time");
_Static_assert(__builtin_offsetof(struct compat_vcpu_runstate_info, time) == 12, "compat_vcpu_runstate_info: offset of time");

/* compat_vcpu_set_periodic_timer: 8 bytes (Xen: struct vcpu_set_periodic_timer, i386 layout). */
struct compat_vcpu_set_periodic_timer {
    uint64_t period_ns;
};
_Static_assert(sizeof(struct compat_vcpu_set_periodic_timer) == 8, "compat_vcpu_set_periodic_timer: size");
_Static_assert(__builtin_offsetof(struct compat_vcpu_set_periodic_timer, period_ns) == 0, "compat_vcpu_set_periodic_timer: offset of period_ns");

/* compat_vcpu_register_vcpu_info: 16 bytes (Xen: struct vcpu_register_vcpu_info, i386 layout). */
struct compat_vcpu_register_vcpu_info {
    uint64_t mfn;
    uint32_t offset;
    uint32_t rsvd;
};
_Static_assert(sizeof(struct compat_vcpu_register_vcpu_info) == 16, "compat_vcpu_register_vcpu_info: size");
_Static_assert(__builtin_offsetof(struct compat_vcpu_register_vcpu_info, mfn) == 0, "compat_vcpu_register_vcpu_info: offset of mfn");
_Static_assert(__builtin_offsetof(struct compat_vcpu_register_vcpu_info, offset) == 8, "compat_vcpu_register_vcpu_info: offset of offset");
_Static_assert(__builtin_offsetof(struct compat_vcpu_register_vcpu_info, rsvd) == 12, "compat_vcpu_register_vcpu_info: offset of rsvd");

#endif /* PVKVM_XEN_ABI_VCPU_H */
