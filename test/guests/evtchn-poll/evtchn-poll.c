/*
 * evtchn-poll: SCHEDOP_poll and SCHEDOP_block (docs/xen-abi.md §7.1; Xen's do_poll/vcpu_block).
 * Part 1 (no upcall registered, interrupts off): argument errors, timeouts in the past and the
 * future, ports already pending (masked or not), a port becoming pending during the poll.
 * Part 2 (upcall registered, cmdline mode=vector|callback, default vector; interrupts off around
 * each block): SCHEDOP_block returns at once when an event is pending, and is woken by one.
 * Times are measured with HVMOP_get_time, the clock the timeouts use; only lower bounds are
 * strict (upper bounds are generous, to catch a wait that ignored its event).
 */
#include <pvkvm/pvkvm.h>

#define MS NSEC_PER_MSEC

static uint64_t now(void) { return pvkvm_hvm_time_ns(); }

static volatile unsigned counts[EVTCHN_NR_PORTS];
static void count_event(evtchn_port_t port, void *arg) { counts[port]++; }

static int sel_bit(evtchn_port_t port) {
  return (__atomic_load_n(&pvkvm_vcpu_info()->evtchn_pending_sel, __ATOMIC_SEQ_CST) >> (port / 64)) & 1;
}

/* No upcall is registered in part 1, so nothing consumes the selector and upcall flag that
 * sends leave behind. Clear them before a poll that must wait, so the result does not depend on
 * whether the hypervisor treats a pending upcall as a reason to return (Xen HVM does not while
 * interrupts are off; Xen PV does). */
