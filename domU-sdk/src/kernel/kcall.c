/* kcall.c: the kernel's services behind the gate (<pvkvm/kcall.h>), and the C half of gate.S. */
#include <pvkvm/kcall.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/lapic.h>
#include <pvkvm/xen.h>
#include "kernel.h"

_Static_assert(PVKVM_KCALL_BASE == KCALL_BASE && PVKVM_KC_NULL == KCALL_NULL, "gate.S numbers");
_Static_assert(KERR_EFAULT == XEN_EFAULT, "gate.S errno");
_Static_assert(KERR_ENOSYS == XEN_ENOSYS, "gate.S errno");
_Static_assert(KHC_NR_STUBS == PVKVM_HYPERCALL_NR_STUBS, "gate.S stub count");
_Static_assert(KHC_IRET == __HYPERVISOR_iret, "gate.S iret");
_Static_assert(KEVTCHNOP_SEND == EVTCHNOP_send, "gate.S send");

long ktrap_report_user(uint64_t user_frame); /* trap.c */

/* Halt until an interrupt. with_irqs = 0 (the caller's virtual flag is off, or halt_forever):
 * for good, as `cli; hlt` would. Otherwise not at all if an interrupt already waits for the
 * caller; else `sti; hlt`, whose STI shadow means none can slip in between. Returns with IF = 1,
 * which iretq replaces with the caller's flags (at CPL 0 in PVKVM_MODE_KERNEL the caller wants
 * it on). */
static long halt(int with_irqs) {
  if (!with_irqs)
    for (;;) __asm__ volatile("cli; hlt" ::: "memory");
  if (pvkvm_virq_pending()) __asm__ volatile("sti" ::: "memory");
  else __asm__ volatile("sti; hlt" ::: "memory");
  return 0;
}

/* rep ins/outs on a port the I/O bitmap opens, into or out of user memory. */
static long string_io(unsigned op, unsigned port, uint64_t buf, uint64_t count) {
  unsigned width = op & 7;
  if ((op & ~0xfu) || (width != 1 && width != 2 && width != 4) || count > (1u << 24))
    return -XEN_EINVAL;
  if (!kport_open(port, width)) return -XEN_EPERM;
  if (!kuser_range(buf, count * width)) return -XEN_EFAULT;
  void *p = (void *)(uintptr_t)buf;
  unsigned long n = count;
  uint16_t dx = (uint16_t)port;
  if (op & PVKVM_SIO_OUT) {
    if (width == 1) __asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(dx) : "memory");
    else if (width == 2) __asm__ volatile("rep outsw" : "+S"(p), "+c"(n) : "d"(dx) : "memory");
    else __asm__ volatile("rep outsl" : "+S"(p), "+c"(n) : "d"(dx) : "memory");
  } else {
    if (width == 1) __asm__ volatile("rep insb" : "+D"(p), "+c"(n) : "d"(dx) : "memory");
    else if (width == 2) __asm__ volatile("rep insw" : "+D"(p), "+c"(n) : "d"(dx) : "memory");
    else __asm__ volatile("rep insl" : "+D"(p), "+c"(n) : "d"(dx) : "memory");
  }
  return 0;
}

long pvkvm_kcall_direct(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                        unsigned long a4, unsigned long a5) {
  (void)a5;
  switch (nr) {
  case PVKVM_KC_NULL: return 0;
  case PVKVM_KC_HALT: return halt((int)a1);
  case PVKVM_KC_BLOCK:
    return pvkvm_virq_pending() ? 0 : ksched_op_sti(SCHEDOP_block, NULL);
  case PVKVM_KC_IDLE:
    klapic_arm_tick(a1);
    return halt(1);
  case PVKVM_KC_IOPERM: return kioperm((unsigned)a1, (unsigned)a2, (int)a3);
  case PVKVM_KC_STRING_IO: return string_io((unsigned)a1, (unsigned)a2, a3, a4);
  case PVKVM_KC_LAPIC_READ:
    return a1 < 0x400 && (a1 & 15) == 0 ? (long)klapic_read((uint32_t)a1) : -XEN_EINVAL;
  case PVKVM_KC_LAPIC_ENABLE: klapic_enable(); return 0;
  case PVKVM_KC_ISA_INIT: return kisa_init((unsigned)a1);
  case PVKVM_KC_ISA_LINE: return kisa_line((unsigned)a1, (int)a2);
  case PVKVM_KC_VCPU_INIT: return kvcpu_init((unsigned)a1, a2);
  case PVKVM_KC_TRAP_REPORT: return ktrap_report_user(a1);
  default: return -XEN_ENOSYS;
  }
}

/* gate.S, for hypercalls it does not issue itself and for the services above (the caller's RAX
 * comes last, so the arguments stay in their registers). */
long kcall_c(unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4,
             unsigned long a5, unsigned long nr);
long kcall_c(unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4,
             unsigned long a5, unsigned long nr) {
  if (nr < KCALL_BASE) return khypercall_checked(nr, a1, a2, a3, a4, a5);
  return pvkvm_kcall_direct(nr, a1, a2, a3, a4, a5);
}
