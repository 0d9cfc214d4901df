/*
 * evtchn-ops: every EVTCHNOP a guest can use on its own domain, with Xen's return values
 * (common/event_channel.c, event_2l.c; docs/xen-abi.md §5). No upcall is registered and
 * interrupts stay off: every effect is checked in shared_info directly.
 */
#include <pvkvm/pvkvm.h>

#define NO_DOMAIN 0x7000 /* a domain id nobody has */
#define BAD_PORT EVTCHN_NR_PORTS

static struct shared_info *si;
static struct vcpu_info *vi;

static long op(int cmd, void *arg) { return HYPERVISOR_event_channel_op(cmd, arg); }

static long alloc_unbound_dom(domid_t dom, domid_t remote, evtchn_port_t *port) {
  struct evtchn_alloc_unbound a = {0};
  a.dom = dom;
  a.remote_dom = remote;
  a.port = 0xdead;
  long rc = op(EVTCHNOP_alloc_unbound, &a);
  if (port) *port = a.port;
  return rc;
}

static long raw_unmask(evtchn_port_t port) {
  struct evtchn_unmask u = {.port = port};
  return op(EVTCHNOP_unmask, &u);
}

static int sel_bit(evtchn_port_t port) {
  return (__atomic_load_n(&vi->evtchn_pending_sel, __ATOMIC_SEQ_CST) >> (port / 64)) & 1;
}
static int upcall_pending(void) { return __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST); }

/* Forget every notification: pending bits of `port`, the selector and the upcall flag. */
static void quiesce(evtchn_port_t port) {
  evtchn_clear(port);
  __atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
}

static void check_status(evtchn_port_t port, uint32_t status, const char *what) {
  struct evtchn_status_info st;
  long rc = evtchn_status(DOMID_SELF, port, &st);
  if (!CHECK_EQ(rc, 0) || !CHECK_EQ(st.status, status))
    printf("  (status of %s port %u)\n", what, port);
}

