/*
 * timer: pvclock, wall clock, and the per-vCPU one-shot timer (set_timer_op, VCPUOP_*_singleshot)
 * raising VIRQ_TIMER (docs/xen-abi.md §4.2, §7.4, §7.5).
 *   mode=vector|callback   upcall mode (default vector)
 *   wait=poll|spin         how to wait for the timer: SCHEDOP_poll on the VIRQ_TIMER port with
 *                          interrupts off, or spinning with interrupts on (default poll)
 * Firing times are taken in the event handler with HVMOP_get_time (the hypervisor's clock, which
 * deadlines are in). Only lower bounds are strict: a timer must never fire before its deadline.
 */
#include <pvkvm/pvkvm.h>

#define MS NSEC_PER_MSEC

static uint64_t now(void) { return pvkvm_hvm_time_ns(); }

#define MAX_FIRES 64
static volatile uint64_t fire_hv[MAX_FIRES], fire_pv[MAX_FIRES];
static volatile unsigned nfires;

static void on_timer(void *arg) {
  unsigned n = nfires;
  if (n < MAX_FIRES) {
    fire_hv[n] = pvkvm_hvm_time_ns();
    fire_pv[n] = pvkvm_time_ns();
  }
  nfires = n + 1;
}

static int use_poll = 1;

/* Wait until nfires >= target or `ms` pass; nonzero if it got there. Interrupts are on after. */
static int wait_fires(unsigned target, unsigned ms) {
  evtchn_port_t tp = pvkvm_timer_port();
  uint64_t end = now() + ms * MS;
  if (!use_poll) {
    /* Spin with interrupts on throughout: an `sti; ...; cli` loop would leave the interrupt no
     * usable window on this host (see pvkvm/lapic.h). */
    sti();
    while (nfires < target && now() < end) cpu_relax();
    return nfires >= target;
  }
  for (;;) {
    cli();
    if (nfires >= target || now() >= end) break;
    evtchn_poll(&tp, 1, end);
    evtchn_run_pending();
  }
  sti();
  return nfires >= target;
}

/* Expect exactly one VIRQ_TIMER within `within_ms`, taken (HVMOP_get_time) at or after
 * `not_before`, and nothing more for 30 ms. */
static void expect_fire(const char *what, uint64_t not_before, unsigned within_ms) {
  unsigned n = nfires;
  if (!CHECK(wait_fires(n + 1, within_ms))) {
    printf("  %s: VIRQ_TIMER did not fire within %u ms\n", what, within_ms);
    evtchn_port_t tp = pvkvm_timer_port();
    struct shared_info *s = pvkvm_shared_info();
    printf("  state: port %u pending %d masked %d sel %#llx upcall %u\n", tp,
           (int)((s->evtchn_pending[tp / 64] >> (tp % 64)) & 1), (int)((s->evtchn_mask[tp / 64] >> (tp % 64)) & 1),
           (unsigned long long)s->vcpu_info[0].evtchn_pending_sel, s->vcpu_info[0].evtchn_upcall_pending);
    return;
  }
  if (n < MAX_FIRES) {
    printf("%s: fired %lld us after the deadline\n", what,
           (long long)(fire_hv[n] - not_before) / 1000);
    if (!CHECK(fire_hv[n] >= not_before))
      printf("  %s: fired %llu ns early\n", what, (unsigned long long)(not_before - fire_hv[n]));
  }
  /* One shot: nothing more. */
  CHECK(!wait_fires(n + 2, 30));
  CHECK_EQ(nfires, n + 1);
}

static void expect_silence(const char *what, unsigned ms) {
  unsigned n = nfires;
  if (!CHECK(!wait_fires(n + 1, ms))) printf("  %s: VIRQ_TIMER fired\n", what);
}

