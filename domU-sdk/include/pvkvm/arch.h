/* pvkvm/arch.h: x86-64 helpers — port I/O, CPUID, MSRs, TSC, the interrupt flag, and the SDK's
 * fixed GDT selectors. Port I/O at CPL 3 needs the port opened first (pvkvm_ioperm,
 * <pvkvm/kcall.h>); MSRs and control registers are for CPL-0 code only. */
#ifndef PVKVM_ARCH_H
#define PVKVM_ARCH_H
#include <stdint.h>
#include <pvkvm/cpu.h>
#include <pvkvm/kcall.h>

/* Selectors of the GDT installed by the PVH entry (src/arch/pvh_entry.S). */
#define PVKVM_SEL_CODE64 0x08 /* 64-bit ring-0 code */
#define PVKVM_SEL_DATA 0x10   /* flat ring-0 data */
#define PVKVM_SEL_CODE32 0x18 /* 32-bit ring-0 code (compatibility mode), base 0, 4 GiB */
#define PVKVM_SEL_UDATA 0x23  /* flat ring-3 data (RPL 3) */
#define PVKVM_SEL_UCODE64 0x2b /* 64-bit ring-3 code (RPL 3) */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf) {
  struct cpuid_regs r;
  __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

static inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* The interrupt flag and halting. At CPL 3 (PVKVM_MODE_USER, <pvkvm/cpu.h>) the flag is the
 * vCPU's virtual one and the kernel halts on the caller's behalf: hlt() with the flag off halts
 * for good, as `cli; hlt` does. */
static inline void cli(void) {
  if (pvkvm_at_cpl3()) pvkvm_virq_set_off(1);
  else __asm__ volatile("cli" ::: "memory");
}
static inline void sti(void) {
  if (pvkvm_at_cpl3()) pvkvm_virq_enable();
  else __asm__ volatile("sti" ::: "memory");
}
static inline void hlt(void) {
  if (!pvkvm_at_cpl3()) {
    __asm__ volatile("hlt" ::: "memory");
    return;
  }
  int on = !pvkvm_virq_off();
  pvkvm_kcall1(PVKVM_KC_HALT, on);
  if (on && pvkvm_virq_pending()) pvkvm_virq_flush();
}

/* Kernel only (CPL 0): control registers. A trap hook reads a #PF's address with
 * pvkvm_trap_cr2() (<pvkvm/traps.h>) in either mode. */
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }

/* Stop this vCPU for good: interrupts off, halt forever. */
static inline __attribute__((noreturn)) void halt_forever(void) {
  if (pvkvm_at_cpl3()) pvkvm_virq_set_off(1);
  for (;;) {
    if (pvkvm_at_cpl3()) pvkvm_kcall1(PVKVM_KC_HALT, 0);
    else __asm__ volatile("cli; hlt" ::: "memory");
  }
}

#endif
