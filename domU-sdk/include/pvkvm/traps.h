/* pvkvm/traps.h: CPU exception handling. By default any exception prints the registers and
 * shuts the domain down with SHUTDOWN_crash. A test may install a hook to handle some itself. */
#ifndef PVKVM_TRAPS_H
#define PVKVM_TRAPS_H
#include <stdint.h>

/* Saved state, lowest address first (as laid out on the stack by src/kernel/trap_entry.S). */
struct pvkvm_trap_frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error_code;
  uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* Return nonzero if handled: execution resumes at frame->rip with the (possibly edited) frame. */
typedef int (*pvkvm_trap_hook_t)(struct pvkvm_trap_frame *frame);

/*
 * Install a hook (NULL removes it); returns the previous one. Where it runs:
 *   - a fault at CPL 3 (PVKVM_MODE_USER): at CPL 3, on the faulting stack below the fault, with
 *     the virtual interrupt flag off. Resuming may change the general registers, RIP, RSP and the
 *     arithmetic flags, not CS, SS or the privilege level. A fault inside the hook is reported.
 *   - a fault at CPL 0 in PVKVM_MODE_KERNEL: at CPL 0, on the interrupted stack, as before.
 *   - a fault in the kernel itself (PVKVM_MODE_USER, CPL 0): never; it is always reported.
 */
pvkvm_trap_hook_t pvkvm_set_trap_hook(pvkvm_trap_hook_t hook);

/* CR2 of the fault a hook is handling (a #PF's address), in either mode. */
uint64_t pvkvm_trap_cr2(void);

/* Kernel only (CPL 0, i.e. PVKVM_MODE_KERNEL): replace the interrupt gate (DPL 0, no IST) of
 * `vector` (32..255) with `entry`, an assembly stub ending in iretq. The SDK installs its own
 * gates for 0x20..0x30, 0xF3 and 0xFF at boot; other vectors are not present. */
void pvkvm_set_idt_gate(unsigned vector, void (*entry)(void));

#endif
