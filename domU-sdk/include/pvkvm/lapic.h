/*
 * pvkvm/lapic.h: the local APIC (xAPIC MMIO at 0xFEE00000, identity-mapped) and the interrupt
 * flag.
 *
 * The SDK uses two vectors: PVKVM_UPCALL_VECTOR (0xF3, the event-channel upcall, as Linux uses)
 * and PVKVM_SPURIOUS_VECTOR (0xFF, the APIC's spurious vector; its handler just counts). The
 * kernel installs both at boot; evtchn_init() has it enable the APIC. The APIC's page is the
 * kernel's: at CPL 3 (<pvkvm/cpu.h>) reads are kernel calls and writes are not possible.
 *
 * Waiting without losing a wake-up: with interrupts off, check the condition, then safe_halt()
 * (`sti; hlt`: the STI shadow makes the two atomic, so an interrupt that is already pending or
 * arrives in between ends the HLT). Re-disable and re-check afterwards.
 */
#ifndef PVKVM_LAPIC_H
#define PVKVM_LAPIC_H
#include <stdint.h>
#include <pvkvm/cpu.h>
#include <pvkvm/kcall.h>

#define PVKVM_UPCALL_VECTOR 0xF3
#define PVKVM_SPURIOUS_VECTOR 0xFF

#define LAPIC_BASE 0xFEE00000UL
#define LAPIC_ID 0x020      /* bits 31:24 = APIC ID */
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080     /* task priority */
#define LAPIC_EOI 0x0B0     /* write 0 */
#define LAPIC_SVR 0x0F0     /* spurious vector (7:0), bit 8 = APIC software enable */
#define LAPIC_ISR 0x100     /* 8 x 32-bit words, 16 bytes apart */
#define LAPIC_IRR 0x200
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_SVR_ENABLE 0x100

/* The registers are the kernel's (their page is supervisor-only): at CPL 3 lapic_read goes
 * through a kernel call; lapic_write and lapic_eoi are for CPL-0 code only. */
static inline uint32_t lapic_read(uint32_t reg) {
  if (pvkvm_at_cpl3()) return (uint32_t)pvkvm_kcall1(PVKVM_KC_LAPIC_READ, reg);
  return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v) {
  *(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

static inline void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

static inline uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

/* Nonzero if `vector` is set in the in-service (ISR) or request (IRR) register. */
static inline int lapic_in_service(unsigned vector) {
  return (lapic_read(LAPIC_ISR + (vector / 32) * 16) >> (vector % 32)) & 1;
}
static inline int lapic_requested(unsigned vector) {
  return (lapic_read(LAPIC_IRR + (vector / 32) * 16) >> (vector % 32)) & 1;
}

/* Software-enable this vCPU's APIC with the SDK's spurious vector (PVKVM_SPURIOUS_VECTOR; the
 * argument is kept for compatibility and must be that), and accept every priority (TPR = 0). LVT
 * entries are left as they are (the hypervisor may have set LINT0 to ExtINT). */
void lapic_enable(uint8_t spurious_vector);

/* --- the interrupt flag ---
 * At CPL 0 these are the real IF; at CPL 3 (PVKVM_MODE_USER) the vCPU's virtual flag
 * (<pvkvm/cpu.h>), with the same meaning to callers: handlers run only while it is on. */

static inline void local_irq_enable(void) {
  if (pvkvm_at_cpl3()) pvkvm_virq_enable();
  else __asm__ volatile("sti" ::: "memory");
}
static inline void local_irq_disable(void) {
  if (pvkvm_at_cpl3()) pvkvm_virq_set_off(1);
  else __asm__ volatile("cli" ::: "memory");
}

/* RFLAGS, with IF standing for the virtual flag at CPL 3. */
static inline unsigned long local_save_flags(void) {
  unsigned long f;
  __asm__ volatile("pushfq; popq %0" : "=r"(f) : : "memory");
  if (pvkvm_at_cpl3()) f = (f & ~0x200ul) | (pvkvm_virq_off() ? 0 : 0x200ul);
  return f;
}

/* Disable interrupts; returns the previous RFLAGS for local_irq_restore. */
static inline unsigned long local_irq_save(void) {
  unsigned long f = local_save_flags();
  local_irq_disable();
  return f;
}

static inline void local_irq_restore(unsigned long flags) {
  if (flags & 0x200) local_irq_enable();
  else local_irq_disable();
}

static inline int irqs_enabled(void) { return (local_save_flags() & 0x200) != 0; }

/* `sti; hlt`: halt until an interrupt, atomically with enabling interrupts. Returns with
 * interrupts ENABLED (after the interrupt handler ran). At CPL 3 the kernel halts for us
 * (PVKVM_KC_HALT: not at all if an interrupt is already recorded), then the flag goes on and
 * what arrived is run. */
static inline void safe_halt(void) {
  if (pvkvm_at_cpl3()) {
    pvkvm_kcall1(PVKVM_KC_HALT, 1);
    pvkvm_virq_enable();
  } else {
    __asm__ volatile("sti; hlt" ::: "memory");
  }
}

/*
 * There is deliberately no `sti; nop; cli` "interrupt window" helper: on this project's host KVM
 * (kvm_pvm) an interrupt that became pending while IF was 0 is NOT taken in such a window, nor
 * after an in-kernel exit (MMIO, CPUID); it arrives only at the next exit to user space (e.g. a
 * hypercall), at HLT, or about a millisecond later. To run pending event handlers now, call
 * evtchn_run_pending() (it dispatches directly); to wait for an interrupt, use safe_halt().
 */

#endif
