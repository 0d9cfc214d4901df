/*
 * response.c: the response side of blkfront's ring — reaping, completing, and waiting.
 *   reap:  load rsp_prod (acquire: entries are read after it); reject rsp_prod - rsp_cons above
 *          what is in flight (so also above ring_size); copy each entry before looking at it.
 *   sleep: port_wait (<pvkvm/port_wait.h>): clear the port's pending bit (atomic RMW, a full
 *          barrier), reap; if nothing, store rsp_event = rsp_cons + 1, full fence, reap again,
 *          and only then SCHEDOP_poll. A response pushed after our look finds rsp_event in
 *          range, so the backend notifies and the pending bit (set after our clear) ends the
 *          poll at once.
 */
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/port_wait.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include "blkfront_dev.h"

/* Copy a response out of shared memory with one read per word: it is only parsed afterwards. */
static void copy_response(const volatile union blkif_sring_entry *e, struct blkif_response *out) {
  const volatile uint64_t *w = (const volatile uint64_t *)e;
  uint64_t v[2] = {w[0], w[1]};
  memcpy(out, v, sizeof(*out));
}

static int status_errno(int16_t st) {
  if (st == BLKIF_RSP_OKAY) return 0;
  if (st == BLKIF_RSP_EOPNOTSUPP) return -XEN_EOPNOTSUPP;
  return -XEN_EIO;
}

static void complete_one(struct blkfront_dev *d, unsigned id, const struct blkif_response *rsp) {
  struct shadow *s = &d->shadow[id];
  int status = status_errno(rsp->status);
  unsigned held = bf_end_grants(d, s);
  if (held && status == 0) status = -XEN_EIO; /* the backend broke the grant protocol */
  if (s->bounce) {
    if (held) {
      s->npool = 0; /* the backend can still reach these pages: never reuse them */
    } else {
      if (status == 0 && s->op == BLKIF_OP_READ && s->buf) {
        uint64_t t0 = rdtsc();
        for (unsigned i = 0, done = 0; i < s->npool; i++, done += PAGE) {
          uint32_t len = s->bytes - done < PAGE ? s->bytes - done : PAGE;
          memcpy((uint8_t *)s->buf + done, pool_page(d, s->pool[i]), len);
        }
        d->stats.bounce_cycles += rdtsc() - t0;
        d->stats.bounce_bytes += s->bytes;
      }
      bf_put_pool(d, s);
    }
  }
  if (status == -XEN_EOPNOTSUPP && (s->op == BLKIF_OP_FLUSH_DISKCACHE || s->op == BLKIF_OP_WRITE_BARRIER)) {
    printf("blkfront: %s: the backend refused a cache flush; flushes disabled\n", d->info.nodename);
    d->info.feature_flush = d->info.feature_barrier = 0;
    d->bdev.can_flush = 0;
  }
  if (status == -XEN_EOPNOTSUPP && s->op == BLKIF_OP_DISCARD) {
    d->info.feature_discard = 0;
    d->bdev.can_discard = 0;
  }
  struct block_req *r = s->req;
  if (s->raw && d->raw_id == id) {
    d->raw_rsp = *rsp;
    d->raw_done = 1;
  }
  bf_free_id(d, id);
  if (r) block_complete(&d->bdev, r, status);
}

/* Consume every response there is. Returns how many (>= 0), or -XEN_EIO if the ring is broken. */
static int reap(struct blkfront_dev *d) {
  if (d->broken) return -XEN_EIO;
  uint32_t rp = __atomic_load_n(&d->sring->rsp_prod, __ATOMIC_ACQUIRE);
  uint32_t avail = rp - d->rsp_cons;
  if (avail > d->info.ring_size || avail > d->req_prod_pushed - d->rsp_cons) {
    bf_mark_broken(d, "rsp_prod beyond the requests in flight (rsp_prod, rsp_cons)", rp, d->rsp_cons);
    return -XEN_EIO;
  }
  int n = 0;
  while (d->rsp_cons != rp) {
    struct blkif_response rsp;
    copy_response(&d->sring->ring[d->rsp_cons & (d->info.ring_size - 1)], &rsp);
    d->rsp_cons++;
    if (rsp.id >= d->info.ring_size || !d->shadow[rsp.id].in_use) {
      bf_mark_broken(d, "response for an id not in flight (id, rsp_cons)", rsp.id, d->rsp_cons - 1);
      return -XEN_EIO;
    }
    if (rsp.operation != d->shadow[rsp.id].op) {
      bf_mark_broken(d, "response with the wrong operation (got, want)", rsp.operation, d->shadow[rsp.id].op);
      return -XEN_EIO;
    }
    complete_one(d, (unsigned)rsp.id, &rsp);
    n++;
  }
  return n;
}

