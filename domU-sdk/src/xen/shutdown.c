/* shutdown.c: SCHEDOP_shutdown, with QEMU's isa-debug-exit device as the fallback; suspend, with
 * the PV drivers' reconnect after a restore. */
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/start.h>

/* QEMU: -device isa-debug-exit,iobase=0x501,iosize=4 exits with status (value << 1) | 1. */
#define QEMU_DEBUG_EXIT_PORT 0x501

void pvkvm_shutdown(unsigned reason) {
  console_flush();
  if (pvkvm_xen_present()) {
    struct sched_shutdown s = {0};
    s.reason = reason;
    long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
    printf("pvkvm: SCHEDOP_shutdown(%u) returned %ld\n", reason, rc);
    console_flush();
  }
  pvkvm_ioperm(QEMU_DEBUG_EXIT_PORT, 4, 1);
  outl(QEMU_DEBUG_EXIT_PORT, reason);
  halt_forever();
}

/* The PV drivers' resume, when the guest links them (weak: a guest without them has none). */
extern void blkfront_resume_all(void) __attribute__((weak));
extern void netfront_resume_all(void) __attribute__((weak));

long pvkvm_suspend(void) {
  if (!pvkvm_xen_present()) return -XEN_ENOSYS;
  console_flush();
  struct sched_shutdown s = {0};
  s.reason = SHUTDOWN_suspend;
  long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
  if (rc == 0) {
    /* Restored in a new domain: its backends are new, so every open PV device reconnects (Xen's
     * frontends do it in their resume callbacks). A cancelled suspend (1) kept the backends. */
    if (blkfront_resume_all) blkfront_resume_all();
    if (netfront_resume_all) netfront_resume_all();
  }
  return rc;
}
