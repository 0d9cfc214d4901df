/*
 * pvkvm/kcall.h: calls from CPL 3 into the SDK's kernel (see <pvkvm/cpu.h> for the two modes).
 *
 * One gate, chosen by the kernel at boot: `syscall` where it really enters CPL 0 (a normal
 * VMX/SVM host), otherwise `int3` through a DPL-3 interrupt gate (this project's kvm_pvm hosts,
 * where `syscall` stays at CPL 3). The convention is the hypercall one: number in RAX, arguments
 * in RDI, RSI, RDX, R10, R8, result in RAX; RCX, R11 and the argument registers may be clobbered.
 * Numbers below PVKVM_KCALL_BASE are Xen hypercalls, which the kernel issues through the
 * hypercall page on the caller's behalf (after checking the arguments: docs/host-kvm.md §3);
 * the others are the kernel's own services below.
 *
 * Code at CPL 0 (the kernel, or everything in PVKVM_MODE_KERNEL) calls the same services
 * directly, so these wrappers work in both modes.
 */
#ifndef PVKVM_KCALL_H
#define PVKVM_KCALL_H
#include <stdint.h>
#include <pvkvm/cpu.h>

#define PVKVM_KCALL_BASE 0x100

enum pvkvm_kcall {
  PVKVM_KC_NULL = PVKVM_KCALL_BASE, /* nothing: the gate's own cost */
  PVKVM_KC_HALT,        /* halt until an interrupt (virtual flag on) or for good (off) */
  PVKVM_KC_BLOCK,       /* SCHEDOP_block with interrupts on in the trap's STI shadow */
  PVKVM_KC_IDLE,        /* (ns) arm the local-APIC one-shot tick, then halt as KC_HALT */
  PVKVM_KC_IOPERM,      /* (first, count, on) open or close ports in the TSS I/O bitmap */
  PVKVM_KC_STRING_IO,   /* (op, port, buf, count) rep ins/outs on the caller's buffer */
  PVKVM_KC_LAPIC_READ,  /* (reg) a local-APIC register of this vCPU */
  PVKVM_KC_LAPIC_ENABLE, /* software-enable this vCPU's local APIC (spurious vector 0xFF) */
  PVKVM_KC_ISA_INIT,    /* (route) set up ISA interrupt routing; returns the route chosen */
  PVKVM_KC_ISA_LINE,    /* (irq, on) unmask or mask an ISA IRQ line */
  PVKVM_KC_VCPU_INIT,   /* (vcpu, user stack top) VCPUOP_initialise into the SDK's entry */
  PVKVM_KC_TRAP_REPORT, /* (frame) print an exception a user hook declined, shut down (crash) */
  PVKVM_KC_END
};

/* PVKVM_KC_STRING_IO operations: direction and width. */
#define PVKVM_SIO_IN 0x0
#define PVKVM_SIO_OUT 0x8
#define PVKVM_SIO_BYTE 1
#define PVKVM_SIO_WORD 2
#define PVKVM_SIO_DWORD 4

/* Nonzero when the gate is `syscall` (set by the kernel at boot; user code reads it). */
extern uint8_t pvkvm_kcall_syscall;

/* The kernel's dispatcher, for callers already at CPL 0. */
long pvkvm_kcall_direct(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                        unsigned long a4, unsigned long a5);

/* The gate instruction, as picked at boot. */
#define PVKVM_GATE_INSN                                                                            \
  "cmpb $0, pvkvm_kcall_syscall(%%rip)\n\tjne 1f\n\tint3\n\tjmp 2f\n1:\tsyscall\n2:"
#define PVKVM_GATE_CLOBBERS "memory", "cc", "rcx", "r11"

/* A kernel call with up to five arguments; at CPL 0 a plain function call. */
static inline long pvkvm_kcall(unsigned long nr, unsigned long a1, unsigned long a2,
                               unsigned long a3, unsigned long a4, unsigned long a5) {
  if (!pvkvm_at_cpl3()) return pvkvm_kcall_direct(nr, a1, a2, a3, a4, a5);
  register unsigned long rax __asm__("rax") = nr;
  register unsigned long rdi __asm__("rdi") = a1;
  register unsigned long rsi __asm__("rsi") = a2;
  register unsigned long rdx __asm__("rdx") = a3;
  register unsigned long r10 __asm__("r10") = a4;
  register unsigned long r8 __asm__("r8") = a5;
  __asm__ volatile(PVKVM_GATE_INSN
                   : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
                   :
                   : PVKVM_GATE_CLOBBERS);
  return (long)rax;
}

#define pvkvm_kcall0(nr) pvkvm_kcall((nr), 0, 0, 0, 0, 0)
#define pvkvm_kcall1(nr, a) pvkvm_kcall((nr), (unsigned long)(a), 0, 0, 0, 0)
#define pvkvm_kcall2(nr, a, b) pvkvm_kcall((nr), (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define pvkvm_kcall3(nr, a, b, c)                                                                  \
  pvkvm_kcall((nr), (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), 0, 0)
#define pvkvm_kcall4(nr, a, b, c, d)                                                               \
  pvkvm_kcall((nr), (unsigned long)(a), (unsigned long)(b), (unsigned long)(c),                    \
              (unsigned long)(d), 0)

/*
 * Open (on = 1) or close ports [first, first + count) to CPL 3 in every vCPU's I/O permission
 * bitmap, so user code may use plain in/out on them (rep ins/outs always fault at CPL 3: use
 * pvkvm_string_io). 0, or -XEN_EPERM for the ports the kernel keeps (the interrupt
 * controllers, PCI configuration).
 */
static inline long pvkvm_ioperm(unsigned first, unsigned count, int on) {
  return pvkvm_kcall3(PVKVM_KC_IOPERM, first, count, on);
}

/* rep ins/outs of `count` items (op = PVKVM_SIO_IN|OUT | width) between `port` and buf. The port
 * must be open (pvkvm_ioperm) and buf user memory. 0 or -errno. */
static inline long pvkvm_string_io(unsigned op, unsigned port, void *buf, unsigned long count) {
  return pvkvm_kcall4(PVKVM_KC_STRING_IO, op, port, buf, count);
}

#endif
