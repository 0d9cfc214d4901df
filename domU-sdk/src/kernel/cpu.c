/* cpu.c: per-vCPU set-up — the TSS (kernel stack, I/O permission bitmap), the GS bases, the
 * syscall MSRs — and the one I/O bitmap every vCPU's TSS shares. */
#include <pvkvm/xen.h>
#include "kernel.h"

struct __attribute__((packed)) tss64 {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base; /* from this TSS's base: every TSS points at the same bitmap below */
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS");

#define IOMAP_BYTES (65536 / 8)

/* All TSSs, then one bitmap for all 65536 ports and the byte of ones the CPU requires after it.
 * Each TSS's limit reaches that byte, so opening a port opens it on every vCPU at once. The
 * bitmap starts all ones (every port closed) in the image: filling 8 KiB at boot would take the
 * emulator tens of milliseconds. */
static struct {
  struct tss64 tss[KNR_CPUS];
  uint8_t iomap[IOMAP_BYTES];
  uint8_t iomap_end;
} tss_block __attribute__((aligned(16))) = {.iomap = {[0 ... IOMAP_BYTES - 1] = 0xff}, .iomap_end = 0xff};

struct kcpu kcpus[KNR_CPUS];
extern uint64_t pvkvm_gdt[];
extern uint8_t pvkvm_kstacks[KNR_CPUS][KSTACK_SIZE]; /* entry.S */

unsigned kcpu_id(void) {
  uint16_t tr;
  __asm__ volatile("str %0" : "=r"(tr));
  return tr >= KSEL_TSS0 ? (unsigned)(tr - KSEL_TSS0) / 16 : 0;
}

static void load_tss(unsigned cpu) {
  struct tss64 *t = &tss_block.tss[cpu];
  uint64_t base = (uintptr_t)t;
  uint32_t limit = (uint32_t)((uintptr_t)&tss_block.iomap_end - base);
  t->rsp[0] = kcpus[cpu].kstack_top;
  t->iomap_base = (uint16_t)((uintptr_t)tss_block.iomap - base);
  /* Rewritten each time, so the type is "available" again for ltr even after a vCPU restart. */
  unsigned slot = (KSEL_TSS0 + 16 * cpu) / 8;
  pvkvm_gdt[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                    ((uint64_t)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  pvkvm_gdt[slot + 1] = base >> 32;
  __asm__ volatile("ltr %w0" : : "r"(KSEL_TSS0 + 16 * cpu) : "memory");
}

void ksyscall_enable(void) {
  /* STAR: syscall loads CS 0x08 / SS 0x10; the sysret base 0x18 would give 0x2b / 0x23 (we
   * return with iretq). SFMASK clears IF, TF, DF, AC and NT, so the entry runs with interrupts
   * off until it is on the kernel stack. */
  extern void kcall_syscall_entry(void);
  kwrmsr(MSR_STAR, ((uint64_t)0x18 << 48) | ((uint64_t)KSEL_CODE64 << 32));
  kwrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)kcall_syscall_entry);
  kwrmsr(MSR_SFMASK, 0x47700);
  kwrmsr(MSR_EFER, krdmsr(MSR_EFER) | EFER_SCE);
}

void kcpu_init(unsigned cpu) {
  struct kcpu *k = &kcpus[cpu];
  k->kstack_top = (uintptr_t)&pvkvm_kstacks[cpu][KSTACK_SIZE];
  load_tss(cpu);
  struct pvkvm_cpu *c = &pvkvm_cpus[cpu];
  c->self = c;
  c->vcpu_id = cpu;
  c->irq_off = 1; /* interrupts start "disabled", as IF = 0 at CPL 0 */
  kwrmsr(MSR_GS_BASE, (uintptr_t)c);
  kwrmsr(MSR_KERNEL_GS_BASE, (uintptr_t)k);
  if (kgate_syscall) ksyscall_enable();
}

/* ---- the I/O permission bitmap ---- */

/* Ports user code may not open: the interrupt controllers and PCI configuration are the
 * kernel's (and the hypervisor's). Everything else a driver may ask for; pvkvm itself refuses
 * hypercalls from CPL 3 even through its trap port. */
static const struct { uint16_t first, last; } kernel_ports[] = {
    {0x20, 0x23},   /* master 8259, IMCR */
    {0xA0, 0xA1},   /* slave 8259 */
    {0x4D0, 0x4D1}, /* ELCR */
    {0xCF8, 0xCFF}, /* PCI configuration */
};

void kiobitmap_init(void) {
  kioperm(XEN_HVM_DEBUGCONS_IOPORT, 1, 1); /* the debug port: any code may print there */
}

long kioperm(unsigned first, unsigned count, int on) {
  if (count == 0 || first > 0xffff || count > 0x10000 - first) return -XEN_EINVAL;
  unsigned last = first + count - 1;
  for (unsigned i = 0; on && i < sizeof(kernel_ports) / sizeof(kernel_ports[0]); i++)
    if (first <= kernel_ports[i].last && last >= kernel_ports[i].first) return -XEN_EPERM;
  for (unsigned p = first; p <= last; p++) {
    uint8_t bit = (uint8_t)(1u << (p % 8));
    if (on) tss_block.iomap[p / 8] &= (uint8_t)~bit;
    else tss_block.iomap[p / 8] |= bit;
  }
  return 0;
}

int kport_open(unsigned port, unsigned width) {
  for (unsigned p = port; p < port + width; p++)
    if (p > 0xffff || (tss_block.iomap[p / 8] >> (p % 8)) & 1) return 0;
  return 1;
}
