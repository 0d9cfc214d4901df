/*
 * rx.c: netfront's receive side. RX pages are granted once and never revoked while the device is
 * open (the backend copies into them: request-rx-copy); the request at ring index i always uses
 * page i & (size - 1), so a slot the backend consumed for an extra-info entry recycles its page
 * by index, as Linux's netfront does. A frame is copied out of the pages before anything parses
 * it, with every offset and size checked against the page, so a hostile backend can neither make
 * us read past a buffer nor change a frame under the parser.
 */
#include <stdint.h>
#include <pvkvm/string.h>
#include "netfront_dev.h"

#define RX_MASK (NETFRONT_RX_RING_SIZE - 1u)

static void post(struct netfront_dev *d) {
  RING_IDX i = d->rx.req_prod_pvt;
  struct netif_rx_request *req = RING_GET_REQUEST(&d->rx, i);
  req->id = (uint16_t)(i & RX_MASK);
  req->pad = 0;
  req->gref = d->rx_ref[i & RX_MASK];
  d->rx.req_prod_pvt = i + 1;
}

void nf_rx_init(struct netfront_dev *d) {
  while (RING_FREE_REQUESTS(&d->rx) > 0) post(d);
  RING_PUSH_REQUESTS(&d->rx); /* before Connected: the backend looks when it connects */
}

void nf_rx_refill(struct netfront_dev *d, unsigned min_batch) {
  if (d->broken || RING_FREE_REQUESTS(&d->rx) < min_batch || RING_FREE_REQUESTS(&d->rx) == 0) return;
  while (RING_FREE_REQUESTS(&d->rx) > 0) post(d);
  int notify;
  RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->rx, notify);
  d->stats.refills++;
  if (notify) nf_notify(d);
}

/* Responses published and not consumed, after checking rsp_prod: > 0, 0, or -errno. */
static int rx_avail(struct netfront_dev *d, RING_IDX *rp_out) {
  if (d->broken) return d->broken;
  RING_IDX rp = XEN_RING_ACQUIRE(d->rx.sring->rsp_prod);
  if ((RING_IDX)(rp - d->rx.rsp_cons) > (RING_IDX)(d->rx.req_prod_pvt - d->rx.rsp_cons)) {
    nf_mark_broken(d, -XEN_EIO, "rx rsp_prod beyond the buffers posted (rsp_prod, rsp_cons)", rp, d->rx.rsp_cons);
    return d->broken;
  }
  *rp_out = rp;
  return rp != d->rx.rsp_cons;
}

int nf_rx_ready(struct netfront_dev *d) {
  RING_IDX rp = 0;
  return rx_avail(d, &rp);
}

/* One frame's slots, starting at rsp_cons and ending before *end. */
struct rx_frame {
  size_t total;  /* bytes copied */
  unsigned slots;
  int bad;       /* an error status, a bad offset/size or a wrong id */
  int too_big;   /* longer than the caller's buffer */
};

/* Scan (and copy) the frame at rsp_cons: 1 complete (*end past its last slot), 0 not all there
 * yet, -errno if the backend broke the protocol. Consumes nothing. */
static int scan_frame(struct netfront_dev *d, RING_IDX rp, uint8_t *buf, size_t len, struct rx_frame *f,
                      RING_IDX *end) {
  RING_IDX i = d->rx.rsp_cons;
  for (;;) {
    if (i == rp) return 0;
    if ((RING_IDX)(i - d->rx.rsp_cons) >= NETFRONT_RX_RING_SIZE) {
      nf_mark_broken(d, -XEN_EIO, "rx chain longer than the ring (start, length)", d->rx.rsp_cons, i - d->rx.rsp_cons);
      return d->broken;
    }
    struct netif_rx_response rsp;
    RING_COPY_RESPONSE(&d->rx, i, &rsp);
    unsigned page = i & RX_MASK;
    i++;
    f->slots++;
    if (rsp.id != page) {
      d->stats.rx_bad_id++;
      f->bad = 1;
    }
    if (rsp.status < 0) {
      f->bad = 1;
    } else if ((unsigned)rsp.offset + (unsigned)rsp.status > PAGE) {
      f->bad = 1;
    } else if (!f->bad && !f->too_big) {
      size_t n = (size_t)rsp.status;
      if (f->total + n > len) f->too_big = 1;
      else memcpy(buf + f->total, d->rx_pages[page] + rsp.offset, n);
      f->total += n;
    }
    if (rsp.flags & NETRXF_extra_info) { /* extra-info slots follow; skip them */
      for (;;) {
        if (i == rp) return 0;
        if ((RING_IDX)(i - d->rx.rsp_cons) >= NETFRONT_RX_RING_SIZE) {
          nf_mark_broken(d, -XEN_EIO, "rx extra-info chain longer than the ring", d->rx.rsp_cons, 0);
          return d->broken;
        }
        struct netif_extra_info x;
        __builtin_memcpy(&x, (const void *)RING_GET_RESPONSE(&d->rx, i), sizeof(x));
        i++;
        f->slots++;
        d->stats.rx_extras++;
        if (!(x.flags & XEN_NETIF_EXTRA_FLAG_MORE)) break;
      }
    }
    if (!(rsp.flags & NETRXF_more_data)) break;
  }
  *end = i;
  return 1;
}

int nf_recv(struct net_dev *nd, void *buf, size_t len) {
  struct netfront_dev *d = nd->priv;
  for (;;) {
    RING_IDX rp = 0, end = 0;
    int rc = rx_avail(d, &rp);
    if (rc <= 0) {
      nf_rx_refill(d, 1); /* idle: give the backend every buffer back */
      return rc;
    }
    struct rx_frame f = {0};
    rc = scan_frame(d, rp, buf, len, &f, &end);
    if (rc <= 0) return rc;
    d->rx.rsp_cons = end;
    nf_rx_refill(d, NETFRONT_RX_REFILL_BATCH);
    if (f.slots > 1) d->stats.rx_chains++;
    if (f.bad || f.total < NET_ETH_HLEN) {
      nd->stats.rx_errors++;
      continue;
    }
    if (f.too_big) {
      nd->stats.rx_dropped++;
      continue;
    }
    nd->stats.rx_frames++;
    nd->stats.rx_bytes += f.total;
    return (int)f.total;
  }
}
