/* ksmp.c: the kernel's half of starting a secondary vCPU — VCPUOP_initialise into smp_entry.S on
 * the vCPU's kernel stack, then the per-vCPU set-up and the way into pvkvm_secondary_main
 * (src/xen/smp.c) at the SDK's level, on the user stack pvkvm_start_vcpu gave. */
#include <pvkvm/hypercall.h>
#include <pvkvm/string.h>
#include <xen-abi/vcpu.h>
#include "kernel.h"

_Static_assert(sizeof(struct vcpu_hvm_context) == 128, "vcpu_hvm_context layout");

int ksmp_started;

extern void ksecondary_entry(void);
void ksecondary_main(unsigned vcpu) __attribute__((noreturn));

static inline uint64_t read_cr(int n) {
  uint64_t v = 0;
  if (n == 0) __asm__ volatile("mov %%cr0, %0" : "=r"(v));
  else if (n == 3) __asm__ volatile("mov %%cr3, %0" : "=r"(v));
  else __asm__ volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}

long kvcpu_init(unsigned vcpu, uint64_t user_stack) {
  if (vcpu == 0 || vcpu >= KNR_CPUS) return -XEN_EINVAL;
  if (kmode == PVKVM_MODE_USER && !kuser_range(user_stack - 64, 64)) return -XEN_EFAULT;
  kcpus[vcpu].user_stack = user_stack;
  kcpus[vcpu].kstack_top = 0; /* kcpu_init sets it on the vCPU */
  struct vcpu_hvm_context ctx;
  memset(&ctx, 0, sizeof(ctx));
  ctx.mode = VCPU_HVM_MODE_64B;
  ctx.cpu_regs_x86_64_rip = (uint64_t)(uintptr_t)ksecondary_entry;
  extern uint8_t pvkvm_kstacks[KNR_CPUS][KSTACK_SIZE];
  ctx.cpu_regs_x86_64_rsp = (uint64_t)(uintptr_t)&pvkvm_kstacks[vcpu][KSTACK_SIZE];
  ctx.cpu_regs_x86_64_rdi = vcpu;
  ctx.cpu_regs_x86_64_rflags = RFLAGS_RESERVED;
  ctx.cpu_regs_x86_64_cr0 = read_cr(0);
  ctx.cpu_regs_x86_64_cr3 = read_cr(3);
  ctx.cpu_regs_x86_64_cr4 = read_cr(4);
  ctx.cpu_regs_x86_64_efer = krdmsr(MSR_EFER);
  ksmp_started = 1; /* from now on, check only what was copied in (hcall_check.c) */
  return HYPERVISOR_vcpu_op(VCPUOP_initialise, (int)vcpu, &ctx);
}

/* smp_entry.S, on this vCPU's kernel stack with the GDT loaded. */
void ksecondary_main(unsigned vcpu) {
  kcpu_init(vcpu);
  kidt_load();
  uint64_t *sp = (uint64_t *)(uintptr_t)kcpus[vcpu].user_stack - 1;
  *sp = 0; /* as if called: the entry sees a return address */
  kenter((uintptr_t)pvkvm_secondary_main, (uintptr_t)sp, kmode == PVKVM_MODE_USER, vcpu);
}
