/* spin: never finishes, with interrupts off, to test the run watchdog (--timeout).
 *   mode=hlt (default)  cli; hlt forever (the vCPU blocks in the kernel)
 *   mode=busy           cli; busy loop (the vCPU burns CPU) */
#include <pvkvm/pvkvm.h>

int main(void) {
  char mode[16] = "hlt";
  pvkvm_cmdline_get("mode", mode, sizeof(mode));
  printf("spinning (mode=%s)\n", mode);
  console_flush();
  cli();
  if (strcmp(mode, "busy") == 0) {
    volatile unsigned long n = 0;
    for (;;) n++;
  }
  for (;;) hlt();
}
