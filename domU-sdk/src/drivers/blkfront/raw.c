/* raw.c: raw access to a blkfront ring, for tests of hostile frontends (<pvkvm/blkfront.h>): any
 * request layout in, its response out, and the ring itself. */
#include <stdint.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include "blkfront_dev.h"

int blkfront_raw_request(struct blkfront_dev *d, const union blkif_sring_entry *req, struct blkif_response *rsp,
                         uint64_t timeout_ns) {
  if (d->broken) return -XEN_EIO;
  if (bf_ring_full(d) || d->raw_id != NO_ID) return -XEN_EBUSY;
  int id = bf_alloc_id(d);
  if (id < 0) return -XEN_EBUSY;
  struct shadow *s = &d->shadow[id];
  s->raw = 1;
  s->op = req->req.operation == BLKIF_OP_INDIRECT ? req->indirect.indirect_op : req->req.operation;
  union blkif_sring_entry e = *req;
  e.req.id = (uint64_t)id; /* offset 8 in every layout */
  d->raw_id = (uint16_t)id;
  d->raw_done = 0;
  bf_put_request(d, &e);
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
