/*
 * tx.c: netfront's transmit side. Each TX id owns one pool page granted once, so a send is a copy
 * and a few ring stores: no grant or hypercall per frame. A frame over a page is a chain of
 * requests (NETTXF_more_data on all but the last; the first one's size is the frame's total
 * size, as netif.h specifies). The push asks the backend for an event only when it said it
 * wants one (req_event), so a burst costs at most one notification.
 */
#include <stdint.h>
#include <pvkvm/string.h>
#include "netfront_dev.h"

void nf_tx_init(struct netfront_dev *d) {
  d->tx_nfree = 0;
  for (unsigned i = NETFRONT_TX_PAGES; i-- > 0;) {
    d->tx_inflight[i] = 0;
    d->tx_free[d->tx_nfree++] = (uint16_t)i;
  }
  d->tx_unpushed = 0;
}

/* Consume every TX response: free its id. Impossible indices or ids mark the device broken. */
int nf_tx_reap(struct netfront_dev *d) {
  if (d->broken) return d->broken;
  struct netif_tx_front_ring *r = &d->tx;
  RING_IDX rp = XEN_RING_ACQUIRE(r->sring->rsp_prod);
  if ((RING_IDX)(rp - r->rsp_cons) > (RING_IDX)(r->req_prod_pvt - r->rsp_cons)) {
    nf_mark_broken(d, -XEN_EIO, "tx rsp_prod beyond the requests sent (rsp_prod, rsp_cons)", rp, r->rsp_cons);
    return d->broken;
  }
  int n = 0;
  for (RING_IDX i = r->rsp_cons; i != rp; i++) {
    struct netif_tx_response rsp;
    RING_COPY_RESPONSE(r, i, &rsp);
    if (rsp.status == NETIF_RSP_NULL) continue; /* an extra-info slot's: we send none, nothing to free */
    if (rsp.id >= NETFRONT_TX_PAGES || !d->tx_inflight[rsp.id]) {
      r->rsp_cons = i;
      nf_mark_broken(d, -XEN_EIO, "tx response for an id not in flight (id, index)", rsp.id, i);
      return d->broken;
    }
    d->tx_inflight[rsp.id] = 0;
    d->tx_free[d->tx_nfree++] = rsp.id;
    if (rsp.status != NETIF_RSP_OKAY) d->ndev.stats.tx_errors++;
    n++;
  }
  r->rsp_cons = rp;
  return n;
}

int nf_tx_room(struct netfront_dev *d) {
  if (d->broken) return d->broken;
  if (d->tx_nfree < d->max_tx_slots || RING_FREE_REQUESTS(&d->tx) < d->max_tx_slots) {
    int rc = nf_tx_reap(d);
    if (rc < 0) return rc;
  }
  return d->tx_nfree >= d->max_tx_slots && RING_FREE_REQUESTS(&d->tx) >= d->max_tx_slots;
}

void nf_flush(struct net_dev *nd) {
  struct netfront_dev *d = nd->priv;
  if (!d->tx_unpushed || d->broken) return;
  int notify;
  RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->tx, notify);
  d->tx_unpushed = 0;
  if (notify) nf_notify(d);
}

int nf_send(struct net_dev *nd, const void *frame, size_t len, unsigned flags) {
  struct netfront_dev *d = nd->priv;
  if (d->broken) return d->broken;
  if (len < NET_ETH_HLEN) return -XEN_EINVAL;
  if (len > nd->max_frame) return -XEN_EMSGSIZE;
  unsigned slots = (unsigned)((len + PAGE - 1) / PAGE);
  if (d->tx_nfree < slots || RING_FREE_REQUESTS(&d->tx) < slots) {
    int rc = nf_tx_reap(d);
    if (rc < 0) return rc;
    if (d->tx_nfree < slots || RING_FREE_REQUESTS(&d->tx) < slots) {
      nf_flush(nd); /* what is queued must reach the backend, or no room ever comes back */
      nd->stats.tx_full++;
      return -XEN_EAGAIN;
    }
  }
  const uint8_t *src = frame;
  size_t left = len;
  for (unsigned s = 0; s < slots; s++) {
    uint16_t id = d->tx_free[--d->tx_nfree];
    size_t chunk = left < PAGE ? left : PAGE;
    memcpy(d->tx_pages[id], src, chunk);
    struct netif_tx_request *req = RING_GET_REQUEST(&d->tx, d->tx.req_prod_pvt);
    req->gref = d->tx_ref[id];
    req->offset = 0;
    req->flags = s + 1 < slots ? NETTXF_more_data : 0;
    req->id = id;
    req->size = (uint16_t)(s == 0 ? len : chunk);
    d->tx_inflight[id] = 1;
    d->tx.req_prod_pvt++;
    src += chunk;
    left -= chunk;
  }
  d->stats.tx_requests += slots;
  d->tx_unpushed = 1;
  nd->stats.tx_frames++;
  nd->stats.tx_bytes += len;
  if (!(flags & NET_SEND_MORE)) nf_flush(nd);
  return 0;
}
