/*
 * pvkvm/deadline.h: timeouts as absolute deadlines.
 *
 *   uint64_t deadline = deadline_after(timeout_ns);   // once, before the first try
 *   while (!done()) {
 *     if (pvkvm_time_ns() >= deadline) return -XEN_ETIMEDOUT;
 *     wait_a_bit(deadline_remaining(pvkvm_time_ns(), deadline));
 *   }
 *
 * A wait turns its relative timeout into a deadline once, so that retries and early wake-ups do
 * not stretch it. PVKVM_FOREVER never passes: a timeout of PVKVM_FOREVER (also XS_FOREVER and
 * PVCONSOLE_FOREVER, the same value) or one that would overflow gives the deadline PVKVM_FOREVER.
 * deadline_add and deadline_remaining take the time from the caller, for clocks other than
 * pvclock (isa_time_ns without Xen).
 */
#ifndef PVKVM_DEADLINE_H
#define PVKVM_DEADLINE_H
#include <stdint.h>
#include <pvkvm/time.h>

#define PVKVM_FOREVER UINT64_MAX /* a deadline (or timeout) that never passes */

/* now + ns, saturating at PVKVM_FOREVER. */
static inline uint64_t deadline_add(uint64_t now, uint64_t ns) {
  return now + ns < now ? PVKVM_FOREVER : now + ns;
}

/* The pvclock deadline (pvkvm_time_ns) ns from now. */
static inline uint64_t deadline_after(uint64_t ns) { return deadline_add(pvkvm_time_ns(), ns); }

/* Time left until deadline at time now: 0 once it has passed; PVKVM_FOREVER stays so. */
static inline uint64_t deadline_remaining(uint64_t now, uint64_t deadline) {
  if (deadline == PVKVM_FOREVER) return PVKVM_FOREVER;
  return now >= deadline ? 0 : deadline - now;
}

#endif
