/*
 * request.c: the request side of blkfront's ring — READ/WRITE with direct segments or one
 * indirect page, data in registered memory (granted once), granted per request or bounced
 * through the pool, FLUSH and DISCARD.
 *   push: store req_prod = req_prod_pvt (release: the entries are visible first), full fence,
 *         notify iff req_event lies in (old, new]: (u32)(new - req_event) < (u32)(new - old).
 */
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/grant.h>
#include <pvkvm/string.h>
#include "blkfront_dev.h"

void bf_put_request(struct blkfront_dev *d, const union blkif_sring_entry *e) {
  uint32_t slot = d->req_prod_pvt & (d->info.ring_size - 1);
  memcpy((void *)&d->sring->ring[slot], e, sizeof(*e));
  d->req_prod_pvt++;
  d->stats.requests++;
}

union blkif_sring_entry *bf_next_request(struct blkfront_dev *d) {
  uint32_t slot = d->req_prod_pvt & (d->info.ring_size - 1);
  d->req_prod_pvt++;
  d->stats.requests++;
  return (union blkif_sring_entry *)&d->sring->ring[slot];
}

/* RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, then the event if the backend asked for one. */
void bf_push(struct blkfront_dev *d) {
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

/* ---- registered I/O memory ---- */

int blkfront_register_buffer(struct blkfront_dev *d, void *buf, size_t len) {
  uintptr_t start = ((uintptr_t)buf + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
  uintptr_t end = ((uintptr_t)buf + len) & ~(uintptr_t)(PAGE - 1);
  if (end <= start) return -XEN_EINVAL; /* not one whole page */
  uint32_t npages = (uint32_t)((end - start) / PAGE);
  if (d->nregions >= BLKFRONT_MAX_REGIONS || npages > BLKFRONT_MAX_REG_PAGES - d->nreg_pages) return -XEN_ENOSPC;
  d->regions[d->nregions].base = start;
  d->regions[d->nregions].npages = npages;
  d->regions[d->nregions].first = d->nreg_pages;
  for (uint32_t i = 0; i < npages; i++) d->reg_ref[d->nreg_pages + i] = 0;
  d->nregions++;
  d->nreg_pages += npages;
  return 0;
}

int bf_register_buffer(struct block_dev *bd, void *buf, size_t len) { return blkfront_register_buffer(bd->priv, buf, len); }

/* Where [a, a + bytes) lies in registered memory: its first page's slot in reg_ref and that
 * page's address; NULL if it is not inside one region. */
static grant_ref_t *registered_refs(struct blkfront_dev *d, uintptr_t a, uint32_t bytes, uintptr_t *page0) {
  for (unsigned r = 0; r < d->nregions; r++) {
    uintptr_t base = d->regions[r].base;
    if (a < base || a - base >= (uintptr_t)d->regions[r].npages * PAGE) continue;
    uint32_t p0 = (uint32_t)((a - base) / PAGE), p1 = (uint32_t)((a + bytes - 1 - base) / PAGE);
    if (p1 >= d->regions[r].npages) return NULL; /* runs past the region */
    *page0 = base + (uintptr_t)p0 * PAGE;
    return &d->reg_ref[d->regions[r].first + p0];
  }
  return NULL;
}

/*
 * The segments of a request in registered memory, as 64-bit words (gref | first_sect << 32 |
 * last_sect << 40, the blkif_request_segment layout): each page granted read-write (it serves
 * reads and writes) on its first use. 0, or -errno if a grant failed (the request then takes the
 * ordinary path; pages granted so far stay registered). The common case — every page granted —
 * is a short loop: this runs for every request, in emulated code on some hosts.
 */
static int registered_segments(struct blkfront_dev *d, grant_ref_t *refs, uintptr_t page, uintptr_t a, uint32_t bytes,
                               unsigned nsegs, uint64_t *segs) {
  const uint64_t whole = (uint64_t)(PAGE / BLKIF_SECTOR_SIZE - 1) << 40; /* sectors 0..7 */
  for (unsigned i = 0; i < nsegs; i++, page += PAGE) {
    grant_ref_t ref = refs[i];
    if (!ref) {
      long rc = gnttab_grant_access(d->info.backend_id, gfn_of((const void *)page), 0);
      if (rc < 0) return (int)rc;
      refs[i] = ref = (grant_ref_t)rc;
      d->stats.registered_grants++;
    }
    segs[i] = ref | whole;
  }
  /* Only the first and last pages can be partial. */
  uint32_t first = (uint32_t)(a & (PAGE - 1)) / BLKIF_SECTOR_SIZE;
  uint32_t last = (uint32_t)((a + bytes - 1) & (PAGE - 1)) / BLKIF_SECTOR_SIZE;
  segs[0] = (uint32_t)segs[0] | (uint64_t)first << 32 | (nsegs == 1 ? (uint64_t)last << 40 : whole);
  if (nsegs > 1) segs[nsegs - 1] = (uint32_t)segs[nsegs - 1] | (uint64_t)last << 40;
  return 0;
}

unsigned bf_end_registered(struct blkfront_dev *d) {
  unsigned held = 0;
  for (unsigned i = 0; i < d->nreg_pages; i++)
    if (d->reg_ref[i]) held += gnttab_end_access(d->reg_ref[i]) != 0;
  /* The regions stay registered: a reconnect grants their pages again on first use. */
  for (unsigned i = 0; i < d->nreg_pages; i++) d->reg_ref[i] = 0;
  return held;
}

/* Undo a request that could not be queued. */
static void unwind(struct blkfront_dev *d, unsigned id) {
  struct shadow *s = &d->shadow[id];
  bf_end_grants(d, s); /* never seen by the backend: cannot fail */
  bf_put_pool(d, s);
  bf_free_id(d, id);
}

static int submit_rw(struct blkfront_dev *d, struct block_req *r) {
  _Static_assert(sizeof(struct blkif_request_segment) == 8, "segments are built as 64-bit words");
  int write = r->op == BLOCK_OP_WRITE;
  uint32_t bytes = r->count * d->info.sector_size;
  uintptr_t a = (uintptr_t)r->buf;
  unsigned pages_direct = (unsigned)(((a + bytes + PAGE - 1) / PAGE) - a / PAGE);
  unsigned pages_bounce = (bytes + PAGE - 1) / PAGE;
  uint64_t segs[MAX_SEGS];
  /* The caller's own pages when possible (sector-aligned) and allowed: registered I/O memory
   * (granted once, kept), or any memory without persistent grants (granted per request). */
  int aligned = a % d->info.sector_size == 0 && pages_direct <= d->max_segs && bytes != 0;
  uintptr_t page0 = 0;
  grant_ref_t *refs = aligned && d->nregions ? registered_refs(d, a, bytes, &page0) : NULL;
  int reg = refs && registered_segments(d, refs, page0, a, bytes, pages_direct, segs) == 0;
  int direct = aligned && (reg || !d->info.persistent);
  unsigned nsegs = direct ? pages_direct : pages_bounce;
  if (nsegs > d->max_segs || nsegs == 0) return -XEN_EINVAL;
  if (bf_ring_full(d)) return -XEN_EBUSY;
  if (!direct && d->pool_nfree < nsegs) return -XEN_EBUSY;
  int id = bf_alloc_id(d);
  if (id < 0) return -XEN_EBUSY;
  struct shadow *s = &d->shadow[id];
  s->req = r;
  s->op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
  s->bounce = !direct;
  s->buf = r->buf;
  s->bytes = bytes;

  /* Not registered: the pool's pages (bounced) or the caller's, granted for this request. */
  for (uint32_t i = 0, done = 0; !reg && i < nsegs; i++) {
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
    if (!direct && write) {
      uint64_t t0 = rdtsc();
      memcpy((void *)page, (const uint8_t *)r->buf + done, len);
      d->stats.bounce_cycles += rdtsc() - t0;
      d->stats.bounce_bytes += len;
    }
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
    segs[i] = gref | (uint64_t)(in_page / BLKIF_SECTOR_SIZE) << 32 | (uint64_t)((in_page + len - 1) / BLKIF_SECTOR_SIZE) << 40;
    done += len;
  }

  /* Built in place in the ring slot (zeroed first: no stale bytes go out); the backend sees it
   * only once bf_push publishes req_prod. */
  union blkif_sring_entry *e = bf_next_request(d);
  memset(e, 0, sizeof(*e));
  uint64_t sector = r->lba * d->sector_scale;
  if (nsegs <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
    e->req.operation = s->op;
    e->req.nr_segments = (uint8_t)nsegs;
    e->req.handle = (uint16_t)d->info.devid;
    e->req.id = (uint64_t)id;
    e->req.sector_number = sector;
    memcpy(e->req.seg, segs, nsegs * sizeof(segs[0]));
  } else {
    /* INDIRECT: the segments go in this id's indirect page (granted once at connect). */
    memcpy(indirect_page(d, (unsigned)id), segs, nsegs * sizeof(segs[0]));
    e->indirect.operation = BLKIF_OP_INDIRECT;
    e->indirect.indirect_op = s->op;
    e->indirect.nr_segments = (uint16_t)nsegs;
    e->indirect.id = (uint64_t)id;
    e->indirect.sector_number = sector;
    e->indirect.handle = (uint16_t)d->info.devid;
    e->indirect.indirect_grefs[0] = d->iref[id];
    d->stats.indirect++;
  }
  if (s->bounce) d->stats.bounced++;
  if (reg) d->stats.registered++;
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
  if (bf_ring_full(d)) return -XEN_EBUSY;
  int id = bf_alloc_id(d);
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
  bf_put_request(d, &e);
  return 0;
}

int bf_submit(struct block_dev *bd, struct block_req *r) {
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
