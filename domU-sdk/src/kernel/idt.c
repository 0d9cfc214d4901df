/* idt.c: the one IDT every vCPU loads. All gates are installed at boot: the 32 exceptions, the
 * kernel-call gate on vector 3 (DPL 3, so `int3` from CPL 3 enters the kernel), the ISA IRQs and
 * the idle tick, the event-channel upcall and the APIC spurious vector (virq_entry.S). */
#include <pvkvm/isa.h>
#include <pvkvm/lapic.h>
#include "kernel.h"

struct idt_gate {
  uint16_t offset_lo;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attr; /* P | DPL | type (0xE = 64-bit interrupt gate: IF cleared on entry) */
  uint16_t offset_mid;
  uint32_t offset_hi;
  uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

extern const uint64_t pvkvm_trap_stubs[32];   /* trap_entry.S */
extern const uint64_t kvirq_isa_stubs[17];    /* virq_entry.S: 0x20..0x2F, then the tick 0x30 */
extern void kvirq_upcall_entry(void), kvirq_spurious_entry(void), kcall_int3_entry(void);

static struct idt_gate idt[256] __attribute__((aligned(16)));

void kidt_set(unsigned vector, uint64_t a, unsigned dpl) {
  idt[vector] = (struct idt_gate){
      .offset_lo = (uint16_t)a,
      .selector = KSEL_CODE64,
      .ist = 0,
      .type_attr = (uint8_t)(0x8e | (dpl << 5)),
      .offset_mid = (uint16_t)(a >> 16),
      .offset_hi = (uint32_t)(a >> 32),
  };
}

void kidt_load(void) {
  struct __attribute__((packed)) { uint16_t limit; uint64_t base; } desc = {
      sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
  __asm__ volatile("lidt %0" : : "m"(desc));
}

void kidt_init(void) {
  for (unsigned v = 0; v < 32; v++) kidt_set(v, pvkvm_trap_stubs[v], 0);
  kidt_set(3, (uintptr_t)kcall_int3_entry, 3);
  for (unsigned v = 0; v < 17; v++) kidt_set(ISA_IRQ_VECTOR_BASE + v, kvirq_isa_stubs[v], 0);
  kidt_set(PVKVM_UPCALL_VECTOR, (uintptr_t)kvirq_upcall_entry, 0);
  kidt_set(PVKVM_SPURIOUS_VECTOR, (uintptr_t)kvirq_spurious_entry, 0);
  kidt_load();
}

/* The public hook for code at CPL 0 (PVKVM_MODE_KERNEL) that brings its own stubs. */
void pvkvm_set_idt_gate(unsigned vector, void (*entry)(void)) {
  if (vector >= 32 && vector < 256) kidt_set(vector, (uint64_t)(uintptr_t)entry, 0);
}
