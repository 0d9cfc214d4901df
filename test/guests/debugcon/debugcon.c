/* debugcon: bytes written to port 0xE9 appear on the hypervisor console. */
#include <pvkvm/pvkvm.h>

int main(void) {
  console_flush();
  static const char msg[] = "debugcon ok\n";
  for (const char *p = msg; *p; p++) outb(XEN_HVM_DEBUGCONS_IOPORT, (uint8_t)*p);
  test_exit(TEST_SUCCESS);
}
