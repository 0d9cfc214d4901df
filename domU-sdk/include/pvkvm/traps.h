/* pvkvm/traps.h: CPU exception handling. By default any exception prints the registers and
 * shuts the domain down with SHUTDOWN_crash. A test may install a hook to handle some itself. */
#ifndef PVKVM_TRAPS_H
#define PVKVM_TRAPS_H
#include <stdint.h>

/* Saved state, lowest address first (as laid out on the stack by src/arch/trap_entry.S). */
struct pvkvm_trap_frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error_code;
  uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* Return nonzero if handled: execution resumes at frame->rip with the (possibly edited) frame. */
typedef int (*pvkvm_trap_hook_t)(struct pvkvm_trap_frame *frame);

/* Install a hook (NULL removes it); returns the previous one. */
pvkvm_trap_hook_t pvkvm_set_trap_hook(pvkvm_trap_hook_t hook);

/* Install an interrupt gate (DPL 0, no IST) for `vector` (32..255) that jumps to `entry`, an
 * assembly stub ending in iretq. Vectors without a gate are not present (delivery faults). */
void pvkvm_set_idt_gate(unsigned vector, void (*entry)(void));

/* Called by the runtime before main. */
void pvkvm_traps_init(void);

#endif
