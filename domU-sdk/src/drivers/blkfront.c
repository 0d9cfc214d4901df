/*
 * blkfront.c: the Xen PV block frontend — xenbus handshake, the blkif ring, grants and the
 * <pvkvm/block.h> operations (see pvkvm/blkfront.h for the protocol summary).
 *
 * Ring arithmetic (io/ring.h, xen-abi-facts §8). All indices are free-running u32; a slot is
 * idx & (ring_size - 1). The front owns req_prod_pvt (next request slot), req_prod_pushed (what
 * sring->req_prod says) and rsp_cons (next response to read). Requests in flight =
 * req_prod_pvt - rsp_cons <= ring_size (each request has exactly one response, and request r
 * may only be written once response r - ring_size was consumed, as they share slots).
 *   push:  store req_prod = req_prod_pvt (release: the entries are visible first), full fence,
 *          notify iff req_event lies in (old, new]: (u32)(new - req_event) < (u32)(new - old).
 *   reap:  load rsp_prod (acquire: entries are read after it); reject rsp_prod - rsp_cons above
 *          what is in flight (so also above ring_size); copy each entry before looking at it.
 *   sleep: port_wait (<pvkvm/port_wait.h>): clear the port's pending bit (atomic RMW, a full
 *          barrier), reap; if nothing, store rsp_event = rsp_cons + 1, full fence, reap again,
 *          and only then SCHEDOP_poll. A response pushed after our look finds rsp_event in
 *          range, so the backend notifies and the pending bit (set after our clear) ends the
 *          poll at once.
 * The port is masked (like the xenstore port), so an upcall dispatcher never consumes it.
 */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/blkfront.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/page_arena.h>
#include <pvkvm/port_wait.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include <pvkvm/xenbus.h>
#include <pvkvm/xenstore.h>

#define PAGE 4096u
#define PAGE_SECTORS (PAGE / BLKIF_SECTOR_SIZE)
#define MAX_RING_PAGES (1u << BLKFRONT_MAX_RING_ORDER)
#define MAX_SEGS BLKFRONT_MAX_INDIRECT_SEGS
#define NO_ID 0xffffu
#define CLOSE_TIMEOUT_NS (10 * NSEC_PER_SEC)

_Static_assert(BLKFRONT_MAX_INDIRECT_SEGS <= BLKIF_SEGS_PER_INDIRECT_FRAME, "one indirect page per request");
_Static_assert(BLKFRONT_MAX_INDIRECT_SEGS <= BLKFRONT_POOL_PAGES, "a request always fits in the pool");
_Static_assert(BLKFRONT_MAX_RING_SIZE <= NO_ID, "shadow ids fit in u16");

/* Per-request bookkeeping, indexed by the request id. */
struct shadow {
  struct block_req *req;   /* NULL for raw or abandoned requests */
  uint8_t in_use;
  uint8_t op;              /* the operation the response must carry */
  uint8_t raw;             /* blkfront_raw_request */
  uint8_t bounce;          /* the data lives in pool pages */
  uint16_t npool;          /* pool pages held */
  uint16_t ngrants;        /* per-request grants to end after the response */
  uint16_t next_free;
  uint32_t bytes;
  void *buf;
  uint16_t pool[MAX_SEGS];
  grant_ref_t grants[MAX_SEGS];
};

struct blkfront_dev {
  int used;                /* 1 open, 2 leaked (the backend may still hold its pages) */
  unsigned slot;
  struct blkfront_info info;
  struct blkfront_stats stats;
  struct block_dev bdev;
  volatile struct blkif_sring *sring;
  grant_ref_t ring_ref[MAX_RING_PAGES];
  unsigned nring_refs;
  int port_open;
  int published;           /* the transport keys may be out: closing needs the handshake */
  uint32_t req_prod_pvt, req_prod_pushed, rsp_cons;
  unsigned inflight;       /* ids in use */
  int broken;
  unsigned max_segs;       /* per request: 11, or the indirect limit */
  uint32_t sector_scale;   /* sector_size / 512 */
  /* indirect pages: one per id, granted once */
  grant_ref_t iref[BLKFRONT_MAX_RING_SIZE];
  unsigned niref;
  /* the data page pool */
  grant_ref_t pool_ref[BLKFRONT_POOL_PAGES];
  unsigned npool_granted;
  uint16_t pool_free[BLKFRONT_POOL_PAGES];
  unsigned pool_nfree;
  /* ids */
  uint16_t free_head;
  struct shadow *shadow;   /* [BLKFRONT_MAX_RING_SIZE], in the slot's arena memory */
  /* the raw request being waited for */
  uint16_t raw_id;
  int raw_done;
  struct blkif_response raw_rsp;
};

/* Each device slot's memory, taken from the page arena (<pvkvm/page_arena.h>) on first use and
 * kept for reuse: a slot reuses its pages when a device is opened again. */
struct slot_mem {
  uint8_t (*ring)[PAGE];     /* MAX_RING_PAGES */
  uint8_t (*indirect)[PAGE]; /* BLKFRONT_MAX_RING_SIZE */
  uint8_t (*pool)[PAGE];     /* BLKFRONT_POOL_PAGES */
  struct shadow *shadow;     /* BLKFRONT_MAX_RING_SIZE */
};

