/*
 * shutdown: powers off with the reason given on the command line.
 *   reason=N   SCHEDOP_shutdown with reason N (default 0, poweroff)
 *   code=N     first SCHEDOP_shutdown_code with reason N (latched; Xen lets it override the
 *              reason of the later SCHEDOP_shutdown), then SCHEDOP_shutdown(reason, default 0)
 */
#include <pvkvm/pvkvm.h>

int main(void) {
  unsigned reason = (unsigned)pvkvm_cmdline_ull("reason", SHUTDOWN_poweroff);
  if (pvkvm_cmdline_has("code")) {
    struct sched_shutdown code = {.reason = (uint32_t)pvkvm_cmdline_ull("code", SHUTDOWN_poweroff)};
    long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &code);
    printf("SCHEDOP_shutdown_code(%u) = %ld\n", code.reason, rc);
    if (pvkvm_xen_present() && rc != 0) test_exit(TEST_FAILURE);
  }
  printf("shutting down with reason %u\n", reason);
  test_result(TEST_SUCCESS);

  struct sched_shutdown s = {.reason = reason};
  long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
  printf("SCHEDOP_shutdown returned %ld\n", rc);
  pvkvm_shutdown(reason); /* no Xen: QEMU's isa-debug-exit */
}
