/*
 * console-echo: the PV console ring both ways (needs dom0's console backend).
 *
 * Prints `echo ready` (printf goes through the PV console ring once a backend exists), then
 * reads lines from the console input, blocking in SCHEDOP_poll on the console port, and answers
 * each with `got: <line>`. On the line `quit` it prints `bye`, `Test result: SUCCESS` and powers
 * off (exit code 0). No PV console, an input error, or no line for timeout_ms=T (default 60000):
 * FAILURE.
 */
#include <pvkvm/pvkvm.h>
#include <pvkvm/pvconsole.h>

int main(void) {
  REQUIRE_XEN();
  int rc = pvconsole_init();
  if (rc < 0) {
    printf("pvconsole_init failed: %d (no console backend?)\n", rc);
    test_exit(TEST_FAILURE);
  }
  printf("echo ready\n");
  console_flush(); /* and wait until the backend has it */
  uint64_t timeout = pvkvm_cmdline_ull("timeout_ms", 60000) * NSEC_PER_MSEC;
  char line[256];
  for (;;) {
    long n = pvconsole_getline(line, sizeof(line), timeout);
    if (n < 0) {
      printf("pvconsole_getline: %ld\n", n);
      test_exit(TEST_FAILURE);
    }
    printf("got: %s\n", line);
    if (strcmp(line, "quit") == 0) break;
  }
  printf("bye\n");
  test_exit(TEST_SUCCESS);
}
