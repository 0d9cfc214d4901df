/* shadow.c: blkfront's request ids and what each request holds (pool pages, per-request grants),
 * and failing everything in flight when the backend breaks the protocol. */
#include <stdint.h>
#include <pvkvm/console.h>
#include <pvkvm/grant.h>
#include "blkfront_dev.h"

int bf_alloc_id(struct blkfront_dev *d) {
  uint16_t id = d->free_head;
  if (id == NO_ID) return -1;
  d->free_head = d->shadow[id].next_free;
  struct shadow *s = &d->shadow[id];
  s->in_use = 1;
  s->seq = d->next_seq++;
  s->req = NULL;
  s->raw = s->bounce = 0;
  s->npool = s->ngrants = 0;
  s->buf = NULL;
  s->bytes = 0;
  d->inflight++;
  return id;
}

void bf_free_id(struct blkfront_dev *d, unsigned id) {
  d->shadow[id].in_use = 0;
  d->shadow[id].next_free = d->free_head;
  d->free_head = (uint16_t)id;
  d->inflight--;
}

/* End the per-request grants of a shadow. Returns how many the backend still holds. */
unsigned bf_end_grants(struct blkfront_dev *d, struct shadow *s) {
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

void bf_put_pool(struct blkfront_dev *d, struct shadow *s) {
  for (unsigned i = 0; i < s->npool; i++) d->pool_free[d->pool_nfree++] = s->pool[i];
  s->npool = 0;
}

void bf_mark_broken(struct blkfront_dev *d, const char *why, unsigned long long a, unsigned long long b) {
  if (!d->broken) printf("blkfront: %s: ring broken: %s (%llu, %llu)\n", d->info.nodename, why, a, b);
  d->broken = 1;
  d->bdev.broken = 1;
  for (unsigned id = 0; id < d->info.ring_size; id++) {
    struct shadow *s = &d->shadow[id];
    if (!s->in_use) continue;
    unsigned held = bf_end_grants(d, s);
    if (!held && !d->info.persistent) bf_put_pool(d, s); /* else the pages stay out of the pool */
    struct block_req *r = s->req;
    int raw = s->raw;
    bf_free_id(d, id);
    if (r) block_complete(&d->bdev, r, -XEN_EIO);
    if (raw && d->raw_id == id) {
      d->raw_done = 1;
      d->raw_rsp.status = BLKIF_RSP_ERROR;
    }
  }
}