static void quiesce_upcall(void) {
  __atomic_store_n(&pvkvm_vcpu_info()->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&pvkvm_vcpu_info()->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
}

int main(void) {
  REQUIRE_XEN();
  if (!pvkvm_shared_info()) {
    printf("shared_info: add_to_physmap failed: %ld\n", pvkvm_shared_info_error());
    test_exit(TEST_FAILURE);
  }
  cli();
  REQUIRE(now() != 0);
  evtchn_port_t p = 0, q = 0;
  REQUIRE(evtchn_bind_ipi(0, &p) == 0);
  REQUIRE(evtchn_bind_ipi(0, &q) == 0);
  REQUIRE(pvkvm_timer_init() == 0);
  evtchn_port_t tp = pvkvm_timer_port();
  uint64_t t0, t1;

  /* ---- part 1: SCHEDOP_poll ---- */
  static evtchn_port_t many[129];
  for (unsigned i = 0; i < 129; i++) many[i] = q;
  CHECK_EQ(evtchn_poll(many, 129, 0), -XEN_EINVAL); /* more than 128 ports */
  /* 128 is allowed: the last one pending returns at once. */
  CHECK_EQ(evtchn_send(p), 0);
  many[127] = p;
  t0 = now();
  CHECK_EQ(evtchn_poll(many, 128, t0 + 5000 * MS), 0);
  t1 = now();
  CHECK(t1 - t0 < 1000 * MS);
  evtchn_clear(p);

  evtchn_port_t bad[2] = {EVTCHN_NR_PORTS, q};
  CHECK_EQ(evtchn_poll(bad, 1, now() + 1000 * MS), -XEN_EINVAL); /* port 4096 */
  bad[0] = q;
  bad[1] = EVTCHN_NR_PORTS;
  CHECK_EQ(evtchn_poll(bad, 2, now() + 1000 * MS), -XEN_EINVAL);

  /* A timeout in the past returns (0) promptly. */
  quiesce_upcall();
  t0 = now();
  CHECK_EQ(evtchn_poll(&q, 1, 1), 0);
  CHECK_EQ(evtchn_poll(&q, 1, t0 - 1 * MS), 0);
  t1 = now();
  printf("poll with past timeouts: %llu us\n", (unsigned long long)(t1 - t0) / 1000);
  CHECK(t1 - t0 < 1000 * MS);

  /* A timeout 50 ms ahead with nothing pending: returns 0, not before the timeout. */
  quiesce_upcall();
  t0 = now();
  uint64_t deadline = t0 + 50 * MS;
  CHECK_EQ(evtchn_poll(&q, 1, deadline), 0);
  t1 = now();
  printf("poll with a 50 ms timeout: %llu us\n", (unsigned long long)(t1 - t0) / 1000);
  CHECK(t1 >= deadline);
  CHECK(!evtchn_pending(q));

  /* A port already pending (second in the list) returns at once and stays pending. */
  CHECK_EQ(evtchn_send(p), 0);
  evtchn_port_t qp[2] = {q, p};
  t0 = now();
  CHECK_EQ(evtchn_poll(qp, 2, t0 + 5000 * MS), 0);
  t1 = now();
  CHECK(t1 - t0 < 1000 * MS);
  CHECK(evtchn_pending(p));
  evtchn_clear(p);

  /* Pending but masked counts too (Linux polls masked ports). */
  evtchn_mask(p);
  CHECK_EQ(evtchn_send(p), 0);
  t0 = now();
  CHECK_EQ(evtchn_poll(&p, 1, t0 + 5000 * MS), 0);
  t1 = now();
  CHECK(t1 - t0 < 1000 * MS);
  evtchn_clear(p);
  evtchn_unmask(p);

  /* A port that becomes pending during the poll wakes it: VIRQ_TIMER 20 ms ahead. */
  evtchn_clear(tp);
  quiesce_upcall();
  t0 = now();
  CHECK_EQ(pvkvm_set_timer(t0 + 20 * MS), 0);
  CHECK_EQ(evtchn_poll(&tp, 1, t0 + 5000 * MS), 0);
  t1 = now();
  printf("poll woken by VIRQ_TIMER after %llu us\n", (unsigned long long)(t1 - t0) / 1000);
  CHECK(evtchn_pending(tp));
  CHECK(t1 >= t0 + 20 * MS);
  CHECK(t1 < t0 + 4000 * MS);
  evtchn_clear(tp);

  /* ... also when the port is masked (no upcall is raised for it, but the poller wakes). */
  evtchn_mask(tp);
  quiesce_upcall();
  t0 = now();
  CHECK_EQ(pvkvm_set_timer(t0 + 20 * MS), 0);
  CHECK_EQ(evtchn_poll(&tp, 1, t0 + 5000 * MS), 0);
  t1 = now();
  CHECK(evtchn_pending(tp));
  CHECK(!sel_bit(tp));
  CHECK_EQ(pvkvm_vcpu_info()->evtchn_upcall_pending, 0);
  CHECK(t1 >= t0 + 20 * MS);
  CHECK(t1 < t0 + 4000 * MS);
  evtchn_clear(tp);
  evtchn_unmask(tp);

  /* ---- part 2: SCHEDOP_block ---- */
  char mode_name[16] = "vector";
  pvkvm_cmdline_get("mode", mode_name, sizeof(mode_name));
  enum evtchn_upcall_mode mode =
      strcmp(mode_name, "callback") == 0 ? EVTCHN_CALLBACK_VECTOR : EVTCHN_UPCALL_VECTOR;
  long rc = evtchn_init(mode);
  printf("evtchn_init(%s): %ld\n", mode_name, rc);
  if (!CHECK_EQ(rc, 0)) test_done();
  evtchn_set_handler(p, count_event, NULL);
  evtchn_clear(p);
  evtchn_clear(q);
  evtchn_run_pending(); /* flush anything left from part 1 */

  /* An event already pending: block returns at once. evtchn_block() enables interrupts in the
   * STI shadow of the hypercall instruction, so the upcall is pending and deliverable (IF = 1)
   * when the hypervisor looks, and cannot have been taken before. A 2 s timer guards against
   * sleeping. */
  CHECK_EQ(evtchn_send(p), 0);
  CHECK_EQ(counts[p], 0);
  t0 = now();
  CHECK_EQ(pvkvm_set_timer(t0 + 2000 * MS), 0);
  CHECK_EQ(evtchn_block(), 0);
  t1 = now();
  CHECK_EQ(pvkvm_set_timer(0), 0);
  printf("block with an event pending: %llu us\n", (unsigned long long)(t1 - t0) / 1000);
  CHECK(t1 - t0 < 1000 * MS);
  CHECK_EQ(counts[p], 1); /* evtchn_block ran the handler */
  CHECK(!irqs_enabled());
  evtchn_run_pending();
  CHECK_EQ(counts[p], 1);
  evtchn_clear(tp);

  /* Nothing pending, interrupts off: block sleeps until an event (VIRQ_TIMER 20 ms ahead) wakes
   * it. Like Xen, a block may also end early for no visible reason: loop until the timer port is
   * pending, and count the blocks. */
  uint64_t fired = pvkvm_timer_fired();
  unsigned blocks = 0;
  t0 = now();
  CHECK_EQ(pvkvm_set_timer(t0 + 20 * MS), 0);
  while (!evtchn_pending(tp) && now() < t0 + 4000 * MS) {
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_block, NULL), 0);
    blocks++;
  }
  t1 = now();
  printf("block (IF=0) woken by VIRQ_TIMER after %llu us, %u blocks\n",
         (unsigned long long)(t1 - t0) / 1000, blocks);
  CHECK(evtchn_pending(tp));
  CHECK(t1 >= t0 + 20 * MS);
  CHECK(t1 < t0 + 4000 * MS);
  evtchn_run_pending();
  CHECK_EQ(pvkvm_timer_fired(), fired + 1);

  /* The same through evtchn_block (IF = 1 while blocked): the handler has run on return. */
  blocks = 0;
  t0 = now();
  CHECK_EQ(pvkvm_set_timer(t0 + 20 * MS), 0);
  while (pvkvm_timer_fired() == fired + 1 && now() < t0 + 4000 * MS) {
    CHECK_EQ(evtchn_block(), 0);
    CHECK(!irqs_enabled());
    blocks++;
  }
  t1 = now();
  printf("evtchn_block woken by VIRQ_TIMER after %llu us, %u blocks\n",
         (unsigned long long)(t1 - t0) / 1000, blocks);
  CHECK(t1 >= t0 + 20 * MS);
  CHECK(t1 < t0 + 4000 * MS);
  CHECK_EQ(pvkvm_timer_fired(), fired + 2);

  CHECK_EQ(evtchn_unhandled_count(), 0);
  test_done();
}