void bf_kick(struct block_dev *bd) { bf_push(bd->priv); }

/* A bf_poll in progress: the device, whether it may wait, and what it reaped. */
struct reap_wait {
  struct blkfront_dev *d;
  int may_wait;
  int reaped;
};

/* port_wait look: reap; done (1) once something completed or nothing is left to wait for. */
static int look_responses(struct port_wait *w) {
  struct reap_wait *rw = w->arg;
  struct blkfront_dev *d = rw->d;
  if (d->broken) return -XEN_EIO;
  int n = reap(d);
  if (n < 0) return n;
  rw->reaped = n;
  return n != 0 || d->inflight == 0 || !rw->may_wait;
}

/* port_wait arm: ask for an event with the next response (RING_FINAL_CHECK_FOR_RESPONSES). */
static void arm_responses(struct port_wait *w) {
  struct blkfront_dev *d = ((struct reap_wait *)w->arg)->d;
  __atomic_store_n(&d->sring->rsp_event, d->rsp_cons + 1, __ATOMIC_RELAXED);
}

/*
 * Past the caller's deadline: is the backend gone rather than slow? Its end of our port was
 * closed (dom0 died: the port is unbound again) — then the wait goes on for a new backend, up to
 * BLKFRONT_BACKEND_GONE_NS from when that was first seen. Looked at only once a deadline passed.
 */
static int bf_backend_gone(struct blkfront_dev *d) {
  struct evtchn_status_info st;
  uint64_t now = pvkvm_time_ns();
  if (evtchn_status(DOMID_SELF, d->info.port, &st) < 0 || st.status != EVTCHNSTAT_unbound) {
    d->gone_since = 0;
    return 0;
  }
  if (d->gone_since == 0) {
    d->gone_since = now;
    printf("blkfront: %s: the backend is gone; waiting for it to come back\n", d->info.nodename);
  }
  return now - d->gone_since < BLKFRONT_BACKEND_GONE_NS;
}

int bf_poll(struct block_dev *bd, uint64_t timeout_ns) {
  struct blkfront_dev *d = bd->priv;
  bf_push(d);
  /* Responses already there (the common case with requests in flight): reap them without the
   * wait's set-up — clearing the port and reading the clock for a deadline cost ~150 emulated
   * instructions. Looking before port_wait's clear loses nothing: it clears, then looks again. */
  if (d->broken) return -XEN_EIO;
  int n = reap(d);
  if (n != 0 || d->inflight == 0 || timeout_ns == 0) return n;
  uint64_t deadline = deadline_after(timeout_ns);
  for (;;) {
    /* Waits are cut into BLKFRONT_STATE_CHECK_NS pieces: a quiet one looks at the backend's
     * state (reconnect.c), since a backend that died answers nothing. */
    uint64_t until = deadline_after(BLKFRONT_STATE_CHECK_NS);
    struct reap_wait rw = {.d = d, .may_wait = 1};
    struct port_wait w = {.port = d->info.port,
                          .deadline = until < deadline ? until : deadline,
                          .slice_ns = BLKFRONT_POLL_SLICE_NS,
                          .look = look_responses,
                          .arm = arm_responses,
                          .arg = &rw};
    int rc = port_wait(&w);
    d->stats.polls += w.polls;
    d->stats.lazy_wakeups += w.quiet_wakeups; /* responses that came without the event they asked for */
    if (rc != -XEN_ETIMEDOUT) return rc < 0 ? rc : rw.reaped;
    rc = bf_check_backend(d);
    if (rc < 0) return rc;
    if (rc > 0) {
      /* A new connection: what was re-issued gets the caller's whole timeout again. */
      deadline = deadline_after(timeout_ns);
      if (d->inflight == 0) return 0;
      continue;
    }
    if (pvkvm_time_ns() >= deadline && !bf_backend_gone(d)) return -XEN_ETIMEDOUT;
  }
}

void bf_abandon(struct block_dev *bd) {
  struct blkfront_dev *d = bd->priv;
  for (unsigned id = 0; id < d->info.ring_size; id++)
    if (d->shadow[id].in_use && d->shadow[id].req) {
      d->shadow[id].req = NULL;
      d->shadow[id].buf = NULL; /* a late bounced read is not copied out */
    }
}