int main(void) {
  REQUIRE_XEN();
  if (!pvkvm_shared_info()) {
    printf("shared_info: add_to_physmap failed: %ld\n", pvkvm_shared_info_error());
    test_exit(TEST_FAILURE);
  }
  char opt[16] = "vector";
  pvkvm_cmdline_get("mode", opt, sizeof(opt));
  enum evtchn_upcall_mode mode = strcmp(opt, "callback") == 0 ? EVTCHN_CALLBACK_VECTOR : EVTCHN_UPCALL_VECTOR;
  char wait[16] = "poll";
  pvkvm_cmdline_get("wait", wait, sizeof(wait));
  use_poll = strcmp(wait, "spin") != 0;
  printf("upcall mode %s, waiting by %s\n", mode == EVTCHN_CALLBACK_VECTOR ? "callback" : "vector",
         use_poll ? "poll" : "spin");
  cli();

  /* ---- pvclock ---- */
  struct vcpu_time_info ti;
  REQUIRE(pvkvm_time_info(&ti) == 0);
  printf("pvclock: version %u, tsc_timestamp %llu, system_time %llu, mul %u, shift %d, flags %#x\n",
         ti.version, (unsigned long long)ti.tsc_timestamp, (unsigned long long)ti.system_time,
         ti.tsc_to_system_mul, ti.tsc_shift, ti.flags);
  CHECK_EQ(ti.version & 1, 0);
  CHECK(ti.version != 0);
  REQUIRE(ti.tsc_to_system_mul != 0);
  uint64_t hz = pvkvm_tsc_hz();
  printf("TSC: %llu kHz\n", (unsigned long long)hz / 1000);
  CHECK(hz >= 100000000ULL && hz <= 20000000000ULL);

  uint64_t a = pvkvm_time_ns();
  for (volatile int i = 0; i < 100000; i++) {}
  uint64_t b = pvkvm_time_ns();
  CHECK(b > a);
  uint64_t g1 = now(), c = pvkvm_time_ns(), g2 = now();
  printf("pvclock %llu vs HVMOP_get_time %llu..%llu\n", (unsigned long long)c,
         (unsigned long long)g1, (unsigned long long)g2);
  CHECK(c + 10 * MS >= g1);
  CHECK(c <= g2 + 10 * MS);
  unsigned backwards = 0;
  uint64_t prev = pvkvm_time_ns();
  for (int i = 0; i < 10000; i++) {
    uint64_t t = pvkvm_time_ns();
    if (t < prev) backwards++;
    prev = t;
  }
  printf("pvclock went backwards %u times in 10000 reads\n", backwards);
  if (ti.flags & XEN_PVCLOCK_TSC_STABLE_BIT) CHECK_EQ(backwards, 0);

  /* ---- wall clock ---- */
  uint64_t sec = 0;
  uint32_t nsec = 0;
  CHECK_EQ(pvkvm_wallclock(&sec, &nsec), 0);
  printf("wall clock: %llu.%09u s since 1970 (about year %llu)\n", (unsigned long long)sec, nsec,
         (unsigned long long)(1970 + sec / 31556952));
  CHECK_EQ(pvkvm_shared_info()->wc_version & 1, 0);
  CHECK(sec >= 1735689600ULL); /* 2025-01-01 */
  CHECK(sec < 4102444800ULL);  /* 2100-01-01 */
  CHECK(nsec < NSEC_PER_SEC);

  /* ---- the timer ---- */
  long rc = evtchn_init(mode);
  if (!CHECK_EQ(rc, 0)) test_done();
  REQUIRE(pvkvm_timer_init() == 0);
  pvkvm_timer_set_hook(on_timer, NULL);
  evtchn_run_pending();
  nfires = 0;
  sti();

  /* pvclock keeps pace with the hypervisor's clock over 100 ms. */
  g1 = now();
  a = pvkvm_time_ns();
  CHECK_EQ(pvkvm_sleep_ns(100 * MS), 0);
  g2 = now();
  b = pvkvm_time_ns();
  printf("pvkvm_sleep_ns(100 ms): %llu us by HVMOP_get_time, %llu us by pvclock\n",
         (unsigned long long)(g2 - g1) / 1000, (unsigned long long)(b - a) / 1000);
  CHECK(b - a >= 100 * MS);   /* pvkvm_sleep_ns waits by pvclock ... */
  CHECK(g2 - g1 >= 99 * MS);  /* ... which may differ from the hypervisor's clock by a little */
  int64_t drift = (int64_t)(b - a) - (int64_t)(g2 - g1);
  CHECK(drift < (int64_t)(10 * MS) && drift > -(int64_t)(10 * MS));
  /* pvkvm_sleep_ns cancelled its timer (set_timer_op(0)) and consumed the event: nothing more
   * may arrive. */
  expect_silence("after pvkvm_sleep_ns's set_timer_op(0)", 30);
  nfires = 0;

  uint64_t t0, dl;
  t0 = now();
  dl = t0 + 20 * MS;
  cli(); /* no upcall may run the handler before expect_fire counts */
  CHECK_EQ(pvkvm_set_timer(dl), 0);
  expect_fire("set_timer_op(+20 ms)", dl, 2000);

  t0 = now();
  cli(); /* no upcall may run the handler before expect_fire counts */
  CHECK_EQ(pvkvm_set_timer(1), 0); /* long past */
  expect_fire("set_timer_op(past)", t0, 1000);

  CHECK_EQ(pvkvm_set_timer(now() + 30 * MS), 0);
  CHECK_EQ(pvkvm_set_timer(0), 0);
  expect_silence("set_timer_op(0) after +30 ms", 100);

  /* Cancelling right around the expiry: once set_timer_op(0) has returned and the event (if it
   * fired first) has been consumed, nothing more may arrive. */
  unsigned stray = 0, before_cancel = 0;
  for (int k = 0; k < 20; k++) {
    cli();
    uint64_t d = now() + 2 * MS;
    int64_t offset = (int64_t)(k - 10) * 40000; /* -400 us .. +360 us around the deadline */
    CHECK_EQ(pvkvm_set_timer(d), 0);
    while ((int64_t)(now() - d) < offset) cpu_relax();
    CHECK_EQ(pvkvm_set_timer(0), 0);
    unsigned n0 = nfires;
    evtchn_run_pending();
    before_cancel += nfires - n0;
    n0 = nfires;
    sti();
    if (wait_fires(n0 + 1, 20)) stray++;
  }
  printf("cancel around expiry: %u of 20 fired before the cancel, %u stray events after it\n",
         before_cancel, stray);
  CHECK_EQ(stray, 0);

  /* Negative, or more than 2^50 ns ahead: Xen uses now + 100 ms instead. */
  t0 = now();
  cli(); /* no upcall may run the handler before expect_fire counts */
  CHECK_EQ(pvkvm_set_timer((uint64_t)-(int64_t)MS), 0);
  expect_fire("set_timer_op(negative)", t0 + 100 * MS, 2000);
  t0 = now();
  cli(); /* no upcall may run the handler before expect_fire counts */
  CHECK_EQ(pvkvm_set_timer(t0 + (1ULL << 51)), 0);
  expect_fire("set_timer_op(+2^51 ns)", t0 + 100 * MS, 2000);

  /* Setting it again replaces the deadline: +50 ms then +10 ms fires once. */
  t0 = now();
  CHECK_EQ(pvkvm_set_timer(t0 + 50 * MS), 0);
  CHECK_EQ(pvkvm_set_timer(t0 + 10 * MS), 0);
  unsigned n = nfires;
  CHECK(wait_fires(n + 1, 2000));
  CHECK(!wait_fires(n + 2, 100));
  CHECK_EQ(nfires, n + 1);
  if (n < MAX_FIRES) CHECK(fire_hv[n] >= t0 + 10 * MS);

  /* ---- VCPUOP_set_singleshot_timer / stop_singleshot_timer ---- */
  struct vcpu_set_singleshot_timer sst = {0};
  t0 = now();
  sst.timeout_abs_ns = dl = t0 + 20 * MS;
  cli(); /* no upcall may run the handler before expect_fire counts */
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &sst), 0);
  expect_fire("singleshot(+20 ms)", dl, 2000);

  t0 = now();
  sst.timeout_abs_ns = t0 - 5 * MS;
  sst.flags = VCPU_SSHOTTMR_future; /* current Xen ignores it: no -ETIME, fires at once */
  cli(); /* no upcall may run the handler before expect_fire counts */
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &sst), 0);
  expect_fire("singleshot(past, future flag)", t0 - 5 * MS, 1000);
  sst.flags = 0;

  sst.timeout_abs_ns = now() + 30 * MS;
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &sst), 0);
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0);
  expect_silence("stop_singleshot_timer", 100);

  /* One timer: set_timer_op's deadline is cancelled by stop_singleshot_timer, and vice versa. */
  CHECK_EQ(pvkvm_set_timer(now() + 30 * MS), 0);
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0);
  expect_silence("set_timer_op then stop_singleshot_timer", 100);
  sst.timeout_abs_ns = now() + 30 * MS;
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &sst), 0);
  CHECK_EQ(pvkvm_set_timer(0), 0);
  expect_silence("singleshot then set_timer_op(0)", 100);

  /* Another vCPU's timer: -EINVAL if that vCPU exists, -ENOENT if not. */
  long up = HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL);
  long expected = up >= 0 ? -XEN_EINVAL : -XEN_ENOENT;
  printf("vcpu 1: is_up -> %ld\n", up);
  sst.timeout_abs_ns = now() + 30 * MS;
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &sst), expected);
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 1, NULL), expected);
  CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 5, &sst), -XEN_ENOENT);
  expect_silence("singleshot for another vCPU", 60);

  /* ---- three timers in sequence fire in order ---- */
  uint64_t dls[3];
  unsigned first = nfires;
  for (int k = 0; k < 3; k++) {
    dls[k] = now() + (unsigned)(10 + 5 * k) * MS;
    if (k == 1) {
      sst.timeout_abs_ns = dls[k];
      CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &sst), 0);
    } else {
      CHECK_EQ(pvkvm_set_timer(dls[k]), 0);
    }
    CHECK(wait_fires(first + k + 1, 2000));
  }
  CHECK(!wait_fires(first + 4, 50));
  CHECK_EQ(nfires, first + 3);
  if (first + 3 <= MAX_FIRES) {
    for (int k = 0; k < 3; k++) {
      CHECK(fire_hv[first + k] >= dls[k]);
      if (k > 0) CHECK(fire_hv[first + k] > fire_hv[first + k - 1]);
    }
  }

  /* ---- pvkvm_sleep_ns ---- */
  a = pvkvm_time_ns();
  CHECK_EQ(pvkvm_sleep_ns(15 * MS), 0);
  b = pvkvm_time_ns();
  CHECK(b - a >= 15 * MS);

  CHECK_EQ(evtchn_unhandled_count(), 0);
  cli();
  test_done();
}
