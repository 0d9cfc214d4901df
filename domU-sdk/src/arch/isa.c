/* isa.c: ISA interrupt routing (8259 PIC or IOAPIC), the isa_idle() tick and a TSC clock for the
 * emulated PC devices; see <pvkvm/isa.h>. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/isa.h>
#include <pvkvm/lapic.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include <pvkvm/traps.h>

/* 8259 PICs */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_ICW1_INIT_ICW4 0x11 /* ICW1: init, edge-triggered, cascaded, ICW4 follows */
#define PIC_ICW4_8086 0x01      /* ICW4: 8086 mode, normal (not automatic) EOI */
#define PIC_OCW2_EOI 0x20       /* non-specific EOI */
#define PIC_OCW3_READ_ISR 0x0B
#define PIC_CASCADE_IRQ 2

/* IOAPIC: index/data window at its MMIO base (identity-mapped). */
#define IOAPIC_BASE 0xFEC00000UL
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define IOAPIC_MASKED (1u << 16)

/* Local APIC timer registers (<pvkvm/lapic.h> has the others). */
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_DCR 0x3E0
#define LAPIC_DCR_DIV1 0xB
#define LAPIC_LVT_EXTINT 0x700 /* delivery mode ExtINT, unmasked, edge */
#define TICK_NS 1000000ull     /* isa_idle's wake-up tick (1 GHz APIC timer on QEMU/KVM) */

/* PIT channel 2, gated through port 0x61, for calibrating the TSC without Xen. */
#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_MODE 0x43
#define PIT_PORT_B 0x61
#define PIT_CAL_LATCH (PIT_HZ / 100) /* 10 ms */

extern const uint64_t isa_irq_stubs[17]; /* isa_irq_entry.S: vectors 0x20..0x30 */
extern void pvkvm_spurious_entry(void);  /* upcall_entry.S */

struct isa_handler {
  isa_irq_handler_t fn;
  void *arg;
};

static enum isa_irq_route route; /* ISA_ROUTE_AUTO until isa_irq_init */
static struct isa_handler handlers[16];
static uint64_t irq_counts[16];
static uint64_t spurious;
static uint16_t pic_mask = 0xFFFF; /* bit n set: IRQ n masked (PIC route) */
static uint64_t ticks;
static unsigned in_irq; /* ISA handler nesting depth (handlers run with IF = 0: at most 1) */

const char *isa_irq_route_name(enum isa_irq_route r) {
  switch (r) {
  case ISA_ROUTE_PIC: return "pic";
  case ISA_ROUTE_IOAPIC: return "ioapic";
  default: return "none";
  }
}

/* ---- the 8259 pair ---- */

static void pic_write_mask(void) {
  outb(PIC1_DATA, (uint8_t)pic_mask);
  outb(PIC2_DATA, (uint8_t)(pic_mask >> 8));
}

/* ICW1..ICW4: IRQ 0-7 → vectors 0x20-0x27, IRQ 8-15 → 0x28-0x2F, slave on IRQ 2, normal EOI. */
static void pic_init(void) {
  outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
  outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
  outb(PIC1_DATA, ISA_IRQ_VECTOR_BASE);
  outb(PIC2_DATA, ISA_IRQ_VECTOR_BASE + 8);
  outb(PIC1_DATA, 1u << PIC_CASCADE_IRQ);
  outb(PIC2_DATA, PIC_CASCADE_IRQ);
  outb(PIC1_DATA, PIC_ICW4_8086);
  outb(PIC2_DATA, PIC_ICW4_8086);
  pic_mask = 0xFFFF & ~(1u << PIC_CASCADE_IRQ);
  pic_write_mask();
}

static void pic_mask_all(void) {
  outb(PIC1_DATA, 0xFF);
  outb(PIC2_DATA, 0xFF);
}

static uint8_t pic_isr(uint16_t cmd) {
  outb(cmd, PIC_OCW3_READ_ISR);
  return inb(cmd);
}

/* ---- the IOAPIC ---- */

static void ioapic_write(uint32_t reg, uint32_t v) {
  volatile uint32_t *io = (volatile uint32_t *)IOAPIC_BASE;
  io[0] = reg;
  io[4] = v;
}

