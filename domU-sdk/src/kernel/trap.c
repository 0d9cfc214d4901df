/* trap.c: CPU exceptions. In PVKVM_MODE_USER a fault at CPL 3 goes to the user's trap hook, run
 * at CPL 3 on the faulting stack (pvkvm_trap_trampoline), when one is set; otherwise, and for any
 * fault in the kernel, the registers are printed and the domain shuts down with SHUTDOWN_crash.
 * In PVKVM_MODE_KERNEL the hook runs here at CPL 0, as the guest's own code, for any fault (the
 * guest may run ring-3 code of its own). */
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/start.h>
#include "kernel.h"

static int reporting;
static int kernel_mode_in_hook; /* PVKVM_MODE_KERNEL: a hook is running (a fault in it is fatal) */

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
    "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

void ktrap_report(const struct pvkvm_trap_frame *f, uint64_t cr2) {
  if (reporting) halt_forever(); /* faulted while reporting a fault */
  reporting = 1;
  printf("\npvkvm: unexpected exception %lu (%s) at CPL %lu, error code %#lx\n", f->vector,
         f->vector < 32 ? exception_names[f->vector] : "?", f->cs & 3, f->error_code);
  printf("  rip %016lx  cs %04lx  rflags %016lx  rsp %016lx  ss %04lx  cr2 %016lx\n", f->rip,
         f->cs, f->rflags, f->rsp, f->ss, cr2);
  printf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
  printf("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
  printf("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
  printf("  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
  if ((f->cs & 3) && f->vector == 14 && !kuser_range(cr2, 1))
    printf("  (user code touched a kernel page)\n");
  pvkvm_shutdown(SHUTDOWN_crash);
}

/* Copy the frame below the faulting stack, leaving room above it for what pvkvm_trap_resume
 * builds there (RIP, RFLAGS and fifteen registers), and send user code to its trampoline with
 * RDI = the copy. 0 if that stack is not user memory. */
#define RESUME_ROOM (17 * 8)
static int deliver_to_user(struct pvkvm_trap_frame *f, uint64_t cr2) {
  struct pvkvm_cpu *c = &pvkvm_cpus[kcpu_id()];
  uint64_t sp = (f->rsp - RESUME_ROOM - sizeof(*f)) & ~15ull;
  if (c->in_trap || !kuser_range(sp, f->rsp - sp)) return 0;
  kcopy_words((void *)(uintptr_t)sp, f, sizeof(*f));
  c->trap_cr2 = cr2;
  c->in_trap = 1;
  f->rdi = sp;
  f->rsp = sp;
  f->rip = (uintptr_t)pvkvm_trap_trampoline;
  return 1;
}

/* Called by trap_entry.S on the kernel stack (or in PVKVM_MODE_KERNEL the interrupted one). */
void ktrap(struct pvkvm_trap_frame *f);
void ktrap(struct pvkvm_trap_frame *f) {
  uint64_t cr2;
  __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
  if (kprobe_active) { /* the gate probe faulted or stayed at CPL 3 (kmain.c) */
    f->rip = (uintptr_t)kprobe_trap_landed;
    f->cs = KSEL_CODE64;
    f->ss = KSEL_DATA;
    f->rflags = RFLAGS_RESERVED;
    return;
  }
  if ((f->cs & 3) && kmode == PVKVM_MODE_USER) {
    if (pvkvm_trap_hook && deliver_to_user(f, cr2)) return;
    ktrap_report(f, cr2);
  }
  if (kmode == PVKVM_MODE_KERNEL && pvkvm_trap_hook && !kernel_mode_in_hook) {
    kernel_mode_in_hook = 1;
    int handled = pvkvm_trap_hook(f);
    kernel_mode_in_hook = 0;
    if (handled) return;
  }
  ktrap_report(f, cr2);
}

/* PVKVM_KC_TRAP_REPORT: a user hook declined the exception in `user_frame` (its copy). */
long ktrap_report_user(uint64_t user_frame);
long ktrap_report_user(uint64_t user_frame) {
  struct pvkvm_trap_frame f;
  if (!kuser_range(user_frame, sizeof(f))) return -XEN_EFAULT;
  kcopy_words(&f, (const void *)(uintptr_t)user_frame, sizeof(f));
  ktrap_report(&f, pvkvm_cpus[kcpu_id()].trap_cr2);
}
