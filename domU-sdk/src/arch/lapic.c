/* lapic.c: software-enabling the local APIC (see pvkvm/lapic.h); the upcall entry that uses it
 * is in upcall_entry.S and xen/evtchn.c. */
#include <stdint.h>
#include <pvkvm/lapic.h>

void lapic_enable(uint8_t spurious_vector) {
  lapic_write(LAPIC_TPR, 0);
  lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | spurious_vector);
}