static void ioapic_route(unsigned pin, int masked) {
  ioapic_write(IOAPIC_REDTBL(pin) + 1, lapic_id() << 24);   /* destination: this CPU */
  ioapic_write(IOAPIC_REDTBL(pin), (ISA_IRQ_VECTOR_BASE + pin) | (masked ? IOAPIC_MASKED : 0));
}

/* ---- set-up ---- */

static enum isa_irq_route route_from_cmdline(void) {
  char buf[16];
  if (pvkvm_cmdline_get("isa.irq", buf, sizeof(buf)) < 0) return ISA_ROUTE_AUTO;
  if (strcmp(buf, "pic") == 0) return ISA_ROUTE_PIC;
  if (strcmp(buf, "ioapic") == 0) return ISA_ROUTE_IOAPIC;
  printf("isa: unknown isa.irq=%s (pic or ioapic); using the default\n", buf);
  return ISA_ROUTE_AUTO;
}

enum isa_irq_route isa_irq_init(enum isa_irq_route want) {
  if (route != ISA_ROUTE_AUTO) return route;
  if (want == ISA_ROUTE_AUTO) want = route_from_cmdline();
  if (want == ISA_ROUTE_AUTO) want = pvkvm_xen_present() ? ISA_ROUTE_IOAPIC : ISA_ROUTE_PIC;
  unsigned long flags = local_irq_save();
  for (unsigned v = 0; v < 17; v++)
    pvkvm_set_idt_gate(ISA_IRQ_VECTOR_BASE + v, (void (*)(void))(uintptr_t)isa_irq_stubs[v]);
  pvkvm_set_idt_gate(PVKVM_SPURIOUS_VECTOR, pvkvm_spurious_entry);
  lapic_enable(PVKVM_SPURIOUS_VECTOR);
  /* The wake-up tick: one-shot, armed by isa_idle. */
  lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
  lapic_write(LAPIC_LVT_TIMER, ISA_TICK_VECTOR);
  if (want == ISA_ROUTE_PIC) {
    pic_init();
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_EXTINT); /* the master PIC's INTR → this CPU */
    for (unsigned pin = 0; pin < 16; pin++) ioapic_route(pin, 1);
  } else {
    if (!pvkvm_xen_present()) pic_mask_all(); /* with Xen the PIC is the hypervisor's */
    for (unsigned pin = 1; pin < 16; pin++) ioapic_route(pin, 1);
  }
  route = want;
  local_irq_restore(flags);
  return route;
}

int isa_irq_attach(unsigned irq, isa_irq_handler_t fn, void *arg) {
  if (irq >= 16 || irq == PIC_CASCADE_IRQ) return -XEN_EINVAL;
  isa_irq_init(ISA_ROUTE_AUTO);
  unsigned long flags = local_irq_save();
  handlers[irq] = (struct isa_handler){fn, arg};
  if (route == ISA_ROUTE_PIC) {
    pic_mask &= ~(1u << irq);
    pic_write_mask();
  } else {
    ioapic_route(irq, 0);
  }
  local_irq_restore(flags);
  return 0;
}

void isa_irq_detach(unsigned irq) {
  if (irq >= 16 || irq == PIC_CASCADE_IRQ || route == ISA_ROUTE_AUTO) return;
  unsigned long flags = local_irq_save();
  if (route == ISA_ROUTE_PIC) {
    pic_mask |= 1u << irq;
    pic_write_mask();
  } else {
    ioapic_route(irq, 1);
  }
  handlers[irq] = (struct isa_handler){NULL, NULL};
  local_irq_restore(flags);
}

uint64_t isa_irq_count(unsigned irq) { return irq < 16 ? __atomic_load_n(&irq_counts[irq], __ATOMIC_RELAXED) : 0; }

uint64_t isa_irq_spurious(void) { return spurious; }

int isa_in_irq(void) { return in_irq != 0; }

