/* kisa.c: the interrupt controllers, which only the kernel programs — the local APIC (enable,
 * the idle tick, reads for user code), the 8259 PICs and the IOAPIC for ISA IRQs, and the
 * acknowledgement of each ISA IRQ (virq_entry.S). The handlers are user code (src/arch/isa.c). */
#include <pvkvm/arch.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/isa.h>
#include <pvkvm/lapic.h>
#include "kernel.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_ICW1_INIT_ICW4 0x11 /* ICW1: init, edge-triggered, cascaded, ICW4 follows */
#define PIC_ICW4_8086 0x01      /* ICW4: 8086 mode, normal (not automatic) EOI */
#define PIC_OCW2_EOI 0x20       /* non-specific EOI */
#define PIC_OCW3_READ_ISR 0x0B
#define PIC_CASCADE_IRQ 2

#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define IOAPIC_MASKED (1u << 16)

#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_DCR 0x3E0
#define LAPIC_DCR_DIV1 0xB
#define LAPIC_LVT_EXTINT 0x700 /* delivery mode ExtINT, unmasked, edge */

_Static_assert(KISA_VECTOR_BASE == ISA_IRQ_VECTOR_BASE && KISA_ROUTE_IOAPIC == ISA_ROUTE_IOAPIC,
              "virq_entry.S's copies");

unsigned kisa_route;       /* enum isa_irq_route; ISA_ROUTE_AUTO until kisa_init (virq_entry.S reads it) */
static uint16_t pic_mask = 0xFFFF;
extern uint64_t pvkvm_isa_spurious; /* isa.c: in user memory, for isa_irq_spurious() */

void klapic_enable(void) {
  lapic_write(LAPIC_TPR, 0);
  lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | PVKVM_SPURIOUS_VECTOR);
}

uint32_t klapic_read(uint32_t reg) { return lapic_read(reg); }

/* The one-shot tick that ends an idle halt (1 GHz APIC timer on QEMU/KVM: ns). */
void klapic_arm_tick(uint64_t ns) {
  if (kisa_route == ISA_ROUTE_AUTO) kisa_init(ISA_ROUTE_AUTO);
  lapic_write(LAPIC_TIMER_ICR, (uint32_t)(ns < 1000 ? 1000 : ns > 0xffffffffu ? 0xffffffffu : ns));
}

static void pic_write_mask(void) {
  outb(PIC1_DATA, (uint8_t)pic_mask);
  outb(PIC2_DATA, (uint8_t)(pic_mask >> 8));
}

/* ICW1..ICW4: IRQ 0-7 → vectors 0x20-0x27, IRQ 8-15 → 0x28-0x2F, slave on IRQ 2, normal EOI. */
static void pic_init(uint16_t mask) {
  outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
  outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
  outb(PIC1_DATA, ISA_IRQ_VECTOR_BASE);
  outb(PIC2_DATA, ISA_IRQ_VECTOR_BASE + 8);
  outb(PIC1_DATA, 1u << PIC_CASCADE_IRQ);
  outb(PIC2_DATA, PIC_CASCADE_IRQ);
  outb(PIC1_DATA, PIC_ICW4_8086);
  outb(PIC2_DATA, PIC_ICW4_8086);
  pic_mask = mask;
  pic_write_mask();
}

/* Without Xen the firmware's PIC setup is live (SeaBIOS leaves the PIT's IRQ 0 unmasked at
 * vector 0x08, our #DF gate) and CPL 3 runs with IF = 1: move the PICs off the exception
 * vectors and mask every line before any code runs with interrupts on. */
void klegacy_pic_quiet(void) { pic_init(0xFFFF); }

static uint8_t pic_isr(uint16_t cmd) {
  outb(cmd, PIC_OCW3_READ_ISR);
  return inb(cmd);
}

static void ioapic_write(uint32_t reg, uint32_t v) {
  volatile uint32_t *io = (volatile uint32_t *)KIOAPIC_BASE;
  io[0] = reg;
  io[4] = v;
}

static void ioapic_route(unsigned pin, int masked) {
  ioapic_write(IOAPIC_REDTBL(pin) + 1, lapic_id() << 24);   /* destination: this CPU */
  ioapic_write(IOAPIC_REDTBL(pin), (ISA_IRQ_VECTOR_BASE + pin) | (masked ? IOAPIC_MASKED : 0));
}

/* The route (the caller resolved AUTO from the command line and Xen's presence; AUTO here means
 * the same default). Idempotent. */
long kisa_init(unsigned want) {
  if (kisa_route != ISA_ROUTE_AUTO) return kisa_route;
  if (want != ISA_ROUTE_PIC && want != ISA_ROUTE_IOAPIC)
    want = pvkvm_xen_present() ? ISA_ROUTE_IOAPIC : ISA_ROUTE_PIC;
  klapic_enable();
  lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
  lapic_write(LAPIC_LVT_TIMER, ISA_TICK_VECTOR);
  if (want == ISA_ROUTE_PIC) {
    pic_init(0xFFFF & ~(1u << PIC_CASCADE_IRQ));
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_EXTINT); /* the master PIC's INTR → this CPU */
    for (unsigned pin = 0; pin < 16; pin++) ioapic_route(pin, 1);
  } else {
    if (!pvkvm_xen_present()) pic_init(0xFFFF); /* with Xen the PIC is the hypervisor's */
    for (unsigned pin = 1; pin < 16; pin++) ioapic_route(pin, 1);
  }
  kisa_route = want;
  return kisa_route;
}

long kisa_line(unsigned irq, int on) {
  if (irq >= 16 || irq == PIC_CASCADE_IRQ) return -XEN_EINVAL;
  if (kisa_route == ISA_ROUTE_AUTO) kisa_init(ISA_ROUTE_AUTO);
  if (kisa_route == ISA_ROUTE_PIC) {
    if (on) pic_mask &= (uint16_t)~(1u << irq);
    else pic_mask |= (uint16_t)(1u << irq);
    pic_write_mask();
  } else {
    ioapic_route(irq, !on);
  }
  return 0;
}

/* From virq_entry.S, interrupts off: EOI at once (the handler runs later, at CPL 3 in
 * PVKVM_MODE_USER; the lines are edge-triggered, so an IRQ the handler has not served yet is not
 * requested again). Returns the pending bit for the IRQ, or 0 for a spurious IRQ 7/15. */
uint64_t kisa_ack(uint64_t vector) {
  unsigned irq = (unsigned)(vector - ISA_IRQ_VECTOR_BASE) & 15;
  if (kisa_route == ISA_ROUTE_PIC) {
    /* A spurious IRQ 7/15 (the request went away before the INTA) has no ISR bit and gets no
     * EOI from its own PIC; a spurious slave IRQ still occupied the master's cascade input. */
    if ((irq == 7 || irq == 15) && !(pic_isr(irq == 7 ? PIC1_CMD : PIC2_CMD) & 0x80)) {
      __atomic_add_fetch(&pvkvm_isa_spurious, 1, __ATOMIC_RELAXED);
      if (irq == 15) outb(PIC1_CMD, PIC_OCW2_EOI);
      return 0;
    }
    if (irq >= 8) outb(PIC2_CMD, PIC_OCW2_EOI);
    outb(PIC1_CMD, PIC_OCW2_EOI);
  } else {
    lapic_eoi();
  }
  return PVKVM_VIRQ_ISA(irq);
}
