/* isa.c: the user side of ISA interrupts (handlers, routing requests to the kernel), the
 * isa_idle() wait and a TSC clock for the emulated PC devices; see <pvkvm/isa.h>. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/kcall.h>
#include <pvkvm/isa.h>
#include <pvkvm/lapic.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>

#define PIC_CASCADE_IRQ 2
#define TICK_NS 1000000ull /* isa_idle's wake-up tick (1 GHz APIC timer on QEMU/KVM) */

/* PIT channel 2, gated through port 0x61, for calibrating the TSC without Xen. */
#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_MODE 0x43
#define PIT_PORT_B 0x61
#define PIT_CAL_LATCH (PIT_HZ / 100) /* 10 ms */

struct isa_handler {
  isa_irq_handler_t fn;
  void *arg;
};

static enum isa_irq_route route; /* ISA_ROUTE_AUTO until isa_irq_init */
static struct isa_handler handlers[16];
static uint64_t irq_counts[16];
uint64_t pvkvm_isa_spurious; /* counted by the kernel (src/kernel/kisa.c), which acknowledges */
static unsigned in_irq; /* ISA handler nesting depth (handlers run with IF = 0: at most 1) */

const char *isa_irq_route_name(enum isa_irq_route r) {
  switch (r) {
  case ISA_ROUTE_PIC: return "pic";
  case ISA_ROUTE_IOAPIC: return "ioapic";
  default: return "none";
  }
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

/* The controllers are the kernel's to program (src/kernel/kisa.c): the route, each line's mask,
 * the acknowledgement; the handlers are ours, run from src/arch/virq.c. */
enum isa_irq_route isa_irq_init(enum isa_irq_route want) {
  if (route != ISA_ROUTE_AUTO) return route;
  if (want == ISA_ROUTE_AUTO) want = route_from_cmdline();
  if (want == ISA_ROUTE_AUTO) want = pvkvm_xen_present() ? ISA_ROUTE_IOAPIC : ISA_ROUTE_PIC;
  route = (enum isa_irq_route)pvkvm_kcall1(PVKVM_KC_ISA_INIT, want);
  return route;
}

int isa_irq_attach(unsigned irq, isa_irq_handler_t fn, void *arg) {
  if (irq >= 16 || irq == PIC_CASCADE_IRQ) return -XEN_EINVAL;
  isa_irq_init(ISA_ROUTE_AUTO);
  unsigned long flags = local_irq_save();
  handlers[irq] = (struct isa_handler){fn, arg};
  pvkvm_kcall2(PVKVM_KC_ISA_LINE, irq, 1);
  local_irq_restore(flags);
  return 0;
}

void isa_irq_detach(unsigned irq) {
  if (irq >= 16 || irq == PIC_CASCADE_IRQ || route == ISA_ROUTE_AUTO) return;
  unsigned long flags = local_irq_save();
  pvkvm_kcall2(PVKVM_KC_ISA_LINE, irq, 0);
  handlers[irq] = (struct isa_handler){NULL, NULL};
  local_irq_restore(flags);
}

uint64_t isa_irq_count(unsigned irq) { return irq < 16 ? __atomic_load_n(&irq_counts[irq], __ATOMIC_RELAXED) : 0; }

uint64_t isa_irq_spurious(void) { return __atomic_load_n(&pvkvm_isa_spurious, __ATOMIC_RELAXED); }

int isa_in_irq(void) { return in_irq != 0; }

/* Called by src/arch/virq.c with interrupts (or the virtual flag) off, after the kernel's EOI. */
void isa_irq_run(unsigned irq);
void isa_irq_run(unsigned irq) {
  __atomic_add_fetch(&irq_counts[irq], 1, __ATOMIC_RELAXED);
  in_irq++;
  if (handlers[irq].fn) handlers[irq].fn(irq, handlers[irq].arg);
  in_irq--;
}

/* ---- time ---- */

static uint64_t tsc_hz, tsc_base, ns_mul; /* ns = (tsc - tsc_base) * ns_mul >> 32 */

/* TSC ticks during PIT_CAL_LATCH PIT ticks, or 0 if there is no usable PIT. */
static uint64_t pit_calibrate(void) {
  if (pvkvm_ioperm(PIT_CH2_DATA, 2, 1) < 0 || pvkvm_ioperm(PIT_PORT_B, 1, 1) < 0) return 0;
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
  if (route == ISA_ROUTE_AUTO) isa_irq_init(ISA_ROUTE_AUTO); /* the tick needs the APIC timer */
  uint64_t ns = TICK_NS;
  if (deadline_ns) {
    uint64_t now = isa_time_ns();
    if (now >= deadline_ns) {
      sti();
      return;
    }
    if (deadline_ns - now < ns) ns = deadline_ns - now;
  }
  /* One kernel call arms the tick and halts (`sti; hlt`); then what arrived runs. */
  pvkvm_kcall1(PVKVM_KC_IDLE, ns);
  sti();
}