static struct blkfront_dev devs[BLKFRONT_MAX_DEVICES];
static struct slot_mem slot_mem[BLKFRONT_MAX_DEVICES];

static int slot_mem_get(unsigned slot) {
  struct slot_mem *m = &slot_mem[slot];
  if (m->ring) return 0;
  void *ring = page_arena_alloc((size_t)MAX_RING_PAGES * PAGE);
  void *ind = page_arena_alloc((size_t)BLKFRONT_MAX_RING_SIZE * PAGE);
  void *pool = page_arena_alloc((size_t)BLKFRONT_POOL_PAGES * PAGE);
  void *sh = page_arena_alloc(sizeof(struct shadow) * BLKFRONT_MAX_RING_SIZE);
  if (!ring || !ind || !pool || !sh) return -XEN_ENOMEM;
  m->ring = ring;
  m->indirect = ind;
  m->pool = pool;
  m->shadow = sh;
  return 0;
}

static const struct block_ops blkfront_ops;

static uint64_t gfn_of(const void *p) { return (uintptr_t)p >> 12; }
static uint8_t *pool_page(struct blkfront_dev *d, unsigned i) { return slot_mem[d->slot].pool[i]; }
static uint8_t *indirect_page(struct blkfront_dev *d, unsigned id) { return slot_mem[d->slot].indirect[id]; }

/* ---- xenstore helpers ---- */

/* <dir>/<key> as an unsigned number: 0, -XEN_ENOENT, -XEN_EINVAL (not a number / negative). */
static int read_uint(const char *dir, const char *key, uint64_t *out) {
  char path[192];
  int n = snprintf(path, sizeof(path), "%s/%s", dir, key);
  if (n < 0 || (size_t)n >= sizeof(path)) return -XEN_E2BIG;
  long long v;
  int rc = xenbus_read_int(XBT_NIL, path, &v);
  if (rc < 0) return rc;
  if (v < 0) return -XEN_EINVAL;
  *out = (uint64_t)v;
  return 0;
}

/* An optional number: `dflt` when absent or unreadable. */
static uint64_t read_opt(const char *dir, const char *key, uint64_t dflt) {
  uint64_t v;
  return read_uint(dir, key, &v) == 0 ? v : dflt;
}

static int write_keyf(xs_transaction_t t, const char *dir, const char *key, const char *fmt, unsigned v) {
  char path[96];
  int n = snprintf(path, sizeof(path), "%s/%s", dir, key);
  if (n < 0 || (size_t)n >= sizeof(path)) return -XEN_E2BIG;
  return xenbus_printf(t, path, fmt, v);
}

/* ---- ids and pool pages ---- */

static int alloc_id(struct blkfront_dev *d) {
  uint16_t id = d->free_head;
  if (id == NO_ID) return -1;
  d->free_head = d->shadow[id].next_free;
  struct shadow *s = &d->shadow[id];
  s->in_use = 1;
  s->req = NULL;
  s->raw = s->bounce = 0;
  s->npool = s->ngrants = 0;
  s->buf = NULL;
  s->bytes = 0;
  d->inflight++;
  return id;
}

static void free_id(struct blkfront_dev *d, unsigned id) {
  d->shadow[id].in_use = 0;
  d->shadow[id].next_free = d->free_head;
  d->free_head = (uint16_t)id;
  d->inflight--;
}

/* Ring space: requests in flight are req_prod_pvt - rsp_cons. */
static int ring_full(const struct blkfront_dev *d) { return d->req_prod_pvt - d->rsp_cons >= d->info.ring_size; }

/* End the per-request grants of a shadow. Returns how many the backend still holds. */
static unsigned end_grants(struct blkfront_dev *d, struct shadow *s) {
  unsigned failed = 0;
  for (unsigned i = 0; i < s->ngrants; i++) {
    long rc = gnttab_end_access(s->grants[i]);
    if (rc != 0) {
      failed++;
      d->stats.grant_end_failures++;
      if (d->stats.grant_end_failures <= 4)
        printf("blkfront: %s: grant %u still in use after the response (%ld)\n", d->info.nodename, s->grants[i], rc);
    }
  }
  s->ngrants = 0;
  return failed;
}

static void put_pool(struct blkfront_dev *d, struct shadow *s) {
  for (unsigned i = 0; i < s->npool; i++) d->pool_free[d->pool_nfree++] = s->pool[i];
  s->npool = 0;
}

/* ---- failure ---- */

