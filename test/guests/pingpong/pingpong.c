/*
 * pingpong: two domains bounce an interdomain event channel back and forth.
 *
 *   role=a peer=DOMID n=COUNT   allocates an unbound port for the peer first thing (so it is
 *                               port 1 in a fresh domain), prints `pingpong: port=N`, waits for
 *                               B's "ready" event, then sends COUNT pings, each after the
 *                               previous pong arrived.
 *   role=b peer=DOMID n=COUNT [port=N]
 *                               binds to A's port N (default 1), retrying with SCHEDOP_yield
 *                               while bind_interdomain says -ESRCH (no such domain yet) or -EINVAL
 *                               (not allocated yet); drops the pending bit the bind sets on its new
 *                               port; sends "ready"; its handler answers every ping with a pong.
 * Options: mode=vector|callback (upcall, default vector), wait=halt|block|poll (how to wait:
 * `sti; hlt`, SCHEDOP_block, or SCHEDOP_poll on the port; default halt), timeout_ms=T (whole run,
 * default 20000; enforced with VIRQ_TIMER so a halted vCPU wakes up).
 *
 * The protocol is strictly alternating, so each side must receive exactly COUNT events (A: plus
 * the ready event). Prints `pingpong: received=N rtt_us=X` and the test result.
 */
#include <pvkvm/pvkvm.h>

enum wait_kind { WAIT_HALT, WAIT_BLOCK, WAIT_POLL };

static evtchn_port_t port;
static volatile unsigned events;
static volatile uint64_t first_ns, last_ns;
static int is_b;
static enum wait_kind wait_kind = WAIT_HALT;
static uint64_t deadline;

static void on_event(evtchn_port_t p, void *arg) {
  uint64_t t = pvkvm_time_ns();
  if (events == 0) first_ns = t;
  last_ns = t;
  events++;
  if (is_b) evtchn_send(p); /* pong */
}

/* With interrupts off: wait until `events` reaches target or the run's deadline passes. */
static int wait_events(unsigned target) {
  while (events < target) {
    if (pvkvm_time_ns() >= deadline) return 0;
    switch (wait_kind) {
    case WAIT_HALT:
      safe_halt();
      cli();
      break;
    case WAIT_BLOCK:
      evtchn_block();
      break;
    case WAIT_POLL:
      evtchn_poll(&port, 1, deadline);
      evtchn_run_pending();
      break;
    }
  }
  return 1;
}

static void settle(unsigned ms) {
  uint64_t end = pvkvm_time_ns() + ms * NSEC_PER_MSEC;
  sti();
  while (pvkvm_time_ns() < end) cpu_relax();
  cli();
}

static void print_rtt(unsigned long long total_ns, unsigned rounds) {
  if (!rounds) {
    printf("pingpong: received=%u\n", is_b ? events : events - 1);
    return;
  }
  unsigned long long per = total_ns / rounds; /* ns per round trip */
  printf("pingpong: received=%u rtt_us=%llu.%03llu\n", is_b ? events : events - 1, per / 1000,
         per % 1000);
}

