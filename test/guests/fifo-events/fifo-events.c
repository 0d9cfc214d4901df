/*
 * fifo-events: events under the FIFO ABI, delivered by the upcall (a per-vCPU vector) and read in
 * queue order: IPIs at two priorities, a loopback interdomain channel, VIRQ_TIMER at the highest
 * priority, masking and EVTCHNOP_unmask, one upcall for a burst, vCPU 1's own queues, and the PV
 * console's port (a dom0 channel) raised by dom0 into the event array.
 */
#include <pvkvm/pvkvm.h>

#include <pvkvm/evtchn_fifo.h>

#define MAX_SEEN 64

static volatile evtchn_port_t seen[MAX_SEEN];
static volatile unsigned nseen;

static void on_event(evtchn_port_t port, void *arg) {
  if (nseen < MAX_SEEN) seen[nseen] = port;
  nseen++;
}

/* With interrupts off: let the upcall in until `n` events were seen or 2 s pass. */
static int wait_seen(unsigned n) {
  uint64_t end = pvkvm_time_ns() + 2 * NSEC_PER_SEC;
  while (nseen < n && pvkvm_time_ns() < end) {
    safe_halt();
    cli();
  }
  return nseen >= n;
}

static evtchn_port_t bind_ipi(uint32_t prio) {
  evtchn_port_t p = 0;
  CHECK_EQ(evtchn_bind_ipi(0, &p), 0);
  CHECK_EQ(evtchn_fifo_setup(p), 0);
  CHECK_EQ(evtchn_fifo_set_priority(p, prio), 0);
  CHECK_EQ(evtchn_fifo_unmask(p), 0);
  return p;
}

static void check_order(const evtchn_port_t *want, unsigned n, const char *what) {
  int ok = CHECK_EQ(nseen, n);
  for (unsigned i = 0; ok && i < n; i++) ok = CHECK_EQ(seen[i], want[i]);
  if (!ok) {
    printf("  %s: got", what);
    for (unsigned i = 0; i < nseen && i < MAX_SEEN; i++) printf(" %u", seen[i]);
    printf("\n");
  }
}