/* The backend broke the protocol: fail everything in flight, take no more requests. */
static void mark_broken(struct blkfront_dev *d, const char *why, unsigned long long a, unsigned long long b) {
  if (!d->broken) printf("blkfront: %s: ring broken: %s (%llu, %llu)\n", d->info.nodename, why, a, b);
  d->broken = 1;
  d->bdev.broken = 1;
  for (unsigned id = 0; id < d->info.ring_size; id++) {
    struct shadow *s = &d->shadow[id];
    if (!s->in_use) continue;
    unsigned held = end_grants(d, s);
    if (!held && !d->info.persistent) put_pool(d, s); /* else the pages stay out of the pool */
    struct block_req *r = s->req;
    int raw = s->raw;
    free_id(d, id);
    if (r) block_complete(&d->bdev, r, -XEN_EIO);
    if (raw && d->raw_id == id) {
      d->raw_done = 1;
      d->raw_rsp.status = BLKIF_RSP_ERROR;
    }
  }
}

/* ---- the request side ---- */

static void put_request(struct blkfront_dev *d, const union blkif_sring_entry *e) {
  uint32_t slot = d->req_prod_pvt & (d->info.ring_size - 1);
  memcpy((void *)&d->sring->ring[slot], e, sizeof(*e));
  d->req_prod_pvt++;
  d->stats.requests++;
}

/* RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, then the event if the backend asked for one. */
static void push(struct blkfront_dev *d) {
  uint32_t old = d->req_prod_pushed, new = d->req_prod_pvt;
  if (old == new) return;
  __atomic_store_n(&d->sring->req_prod, new, __ATOMIC_RELEASE); /* entries before the index */
  d->req_prod_pushed = new;
  __atomic_thread_fence(__ATOMIC_SEQ_CST); /* publish before reading req_event */
  uint32_t ev = __atomic_load_n(&d->sring->req_event, __ATOMIC_RELAXED);
  if ((uint32_t)(new - ev) < (uint32_t)(new - old)) {
    evtchn_send(d->info.port);
    d->stats.notifies++;
  }
}

/* Grant one data page for this request (non-persistent mode): the ref, or -errno. */
static long grant_for(struct blkfront_dev *d, struct shadow *s, const void *page, int readonly) {
  long ref = gnttab_grant_access(d->info.backend_id, gfn_of(page), readonly);
  if (ref >= 0) s->grants[s->ngrants++] = (grant_ref_t)ref;
  return ref;
}

/* Undo a request that could not be queued. */
static void unwind(struct blkfront_dev *d, unsigned id) {
  struct shadow *s = &d->shadow[id];
  end_grants(d, s); /* never seen by the backend: cannot fail */
  put_pool(d, s);
  free_id(d, id);
}

static int submit_rw(struct blkfront_dev *d, struct block_req *r) {
  int write = r->op == BLOCK_OP_WRITE;
  uint32_t bytes = r->count * d->info.sector_size;
  uintptr_t a = (uintptr_t)r->buf;
  unsigned pages_direct = (unsigned)(((a + bytes + PAGE - 1) / PAGE) - a / PAGE);
  unsigned pages_bounce = (bytes + PAGE - 1) / PAGE;
  /* Grant the caller's pages when allowed (not persistent) and possible (sector-aligned). */
  int direct = !d->info.persistent && a % d->info.sector_size == 0 && pages_direct <= d->max_segs;
  unsigned nsegs = direct ? pages_direct : pages_bounce;
  if (nsegs > d->max_segs || nsegs == 0) return -XEN_EINVAL;
  if (ring_full(d)) return -XEN_EBUSY;
  if (!direct && d->pool_nfree < nsegs) return -XEN_EBUSY;
  int id = alloc_id(d);
  if (id < 0) return -XEN_EBUSY;
  struct shadow *s = &d->shadow[id];
  s->req = r;
  s->op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
  s->bounce = !direct;
  s->buf = r->buf;
  s->bytes = bytes;

  struct blkif_request_segment segs[MAX_SEGS];
  uint32_t done = 0;
  for (unsigned i = 0; i < nsegs; i++) {
    const void *page;
    uint32_t in_page, len;
    if (direct) {
      uintptr_t p = a + done;
      in_page = (uint32_t)(p & (PAGE - 1));
      len = PAGE - in_page;
      page = (const void *)(p - in_page);
    } else {
      unsigned pi = d->pool_free[--d->pool_nfree];
      s->pool[s->npool++] = (uint16_t)pi;
      in_page = 0;
      len = PAGE;
      page = pool_page(d, pi);
    }
    if (len > bytes - done) len = bytes - done;
    if (!direct && write) memcpy((void *)page, (const uint8_t *)r->buf + done, len);
    grant_ref_t gref;
    if (!direct && d->info.persistent) {
      gref = d->pool_ref[s->pool[s->npool - 1]];
    } else {
      long ref = grant_for(d, s, page, write); /* the backend only reads a WRITE's pages */
      if (ref < 0) {
        unwind(d, (unsigned)id);
        return ref == -XEN_ENOSPC ? -XEN_EBUSY : (int)ref;
      }
      gref = (grant_ref_t)ref;
    }
    segs[i].gref = gref;
    segs[i].first_sect = (uint8_t)(in_page / BLKIF_SECTOR_SIZE);
    segs[i].last_sect = (uint8_t)((in_page + len - 1) / BLKIF_SECTOR_SIZE);
    segs[i]._pad = 0;
    done += len;
  }

  union blkif_sring_entry e;
  memset(&e, 0, sizeof(e));
  uint64_t sector = r->lba * d->sector_scale;
  if (nsegs <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
    e.req.operation = s->op;
    e.req.nr_segments = (uint8_t)nsegs;
    e.req.handle = (uint16_t)d->info.devid;
    e.req.id = (uint64_t)id;
    e.req.sector_number = sector;
    memcpy(e.req.seg, segs, nsegs * sizeof(segs[0]));
  } else {
    /* INDIRECT: the segments go in this id's indirect page (granted once at connect). */
    memcpy(indirect_page(d, (unsigned)id), segs, nsegs * sizeof(segs[0]));
    e.indirect.operation = BLKIF_OP_INDIRECT;
    e.indirect.indirect_op = s->op;
    e.indirect.nr_segments = (uint16_t)nsegs;
    e.indirect.id = (uint64_t)id;
    e.indirect.sector_number = sector;
    e.indirect.handle = (uint16_t)d->info.devid;
    e.indirect.indirect_grefs[0] = d->iref[id];
    d->stats.indirect++;
  }
  if (s->bounce) d->stats.bounced++;
  put_request(d, &e);
  return 0;
}