int main(void) {
  REQUIRE_XEN();
  cli();
  char role[8] = "", opt[16];
  pvkvm_cmdline_get("role", role, sizeof(role));
  unsigned long long peer = pvkvm_cmdline_ull("peer", DOMID_INVALID);
  unsigned n = (unsigned)pvkvm_cmdline_ull("n", 1000);
  if ((strcmp(role, "a") != 0 && strcmp(role, "b") != 0) || peer >= DOMID_FIRST_RESERVED) {
    printf("usage: role=a|b peer=DOMID n=COUNT [port=N] [mode=vector|callback] [wait=halt|block|poll]\n");
    test_exit(TEST_ERROR);
  }
  is_b = role[0] == 'b';
  enum evtchn_upcall_mode mode = EVTCHN_UPCALL_VECTOR;
  if (pvkvm_cmdline_get("mode", opt, sizeof(opt)) >= 0 && strcmp(opt, "callback") == 0)
    mode = EVTCHN_CALLBACK_VECTOR;
  if (pvkvm_cmdline_get("wait", opt, sizeof(opt)) >= 0) {
    if (strcmp(opt, "block") == 0) wait_kind = WAIT_BLOCK;
    else if (strcmp(opt, "poll") == 0) wait_kind = WAIT_POLL;
  }
  uint64_t timeout_ms = pvkvm_cmdline_ull("timeout_ms", 20000);
  static const char *const wait_names[] = {"halt", "block", "poll"};
  printf("pingpong: role=%s peer=%llu n=%u mode=%s wait=%s\n", role, peer, n,
         mode == EVTCHN_CALLBACK_VECTOR ? "callback" : "vector", wait_names[wait_kind]);

  long rc;
  if (!is_b) {
    /* First thing, so the port is deterministic (1 in a fresh domain). */
    rc = evtchn_alloc_unbound((domid_t)peer, &port);
    if (rc < 0) {
      printf("alloc_unbound(remote=%llu): %ld\n", peer, rc);
      test_exit(TEST_FAILURE);
    }
    printf("pingpong: port=%u\n", port);
    console_flush();
  }
  rc = evtchn_init(mode);
  if (rc < 0) {
    printf("evtchn_init: %ld\n", rc);
    test_exit(TEST_FAILURE);
  }
  REQUIRE(pvkvm_timer_init() == 0);
  deadline = pvkvm_time_ns() + timeout_ms * NSEC_PER_MSEC;
  CHECK_EQ(pvkvm_set_timer(deadline), 0); /* wakes a halted vCPU when the run is over time */

  struct evtchn_status_info st;
  if (is_b) {
    evtchn_port_t remote = (evtchn_port_t)pvkvm_cmdline_ull("port", 1);
    unsigned tries = 0;
    for (;;) {
      tries++;
      rc = evtchn_bind_interdomain((domid_t)peer, remote, &port);
      if (rc == 0) break;
      if (rc != -XEN_EINVAL && rc != -XEN_ESRCH) {
        printf("bind_interdomain(%llu, %u): %ld\n", peer, remote, rc);
        test_exit(TEST_FAILURE);
      }
      if (pvkvm_time_ns() >= deadline) {
        printf("bind_interdomain(%llu, %u): still %ld after %u tries\n", peer, remote, rc, tries);
        test_exit(TEST_ERROR);
      }
      HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    printf("pingpong: bound port %u to %llu:%u after %u tries\n", port, peer, remote, tries);
    CHECK(evtchn_pending(port)); /* bind_interdomain marks the new port pending */
    evtchn_clear(port);          /* A sends nothing before our "ready" */
    CHECK_EQ(evtchn_status(DOMID_SELF, port, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.remote_dom, peer);
    CHECK_EQ(st.remote_port, remote);
    evtchn_set_handler(port, on_event, NULL);
    evtchn_run_pending();
    CHECK_EQ(evtchn_send(port), 0); /* ready */
    if (!wait_events(n)) printf("timed out after %u of %u pings\n", events, n);
    settle(20);
    CHECK_EQ(events, n);
    print_rtt(n > 1 ? last_ns - first_ns : 0, n > 1 ? n - 1 : 0);
  } else {
    evtchn_set_handler(port, on_event, NULL);
    if (!wait_events(1)) {
      printf("no ready event from domain %llu\n", peer);
      test_exit(TEST_ERROR);
    }
    CHECK_EQ(evtchn_status(DOMID_SELF, port, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.remote_dom, peer);
    printf("pingpong: peer port %u\n", st.remote_port);
    /* An unprivileged domain may not act on another domain's event channels. */
    struct evtchn_alloc_unbound au = {0};
    au.dom = (domid_t)peer;
    au.remote_dom = DOMID_SELF;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), -XEN_EPERM);
    struct evtchn_status_info pst;
    CHECK_EQ(evtchn_status((domid_t)peer, st.remote_port, &pst), -XEN_EPERM);
    /* The peer's port is bound already. */
    CHECK_EQ(evtchn_bind_interdomain((domid_t)peer, st.remote_port, NULL), -XEN_EINVAL);

    uint64_t t0 = pvkvm_time_ns();
    unsigned done = 0;
    for (unsigned i = 1; i <= n; i++) {
      CHECK_EQ(evtchn_send(port), 0);
      if (!wait_events(i + 1)) {
        printf("timed out waiting for pong %u\n", i);
        break;
      }
      done = i;
    }
    uint64_t t1 = pvkvm_time_ns();
    settle(20);
    CHECK_EQ(events, n + 1);
    print_rtt(t1 - t0, done);
  }
  pvkvm_set_timer(0);
  test_done();
}
