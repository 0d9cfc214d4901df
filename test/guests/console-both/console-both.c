/* console-both: a guest that writes each line to console_io and to its PV console, as many
 * guests do (early printk plus hvc0): pvkvm run must show each line once, `pvkvm dmesg` keeps the
 * console_io copies. */
#include <pvkvm/pvkvm.h>

static void hv_console(const char *s) {
  HYPERVISOR_console_io(CONSOLEIO_write, (int)strlen(s), s);
}

int main(void) {
  REQUIRE_XEN();
  hv_console("console-both: early line (console_io only)\n");
  if (pvconsole_init() != 0) test_exit(TEST_SKIP);
  for (int i = 0; i < 3; i++) {
    char line[64];
    snprintf(line, sizeof(line), "console-both: line %d (both)\n", i);
    hv_console(line);
    pvconsole_write(line, strlen(line));
    /* Let dom0 take the line before the next console_io write, as a line-buffered guest would. */
    pvconsole_drain(2 * NSEC_PER_SEC);
  }
  test_exit(TEST_SUCCESS);
}