static int submit_other(struct blkfront_dev *d, struct block_req *r) {
  union blkif_sring_entry e;
  memset(&e, 0, sizeof(e));
  uint8_t op;
  if (r->op == BLOCK_OP_FLUSH) {
    if (d->info.feature_flush) op = BLKIF_OP_FLUSH_DISKCACHE;
    else if (d->info.feature_barrier) op = BLKIF_OP_WRITE_BARRIER;
    else return -XEN_EOPNOTSUPP;
  } else {
    if (!d->info.feature_discard) return -XEN_EOPNOTSUPP;
    op = BLKIF_OP_DISCARD;
  }
  if (ring_full(d)) return -XEN_EBUSY;
  int id = alloc_id(d);
  if (id < 0) return -XEN_EBUSY;
  struct shadow *s = &d->shadow[id];
  s->req = r;
  s->op = op;
  if (op == BLKIF_OP_DISCARD) {
    e.discard.operation = op;
    e.discard.flag = 0;
    e.discard.handle = (uint16_t)d->info.devid;
    e.discard.id = (uint64_t)id;
    e.discard.sector_number = r->lba * d->sector_scale;
    e.discard.nr_sectors = (uint64_t)r->count * d->sector_scale;
  } else {
    e.req.operation = op; /* no segments: a pure cache flush / barrier */
    e.req.nr_segments = 0;
    e.req.handle = (uint16_t)d->info.devid;
    e.req.id = (uint64_t)id;
    e.req.sector_number = 0;
  }
  put_request(d, &e);
  return 0;
}

static int bf_submit(struct block_dev *bd, struct block_req *r) {
  struct blkfront_dev *d = bd->priv;
  if (d->broken) return -XEN_EIO;
  switch (r->op) {
  case BLOCK_OP_READ:
  case BLOCK_OP_WRITE:
    return submit_rw(d, r);
  case BLOCK_OP_FLUSH:
  case BLOCK_OP_DISCARD:
    return submit_other(d, r);
  }
  return -XEN_EINVAL;
}

