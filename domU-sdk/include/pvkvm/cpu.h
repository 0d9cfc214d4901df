/*
 * pvkvm/cpu.h: which privilege level the SDK runs at, and each vCPU's state that user code keeps
 * (reached through %gs, so no CPUID exit is needed to know which vCPU we are on).
 *
 * Two modes (chosen at boot, see <pvkvm/start.h>):
 *   PVKVM_MODE_USER    (the default) a small kernel runs at CPL 0; main, drivers and the APIs run
 *                      at CPL 3 and reach the kernel through one gate (<pvkvm/kcall.h>);
 *   PVKVM_MODE_KERNEL  everything at CPL 0, as a plain PVH kernel.
 *
 * At CPL 3 the interrupt flag cannot be touched (cli/sti fault), so the SDK keeps a virtual one
 * per vCPU, `irq_off`: the kernel takes every interrupt at CPL 0, acknowledges it and records it
 * in `pending`; while irq_off is 0 it then sends user code to the virtual-interrupt trampoline,
 * which runs the handlers at CPL 3 and resumes the interrupted code. While irq_off is set the
 * interrupts stay recorded until user code clears it (local_irq_enable/restore, safe_halt).
 */
#ifndef PVKVM_CPU_H
#define PVKVM_CPU_H
#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define PVKVM_MODE_KERNEL 1
#define PVKVM_MODE_USER 2

#define PVKVM_NR_CPUS 32u /* as PVKVM_MAX_VCPUS: vcpu_info slots in shared_info */

/* Virtual interrupts the kernel records in pvkvm_cpu.pending: bit 0 the event-channel upcall,
 * bit 16 + n ISA IRQ n. */
#define PVKVM_VIRQ_UPCALL 0x1
#define PVKVM_VIRQ_ISA_SHIFT 16
#define PVKVM_VIRQ_ISA(irq) (1ull << (PVKVM_VIRQ_ISA_SHIFT + (irq)))

/* Offsets for assembly (checked against the struct in src/arch/virq.c). */
#define PVKVM_CPU_VCPU_ID 8
#define PVKVM_CPU_IRQ_OFF 12
#define PVKVM_CPU_PENDING 16
#define PVKVM_CPU_TRAP_CR2 24
#define PVKVM_CPU_IN_TRAP 32
#define PVKVM_CPU_RESUME_RIP 48
#define PVKVM_CPU_RESUME_RFLAGS 56

#ifndef __ASSEMBLER__
struct pvkvm_cpu {
  struct pvkvm_cpu *self;
  uint32_t vcpu_id;
  uint32_t irq_off;      /* CPL 3: the virtual interrupt flag, nonzero = disabled */
  uint64_t pending;      /* PVKVM_VIRQ_* bits set by the kernel (lock or), taken by user code */
  uint64_t trap_cr2;     /* CR2 of the exception last delivered to a user trap hook */
  uint32_t in_trap;      /* a user trap hook is running: a fault now is reported, not delivered */
  uint32_t reserved;
  uint64_t reserved2;
  uint64_t resume_rip;   /* where the kernel sent user code to the trampoline from, and its */
  uint64_t resume_rflags; /* flags: the trampoline pushes both first thing */
} __attribute__((aligned(64)));

/* One per vCPU, in user memory; the kernel points each vCPU's GS base at its own. */
extern struct pvkvm_cpu pvkvm_cpus[PVKVM_NR_CPUS];

/* PVKVM_MODE_USER or PVKVM_MODE_KERNEL, as the kernel chose at boot. */
extern int pvkvm_sdk_mode;

/* Nonzero when the calling code runs at CPL 3. Pure: the level never changes under a caller. */
static inline int pvkvm_at_cpl3(void) {
  unsigned cs;
  __asm__("mov %%cs, %0" : "=r"(cs));
  return (cs & 3) != 0;
}

static inline uint32_t pvkvm_cpu_vcpu_id(void) {
  uint32_t v;
  __asm__ volatile("movl %%gs:%c1, %0" : "=r"(v) : "i"(PVKVM_CPU_VCPU_ID));
  return v;
}

/* ---- the virtual interrupt flag (CPL 3 only; CPL 0 code uses the real one) ---- */

static inline uint32_t pvkvm_virq_off(void) {
  uint32_t v;
  __asm__ volatile("movl %%gs:%c1, %0" : "=r"(v) : "i"(PVKVM_CPU_IRQ_OFF) : "memory");
  return v;
}

static inline void pvkvm_virq_set_off(uint32_t off) {
  __asm__ volatile("movl %0, %%gs:%c1" : : "r"(off), "i"(PVKVM_CPU_IRQ_OFF) : "memory");
}

static inline uint64_t pvkvm_virq_pending(void) {
  uint64_t v;
  __asm__ volatile("movq %%gs:%c1, %0" : "=r"(v) : "i"(PVKVM_CPU_PENDING) : "memory");
  return v;
}

/* Run what the kernel recorded, with the virtual flag off, until nothing is left (src/arch/virq.c). */
void pvkvm_virq_flush(void);

/* Enable: clear the flag, then run anything recorded while it was set. An interrupt between the
 * two is delivered by the kernel (the flag is already clear), so nothing waits for the next one. */
static inline void pvkvm_virq_enable(void) {
  pvkvm_virq_set_off(0);
  if (pvkvm_virq_pending()) pvkvm_virq_flush();
}

#endif /* __ASSEMBLER__ */
#endif
