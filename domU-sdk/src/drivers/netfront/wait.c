/*
 * wait.c: how netfront waits for the backend. Event mode: port_wait (SCHEDOP_poll) on the masked
 * port, armed with the rings' rsp_event only while someone waits, so a busy receiver that keeps
 * finding frames costs the backend no notifications and us no kernel calls. Poll mode
 * (netfront.poll=1): spin on the rings at CPL 3, which costs no kernel call per wake-up but a
 * whole vCPU. Either way the backend's state is looked at every NETFRONT_STATE_CHECK_NS.
 */
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/port_wait.h>
#include "netfront_dev.h"

void nf_notify(struct netfront_dev *d) {
  evtchn_send(d->info.port);
  d->ndev.stats.notifies++;
}

struct nf_waiter {
  struct netfront_dev *d;
  unsigned what;
};

/* 1 when one of `what` is ready, 0 not yet, -errno if the device is dead. */
static int ready(struct netfront_dev *d, unsigned what) {
  if (d->broken) return d->broken;
  if (what & NET_WAIT_RX) {
    int r = nf_rx_ready(d);
    if (r != 0) return r < 0 ? r : 1;
  }
  if (what & NET_WAIT_TX) {
    int r = nf_tx_room(d);
    if (r != 0) return r < 0 ? r : 1;
  }
  return 0;
}

static int look(struct port_wait *w) {
  struct nf_waiter *nw = w->arg;
  return ready(nw->d, nw->what);
}

/* RING_FINAL_CHECK_FOR_RESPONSES's store; port_wait fences and looks again after it. */
static void arm(struct port_wait *w) {
  struct nf_waiter *nw = w->arg;
  struct netfront_dev *d = nw->d;
  if (nw->what & NET_WAIT_RX) __atomic_store_n(&d->rx.sring->rsp_event, d->rx.rsp_cons + 1, __ATOMIC_RELAXED);
  if (nw->what & NET_WAIT_TX) __atomic_store_n(&d->tx.sring->rsp_event, d->tx.rsp_cons + 1, __ATOMIC_RELAXED);
}

int nf_wait(struct net_dev *nd, unsigned what, uint64_t timeout_ns) {
  struct netfront_dev *d = nd->priv;
  nf_flush(nd); /* the backend must see what we sent, or it has nothing to answer */
  if (what & NET_WAIT_RX) nf_rx_refill(d, 1);
  int r = ready(d, what);
  if (r != 0) return r;
  if (timeout_ns == 0) return -XEN_ETIMEDOUT;
  uint64_t deadline = deadline_after(timeout_ns);
  nd->stats.waits++;
  for (;;) {
    uint64_t now = pvkvm_time_ns();
    if (now >= d->next_state_check) {
      nf_check_backend(d);
      if (d->broken) return d->broken;
    }
    if (now >= deadline) return -XEN_ETIMEDOUT;
    uint64_t until = d->next_state_check < deadline ? d->next_state_check : deadline;
    if (d->poll_mode) {
      while ((r = ready(d, what)) == 0 && pvkvm_time_ns() < until) cpu_relax();
      if (r != 0) return r;
      continue;
    }
    struct nf_waiter nw = {.d = d, .what = what};
    struct port_wait w = {.port = d->info.port, .deadline = until, .slice_ns = NETFRONT_POLL_SLICE_NS,
                          .look = look, .arm = arm, .arg = &nw};
    r = port_wait(&w);
    d->stats.polls += w.polls;
    d->stats.lazy_wakeups += w.quiet_wakeups;
    if (r != -XEN_ETIMEDOUT) return r;
  }
}