/* ---- the response side ---- */

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
  unsigned held = end_grants(d, s);
  if (held && status == 0) status = -XEN_EIO; /* the backend broke the grant protocol */
  if (s->bounce) {
    if (held) {
      s->npool = 0; /* the backend can still reach these pages: never reuse them */
    } else {
      if (status == 0 && s->op == BLKIF_OP_READ && s->buf) {
        for (unsigned i = 0, done = 0; i < s->npool; i++, done += PAGE) {
          uint32_t len = s->bytes - done < PAGE ? s->bytes - done : PAGE;
          memcpy((uint8_t *)s->buf + done, pool_page(d, s->pool[i]), len);
        }
      }
      put_pool(d, s);
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
  free_id(d, id);
  if (r) block_complete(&d->bdev, r, status);
}

/* Consume every response there is. Returns how many (>= 0), or -XEN_EIO if the ring is broken. */
static int reap(struct blkfront_dev *d) {
  if (d->broken) return -XEN_EIO;
  uint32_t rp = __atomic_load_n(&d->sring->rsp_prod, __ATOMIC_ACQUIRE);
  uint32_t avail = rp - d->rsp_cons;
  if (avail > d->info.ring_size || avail > d->req_prod_pushed - d->rsp_cons) {
    mark_broken(d, "rsp_prod beyond the requests in flight (rsp_prod, rsp_cons)", rp, d->rsp_cons);
    return -XEN_EIO;
  }
  int n = 0;
  while (d->rsp_cons != rp) {
    struct blkif_response rsp;
    copy_response(&d->sring->ring[d->rsp_cons & (d->info.ring_size - 1)], &rsp);
    d->rsp_cons++;
    if (rsp.id >= d->info.ring_size || !d->shadow[rsp.id].in_use) {
      mark_broken(d, "response for an id not in flight (id, rsp_cons)", rsp.id, d->rsp_cons - 1);
      return -XEN_EIO;
    }
    if (rsp.operation != d->shadow[rsp.id].op) {
      mark_broken(d, "response with the wrong operation (got, want)", rsp.operation, d->shadow[rsp.id].op);
      return -XEN_EIO;
    }
    complete_one(d, (unsigned)rsp.id, &rsp);
    n++;
  }
  return n;
}

static void bf_kick(struct block_dev *bd) { push(bd->priv); }

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

static int bf_poll(struct block_dev *bd, uint64_t timeout_ns) {
  struct blkfront_dev *d = bd->priv;
  push(d);
  struct reap_wait rw = {.d = d, .may_wait = timeout_ns != 0};
  struct port_wait w = {.port = d->info.port,
                        .deadline = deadline_after(timeout_ns),
                        .slice_ns = BLKFRONT_POLL_SLICE_NS,
                        .look = look_responses,
                        .arm = arm_responses,
                        .arg = &rw};
  int rc = port_wait(&w);
  d->stats.polls += w.polls;
  d->stats.lazy_wakeups += w.quiet_wakeups; /* responses that came without the event they asked for */
  return rc < 0 ? rc : rw.reaped;
}

static void bf_abandon(struct block_dev *bd) {
  struct blkfront_dev *d = bd->priv;
  for (unsigned id = 0; id < d->info.ring_size; id++)
    if (d->shadow[id].in_use && d->shadow[id].req) {
      d->shadow[id].req = NULL;
      d->shadow[id].buf = NULL; /* a late bounced read is not copied out */
    }
}

static int bf_close(struct block_dev *bd) { return blkfront_close(bd->priv); }

static const struct block_ops blkfront_ops = {
    .name = "blkfront",
    .submit = bf_submit,
    .kick = bf_kick,
    .poll = bf_poll,
    .abandon = bf_abandon,
    .close = bf_close,
};

/* ---- handshake ---- */

static void sort_ids(unsigned *ids, unsigned n) {
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
      unsigned t = ids[j];
      ids[j] = ids[j - 1];
      ids[j - 1] = t;
    }
}

int blkfront_list(unsigned *ids, unsigned max) {
  unsigned all[64];
  int n = xenbus_list_devices("vbd", all, 64);
  if (n < 0) return n;
  unsigned got = n > 64 ? 64 : (unsigned)n;
  sort_ids(all, got);
  for (unsigned i = 0; i < got && i < max; i++) ids[i] = all[i];
  return (int)got;
}

static int write_transport(xs_transaction_t t, void *arg) {
  struct blkfront_dev *d = arg;
  const char *dir = d->info.nodename;
  int rc = 0;
  if (d->info.ring_order == 0) {
    rc = write_keyf(t, dir, "ring-ref", "%u", d->ring_ref[0]);
  } else {
    rc = write_keyf(t, dir, "ring-page-order", "%u", d->info.ring_order);
    for (unsigned i = 0; rc == 0 && i < d->nring_refs; i++) {
      char key[16];
      snprintf(key, sizeof(key), "ring-ref%u", i);
      rc = write_keyf(t, dir, key, "%u", d->ring_ref[i]);
    }
  }
  if (rc == 0) rc = write_keyf(t, dir, "event-channel", "%u", d->info.port);
  if (rc == 0) {
    char path[96];
    snprintf(path, sizeof(path), "%s/protocol", dir);
    rc = xs_write(t, path, "x86_64-abi");
  }
  if (rc == 0 && d->info.persistent) rc = write_keyf(t, dir, "feature-persistent", "%u", 1);
  return rc;
}

/* End every long-lived grant and close the port. 0 if the backend let go of everything. */
static int release_resources(struct blkfront_dev *d) {
  unsigned held = 0;
  for (unsigned i = 0; i < d->nring_refs; i++) held += gnttab_end_access(d->ring_ref[i]) != 0;
  for (unsigned i = 0; i < d->niref; i++) held += gnttab_end_access(d->iref[i]) != 0;
  for (unsigned i = 0; i < d->npool_granted; i++) held += gnttab_end_access(d->pool_ref[i]) != 0;
  for (unsigned id = 0; id < d->info.ring_size; id++)
    if (d->shadow[id].in_use) held += end_grants(d, &d->shadow[id]);
  d->nring_refs = d->niref = d->npool_granted = 0;
  if (d->port_open) evtchn_close(d->info.port);
  d->port_open = 0;
  if (held) printf("blkfront: %s: %u grants still in use by the backend; leaking its pages\n", d->info.nodename, held);
  d->used = held ? 2 : 0;
  return held ? -XEN_EBUSY : 0;
}

/* The teardown handshake (xen-abi-facts §13): Closing unless the backend is already closing,
 * then Closed, then wait for the backend's Closed (it has unmapped the ring by then). */
