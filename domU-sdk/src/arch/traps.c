/* traps.c: the user side of exception handling — the trap hook (<pvkvm/traps.h>), and running it
 * at CPL 3 when the kernel delivers a fault there (src/kernel/trap.c, virq_user.S). */
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/cpu.h>
#include <pvkvm/kcall.h>
#include <pvkvm/traps.h>

pvkvm_trap_hook_t pvkvm_trap_hook;

pvkvm_trap_hook_t pvkvm_set_trap_hook(pvkvm_trap_hook_t hook) {
  pvkvm_trap_hook_t old = pvkvm_trap_hook;
  pvkvm_trap_hook = hook;
  return old;
}

uint64_t pvkvm_trap_cr2(void) {
  if (!pvkvm_at_cpl3()) return read_cr2();
  uint64_t v;
  __asm__ volatile("movq %%gs:%c1, %0" : "=r"(v) : "i"(PVKVM_CPU_TRAP_CR2));
  return v;
}

/* virq_user.S: continue at the frame, with the virtual interrupt flag `off` */
void pvkvm_trap_resume(struct pvkvm_trap_frame *f, uint32_t off) __attribute__((noreturn));
void pvkvm_user_trap(struct pvkvm_trap_frame *f) __attribute__((noreturn));

/* Called by pvkvm_trap_trampoline at CPL 3 with the kernel's copy of the frame. The hook runs with
 * the virtual interrupt flag off (exceptions at CPL 0 run with IF = 0 too); a declined fault is
 * reported by the kernel. */
void pvkvm_user_trap(struct pvkvm_trap_frame *f) {
  struct pvkvm_cpu *c;
  __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
  uint32_t off = c->irq_off;
  c->irq_off = 1;
  int handled = pvkvm_trap_hook && pvkvm_trap_hook(f);
  if (!handled) pvkvm_kcall1(PVKVM_KC_TRAP_REPORT, f);
  c->in_trap = 0;
  pvkvm_trap_resume(f, off);
}
