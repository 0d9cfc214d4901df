/*
 * evtchn-upcall: event delivery through the upcall interrupt.
 *   mode=vector    (default) HVMOP_set_evtchn_upcall_vector: a LAPIC vector, EOI'd by the guest
 *   mode=callback  HVM_PARAM_CALLBACK_IRQ type VECTOR: injected while upcall_pending, no EOI
 * Checks: 1000 IPI sends run the handler exactly 1000 times; with interrupts off the handler
 * does not run until they are enabled; a masked port is delivered when unmasked; several ports
 * (one in selector word 1) in one upcall; a loopback interdomain pair; a vCPU halted in
 * `sti; hlt` is woken by an event (VIRQ_TIMER).
 */
#include <pvkvm/pvkvm.h>

static volatile unsigned counts[EVTCHN_NR_PORTS];

static void count_event(evtchn_port_t port, void *arg) { counts[port]++; }

/* Spin (interrupt flag unchanged) until counts[port] >= target or `ms` pass. */
static int wait_count(evtchn_port_t port, unsigned target, unsigned ms) {
  uint64_t end = pvkvm_time_ns() + ms * NSEC_PER_MSEC;
  while (counts[port] < target) {
    if (pvkvm_time_ns() >= end) return 0;
    cpu_relax();
  }
  return 1;
}

static void spin_ms(unsigned ms) {
  uint64_t end = pvkvm_time_ns() + ms * NSEC_PER_MSEC;
  while (pvkvm_time_ns() < end) cpu_relax();
}

static evtchn_port_t new_ipi(void) {
  evtchn_port_t p = 0;
  long rc = evtchn_bind_ipi(0, &p);
  if (!CHECK_EQ(rc, 0)) test_exit(TEST_FAILURE);
  evtchn_set_handler(p, count_event, NULL);
  return p;
}

