/* lapic.c: software-enabling this vCPU's local APIC, which the kernel does (src/kernel/kisa.c):
 * its registers are on a supervisor-only page. */
#include <stdint.h>
#include <pvkvm/kcall.h>
#include <pvkvm/lapic.h>

void lapic_enable(uint8_t spurious_vector) {
  (void)spurious_vector; /* always PVKVM_SPURIOUS_VECTOR, whose gate the kernel installed */
  pvkvm_kcall0(PVKVM_KC_LAPIC_ENABLE);
}
