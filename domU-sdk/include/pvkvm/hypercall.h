/*
 * pvkvm/hypercall.h: Xen hypercalls through the hypercall page.
 *
 * The runtime finds Xen's CPUID leaves and asks the hypervisor to fill pvkvm_hypercall_page
 * (before main runs). The stub for hypercall `nr` is at page + nr * 32; the guest `call`s it with
 * the 64-bit convention: args in RDI, RSI, RDX, R10, R8; result in RAX (negative Xen errno on
 * error). The argument registers may be clobbered. Pointer arguments are guest-virtual addresses.
 *
 * Without Xen (e.g. under QEMU) the runtime fills the page itself with stubs that return
 * -XEN_ENOSYS, so every hypercall below is always safe to make.
 *
 * The page is the kernel's (supervisor-only). Code at CPL 3 (PVKVM_MODE_USER, <pvkvm/cpu.h>)
 * reaches it through the kernel-call gate; the wrappers below pick the path themselves.
 */
#ifndef PVKVM_HYPERCALL_H
#define PVKVM_HYPERCALL_H
#include <stdint.h>
#include <pvkvm/kcall.h>
#include <pvkvm/xen.h>

extern uint8_t pvkvm_hypercall_page[4096];

/* CPUID base of the Xen leaves (0x40000000, 0x40000100, ...), or 0 when not running on Xen. */
extern uint32_t pvkvm_xen_cpuid_base;

static inline int pvkvm_xen_present(void) { return pvkvm_xen_cpuid_base != 0; }

/* Address of the stub for hypercall nr. */
static inline unsigned long pvkvm_hypercall_stub(unsigned nr) {
  return (unsigned long)pvkvm_hypercall_page + (unsigned long)nr * PVKVM_HYPERCALL_STUB_SIZE;
}

#define PVKVM_HC_CLOBBERS "memory", "cc", "rcx", "r11"

/*
 * hypercallN issues hypercall `nr`: at CPL 0 by calling the page's stub; at CPL 3 through the
 * kernel-call gate (<pvkvm/kcall.h>), because the hypervisor refuses hypercalls from CPL 3
 * (-EPERM, as Xen does) and the page belongs to the kernel. Both paths take the same registers
 * and clobber the same ones, so a wrapper is correct in either mode.
 */
static inline long hypercall0(unsigned nr) {
  long ret = nr;
  if (pvkvm_at_cpl3())
    __asm__ volatile(PVKVM_GATE_INSN : "+a"(ret) : : PVKVM_HC_CLOBBERS, "rdi", "rsi", "rdx", "r10", "r8");
  else
    __asm__ volatile("call *%[stub]"
                     : "+a"(ret)
                     : [stub] "r"(pvkvm_hypercall_stub(nr))
                     : PVKVM_HC_CLOBBERS, "rdi", "rsi", "rdx", "r10", "r8");
  return ret;
}

static inline long hypercall1(unsigned nr, unsigned long a1) {
  long ret = nr;
  register unsigned long rdi __asm__("rdi") = a1;
  if (pvkvm_at_cpl3())
    __asm__ volatile(PVKVM_GATE_INSN : "+a"(ret), "+r"(rdi) : : PVKVM_HC_CLOBBERS, "rsi", "rdx", "r10", "r8");
  else
    __asm__ volatile("call *%[stub]"
                     : "+a"(ret), "+r"(rdi)
                     : [stub] "r"(pvkvm_hypercall_stub(nr))
                     : PVKVM_HC_CLOBBERS, "rsi", "rdx", "r10", "r8");
  return ret;
}

static inline long hypercall2(unsigned nr, unsigned long a1, unsigned long a2) {
  long ret = nr;
  register unsigned long rdi __asm__("rdi") = a1;
  register unsigned long rsi __asm__("rsi") = a2;
  if (pvkvm_at_cpl3())
    __asm__ volatile(PVKVM_GATE_INSN : "+a"(ret), "+r"(rdi), "+r"(rsi) : : PVKVM_HC_CLOBBERS, "rdx", "r10", "r8");
  else
    __asm__ volatile("call *%[stub]"
                     : "+a"(ret), "+r"(rdi), "+r"(rsi)
                     : [stub] "r"(pvkvm_hypercall_stub(nr))
                     : PVKVM_HC_CLOBBERS, "rdx", "r10", "r8");
  return ret;
}

