/* hcall.c: the hypercall page — finding Xen's CPUID leaves, installing the page (or -ENOSYS stubs
 * without Xen), and the variant of sched_op that enables interrupts in the trap's STI shadow. */
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/string.h>
#include "kernel.h"

uint8_t pvkvm_hypercall_page[4096] __attribute__((aligned(4096)));

_Static_assert(PVKVM_HYPERCALL_STUB_SIZE * 128 == sizeof(pvkvm_hypercall_page),
               "128 stubs fill the page");

/* How gate.S treats a hypercall from CPL 3 (KHC_* in kernel_layout.h): by default its first three
 * arguments must not point into the kernel, then it goes straight to the page; the common calls
 * whose one pointer is their second argument check just that one; calls without pointers are not
 * checked; calls whose arguments lead to further addresses, or that write through a length they
 * are given, are checked in C (hcall_check.c), as are event_channel_op's FIFO set-up commands
 * (the rest of it is the common case). */
const uint8_t khc_class[KCALL_BASE] = {
    [__HYPERVISOR_xen_version] = KHC_PTR_RSI,
    [__HYPERVISOR_sched_op] = KHC_PTR_RSI,
    [__HYPERVISOR_event_channel_op] = KHC_EVTCHN,
    [__HYPERVISOR_hvm_op] = KHC_PTR_RSI,
    [__HYPERVISOR_physdev_op] = KHC_PTR_RSI,
    [__HYPERVISOR_callback_op] = KHC_PTR_RSI,
    [__HYPERVISOR_set_timer_op] = KHC_NO_PTR,
    [__HYPERVISOR_vm_assist] = KHC_NO_PTR,
    [__HYPERVISOR_memory_op] = KHC_C,
    [__HYPERVISOR_multicall] = KHC_C,
    [__HYPERVISOR_console_io] = KHC_C,
    [__HYPERVISOR_grant_table_op] = KHC_C,
    [__HYPERVISOR_vcpu_op] = KHC_C,
};

static uint32_t find_xen_leaves(void) {
  for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < XEN_CPUID_FIRST_LEAF + 0x10000; base += 0x100) {
    struct cpuid_regs r = cpuid(base, 0);
    if (r.ebx == XEN_CPUID_SIGNATURE_EBX && r.ecx == XEN_CPUID_SIGNATURE_ECX &&
        r.edx == XEN_CPUID_SIGNATURE_EDX && r.eax - base >= 2)
      return base;
  }
  return 0;
}

/* Without Xen every stub is `mov $-XEN_ENOSYS, %rax; ret`, so hypercalls fail cleanly. */
static void fill_fallback_page(void) {
  int32_t ret = -XEN_ENOSYS;
  memset(pvkvm_hypercall_page, 0xcc, sizeof(pvkvm_hypercall_page));
  for (unsigned nr = 0; nr < sizeof(pvkvm_hypercall_page) / PVKVM_HYPERCALL_STUB_SIZE; nr++) {
    uint8_t *s = pvkvm_hypercall_page + nr * PVKVM_HYPERCALL_STUB_SIZE;
    s[0] = 0x48; /* REX.W */
    s[1] = 0xc7; /* mov $imm32 (sign-extended), %rax */
    s[2] = 0xc0;
    memcpy(s + 3, &ret, 4);
    s[7] = 0xc3; /* ret */
  }
}

static int page_is_blank(void) {
  for (unsigned i = 0; i < sizeof(pvkvm_hypercall_page); i++)
    if (pvkvm_hypercall_page[i]) return 0;
  return 1;
}

/*
 * sched_op with `sti` placed immediately before the stub's trapping instruction, so the hypercall
 * runs with interrupts enabled yet none can be taken before it (the STI shadow covers exactly one
 * instruction): the `sti; hlt` idiom for SCHEDOP_block. Xen checks "an upcall is pending and
 * deliverable" (IF = 1) when blocking; this makes that check see IF = 1 without racing the
 * interrupt. The trampoline is the stub's `mov eax, nr` (5 bytes), `sti`, then the rest of the
 * stub (the trapping instruction and `ret`). If the stub does not start with `mov eax, imm32`
 * (no Xen: the -ENOSYS stubs), it falls back to `sti` then the ordinary stub.
 */
static uint8_t sched_sti_stub[PVKVM_HYPERCALL_STUB_SIZE + 16] __attribute__((aligned(16)));
static int sched_sti_usable;

static void build_sched_sti_stub(void) {
  const uint8_t *s = (const uint8_t *)pvkvm_hypercall_stub(__HYPERVISOR_sched_op);
  if (!pvkvm_xen_present() || s[0] != 0xb8) return;
  memcpy(sched_sti_stub, s, 5);
  sched_sti_stub[5] = 0xfb; /* sti */
  memcpy(sched_sti_stub + 6, s + 5, PVKVM_HYPERCALL_STUB_SIZE - 5);
  sched_sti_usable = 1;
}

long ksched_op_sti(int cmd, void *arg) {
  if (!sched_sti_usable) {
    __asm__ volatile("sti" ::: "memory");
    return HYPERVISOR_sched_op(cmd, arg);
  }
  long ret;
  register unsigned long rdi __asm__("rdi") = (unsigned long)cmd;
  register unsigned long rsi __asm__("rsi") = (unsigned long)arg;
  __asm__ volatile("call *%[stub]"
                   : "=a"(ret), "+r"(rdi), "+r"(rsi)
                   : [stub] "r"(sched_sti_stub)
                   : PVKVM_HC_CLOBBERS, "rdx", "r10", "r8");
  return ret;
}

/*
 * pvkvm's event_channel_op stub sends with one `out` to its send port, which KVM completes in the
 * kernel for ports wired to an ioeventfd (docs/xen-abi.md §5.1); from CPL 3 a port that is not
 * wired gets -EPERM in RDI. User code may use that port directly (src/xen/evtchn.c): a kick then
 * costs one I/O exit instead of a kernel call and a hypercall. Recognised by the stub's first
 * bytes, so nothing else (a real Xen) is ever sent to that port. The send is a 32-bit `out`, so
 * the bitmap must open its four ports, the hypercall trap port among them: harmless, pvkvm
 * refuses hypercalls from CPL 3 (-EPERM) as Xen does.
 */
static void open_send_port(void) {
  static const uint8_t fast[] = {0x83, 0xff, EVTCHNOP_send, 0x75, 10, 0x8b, 0x06, 0x31, 0xff,
                                 0xe7, PVKVM_HYPERCALL_SEND_PORT};
  const uint8_t *s = (const uint8_t *)pvkvm_hypercall_stub(__HYPERVISOR_event_channel_op);
  for (unsigned i = 0; i < sizeof(fast); i++)
    if (s[i] != fast[i]) return;
  if (kioperm(PVKVM_HYPERCALL_SEND_PORT, 4, 1) == 0) pvkvm_evtchn_send_port = PVKVM_HYPERCALL_SEND_PORT;
}

void khypercall_init(void) {
  uint32_t base = find_xen_leaves();
  if (!base) {
    fill_fallback_page();
    return;
  }
  uint32_t msr = cpuid(base + 2, 0).ebx;
  kwrmsr(msr, (uint64_t)(uintptr_t)pvkvm_hypercall_page);
  if (page_is_blank()) {
    fill_fallback_page();
    static const char msg[] = "pvkvm: hypervisor did not fill the hypercall page\n";
    debugcon_write(msg, sizeof(msg) - 1);
    return;
  }
  pvkvm_xen_cpuid_base = base;
  build_sched_sti_stub();
  open_send_port();
}