int main(void) {
  REQUIRE_XEN();
  char mode_name[16] = "vector";
  pvkvm_cmdline_get("mode", mode_name, sizeof(mode_name));
  enum evtchn_upcall_mode mode;
  if (strcmp(mode_name, "vector") == 0) mode = EVTCHN_UPCALL_VECTOR;
  else if (strcmp(mode_name, "callback") == 0) mode = EVTCHN_CALLBACK_VECTOR;
  else {
    printf("unknown mode=%s (vector|callback)\n", mode_name);
    test_exit(TEST_ERROR);
  }
  printf("upcall mode: %s\n", mode_name);
  cli();

  if (mode == EVTCHN_UPCALL_VECTOR) {
    struct xen_hvm_evtchn_upcall_vector uv = {0};
    uv.vcpu = 0;
    uv.vector = 0x0f; /* vectors below 0x10 are refused */
    CHECK_EQ(HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), -XEN_EINVAL);
    uv.vcpu = 5;
    uv.vector = PVKVM_UPCALL_VECTOR;
    CHECK_EQ(HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), -XEN_ENOENT);
  }
  long rc = evtchn_init(mode);
  if (!CHECK_EQ(rc, 0)) test_exit(TEST_FAILURE);
  if (mode == EVTCHN_CALLBACK_VECTOR) {
    uint64_t v = 0;
    CHECK_EQ(pvkvm_hvm_get_param(HVM_PARAM_CALLBACK_IRQ, &v), 0);
    CHECK_EQ(v, (2ULL << 56) | PVKVM_UPCALL_VECTOR);
  }
  CHECK(lapic_read(LAPIC_SVR) & LAPIC_SVR_ENABLE);
  evtchn_run_pending(); /* anything pending from before */

  /* 1. 1000 sends with interrupts enabled: the handler runs once per send. */
  evtchn_port_t p = new_ipi();
  sti();
  unsigned lost = 0, extra = 0;
  for (unsigned i = 0; i < 1000; i++) {
    CHECK_EQ(evtchn_send(p), 0);
    if (!wait_count(p, i + 1, 1000)) {
      lost++;
      printf("send %u: the handler did not run within 1 s\n", i);
      break;
    }
    if (counts[p] != i + 1) {
      extra++;
      printf("send %u: handler count %u\n", i, counts[p]);
      break;
    }
  }
  CHECK_EQ(lost, 0);
  CHECK_EQ(extra, 0);
  spin_ms(10);
  CHECK_EQ(counts[p], 1000);
  CHECK(!evtchn_pending(p));
  printf("1000 sends: handler ran %u times in %llu upcalls\n", counts[p],
         (unsigned long long)evtchn_upcall_count());
  CHECK(evtchn_upcall_count() >= 1);

  /* 2. Interrupts off: the event waits; enabling interrupts delivers it once. */
  cli();
  unsigned before = counts[p];
  uint64_t upcalls_before = evtchn_upcall_count();
  CHECK_EQ(evtchn_send(p), 0);
  spin_ms(5);
  CHECK_EQ(counts[p], before);
  CHECK_EQ(evtchn_upcall_count(), upcalls_before);
  CHECK(evtchn_pending(p));
  CHECK_EQ(pvkvm_vcpu_info()->evtchn_upcall_pending, 1);
  sti();
  CHECK(wait_count(p, before + 1, 1000));
  spin_ms(5);
  CHECK_EQ(counts[p], before + 1);
  CHECK(evtchn_upcall_count() > upcalls_before);

  /* 3. A masked port is not delivered; evtchn_unmask (EVTCHNOP_unmask) delivers it. */
  before = counts[p];
  evtchn_mask(p);
  CHECK_EQ(evtchn_send(p), 0);
  spin_ms(5);
  CHECK_EQ(counts[p], before);
  CHECK(evtchn_pending(p));
  CHECK_EQ(evtchn_unmask(p), 0);
  CHECK(wait_count(p, before + 1, 1000));
  spin_ms(5);
  CHECK_EQ(counts[p], before + 1);
  CHECK(!evtchn_pending(p));

  /* 4. Several ports, one of them in selector word 1, raised together. */
  cli();
  evtchn_port_t filler[70];
  unsigned nfill = 0;
  while (nfill < 70 && evtchn_alloc_unbound(DOMID_SELF, &filler[nfill]) == 0) nfill++;
  evtchn_port_t high = new_ipi();
  evtchn_port_t a = new_ipi(), b = new_ipi();
  for (unsigned i = 0; i < nfill; i++) evtchn_close(filler[i]);
  printf("ports %u, %u, %u, %u\n", p, a, b, high);
  CHECK(high >= 64);
  unsigned cp = counts[p], ca = counts[a], cb = counts[b], ch = counts[high];
  CHECK_EQ(evtchn_send(high), 0);
  CHECK_EQ(evtchn_send(a), 0);
  CHECK_EQ(evtchn_send(b), 0);
  CHECK_EQ(evtchn_send(p), 0);
  sti();
  CHECK(wait_count(p, cp + 1, 1000));
  CHECK(wait_count(a, ca + 1, 1000));
  CHECK(wait_count(b, cb + 1, 1000));
  CHECK(wait_count(high, ch + 1, 1000));
  spin_ms(2);
  CHECK_EQ(counts[p], cp + 1);
  CHECK_EQ(counts[a], ca + 1);
  CHECK_EQ(counts[b], cb + 1);
  CHECK_EQ(counts[high], ch + 1);
  cli();

  /* 5. A loopback interdomain pair: each end's send runs the other end's handler. */
  evtchn_port_t u = 0, v = 0;
  CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, &u), 0);
  evtchn_set_handler(u, count_event, NULL);
  CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, u, &v), 0);
  evtchn_set_handler(v, count_event, NULL);
  sti(); /* binding marked v pending */
  CHECK(wait_count(v, 1, 1000));
  spin_ms(2);
  CHECK_EQ(counts[v], 1);
  CHECK_EQ(counts[u], 0);
  CHECK_EQ(evtchn_send(u), 0);
  CHECK(wait_count(v, 2, 1000));
  CHECK_EQ(evtchn_send(v), 0);
  CHECK(wait_count(u, 1, 1000));
  spin_ms(2);
  CHECK_EQ(counts[u], 1);
  CHECK_EQ(counts[v], 2);

  /* 6. A halted vCPU (sti; hlt) is woken by an event: VIRQ_TIMER 10 ms ahead. */
  cli();
  CHECK_EQ(pvkvm_timer_init(), 0);
  uint64_t fired = pvkvm_timer_fired();
  uint64_t deadline = pvkvm_hvm_time_ns() + 10 * NSEC_PER_MSEC;
  CHECK_EQ(pvkvm_set_timer(deadline), 0);
  printf("halting until VIRQ_TIMER wakes us\n");
  console_flush();
  unsigned halts = 0;
  while (pvkvm_timer_fired() == fired) {
    safe_halt();
    cli();
    halts++;
  }
  uint64_t woke = pvkvm_hvm_time_ns();
  printf("woken after %llu us (%u halts)\n", (unsigned long long)(woke - (deadline - 10 * NSEC_PER_MSEC)) / 1000,
         halts);
  CHECK(woke >= deadline);
  sti();

  spin_ms(5);
  CHECK_EQ(evtchn_unhandled_count(), 0);
  if (mode == EVTCHN_UPCALL_VECTOR) CHECK(!lapic_in_service(PVKVM_UPCALL_VECTOR));
  printf("upcalls %llu, events %llu, spurious %llu\n", (unsigned long long)evtchn_upcall_count(),
         (unsigned long long)evtchn_event_count(), (unsigned long long)pvkvm_spurious_count);
  cli();
  test_done();
}