static inline long hypercall3(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3) {
  long ret = nr;
  register unsigned long rdi __asm__("rdi") = a1;
  register unsigned long rsi __asm__("rsi") = a2;
  register unsigned long rdx __asm__("rdx") = a3;
  if (pvkvm_at_cpl3())
    __asm__ volatile(PVKVM_GATE_INSN : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx) : : PVKVM_HC_CLOBBERS, "r10", "r8");
  else
    __asm__ volatile("call *%[stub]"
                     : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx)
                     : [stub] "r"(pvkvm_hypercall_stub(nr))
                     : PVKVM_HC_CLOBBERS, "r10", "r8");
  return ret;
}

static inline long hypercall4(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4) {
  long ret = nr;
  register unsigned long rdi __asm__("rdi") = a1;
  register unsigned long rsi __asm__("rsi") = a2;
  register unsigned long rdx __asm__("rdx") = a3;
  register unsigned long r10 __asm__("r10") = a4;
  if (pvkvm_at_cpl3())
    __asm__ volatile(PVKVM_GATE_INSN : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10) : : PVKVM_HC_CLOBBERS, "r8");
  else
    __asm__ volatile("call *%[stub]"
                     : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10)
                     : [stub] "r"(pvkvm_hypercall_stub(nr))
                     : PVKVM_HC_CLOBBERS, "r8");
  return ret;
}

static inline long hypercall5(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
  long ret = nr;
  register unsigned long rdi __asm__("rdi") = a1;
  register unsigned long rsi __asm__("rsi") = a2;
  register unsigned long rdx __asm__("rdx") = a3;
  register unsigned long r10 __asm__("r10") = a4;
  register unsigned long r8 __asm__("r8") = a5;
  if (pvkvm_at_cpl3())
    __asm__ volatile(PVKVM_GATE_INSN : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8) : : PVKVM_HC_CLOBBERS);
  else
    __asm__ volatile("call *%[stub]"
                     : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
                     : [stub] "r"(pvkvm_hypercall_stub(nr))
                     : PVKVM_HC_CLOBBERS);
  return ret;
}

/* Typed wrappers, named as in Xen guests. */
static inline long HYPERVISOR_xen_version(int cmd, void *arg) {
  return hypercall2(__HYPERVISOR_xen_version, (unsigned long)cmd, (unsigned long)arg);
}
static inline long HYPERVISOR_console_io(int cmd, int count, const char *buf) {
  return hypercall3(__HYPERVISOR_console_io, (unsigned long)cmd, (unsigned long)count,
                    (unsigned long)buf);
}
static inline long HYPERVISOR_sched_op(int cmd, void *arg) {
  return hypercall2(__HYPERVISOR_sched_op, (unsigned long)cmd, (unsigned long)arg);
}
static inline long HYPERVISOR_memory_op(unsigned cmd, void *arg) {
  return hypercall2(__HYPERVISOR_memory_op, cmd, (unsigned long)arg);
}
static inline long HYPERVISOR_hvm_op(int op, void *arg) {
  return hypercall2(__HYPERVISOR_hvm_op, (unsigned long)op, (unsigned long)arg);
}
static inline long HYPERVISOR_multicall(struct multicall_entry *calls, unsigned nr) {
  return hypercall2(__HYPERVISOR_multicall, (unsigned long)calls, nr);
}
static inline long HYPERVISOR_set_timer_op(uint64_t timeout_ns) {
  return hypercall1(__HYPERVISOR_set_timer_op, timeout_ns);
}
static inline long HYPERVISOR_event_channel_op(int cmd, void *arg) {
  return hypercall2(__HYPERVISOR_event_channel_op, (unsigned long)cmd, (unsigned long)arg);
}
static inline long HYPERVISOR_vcpu_op(int cmd, int vcpuid, void *arg) {
  return hypercall3(__HYPERVISOR_vcpu_op, (unsigned long)cmd, (unsigned long)vcpuid,
                    (unsigned long)arg);
}
static inline long HYPERVISOR_grant_table_op(int cmd, void *uop, unsigned count) {
  return hypercall3(__HYPERVISOR_grant_table_op, (unsigned long)cmd, (unsigned long)uop, count);
}

/* Convenience: HVMOP_get_param / HVMOP_set_param on DOMID_SELF. Return 0 or -errno. */
long pvkvm_hvm_get_param(uint32_t index, uint64_t *value);
long pvkvm_hvm_set_param(uint32_t index, uint64_t value);

#endif