static int close_handshake(struct blkfront_dev *d) {
  const char *fe = d->info.nodename, *be = d->info.backend;
  int bs = xenbus_read_state(be);
  if (bs != XenbusStateClosing && bs != XenbusStateClosed) {
    xenbus_switch_state(fe, XenbusStateClosing);
    bs = xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateClosing) | XENBUS_STATE_BIT(XenbusStateClosed),
                           CLOSE_TIMEOUT_NS);
  }
  xenbus_switch_state(fe, XenbusStateClosed);
  if (bs >= 0) bs = xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateClosed), CLOSE_TIMEOUT_NS);
  if (bs < 0) printf("blkfront: %s: backend did not close (state %d): %d\n", fe, xenbus_read_state(be), bs);
  return bs < 0 ? bs : 0;
}

/* Give up on a half-done handshake: tell the backend (once it may have seen our keys), release
 * what we can. */
static int open_failed(struct blkfront_dev *d, int rc, const char *what) {
  printf("blkfront: %s: %s failed: %d\n", d->info.nodename, what, rc);
  if (d->published) close_handshake(d);
  release_resources(d);
  return rc;
}

static long grant_rw(struct blkfront_dev *d, const void *page) {
  return gnttab_grant_access(d->info.backend_id, gfn_of(page), 0);
}

/* Read the device properties the backend published before Connected. */
static int read_properties(struct blkfront_dev *d) {
  struct blkfront_info *in = &d->info;
  const char *be = in->backend;
  uint64_t sectors, info, ssize;
  int rc;
  if ((rc = read_uint(be, "sectors", &sectors)) < 0 || (rc = read_uint(be, "info", &info)) < 0 ||
      (rc = read_uint(be, "sector-size", &ssize)) < 0) {
    printf("blkfront: %s: backend lacks sectors/info/sector-size (%d)\n", in->nodename, rc);
    return -XEN_EIO;
  }
  if (ssize < BLKIF_SECTOR_SIZE || ssize > PAGE || (ssize & (ssize - 1))) {
    printf("blkfront: %s: unsupported sector-size %llu\n", in->nodename, (unsigned long long)ssize);
    return -XEN_EIO;
  }
  in->sectors = sectors;
  in->sector_size = (uint32_t)ssize;
  in->physical_sector_size = (uint32_t)read_opt(be, "physical-sector-size", ssize);
  in->vdisk_info = (uint32_t)info;
  in->readonly = (info & VDISK_READONLY) != 0;
  in->feature_flush = read_opt(be, "feature-flush-cache", 0) != 0;
  in->feature_barrier = read_opt(be, "feature-barrier", 0) != 0;
  in->feature_discard = read_opt(be, "feature-discard", 0) != 0;
  if (in->feature_discard) {
    in->discard_granularity = (uint32_t)read_opt(be, "discard-granularity", 0);
    in->discard_alignment = (uint32_t)read_opt(be, "discard-alignment", 0);
    in->discard_secure = read_opt(be, "discard-secure", 0) != 0;
  }
  /* blkfront.indirect=0 on the command line keeps to direct segments (11 per request). */
  uint64_t ind = pvkvm_cmdline_ull("blkfront.indirect", 1) ? read_opt(be, "feature-max-indirect-segments", 0) : 0;
  in->max_indirect_segs = ind > BLKIF_MAX_SEGMENTS_PER_REQUEST ? (ind > MAX_SEGS ? MAX_SEGS : (unsigned)ind) : 0;
  /* Persistent grants only if we offered them and the backend (still) says so. */
  if (in->persistent) in->persistent = read_opt(be, "feature-persistent", 0) == 1;
  d->sector_scale = in->sector_size / BLKIF_SECTOR_SIZE;
  d->max_segs = in->max_indirect_segs ? in->max_indirect_segs : BLKIF_MAX_SEGMENTS_PER_REQUEST;
  return 0;
}

