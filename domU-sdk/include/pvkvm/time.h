/*
 * pvkvm/time.h: Xen system time (pvclock), wall clock, and the per-vCPU one-shot timer.
 *
 * System time is nanoseconds on Xen's clock (the one HVMOP_get_time, SCHEDOP_poll timeouts and
 * timer deadlines use). It is read from vcpu_info[vcpu].time in shared_info:
 *   retry while `version` is odd or changes during the read;
 *   d = rdtsc - tsc_timestamp, shifted left by tsc_shift (right if negative);
 *   ns = system_time + (d * tsc_to_system_mul) >> 32   (128-bit product).
 *
 * The timer: set_timer_op(abs_ns) (0 cancels) and VCPUOP_set_singleshot_timer drive one per-vCPU
 * timer; on expiry the hypervisor raises VIRQ_TIMER on that vCPU. pvkvm_timer_init binds it once
 * (per vCPU) with an SDK handler that counts firings and calls an optional hook.
 */
#ifndef PVKVM_TIME_H
#define PVKVM_TIME_H
#include <stdint.h>
#include <pvkvm/evtchn.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

/* System time in ns from pvclock. Falls back to HVMOP_get_time if shared_info is unavailable. */
uint64_t pvkvm_time_ns(void);
/* HVMOP_get_time (the hypervisor's NOW()), or 0 if the call fails. */
uint64_t pvkvm_hvm_time_ns(void);
/* A consistent copy of this vCPU's vcpu_time_info (version protocol). Returns 0, or -1 without
 * shared_info. */
int pvkvm_time_info(struct vcpu_time_info *out);
/* TSC frequency in Hz implied by tsc_to_system_mul / tsc_shift (0 if unknown). */
uint64_t pvkvm_tsc_hz(void);

/* Wall clock (UTC): shared_info wc_sec_hi:wc_sec / wc_nsec (version protocol) + system time.
 * Returns 0, or -1 without shared_info. */
int pvkvm_wallclock(uint64_t *sec, uint32_t *nsec);

/* set_timer_op (hypercall 15): absolute system time in ns, 0 cancels. Returns the result (0). */
long pvkvm_set_timer(uint64_t abs_ns);

/* Bind VIRQ_TIMER for this vCPU once (needs shared_info). Returns 0 or -errno. */
long pvkvm_timer_init(void);
/* The bound VIRQ_TIMER port (0 before pvkvm_timer_init). */
evtchn_port_t pvkvm_timer_port(void);
/* VIRQ_TIMER events handled on this vCPU so far. */
uint64_t pvkvm_timer_fired(void);
/* Called (in the event handler, interrupts off) on each VIRQ_TIMER; NULL removes it. */
void pvkvm_timer_set_hook(void (*fn)(void *arg), void *arg);

/* Sleep at least `ns`: binds VIRQ_TIMER if needed, sets the timer, waits (SCHEDOP_poll on the
 * timer port, interrupts off) until system time reaches the deadline, running handlers of
 * events that arrive meanwhile. Cancels the timer before returning. Returns 0 or -errno. */
long pvkvm_sleep_ns(uint64_t ns);

#endif
