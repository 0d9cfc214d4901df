/* time.c: pvclock system time, wall clock, set_timer_op and the VIRQ_TIMER binding. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/isa.h>
#include <pvkvm/lapic.h>
#include <pvkvm/time.h>

/* A writer that stays odd this long is broken; give up rather than hang. */
#define MAX_RETRIES (1u << 20)

static inline uint64_t rdtsc_ordered(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return ((uint64_t)hi << 32) | lo;
}

uint64_t pvkvm_hvm_time_ns(void) {
  struct xen_hvm_get_time t = {0};
  return HYPERVISOR_hvm_op(HVMOP_get_time, &t) == 0 ? t.now : 0;
}

/* Read *t consistently; *tsc (if given) is a TSC value read inside the same version window. */
static void read_time_info(const struct vcpu_time_info *t, struct vcpu_time_info *out, uint64_t *tsc) {
  for (unsigned tries = 0;; tries++) {
    uint32_t v = __atomic_load_n(&t->version, __ATOMIC_ACQUIRE);
    if ((v & 1) && tries < MAX_RETRIES) {
      cpu_relax();
      continue;
    }
    out->version = v;
    out->tsc_timestamp = __atomic_load_n(&t->tsc_timestamp, __ATOMIC_RELAXED);
    out->system_time = __atomic_load_n(&t->system_time, __ATOMIC_RELAXED);
    out->tsc_to_system_mul = __atomic_load_n(&t->tsc_to_system_mul, __ATOMIC_RELAXED);
    out->tsc_shift = __atomic_load_n(&t->tsc_shift, __ATOMIC_RELAXED);
    out->flags = __atomic_load_n(&t->flags, __ATOMIC_RELAXED);
    if (tsc) *tsc = rdtsc_ordered();
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&t->version, __ATOMIC_RELAXED) == v || tries >= MAX_RETRIES) return;
  }
}

int pvkvm_time_info(struct vcpu_time_info *out) {
  struct vcpu_info *vi = pvkvm_vcpu_info();
  if (!vi) return -1;
  read_time_info(&vi->time, out, NULL);
  return 0;
}

uint64_t pvkvm_time_ns(void) {
  struct vcpu_info *vi = pvkvm_vcpu_info();
  /* Without Xen (under QEMU with an emulated NIC, say) the TSC clock keeps deadlines working. */
  if (!vi) return pvkvm_xen_present() ? pvkvm_hvm_time_ns() : isa_time_ns();
  struct vcpu_time_info t;
  uint64_t tsc;
  read_time_info(&vi->time, &t, &tsc);
  if (t.tsc_to_system_mul == 0) return pvkvm_hvm_time_ns(); /* never filled in */
  uint64_t d = tsc - t.tsc_timestamp;
  if (t.tsc_shift >= 0) d <<= t.tsc_shift;
  else d >>= -t.tsc_shift;
  return t.system_time + (uint64_t)(((unsigned __int128)d * t.tsc_to_system_mul) >> 32);
}

uint64_t pvkvm_tsc_hz(void) {
  struct vcpu_time_info t;
  if (pvkvm_time_info(&t) < 0 || t.tsc_to_system_mul == 0) return 0;
  uint64_t hz = (NSEC_PER_SEC << 32) / t.tsc_to_system_mul;
  return t.tsc_shift >= 0 ? hz >> t.tsc_shift : hz << -t.tsc_shift;
}

int pvkvm_wallclock(uint64_t *sec, uint32_t *nsec) {
  struct shared_info *s = pvkvm_shared_info();
  if (!s) return -1;
  uint64_t wsec;
  uint32_t wnsec;
  for (unsigned tries = 0;; tries++) {
    uint32_t v = __atomic_load_n(&s->wc_version, __ATOMIC_ACQUIRE);
    if ((v & 1) && tries < MAX_RETRIES) {
      cpu_relax();
      continue;
    }
    wsec = ((uint64_t)__atomic_load_n(&s->wc_sec_hi, __ATOMIC_RELAXED) << 32) |
           __atomic_load_n(&s->wc_sec, __ATOMIC_RELAXED);
    wnsec = __atomic_load_n(&s->wc_nsec, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->wc_version, __ATOMIC_RELAXED) == v || tries >= MAX_RETRIES) break;
  }
  uint64_t total = (uint64_t)wnsec + pvkvm_time_ns();
  if (sec) *sec = wsec + total / NSEC_PER_SEC;
  if (nsec) *nsec = (uint32_t)(total % NSEC_PER_SEC);
  return 0;
}

long pvkvm_set_timer(uint64_t abs_ns) { return HYPERVISOR_set_timer_op(abs_ns); }

/* ---- VIRQ_TIMER ---- */

struct timer_state {
  evtchn_port_t port;
  uint64_t fired;
  void (*hook)(void *);
  void *hook_arg;
};
static struct timer_state timers[PVKVM_MAX_VCPUS];

static void timer_event(evtchn_port_t port, void *arg) {
  struct timer_state *t = arg;
  t->fired++;
  if (t->hook) t->hook(t->hook_arg);
}

long pvkvm_timer_init(void) {
  struct timer_state *t = &timers[pvkvm_vcpu_id()];
  if (t->port) return 0;
  if (!pvkvm_shared_info()) return pvkvm_shared_info_error();
  evtchn_port_t port;
  long rc = evtchn_bind_virq(VIRQ_TIMER, pvkvm_vcpu_id(), &port);
  if (rc < 0) return rc;
  evtchn_set_handler(port, timer_event, t);
  t->port = port;
  return 0;
}

evtchn_port_t pvkvm_timer_port(void) { return timers[pvkvm_vcpu_id()].port; }

uint64_t pvkvm_timer_fired(void) {
  return __atomic_load_n(&timers[pvkvm_vcpu_id()].fired, __ATOMIC_SEQ_CST);
}

void pvkvm_timer_set_hook(void (*fn)(void *arg), void *arg) {
  struct timer_state *t = &timers[pvkvm_vcpu_id()];
  unsigned long flags = local_irq_save();
  t->hook = fn;
  t->hook_arg = arg;
  local_irq_restore(flags);
}

long pvkvm_sleep_ns(uint64_t ns) {
  long rc = pvkvm_timer_init();
  if (rc < 0) return rc;
  evtchn_port_t port = pvkvm_timer_port();
  uint64_t deadline = pvkvm_time_ns() + ns;
  unsigned long flags = local_irq_save();
  while (pvkvm_time_ns() < deadline) {
    pvkvm_set_timer(deadline);
    /* Interrupts are off, so the timer event stays pending until we look: no lost wake-up. The
     * poll's own timeout (a little later, so the timer normally ends the poll) covers a timer
     * that never fires. */
    evtchn_poll(&port, 1, deadline + NSEC_PER_MSEC);
    evtchn_run_pending();
  }
  /* Cancel, then consume a firing that raced with the poll's own timeout, so it does not reach
   * the caller later as a stray VIRQ_TIMER. */
  pvkvm_set_timer(0);
  evtchn_run_pending();
  local_irq_restore(flags);
  return 0;
}