/* Called by isa_irq_entry.S with interrupts off. */
void isa_irq_dispatch(uint64_t vector);
void isa_irq_dispatch(uint64_t vector) {
  if (vector == ISA_TICK_VECTOR) {
    ticks++;
    lapic_eoi();
    return;
  }
  unsigned irq = (unsigned)(vector - ISA_IRQ_VECTOR_BASE) & 15;
  if (route == ISA_ROUTE_PIC && (irq == 7 || irq == 15)) {
    /* A spurious IRQ 7/15 (the request went away before the INTA) has no ISR bit and gets no
     * EOI from its own PIC; a spurious slave IRQ still occupied the master's cascade input. */
    if (!(pic_isr(irq == 7 ? PIC1_CMD : PIC2_CMD) & 0x80)) {
      spurious++;
      if (irq == 15) outb(PIC1_CMD, PIC_OCW2_EOI);
      return;
    }
  }
  __atomic_add_fetch(&irq_counts[irq], 1, __ATOMIC_RELAXED);
  in_irq++;
  if (handlers[irq].fn) handlers[irq].fn(irq, handlers[irq].arg);
  in_irq--;
  if (route == ISA_ROUTE_PIC) {
    if (irq >= 8) outb(PIC2_CMD, PIC_OCW2_EOI);
    outb(PIC1_CMD, PIC_OCW2_EOI);
  } else {
    lapic_eoi();
  }
}

/* ---- time ---- */

static uint64_t tsc_hz, tsc_base, ns_mul; /* ns = (tsc - tsc_base) * ns_mul >> 32 */

/* TSC ticks during PIT_CAL_LATCH PIT ticks, or 0 if there is no usable PIT. */
static uint64_t pit_calibrate(void) {
  uint8_t b = inb(PIT_PORT_B);
  if (b == 0xFF) return 0; /* nothing decodes port 0x61 (pvkvm floats unclaimed ports) */
  unsigned long flags = local_irq_save();
  outb(PIT_PORT_B, (b & ~0x02) | 0x01); /* gate channel 2 on, speaker off */
  outb(PIT_MODE, 0xB0);                 /* channel 2, lobyte/hibyte, mode 0, binary */
  outb(PIT_CH2_DATA, PIT_CAL_LATCH & 0xFF);
  outb(PIT_CH2_DATA, PIT_CAL_LATCH >> 8); /* counting starts: OUT2 low until it reaches 0 */
  uint64_t t0 = rdtsc(), t1 = t0;
  unsigned long n = 0;
  while (!(inb(PIT_PORT_B) & 0x20)) { /* OUT2 */
    t1 = rdtsc();
    if (++n > 2000000 || t1 - t0 > (1ull << 36)) {
      t1 = t0; /* never went high: not a PIT */
      break;
    }
  }
  outb(PIT_PORT_B, b);
  local_irq_restore(flags);
  return (t1 - t0) * PIT_HZ / PIT_CAL_LATCH;
}

uint64_t isa_tsc_hz(void) {
  if (tsc_hz) return tsc_hz;
  uint64_t hz = pvkvm_xen_present() ? pvkvm_tsc_hz() : 0;
  if (hz == 0) hz = pit_calibrate();
  if (hz < 1000000) hz = 1000000000ull; /* no clock to measure against: assume 1 GHz */
  tsc_base = rdtsc();
  ns_mul = (1000000000ull << 32) / hz;
  tsc_hz = hz;
  return hz;
}

uint64_t isa_time_ns(void) {
  if (!tsc_hz) isa_tsc_hz();
  return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_base) * ns_mul) >> 32);
}

uint64_t isa_deadline(uint64_t ns) { return deadline_add(isa_time_ns(), ns); }

void isa_delay_ns(uint64_t ns) {
  uint64_t end = isa_deadline(ns);
  while (isa_time_ns() < end) cpu_relax();
}

void isa_idle(uint64_t deadline_ns) {
  if (route == ISA_ROUTE_AUTO) isa_irq_init(ISA_ROUTE_AUTO); /* the tick needs the gates */
  uint64_t ns = TICK_NS;
  if (deadline_ns) {
    uint64_t now = isa_time_ns();
    if (now >= deadline_ns) {
      sti();
      return;
    }
    if (deadline_ns - now < ns) ns = deadline_ns - now;
  }
  lapic_write(LAPIC_TIMER_ICR, (uint32_t)(ns < 1000 ? 1000 : ns));
  safe_halt();
}
