/* virq.c: the user side of interrupts — running what the kernel recorded in this vCPU's
 * pvkvm_cpu.pending (<pvkvm/cpu.h>): the event-channel upcall and the ISA IRQ handlers. Runs at
 * CPL 3 from pvkvm_virq_trampoline or a re-enable, or at CPL 0 in PVKVM_MODE_KERNEL straight
 * from the interrupt entry. */
#include <stddef.h>
#include <pvkvm/cpu.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/isa.h>
#include <pvkvm/kcall.h>

_Static_assert(offsetof(struct pvkvm_cpu, vcpu_id) == PVKVM_CPU_VCPU_ID, "cpu.h offsets");
_Static_assert(offsetof(struct pvkvm_cpu, irq_off) == PVKVM_CPU_IRQ_OFF, "cpu.h offsets");
_Static_assert(offsetof(struct pvkvm_cpu, pending) == PVKVM_CPU_PENDING, "cpu.h offsets");
_Static_assert(offsetof(struct pvkvm_cpu, trap_cr2) == PVKVM_CPU_TRAP_CR2, "cpu.h offsets");
_Static_assert(offsetof(struct pvkvm_cpu, in_trap) == PVKVM_CPU_IN_TRAP, "cpu.h offsets");
_Static_assert(offsetof(struct pvkvm_cpu, resume_rip) == PVKVM_CPU_RESUME_RIP, "cpu.h offsets");
_Static_assert(offsetof(struct pvkvm_cpu, resume_rflags) == PVKVM_CPU_RESUME_RFLAGS, "cpu.h offsets");

/* State the kernel publishes for user code (it writes these at boot or on interrupts). */
struct pvkvm_cpu pvkvm_cpus[PVKVM_NR_CPUS];
int pvkvm_sdk_mode;
uint8_t pvkvm_kcall_syscall;
volatile uint64_t pvkvm_spurious_count;

void pvkvm_upcall_run(void);          /* src/xen/evtchn.c */
void isa_irq_run(unsigned irq);       /* src/arch/isa.c */
void pvkvm_virq_run(void);

/* With interrupts (or the virtual flag) off: take the recorded bits and run their handlers, until
 * none are left. */
void pvkvm_virq_run(void) {
  for (;;) {
    uint64_t p = 0;
    __asm__ volatile("xchgq %0, %%gs:%c1" : "+r"(p) : "i"(PVKVM_CPU_PENDING) : "memory");
    if (!p) return;
    if (p & PVKVM_VIRQ_UPCALL) pvkvm_upcall_run();
    for (uint64_t isa = (p >> PVKVM_VIRQ_ISA_SHIFT) & 0xffff; isa; isa &= isa - 1)
      isa_irq_run((unsigned)__builtin_ctzll(isa));
  }
}

void pvkvm_virq_flush(void) {
  do {
    pvkvm_virq_set_off(1);
    pvkvm_virq_run();
    pvkvm_virq_set_off(0);
  } while (pvkvm_virq_pending());
}