int main(void) {
  REQUIRE_XEN();
  si = pvkvm_shared_info();
  if (!si) {
    printf("shared_info: add_to_physmap failed: %ld\n", pvkvm_shared_info_error());
    test_exit(TEST_FAILURE);
  }
  vi = pvkvm_vcpu_info();
  cli();
  struct evtchn_status_info st;

  /* Ports already in use at boot (e.g. toolstack-made console/xenstore channels). */
  unsigned preexisting = 0;
  for (evtchn_port_t p = 1; p < EVTCHN_NR_PORTS; p++)
    if (evtchn_status(DOMID_SELF, p, &st) == 0 && st.status != EVTCHNSTAT_closed) preexisting++;
  printf("ports in use at boot: %u\n", preexisting);

  /* ---- alloc_unbound ---- */
  evtchn_port_t p1 = 0;
  CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, &p1), 0);
  CHECK(p1 != 0 && p1 < EVTCHN_NR_PORTS);
  if (preexisting == 0) CHECK_EQ(p1, 1); /* the lowest free port; port 0 is reserved */
  CHECK_EQ(evtchn_status(DOMID_SELF, p1, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_unbound);
  CHECK_EQ(st.vcpu, 0);
  /* remote_dom DOMID_SELF is recorded as our own id. */
  domid_t self = st.remote_dom;
  printf("own domid (from status of a loopback unbound port): %u\n", self);
  CHECK(self < DOMID_FIRST_RESERVED);
  int cpuid_domid = pvkvm_domid();
  if (cpuid_domid >= 0) CHECK_EQ(self, cpuid_domid);
  CHECK(!evtchn_pending(p1));
  /* dom may name ourselves by id; an unknown dom is -ESRCH. */
  evtchn_port_t p_byid = 0;
  CHECK_EQ(alloc_unbound_dom(self, DOMID_SELF, &p_byid), 0);
  CHECK(p_byid != p1 && p_byid != 0);
  CHECK_EQ(alloc_unbound_dom(NO_DOMAIN, DOMID_SELF, NULL), -XEN_ESRCH);
  /* remote_dom is not checked: an unbound port may wait for a domain that does not exist yet. */
  evtchn_port_t p_far = 0;
  CHECK_EQ(evtchn_alloc_unbound(NO_DOMAIN, &p_far), 0);
  CHECK_EQ(evtchn_status(DOMID_SELF, p_far, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_unbound);
  CHECK_EQ(st.remote_dom, NO_DOMAIN);

  /* ---- bind_interdomain: a loopback pair p1 <-> p2 ---- */
  quiesce(p1);
  evtchn_port_t p2 = 0;
  CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, p1, &p2), 0);
  CHECK(p2 != 0 && p2 != p1 && p2 != p_byid && p2 != p_far && p2 < EVTCHN_NR_PORTS);
  CHECK(evtchn_pending(p2)); /* Xen marks the new local port pending, to cover earlier sends */
  CHECK(!evtchn_pending(p1));
  CHECK(sel_bit(p2));
  CHECK(upcall_pending());
  CHECK_EQ(evtchn_status(DOMID_SELF, p1, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
  CHECK_EQ(st.remote_dom, self);
  CHECK_EQ(st.remote_port, p2);
  CHECK_EQ(evtchn_status(DOMID_SELF, p2, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
  CHECK_EQ(st.remote_dom, self);
  CHECK_EQ(st.remote_port, p1);
  CHECK_EQ(st.vcpu, 0);
  /* Errors: the remote port must be unbound and name us; the domain must exist. */
  CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, p1, NULL), -XEN_EINVAL);     /* now bound */
  CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, p_far, NULL), -XEN_EINVAL);  /* for another dom */
  CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, 0, NULL), -XEN_EINVAL);      /* reserved */
  CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, BAD_PORT, NULL), -XEN_EINVAL);
  CHECK_EQ(evtchn_bind_interdomain(NO_DOMAIN, p1, NULL), -XEN_ESRCH);
  /* By our own id instead of DOMID_SELF. */
  evtchn_port_t p_byid_peer = 0;
  CHECK_EQ(evtchn_bind_interdomain(self, p_byid, &p_byid_peer), 0);
  CHECK_EQ(evtchn_status(DOMID_SELF, p_byid, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
  CHECK_EQ(st.remote_port, p_byid_peer);

  /* ---- send ---- */
  quiesce(p1);
  quiesce(p2);
  CHECK_EQ(evtchn_send(p1), 0);
  CHECK(evtchn_pending(p2));
  CHECK(!evtchn_pending(p1));
  CHECK(sel_bit(p2));
  CHECK(upcall_pending());
  quiesce(p2);
  CHECK_EQ(evtchn_send(p2), 0);
  CHECK(evtchn_pending(p1));
  CHECK(!evtchn_pending(p2));
  CHECK(sel_bit(p1));
  CHECK(upcall_pending());
  /* Events coalesce: a second send to a pending port raises nothing new. */
  __atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
  CHECK_EQ(evtchn_send(p2), 0);
  CHECK(evtchn_pending(p1));
  CHECK(!sel_bit(p1));
  CHECK(!upcall_pending());
  quiesce(p1);
  /* An unbound port swallows the event. */
  CHECK_EQ(evtchn_send(p_far), 0);
  CHECK(!evtchn_pending(p_far));
  CHECK(!upcall_pending());
  /* Port 0 (reserved), a never-used port and an out-of-range port are -EINVAL. */
  CHECK_EQ(evtchn_send(0), -XEN_EINVAL);
  CHECK_EQ(evtchn_send(BAD_PORT), -XEN_EINVAL);
  CHECK_EQ(evtchn_send(0xffffffffu), -XEN_EINVAL);

  /* ---- bind_virq ---- */
  evtchn_port_t pv = 0;
  CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &pv), 0);
  CHECK(pv != 0 && pv < EVTCHN_NR_PORTS);
  CHECK(!evtchn_pending(pv));
  CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, NULL), -XEN_EEXIST);
  CHECK_EQ(evtchn_bind_virq(99, 0, NULL), -XEN_EINVAL);        /* >= NR_VIRQS */
  CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 5, NULL), -XEN_ENOENT); /* no vCPU 5 */
  CHECK_EQ(evtchn_bind_virq(VIRQ_CONSOLE, 1, NULL), -XEN_EINVAL); /* global VIRQ, vcpu != 0 */
  CHECK_EQ(evtchn_status(DOMID_SELF, pv, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_virq);
  CHECK_EQ(st.vcpu, 0);
  CHECK_EQ(st.virq, VIRQ_TIMER);
  CHECK_EQ(evtchn_send(pv), -XEN_EINVAL); /* a guest cannot send on a VIRQ port */
  CHECK(!evtchn_pending(pv));

  /* ---- bind_ipi ---- */
  evtchn_port_t pi = 0;
  CHECK_EQ(evtchn_bind_ipi(0, &pi), 0);
  CHECK(pi != 0 && pi < EVTCHN_NR_PORTS);
  CHECK(!evtchn_pending(pi));
  CHECK_EQ(evtchn_bind_ipi(5, NULL), -XEN_ENOENT);
  CHECK_EQ(evtchn_status(DOMID_SELF, pi, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_ipi);
  CHECK_EQ(st.vcpu, 0);
  quiesce(pi);
  CHECK_EQ(evtchn_send(pi), 0); /* an IPI port notifies itself */
  CHECK(evtchn_pending(pi));
  CHECK(sel_bit(pi));
  CHECK(upcall_pending());
  quiesce(pi);

  /* ---- status errors and closed ports ---- */
  CHECK_EQ(evtchn_status(DOMID_SELF, 0, &st), 0); /* reserved reads as closed */
  CHECK_EQ(st.status, EVTCHNSTAT_closed);
  CHECK_EQ(evtchn_status(DOMID_SELF, BAD_PORT, &st), -XEN_EINVAL);
  CHECK_EQ(evtchn_status(NO_DOMAIN, p1, &st), -XEN_ESRCH);
  CHECK_EQ(evtchn_status(self, p1, &st), 0); /* by own id */
  CHECK_EQ(st.status, EVTCHNSTAT_interdomain);

  /* ---- bind_vcpu ---- */
  CHECK_EQ(evtchn_bind_vcpu(pi, 0), -XEN_EINVAL);   /* IPI */
  CHECK_EQ(evtchn_bind_vcpu(pv, 0), -XEN_EINVAL);   /* per-vCPU VIRQ */
  CHECK_EQ(evtchn_bind_vcpu(p1, 0), 0);             /* interdomain */
  CHECK_EQ(evtchn_bind_vcpu(p_far, 0), 0);          /* unbound */
  CHECK_EQ(evtchn_bind_vcpu(p1, 5), -XEN_ENOENT);   /* no vCPU 5 */
  CHECK_EQ(evtchn_bind_vcpu(BAD_PORT, 0), -XEN_EINVAL);
  CHECK_EQ(evtchn_bind_vcpu(0, 0), -XEN_EINVAL);    /* reserved */

  /* ---- mask / unmask (2-level semantics) ---- */
  quiesce(pi);
  evtchn_mask(pi);
  CHECK(evtchn_masked(pi));
  CHECK_EQ(evtchn_send(pi), 0);
  CHECK(evtchn_pending(pi)); /* pending is set even when masked ... */
  CHECK(!sel_bit(pi));       /* ... but no selector bit ... */
  CHECK(!upcall_pending());  /* ... and no upcall */
  CHECK_EQ(raw_unmask(pi), 0);
  CHECK(!evtchn_masked(pi));
  CHECK(evtchn_pending(pi));
  CHECK(sel_bit(pi)); /* unmasking a pending port re-raises it */
  CHECK(upcall_pending());
  /* Unmask of a port that is not masked does nothing, even if it is pending. */
  __atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
  CHECK_EQ(raw_unmask(pi), 0);
  CHECK(!sel_bit(pi));
  CHECK(!upcall_pending());
  /* The SDK's evtchn_unmask: clears the mask and, the port being pending, has it re-raised. */
  quiesce(pi);
  evtchn_mask(pi);
  CHECK_EQ(evtchn_send(pi), 0);
  CHECK(!upcall_pending());
  CHECK_EQ(evtchn_unmask(pi), 0);
  CHECK(!evtchn_masked(pi));
  CHECK(sel_bit(pi));
  CHECK(upcall_pending());
  quiesce(pi);
  /* Masked and not pending: unmask raises nothing. */
  evtchn_mask(pi);
  CHECK_EQ(raw_unmask(pi), 0);
  CHECK(!evtchn_masked(pi));
  CHECK(!sel_bit(pi));
  CHECK(!upcall_pending());
  CHECK_EQ(raw_unmask(BAD_PORT), -XEN_EINVAL);

  /* ---- close ---- */
  CHECK_EQ(evtchn_send(p1), 0); /* p2 pending ... */
  CHECK(evtchn_pending(p2));
  CHECK_EQ(evtchn_close(p2), 0);
  CHECK(!evtchn_pending(p2)); /* ... and closing clears it */
  CHECK_EQ(evtchn_status(DOMID_SELF, p2, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_closed);
  CHECK_EQ(evtchn_status(DOMID_SELF, p1, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_unbound); /* the peer reverts to unbound ... */
  CHECK_EQ(st.remote_dom, self);           /* ... still waiting for us */
  CHECK_EQ(evtchn_close(p2), -XEN_EINVAL);  /* twice */
  CHECK_EQ(evtchn_close(0), -XEN_EINVAL);
  CHECK_EQ(evtchn_close(BAD_PORT), -XEN_EINVAL);
  CHECK_EQ(evtchn_send(p2), -XEN_EINVAL);   /* closed */
  CHECK_EQ(evtchn_bind_vcpu(p2, 0), -XEN_EINVAL);
  CHECK_EQ(evtchn_send(p1), 0);             /* unbound again: dropped */
  /* The unbound end can be bound again. */
  evtchn_port_t p3 = 0;
  CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, p1, &p3), 0);
  CHECK(evtchn_pending(p3));
  CHECK_EQ(evtchn_close(p1), 0);
  CHECK_EQ(evtchn_status(DOMID_SELF, p3, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_unbound);
  CHECK_EQ(evtchn_close(pv), 0);
  CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &pv), 0); /* free to bind again */
  CHECK_EQ(evtchn_close(pi), 0);
  CHECK_EQ(evtchn_status(DOMID_SELF, pi, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_closed);

  /* ---- FIFO ABI: a domain stays 2-level until an init_control succeeds ---- */
  uint64_t expand[1] = {(uintptr_t)si >> 12};
  CHECK_EQ(op(EVTCHNOP_expand_array, expand), -XEN_EOPNOTSUPP); /* before init_control */
  uint32_t prio[2] = {p3, 7};
  CHECK_EQ(op(EVTCHNOP_set_priority, prio), -XEN_ENOSYS);        /* no priorities in 2-level */
  struct evtchn_init_control ic = {0};
  ic.control_gfn = 1ULL << 40; /* no such frame */
  CHECK_EQ(op(EVTCHNOP_init_control, &ic), -XEN_EINVAL);
  CHECK_EQ(op(EVTCHNOP_set_priority, prio), -XEN_ENOSYS);        /* the failure left it 2-level */
  CHECK_EQ(op(99, &ic), -XEN_ENOSYS);

  /* ---- reset: closes everything ---- */
  evtchn_port_t open_ports[] = {p_byid, p_byid_peer, p_far, p3, pv};
  CHECK_EQ(evtchn_send(p_byid), 0);
  CHECK(evtchn_pending(p_byid_peer));
  struct evtchn_reset r = {.dom = NO_DOMAIN};
  CHECK_EQ(op(EVTCHNOP_reset, &r), -XEN_ESRCH);
  CHECK_EQ(evtchn_reset(DOMID_SELF), 0);
  for (unsigned i = 0; i < sizeof(open_ports) / sizeof(open_ports[0]); i++) {
    check_status(open_ports[i], EVTCHNSTAT_closed, "reset");
    CHECK(!evtchn_pending(open_ports[i]));
  }
  unsigned still_open = 0;
  for (evtchn_port_t p = 1; p < EVTCHN_NR_PORTS; p++)
    if (evtchn_status(DOMID_SELF, p, &st) == 0 && st.status != EVTCHNSTAT_closed) still_open++;
  CHECK_EQ(still_open, 0);

  /* ---- exhaustion: ports 1..4095 ---- */
  static uint8_t seen[EVTCHN_NR_PORTS];
  unsigned count = 0, dup = 0, out_of_range = 0;
  long rc;
  evtchn_port_t p;
  while ((rc = evtchn_alloc_unbound(DOMID_SELF, &p)) == 0 && count < 2 * EVTCHN_NR_PORTS) {
    if (count == 0) CHECK_EQ(p, 1);
    if (p == 0 || p >= EVTCHN_NR_PORTS) out_of_range++;
    else if (seen[p]++) dup++;
    count++;
  }
  printf("alloc_unbound: %u ports, then %ld\n", count, rc);
  CHECK_EQ(rc, -XEN_ENOSPC);
  CHECK_EQ(count, EVTCHN_NR_PORTS - 1);
  CHECK_EQ(dup, 0);
  CHECK_EQ(out_of_range, 0);
  CHECK_EQ(evtchn_bind_ipi(0, NULL), -XEN_ENOSPC);
  CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, NULL), -XEN_ENOSPC);
  CHECK_EQ(evtchn_reset(DOMID_SELF), 0);
  CHECK_EQ(evtchn_status(DOMID_SELF, EVTCHN_NR_PORTS - 1, &st), 0);
  CHECK_EQ(st.status, EVTCHNSTAT_closed);
  CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, &p), 0);
  CHECK_EQ(p, 1);
  CHECK_EQ(evtchn_close(p), 0);

  test_done();
}
