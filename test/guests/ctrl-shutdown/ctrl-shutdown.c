/*
 * ctrl-shutdown: the guest side of control/shutdown (needs dom0's xenstored).
 *
 * Writes control/feature-poweroff = "1" and control/feature-reboot = "1", watches
 * control/shutdown, prints `waiting for control/shutdown`, then waits (timeout_ms=T, default
 * 60000) for the toolstack to write a command there. On "poweroff"/"halt", "reboot" or "crash"
 * it acks by writing "" (in the same transaction as the read), prints
 * `control/shutdown: <command>` and `Test result: SUCCESS`, and shuts down with that reason
 * (poweroff → exit code 0). No xenstore, or no command in time: FAILURE (and poweroff).
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/xenbus.h>

int main(void) {
  REQUIRE_XEN();
  int rc = xs_init();
  if (rc < 0) {
    printf("xs_init failed: %d (no xenstore for this domain?)\n", rc);
    test_exit(TEST_FAILURE);
  }
  rc = xenbus_watch_control_shutdown();
  if (rc < 0) {
    printf("xenbus_watch_control_shutdown failed: %d\n", rc);
    test_exit(TEST_FAILURE);
  }
  printf("waiting for control/shutdown\n");
  console_flush();
  uint64_t timeout = pvkvm_cmdline_ull("timeout_ms", 60000) * NSEC_PER_MSEC;
  char cmd[32];
  int reason = xenbus_wait_control_shutdown(timeout, cmd, sizeof(cmd));
  if (reason < 0) {
    printf("no control/shutdown command: %d\n", reason);
    test_exit(TEST_FAILURE);
  }
  printf("control/shutdown: %s\n", cmd);
  test_result(TEST_SUCCESS);
  pvkvm_shutdown((unsigned)reason);
}
