/*
 * kernel.h: what the CPL-0 kernel's files share. Nothing here is for user code, which reaches the
 * kernel only through <pvkvm/kcall.h>.
 */
#ifndef PVKVM_KERNEL_H
#define PVKVM_KERNEL_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/cpu.h>
#include <pvkvm/traps.h>
#include "kernel_layout.h"

#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define EFER_SCE 0x1u

#define RFLAGS_RESERVED 0x2ull
#define RFLAGS_IF 0x200ull

/* Per-vCPU kernel state. KERNEL_GS_BASE points at it: the syscall entry finds its stack there. */
struct kcpu {
  uint64_t kstack_top;   /* KCPU_KSTACK_OFF: the TSS's RSP0 as well */
  uint64_t scratch;      /* KCPU_SCRATCH_OFF: the caller's RSP during the syscall entry */
  uint64_t user_stack;   /* a secondary's first user stack (KC_VCPU_INIT) */
};

extern struct kcpu kcpus[KNR_CPUS];
extern int kmode;       /* PVKVM_MODE_USER or PVKVM_MODE_KERNEL */
extern int kgate_syscall; /* the gate is syscall (else int3) */
extern int ksmp_started;  /* a secondary vCPU has been initialised: user memory may change under us */

/* cpu.c */
void kcpu_init(unsigned cpu);                 /* TSS, GS bases, syscall MSRs of the calling vCPU */
unsigned kcpu_id(void);                       /* from the task register, which user code cannot change */
void kiobitmap_init(void);
long kioperm(unsigned first, unsigned count, int on);
int kport_open(unsigned port, unsigned width); /* the bitmap lets CPL 3 use it */
void ksyscall_enable(void);

/* kboot_facts.c: kernel copies of boot facts the checks rely on (taken before CPL 3 runs) */
void kboot_facts_init(void);
int kram_range(uint64_t addr, uint64_t len); /* inside one RAM range of the boot map (1 if none) */
uint64_t kram_end_of(uint64_t addr);         /* the end of the RAM range holding addr, or 0 */
int kself_domid(void);                       /* this domain's id, -1 if not known */

/* idt.c */
void kidt_init(void);
void kidt_load(void);
void kidt_set(unsigned vector, uint64_t entry, unsigned dpl);

/* hcall.c, hcall_check.c */
void khypercall_init(void);
long ksched_op_sti(int cmd, void *arg);
long khypercall_checked(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                        unsigned long a4, unsigned long a5);
void khc_init(void);                   /* the fast send's window, from the memory map */
int kuser_range(uint64_t addr, uint64_t len); /* nonzero if [addr, addr+len) avoids kernel pages */

/* kisa.c */
long kisa_init(unsigned want);
long kisa_line(unsigned irq, int on);
uint64_t kisa_ack(uint64_t vector);            /* EOI; the PVKVM_VIRQ_ISA bit, 0 if spurious */
void klapic_enable(void);
uint32_t klapic_read(uint32_t reg);
void klapic_arm_tick(uint64_t ns);
void klegacy_pic_quiet(void);

/* ksmp.c */
long kvcpu_init(unsigned vcpu, uint64_t user_stack);

/* probe.S and kmain.c */
int kprobe_syscall(void);               /* 1 if syscall entered CPL 0 */
extern int kprobe_active;
void kprobe_trap_landed(void);
void kenter(uint64_t rip, uint64_t rsp, int user, uint64_t arg) __attribute__((noreturn));

/* trap.c */
void ktrap_report(const struct pvkvm_trap_frame *f, uint64_t cr2) __attribute__((noreturn));

/* The user side's entry points (src/arch/), which the kernel starts or sends user code to. */
void pvkvm_user_start(void) __attribute__((noreturn));
void pvkvm_secondary_main(unsigned vcpu) __attribute__((noreturn));
void pvkvm_virq_trampoline(void);
void pvkvm_trap_trampoline(void);
void pvkvm_gate_probe_user(void);
extern pvkvm_trap_hook_t pvkvm_trap_hook;
extern uint8_t pvkvm_uboot_stack[UBOOT_STACK_SIZE];

/* Copy whole 8-byte words. The kernel's memcpy is the library's `rep movsb`, which the kvm_pvm
 * emulator runs a byte at a time (thousands of cycles per byte): for structs and frames, words. */
static inline void kcopy_words(void *dst, const void *src, size_t bytes) {
  unsigned long n = bytes / 8;
  __asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static inline void kwrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t krdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}

#endif