int blkfront_open(unsigned index, struct blkfront_dev **out) {
  if (!pvkvm_xen_present()) return -XEN_ENODEV;
  int rc = xs_init();
  if (rc < 0) return rc;
  if (!pvkvm_shared_info()) return (int)pvkvm_shared_info_error();
  long lrc = gnttab_init();
  if (lrc < 0) return (int)lrc;
  unsigned ids[16];
  int n = blkfront_list(ids, 16);
  if (n < 0) return n;
  if (index >= (unsigned)n || index >= 16) return -XEN_ENODEV;
  for (unsigned i = 0; i < BLKFRONT_MAX_DEVICES; i++)
    if (devs[i].used && devs[i].info.devid == ids[index]) return -XEN_EBUSY; /* already open */
  struct blkfront_dev *d = NULL;
  for (unsigned i = 0; i < BLKFRONT_MAX_DEVICES && !d; i++)
    if (!devs[i].used) d = &devs[i];
  if (!d) return -XEN_EBUSY;
  unsigned slot = (unsigned)(d - devs);
  rc = slot_mem_get(slot);
  if (rc < 0) {
    printf("blkfront: no memory for a device (the arena is below RAM's top)\n");
    return rc;
  }
  memset(d, 0, sizeof(*d));
  d->slot = slot;
  d->used = 1;
  d->shadow = slot_mem[slot].shadow;
  memset(d->shadow, 0, sizeof(struct shadow) * BLKFRONT_MAX_RING_SIZE);
  struct blkfront_info *in = &d->info;
  in->devid = ids[index];
  xenbus_device_path("vbd", in->devid, in->nodename, sizeof(in->nodename));
  rc = xenbus_read_backend(in->nodename, in->backend, sizeof(in->backend), &in->backend_id);
  if (rc < 0) {
    d->used = 0;
    printf("blkfront: %s: no backend/backend-id: %d\n", in->nodename, rc);
    return rc;
  }
  /* A frontend left Closed by an earlier session starts over. */
  int fs = xenbus_read_state(in->nodename);
  if (fs >= 0 && fs != XenbusStateInitialising) xenbus_switch_state(in->nodename, XenbusStateInitialising);

  /* 1. The backend publishes its features and reaches InitWait. */
  rc = xenbus_wait_state(in->backend, XENBUS_STATE_BIT(XenbusStateInitWait), BLKFRONT_HANDSHAKE_TIMEOUT_NS);
  if (rc < 0) {
    printf("blkfront: %s: backend %s did not reach InitWait (state %d): %d\n", in->nodename, in->backend,
           xenbus_read_state(in->backend), rc);
    d->used = 0;
    return rc;
  }
  uint64_t max_order = read_opt(in->backend, "max-ring-page-order", 0);
  if (max_order == 0) { /* the deprecated page count */
    uint64_t pages = read_opt(in->backend, "max-ring-pages", 1);
    while (pages > 1) {
      max_order++;
      pages >>= 1;
    }
  }
  in->ring_order = max_order < BLKFRONT_MAX_RING_ORDER ? (unsigned)max_order : BLKFRONT_MAX_RING_ORDER;
  in->ring_size = BLKIF_RING_SIZE_1PAGE << in->ring_order;
  /* Offer persistent grants back when the backend has them, unless the kernel command line says
   * blkfront.persistent=0 (as Linux's xen_blkfront.feature_persistent=0). */
  in->persistent = read_opt(in->backend, "feature-persistent", 0) == 1 && pvkvm_cmdline_ull("blkfront.persistent", 1) != 0;

  /* 2. The shared ring: the frontend initialises it, then grants its pages. */
  unsigned npages = 1u << in->ring_order;
  uint8_t (*ring)[PAGE] = slot_mem[slot].ring;
  memset(ring, 0, (size_t)npages * PAGE);
  d->sring = (volatile struct blkif_sring *)ring[0];
  d->sring->req_prod = d->sring->rsp_prod = 0;
  d->sring->req_event = d->sring->rsp_event = 1;
  for (unsigned i = 0; i < npages; i++) {
    lrc = grant_rw(d, ring[i]);
    if (lrc < 0) return open_failed(d, (int)lrc, "granting the ring");
    d->ring_ref[d->nring_refs++] = (grant_ref_t)lrc;
  }
  rc = (int)evtchn_alloc_unbound(in->backend_id, &in->port);
  if (rc < 0) return open_failed(d, rc, "EVTCHNOP_alloc_unbound");
  d->port_open = 1;
  if (in->port >= EVTCHN_NR_PORTS) return open_failed(d, -XEN_EINVAL, "event channel number");
  evtchn_mask(in->port); /* only SCHEDOP_poll waits on it */
  evtchn_clear(in->port);

  /* 3. Publish the transport and switch to Initialised. */
  d->published = 1;
  rc = xs_transaction(write_transport, d, 0);
  if (rc < 0) return open_failed(d, rc, "writing ring-ref/event-channel/protocol");
  rc = xenbus_switch_state(in->nodename, XenbusStateInitialised);
  if (rc < 0) return open_failed(d, rc, "switching to Initialised");

  /* 4. The backend maps the ring, binds the port, publishes the disk and says Connected. */
  rc = xenbus_wait_state(in->backend,
                         XENBUS_STATE_BIT(XenbusStateConnected) | XENBUS_STATE_BIT(XenbusStateClosing) |
                             XENBUS_STATE_BIT(XenbusStateClosed),
                         BLKFRONT_HANDSHAKE_TIMEOUT_NS);
  if (rc >= 0 && rc != XenbusStateConnected) {
    printf("blkfront: %s: backend went %s instead of Connected\n", in->nodename, xenbus_state_name(rc));
    rc = -XEN_EIO;
  }
  if (rc < 0) return open_failed(d, rc, "waiting for the backend to connect");
  rc = read_properties(d);
  if (rc < 0) return open_failed(d, rc, "reading the disk properties");

  /* 5. Long-lived grants: indirect pages (one per id), and with persistent grants the pool. */
  if (in->max_indirect_segs) {
    for (unsigned i = 0; i < in->ring_size; i++) {
      lrc = grant_rw(d, indirect_page(d, i));
      if (lrc < 0) return open_failed(d, (int)lrc, "granting indirect pages");
      d->iref[d->niref++] = (grant_ref_t)lrc;
    }
  }
  if (in->persistent) {
    for (unsigned i = 0; i < BLKFRONT_POOL_PAGES; i++) {
      lrc = grant_rw(d, pool_page(d, i));
      if (lrc < 0) return open_failed(d, (int)lrc, "granting the persistent pool");
      d->pool_ref[d->npool_granted++] = (grant_ref_t)lrc;
    }
  }
  for (unsigned i = 0; i < BLKFRONT_POOL_PAGES; i++) d->pool_free[i] = (uint16_t)(BLKFRONT_POOL_PAGES - 1 - i);
  d->pool_nfree = BLKFRONT_POOL_PAGES;
  d->free_head = NO_ID;
  for (unsigned id = in->ring_size; id-- > 0;) {
    d->shadow[id].next_free = d->free_head;
    d->free_head = (uint16_t)id;
  }
  d->raw_id = NO_ID;

  struct block_dev *bd = &d->bdev;
  bd->ops = &blkfront_ops;
  bd->priv = d;
  snprintf(bd->name, sizeof(bd->name), "%s", in->nodename);
  bd->sector_size = in->sector_size;
  bd->nr_sectors = in->sectors / d->sector_scale;
  bd->readonly = in->readonly;
  bd->can_flush = in->feature_flush || in->feature_barrier;
  bd->can_discard = in->feature_discard;
  bd->max_count = d->max_segs * PAGE / in->sector_size;
  bd->queue_depth = in->ring_size;
  bd->timeout_ns = BLOCK_DEFAULT_TIMEOUT_NS;

  rc = xenbus_switch_state(in->nodename, XenbusStateConnected);
  if (rc < 0) return open_failed(d, rc, "switching to Connected");
  *out = d;
  return 0;
}

