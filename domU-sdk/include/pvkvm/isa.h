/*
 * pvkvm/isa.h: the legacy PC platform under the emulated ISA devices (docs/performance.md §4: the 16550 UART
 * at 0x3F8/IRQ 4, the ATA disk at 0x1F0/IRQ 14): ISA interrupt routing, a wait helper and a clock
 * that works without Xen. Used by <pvkvm/uart.h> and <pvkvm/ata.h>.
 *
 *   isa_irq_attach(4, my_handler, arg);   // routes ISA IRQ 4 to vector 0x24 and unmasks it
 *   cli();
 *   while (!done) isa_idle(deadline_ns), cli();  // sti; hlt, with a wake-up tick
 *   sti();
 *
 * Routing (chosen once, by the first isa_irq_attach; cmdline `isa.irq=pic|ioapic` overrides):
 *   - PIC (the default without Xen, e.g. under QEMU): both 8259s are re-initialised (ICW1..4:
 *     edge-triggered, cascade on IRQ 2, normal EOI) with ISA IRQ n at vector 0x20 + n, every line
 *     masked except the cascade and the attached IRQs. The local APIC is software-enabled with
 *     LINT0 = ExtINT, so the master's INTR reaches the CPU as on a PC in "virtual wire" mode.
 *     Handlers EOI the PIC(s). Re-initialising also silences the PIT's IRQ 0, which the firmware
 *     (SeaBIOS under QEMU) leaves unmasked at vector 0x08 — a #DF gate in our IDT.
 *   - IOAPIC (the default with Xen): redirection entry `pin = irq` (ISA IRQ n is GSI n for every
 *     IRQ but 0 on QEMU and KVM) = vector 0x20 + n, fixed delivery, physical destination = this
 *     CPU's APIC id, edge, active high; handlers EOI the local APIC. The 8259s are left alone when
 *     Xen is present (pvkvm programs the master PIC for the domain-wide callback vector, docs/host-kvm.md §1)
 *     and fully masked otherwise.
 * The controllers are programmed by the SDK's kernel, which also acknowledges each IRQ (EOI)
 * before its handler runs. Handlers run with interrupts off, on the interrupted stack (the SDK is
 * built -mno-red-zone), at the SDK's level: at CPL 3 by default, with the virtual flag off.
 *
 * Waiting: drivers in IRQ mode treat a wait as a sleep point, as the SDK's wait idiom does
 * (`cli(); while (!cond) safe_halt(), cli();`): interrupts are enabled while the CPU is halted,
 * whatever IF was, and the caller's IF is restored afterwards. So other interrupt handlers (an
 * event-channel upcall, say) may run during the wait. Inside an ISA IRQ handler they poll instead.
 * isa_idle() has the kernel arm a one-shot local-APIC timer (vector ISA_TICK_VECTOR, roughly 1 ms
 * on QEMU/KVM whose APIC timer counts nanoseconds) and halt with `sti; hlt`, so a wait for an
 * interrupt that never comes still ends at its deadline. It returns with interrupts ENABLED.
 *
 * Time: isa_time_ns() is nanoseconds since the first call, from the TSC. Its rate comes from Xen's
 * pvclock when there is one, else from the PIT (channel 2 gated through port 0x61, ~10 ms, once).
 */
#ifndef PVKVM_ISA_H
#define PVKVM_ISA_H
#include <stdint.h>

#define ISA_IRQ_VECTOR_BASE 0x20 /* ISA IRQ n arrives at vector 0x20 + n (n < 16) */
#define ISA_TICK_VECTOR 0x30     /* the one-shot local-APIC timer of isa_idle() */

enum isa_irq_route { ISA_ROUTE_AUTO = 0, ISA_ROUTE_PIC = 1, ISA_ROUTE_IOAPIC = 2 };

typedef void (*isa_irq_handler_t)(unsigned irq, void *arg);

/* Choose the routing (AUTO: cmdline isa.irq=, else PIC without Xen and IOAPIC with it) and set it
 * up: IDT gates for vectors 0x20..0x2F and the tick, the local APIC, the PICs or the IOAPIC.
 * Idempotent: a second call returns the route already chosen. Interrupts stay as they are. */
enum isa_irq_route isa_irq_init(enum isa_irq_route route);
const char *isa_irq_route_name(enum isa_irq_route route);

/* Install fn for ISA IRQ irq (0..15; calls isa_irq_init(AUTO) if needed) and unmask the line.
 * fn runs with interrupts off; the EOI is sent after it returns. 0 or -XEN_EINVAL. */
int isa_irq_attach(unsigned irq, isa_irq_handler_t fn, void *arg);
/* Mask the line and forget the handler. */
void isa_irq_detach(unsigned irq);
/* Interrupts taken on the line so far (including ones with no handler). */
uint64_t isa_irq_count(unsigned irq);
/* PIC route: interrupts the master/slave raised spuriously (IRQ 7/15 with no ISR bit). */
uint64_t isa_irq_spurious(void);
/* Nonzero while an ISA IRQ handler runs (drivers then poll instead of sleeping). */
int isa_in_irq(void);

/* With interrupts off: wait for an interrupt (or a ~1 ms tick, or now >= deadline_ns, which is in
 * isa_time_ns() units; 0 means no deadline of our own). Returns with interrupts ON. */
void isa_idle(uint64_t deadline_ns);

uint64_t isa_tsc_hz(void);   /* calibrated once; never 0 */
uint64_t isa_time_ns(void);  /* monotonic, from the TSC */
/* isa_time_ns() + ns (saturating): a deadline for a wait. */
uint64_t isa_deadline(uint64_t ns);
/* Busy-wait at least ns. */
void isa_delay_ns(uint64_t ns);

#endif
