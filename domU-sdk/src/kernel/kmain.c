/* kmain.c: the kernel's boot on vCPU 0 — CPU tables, the hypercall page, which mode and which
 * kernel-call gate, then main's side of the SDK (pvkvm_user_start) at CPL 3 or CPL 0. */
#include <pvkvm/console.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include "kernel.h"

_Static_assert(XEN_ELFNOTE_PHYS32_ENTRY == 18, "entry.S writes the PHYS32_ENTRY note as type 18");

int kmode = PVKVM_MODE_KERNEL;
int kgate_syscall;

void kernel_main(struct hvm_start_info *si) __attribute__((noreturn));

/* sdk.mode=user|kernel on the command line, else what the guest was built for
 * (PVKVM_SDK_MODE in <pvkvm/start.h>, PVKVM_MODE_USER unless it says otherwise). */
static int choose_mode(void) {
  char want[16];
  if (pvkvm_cmdline_get("sdk.mode", want, sizeof(want)) >= 0) {
    if (strcmp(want, "user") == 0) return PVKVM_MODE_USER;
    if (strcmp(want, "kernel") == 0) return PVKVM_MODE_KERNEL;
    printf("pvkvm: unknown sdk.mode=%s (user or kernel); using the default\n", want);
  }
  return pvkvm_sdk_mode_default == PVKVM_MODE_KERNEL ? PVKVM_MODE_KERNEL : PVKVM_MODE_USER;
}

/* Does `syscall` enter CPL 0 here? Tried with an LSTAR the probe owns and no flags masked, so a
 * syscall that stays at CPL 3 changes nothing there (probe.S). */
static int probe_gate(void) {
  extern void kprobe_lstar(void);
  uint64_t efer = krdmsr(MSR_EFER);
  kwrmsr(MSR_STAR, (uint64_t)KSEL_CODE64 << 32);
  kwrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)kprobe_lstar);
  kwrmsr(MSR_SFMASK, 0);
  kwrmsr(MSR_EFER, efer | EFER_SCE);
  int ok = kprobe_syscall();
  if (!ok) kwrmsr(MSR_EFER, efer & ~(uint64_t)EFER_SCE); /* a stray syscall then faults (#UD) */
  return ok;
}

void kernel_main(struct hvm_start_info *si) {
  kcpu_init(0);
  kiobitmap_init();
  kidt_init();
  khypercall_init();
  /* The start info and command line are parsed by the user side's code (start.c); nothing has
   * run at CPL 3 yet, so the kernel can use it here. */
  pvkvm_start_info_init(si);
  kboot_facts_init();
  khc_init();
  kmode = choose_mode();
  pvkvm_sdk_mode = kmode;
  if (!pvkvm_xen_present()) klegacy_pic_quiet();
  if (kmode == PVKVM_MODE_USER) {
    kgate_syscall = probe_gate();
    pvkvm_kcall_syscall = (uint8_t)kgate_syscall;
    if (kgate_syscall) ksyscall_enable();
  }
  uint64_t *sp = (uint64_t *)(uintptr_t)&pvkvm_uboot_stack[UBOOT_STACK_SIZE] - 1;
  *sp = 0; /* as if called: the entry sees a return address */
  kenter((uintptr_t)pvkvm_user_start, (uintptr_t)sp, kmode == PVKVM_MODE_USER, 0);
}
