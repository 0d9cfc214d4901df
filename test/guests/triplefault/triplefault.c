/* triplefault: loads an empty IDT and executes ud2; the CPU triple-faults and the hypervisor
 * must report it (and survive). No result line. */
#include <pvkvm/pvkvm.h>

/* Loads its own IDT: code for CPL 0. */
PVKVM_SDK_MODE(kernel);

int main(void) {
  printf("about to fault\n");
  console_flush();
  struct __attribute__((packed)) { uint16_t limit; uint64_t base; } null_idt = {0, 0};
  __asm__ volatile("lidt %0; ud2" : : "m"(null_idt));
  printf("still alive after ud2?\n");
  return 1;
}
