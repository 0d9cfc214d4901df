/*
 * fifo-pingpong: two domains bounce an interdomain event channel, at least one of them on the FIFO
 * ABI, so sends go through the hypervisor's relay thread into an event array (and, with abi=2l on
 * one side, between the two ABIs).
 *
 *   role=a peer=DOMID n=COUNT [abi=fifo|2l]   allocates an unbound port for the peer first thing
 *                               (port 1 in a fresh domain), waits for B's "ready", then sends
 *                               COUNT pings, each after the previous pong arrived.
 *   role=b peer=DOMID n=COUNT [port=N] [abi=fifo|2l]
 *                               binds to A's port N (default 1), retrying while A is not there
 *                               yet; sends "ready"; answers every ping with a pong.
 * Both wait with `sti; hlt` for the upcall; a VIRQ_TIMER at timeout_ms (default 20000) ends a run
 * that hangs. Prints `fifo-pingpong: received=N` and the test result.
 */
#include <pvkvm/pvkvm.h>

#include <pvkvm/evtchn_fifo.h>

static evtchn_port_t port, timer_port;
static volatile unsigned events;
static int is_b, fifo;
static uint64_t deadline;

static void on_event(evtchn_port_t p, void *arg) {
  if (p != port) return; /* the timer, or the console */
  events++;
  if (is_b) evtchn_send(p); /* pong */
}

static int wait_events(unsigned target) {
  while (events < target) {
    if (pvkvm_time_ns() >= deadline) return 0;
    safe_halt();
    cli();
  }
  return 1;
}

/* The port is ours to receive on: under FIFO give it an event word and unmask it. */
static void use_port(evtchn_port_t p) {
  if (!fifo) {
    evtchn_set_handler(p, on_event, NULL);
    return;
  }
  CHECK_EQ(evtchn_fifo_setup(p), 0);
  CHECK_EQ(evtchn_fifo_unmask(p), 0);
}

int main(void) {
  REQUIRE_XEN();
  printf("fifo-pingpong: at CPL %d\n", pvkvm_at_cpl3() ? 3 : 0); /* the SDK's default */
  cli();
  char role[8] = "", abi[8] = "fifo";
  pvkvm_cmdline_get("role", role, sizeof(role));
  pvkvm_cmdline_get("abi", abi, sizeof(abi));
  unsigned long long peer = pvkvm_cmdline_ull("peer", DOMID_INVALID);
  unsigned n = (unsigned)pvkvm_cmdline_ull("n", 1000);
  if ((strcmp(role, "a") != 0 && strcmp(role, "b") != 0) || peer >= DOMID_FIRST_RESERVED) {
    printf("usage: role=a|b peer=DOMID n=COUNT [port=N] [abi=fifo|2l]\n");
    test_exit(TEST_ERROR);
  }
  is_b = role[0] == 'b';
  fifo = strcmp(abi, "2l") != 0;
  printf("fifo-pingpong: role=%s peer=%llu n=%u abi=%s\n", role, peer, n, fifo ? "fifo" : "2l");
  if (!is_b) {
    REQUIRE(evtchn_alloc_unbound((domid_t)peer, &port) == 0); /* first: port 1 */
    printf("fifo-pingpong: port=%u\n", port);
    console_flush();
  }
  REQUIRE(pvkvm_shared_info() != NULL);
  if (fifo) {
    REQUIRE(evtchn_fifo_init(0) == 0);
    REQUIRE(evtchn_fifo_expand() == 0);
    REQUIRE(evtchn_fifo_upcall_init(on_event, NULL) == 0);
  } else {
    REQUIRE(evtchn_init(EVTCHN_UPCALL_VECTOR) == 0);
  }
  deadline = pvkvm_time_ns() + pvkvm_cmdline_ull("timeout_ms", 20000) * NSEC_PER_MSEC;
  REQUIRE(evtchn_bind_virq(VIRQ_TIMER, 0, &timer_port) == 0);
  use_port(timer_port);
  CHECK_EQ(HYPERVISOR_set_timer_op(deadline), 0); /* wakes a halted vCPU when over time */

  if (is_b) {
    evtchn_port_t remote = (evtchn_port_t)pvkvm_cmdline_ull("port", 1);
    long rc;
    while ((rc = evtchn_bind_interdomain((domid_t)peer, remote, &port)) != 0) {
      if ((rc != -XEN_EINVAL && rc != -XEN_ESRCH) || pvkvm_time_ns() >= deadline) {
        printf("bind_interdomain(%llu, %u): %ld\n", peer, remote, rc);
        test_exit(TEST_FAILURE);
      }
      HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    /* bind_interdomain marks the new port pending: drop it, A sends nothing before "ready". */
    if (fifo) {
      CHECK_EQ(evtchn_fifo_setup(port), 0);
      CHECK(evtchn_fifo_pending(port));
      evtchn_fifo_clear(port);
    } else {
      evtchn_clear(port);
    }
    use_port(port);
    CHECK_EQ(evtchn_send(port), 0); /* ready */
    if (!wait_events(n)) printf("timed out after %u of %u pings\n", events, n);
    CHECK_EQ(events, n);
    printf("fifo-pingpong: received=%u\n", events);
  } else {
    use_port(port);
    if (!wait_events(1)) {
      printf("no ready event from domain %llu\n", peer);
      test_exit(TEST_ERROR);
    }
    for (unsigned i = 1; i <= n; i++) {
      CHECK_EQ(evtchn_send(port), 0);
      if (!wait_events(i + 1)) {
        printf("timed out waiting for pong %u\n", i);
        break;
      }
    }
    CHECK_EQ(events, n + 1);
    printf("fifo-pingpong: received=%u\n", events - 1);
  }
  HYPERVISOR_set_timer_op(0);
  test_done();
}