int blkfront_close(struct blkfront_dev *d) {
  if (!d || d->used != 1) return -XEN_EINVAL;
  /* Let what is in flight finish (briefly), then forget the rest. */
  if (!d->broken && d->inflight) {
    uint64_t until = deadline_after(NSEC_PER_SEC);
    while (d->inflight && pvkvm_time_ns() < until) {
      int r = bf_poll(&d->bdev, NSEC_PER_SEC / 10);
      if (r < 0 && r != -XEN_ETIMEDOUT) break;
    }
  }
  bf_abandon(&d->bdev);
  int rc = close_handshake(d);
  d->broken = 1;
  d->bdev.broken = 1;
  int rr = release_resources(d);
  return rc < 0 ? rc : rr;
}

struct block_dev *blkfront_block(struct blkfront_dev *d) { return &d->bdev; }
const struct blkfront_info *blkfront_get_info(const struct blkfront_dev *d) { return &d->info; }
const struct blkfront_stats *blkfront_get_stats(const struct blkfront_dev *d) { return &d->stats; }

void blkfront_print_info(const struct blkfront_dev *d) {
  const struct blkfront_info *in = &d->info;
  printf("blkfront: %s backend=%s sectors=%llu sector-size=%u info=%#x ro=%d ring-order=%u ring-size=%u "
         "persistent=%d indirect=%u flush=%d barrier=%d discard=%d port=%u\n",
         in->nodename, in->backend, (unsigned long long)in->sectors, in->sector_size, in->vdisk_info, in->readonly,
         in->ring_order, in->ring_size, in->persistent, in->max_indirect_segs, in->feature_flush,
         in->feature_barrier, in->feature_discard, in->port);
}

/* ---- raw access ---- */

int blkfront_raw_request(struct blkfront_dev *d, const union blkif_sring_entry *req, struct blkif_response *rsp,
                         uint64_t timeout_ns) {
  if (d->broken) return -XEN_EIO;
  if (ring_full(d) || d->raw_id != NO_ID) return -XEN_EBUSY;
  int id = alloc_id(d);
  if (id < 0) return -XEN_EBUSY;
  struct shadow *s = &d->shadow[id];
  s->raw = 1;
  s->op = req->req.operation == BLKIF_OP_INDIRECT ? req->indirect.indirect_op : req->req.operation;
  union blkif_sring_entry e = *req;
  e.req.id = (uint64_t)id; /* offset 8 in every layout */
  d->raw_id = (uint16_t)id;
  d->raw_done = 0;
  put_request(d, &e);
  uint64_t deadline = deadline_after(timeout_ns);
  int rc = 0;
  while (!d->raw_done) {
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) {
      rc = -XEN_ETIMEDOUT;
      break;
    }
    rc = bf_poll(&d->bdev, deadline - now);
    if (rc < 0 && !d->raw_done) break;
    rc = 0;
  }
  if (d->raw_done) {
    if (rsp) *rsp = d->raw_rsp;
    rc = d->broken ? -XEN_EIO : 0;
  }
  d->raw_id = NO_ID; /* a late response is still consumed (the id stays in use until then) */
  return rc;
}

volatile struct blkif_sring *blkfront_sring(struct blkfront_dev *d) { return d->sring; }
uint32_t blkfront_req_prod(const struct blkfront_dev *d) { return d->req_prod_pvt; }
long blkfront_notify(struct blkfront_dev *d) { return evtchn_send(d->info.port); }

void blkfront_set_broken(struct blkfront_dev *d) {
  d->broken = 1;
  d->bdev.broken = 1;
}
