/*
 * kick: the guest-side cost of an event-channel notification (EVTCHNOP_send on an interdomain
 * port, which pvkvm wires to an ioeventfd) against a null hypercall, measured in one run.
 *
 *   role=sender peer=DOMID [n=COUNT]   allocates port 1 for the peer, waits until it is bound,
 *                                      then times COUNT sends and COUNT xen_version calls with
 *                                      rdtsc and prints `send_cycles=X null_cycles=Y`.
 *   role=receiver peer=DOMID [port=N]  binds to the sender's port and halts forever (events
 *                                      are delivered but no handler runs: interrupts stay off).
 */
#include <pvkvm/pvkvm.h>

static uint64_t time_sends(evtchn_port_t port, unsigned n) {
  uint64_t t0 = rdtsc();
  for (unsigned i = 0; i < n; i++) evtchn_send(port);
  return (rdtsc() - t0) / n;
}

static uint64_t time_null(unsigned n) {
  uint64_t t0 = rdtsc();
  for (unsigned i = 0; i < n; i++) HYPERVISOR_xen_version(XENVER_version, NULL);
  return (rdtsc() - t0) / n;
}

int main(void) {
  REQUIRE_XEN();
  char role[16] = "";
  pvkvm_cmdline_get("role", role, sizeof(role));
  domid_t peer = (domid_t)pvkvm_cmdline_ull("peer", 0);
  unsigned n = (unsigned)pvkvm_cmdline_ull("n", 20000);
  REQUIRE(pvkvm_shared_info() != NULL);
  if (strcmp(role, "receiver") == 0) {
    evtchn_port_t remote = (evtchn_port_t)pvkvm_cmdline_ull("port", 1), local;
    long rc;
    while ((rc = evtchn_bind_interdomain(peer, remote, &local)) == -XEN_EINVAL || rc == -XEN_ESRCH)
      HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    printf("kick: receiver bound port %u (rc %ld)\n", local, rc);
    for (;;) HYPERVISOR_sched_op(SCHEDOP_block, NULL);
  }
  evtchn_port_t port;
  REQUIRE(evtchn_alloc_unbound(peer, &port) == 0);
  struct evtchn_status_info st;
  do {
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    REQUIRE(evtchn_status(DOMID_SELF, port, &st) == 0);
  } while (st.status != EVTCHNSTAT_interdomain);
  /* Warm up both paths, then measure them alternately so drift affects both alike. */
  time_sends(port, 1000);
  time_null(1000);
  uint64_t send = 0, null = 0;
  for (int round = 0; round < 4; round++) {
    send += time_sends(port, n / 4);
    null += time_null(n / 4);
  }
  printf("kick: send_cycles=%llu null_cycles=%llu\n", (unsigned long long)(send / 4), (unsigned long long)(null / 4));
  test_done();
}