int main(void) {
  REQUIRE_XEN();
  printf("fifo-events: at CPL %d\n", pvkvm_at_cpl3() ? 3 : 0); /* the SDK's default */
  cli();
  REQUIRE(pvkvm_shared_info() != NULL);
  uint64_t cons_param = 0; /* the PV console's port, bound by dom0 before we switch */
  evtchn_port_t cons = pvkvm_hvm_get_param(HVM_PARAM_CONSOLE_EVTCHN, &cons_param) == 0 ? (evtchn_port_t)cons_param : 0;
  REQUIRE(evtchn_fifo_init(0) == 0);
  REQUIRE(evtchn_fifo_expand() == 0);
  REQUIRE(evtchn_fifo_upcall_init(on_event, NULL) == 0);

  /* ---- queue and priority order, one upcall for the burst ---- */
  evtchn_port_t a = bind_ipi(7), b = bind_ipi(7), c = bind_ipi(7), d = bind_ipi(3), e = bind_ipi(3);
  uint64_t upcalls = evtchn_fifo_upcall_count();
  nseen = 0;
  evtchn_port_t sends[] = {c, a, d, b, e};
  for (unsigned i = 0; i < 5; i++) CHECK_EQ(evtchn_send(sends[i]), 0);
  CHECK_EQ(evtchn_fifo_control(0)->ready, (1u << 3) | (1u << 7));
  CHECK_EQ(evtchn_fifo_control(0)->head[7], c);
  CHECK_EQ(evtchn_fifo_link(c), a);
  CHECK_EQ(evtchn_send(a), 0); /* already pending: merged, not linked twice */
  CHECK(wait_seen(5));
  evtchn_port_t order[] = {d, e, c, a, b};
  check_order(order, 5, "priority 3 first, then 7, each in send order");
  printf("burst of 5: %llu upcalls\n", (unsigned long long)(evtchn_fifo_upcall_count() - upcalls));
  CHECK(evtchn_fifo_upcall_count() - upcalls >= 1);
  CHECK_EQ(evtchn_fifo_control(0)->ready, 0);

  /* ---- a loopback interdomain channel ---- */
  evtchn_port_t l1 = 0, l2 = 0;
  CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, &l1), 0);
  CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, l1, &l2), 0); /* marks l2 pending (masked yet) */
  CHECK_EQ(evtchn_fifo_setup(l2), 0);
  CHECK(evtchn_fifo_pending(l2));
  CHECK(!evtchn_fifo_linked(l2));
  nseen = 0;
  CHECK_EQ(evtchn_fifo_unmask(l1), 0);
  CHECK_EQ(evtchn_fifo_unmask(l2), 0); /* pending: the hypervisor links it */
  CHECK(wait_seen(1));
  CHECK_EQ(seen[0], l2);
  nseen = 0;
  CHECK_EQ(evtchn_send(l2), 0);
  CHECK_EQ(evtchn_send(l1), 0);
  CHECK(wait_seen(2));
  evtchn_port_t loop_order[] = {l1, l2};
  check_order(loop_order, 2, "interdomain");

  /* ---- masking: pending, not linked, no upcall; unmask delivers ---- */
  nseen = 0;
  evtchn_fifo_mask(a);
  upcalls = evtchn_fifo_upcall_count();
  CHECK_EQ(evtchn_send(a), 0);
  CHECK(evtchn_fifo_pending(a));
  CHECK(!evtchn_fifo_linked(a));
  CHECK_EQ(evtchn_fifo_control(0)->ready, 0);
  sti();
  for (volatile int i = 0; i < 100000; i++) cpu_relax();
  cli();
  CHECK_EQ(nseen, 0);
  CHECK_EQ(evtchn_fifo_unmask(a), 0);
  CHECK(wait_seen(1));
  CHECK_EQ(seen[0], a);
  CHECK(!evtchn_fifo_masked(a));
  CHECK(evtchn_fifo_upcall_count() > upcalls);

  /* ---- VIRQ_TIMER at the highest priority, ahead of a queued IPI ---- */
  evtchn_port_t t = 0;
  CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &t), 0);
  CHECK_EQ(evtchn_fifo_setup(t), 0);
  CHECK_EQ(evtchn_fifo_set_priority(t, EVTCHN_FIFO_PRIORITY_MAX), 0);
  CHECK_EQ(evtchn_fifo_unmask(t), 0);
  nseen = 0;
  evtchn_fifo_mask(b); /* hold b back, pending, until the timer fired too */
  CHECK_EQ(evtchn_send(b), 0);
  CHECK_EQ(HYPERVISOR_set_timer_op(pvkvm_time_ns() + 2 * NSEC_PER_MSEC), 0);
  uint64_t end = pvkvm_time_ns() + NSEC_PER_SEC;
  /* IF = 0: not consumed yet. The hypervisor sets P first and links the event onto the queue
   * (head[0]) just after, from another thread: wait for both, not for P alone. */
  while ((!evtchn_fifo_pending(t) || evtchn_fifo_control(0)->head[0] != t) && pvkvm_time_ns() < end) cpu_relax();
  CHECK(evtchn_fifo_pending(t));
  CHECK_EQ(evtchn_fifo_control(0)->head[0], t);
  evtchn_fifo_clear(b); /* now both go on the queues at once: b at 7 behind the timer at 0 */
  evtchn_fifo_unmask(b);
  CHECK_EQ(evtchn_send(b), 0);
  CHECK(wait_seen(2));
  evtchn_port_t timer_order[] = {t, b};
  check_order(timer_order, 2, "timer first");

  /* ---- vCPU 1's queues ---- */
  if (pvkvm_nr_vcpus() > 1) {
    CHECK_EQ(evtchn_fifo_init(1), 0);
    evtchn_port_t v1 = 0;
    CHECK_EQ(evtchn_bind_ipi(1, &v1), 0);
    CHECK_EQ(evtchn_fifo_setup(v1), 0);
    CHECK_EQ(evtchn_fifo_unmask(v1), 0);
    nseen = 0;
    CHECK_EQ(evtchn_send(v1), 0);
    CHECK_EQ(evtchn_fifo_control(1)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], v1);
    CHECK_EQ(evtchn_fifo_control(1)->ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
    CHECK_EQ(evtchn_fifo_control(0)->ready, 0);
    CHECK_EQ(evtchn_fifo_consume(1, on_event, NULL, 0), 1);
    CHECK_EQ(seen[0], v1);
    /* Moved to vCPU 0 (bind_vcpu): its next event queues there. */
    evtchn_port_t ipi1 = 0;
    CHECK_EQ(evtchn_bind_vcpu(v1, 0), -XEN_EINVAL); /* an IPI stays on its vCPU */
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, &ipi1), 0);
    CHECK_EQ(evtchn_fifo_setup(ipi1), 0);
    CHECK_EQ(evtchn_fifo_unmask(ipi1), 0);
    CHECK_EQ(evtchn_bind_vcpu(ipi1, 1), 0);
    evtchn_port_t peer = 0;
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, ipi1, &peer), 0);
    CHECK_EQ(evtchn_fifo_setup(peer), 0);
    CHECK_EQ(evtchn_send(peer), 0); /* raises ipi1 on vCPU 1 */
    CHECK_EQ(evtchn_fifo_control(1)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], ipi1);
    CHECK_EQ(evtchn_fifo_consume(1, NULL, NULL, 0), 1);
  } else {
    printf("one vCPU: vCPU 1's queues not checked\n");
  }

  /* ---- a dom0 channel: the console backend's notifications land in the event array ---- */
  if (cons != 0) {
    CHECK_EQ(evtchn_fifo_setup(cons), 0);
    CHECK(evtchn_fifo_masked(cons)); /* the SDK leaves it masked: its driver polls */
    evtchn_fifo_clear(cons);
    printf("console port %u: waiting for dom0's notification\n", cons);
    console_flush();
    uint64_t until = pvkvm_time_ns() + 2 * NSEC_PER_SEC;
    while (!evtchn_fifo_pending(cons) && pvkvm_time_ns() < until) cpu_relax();
    CHECK(evtchn_fifo_pending(cons));
    evtchn_fifo_clear(cons);
  } else {
    printf("no PV console: the dom0 channel is not checked\n");
  }
  test_done();
}
