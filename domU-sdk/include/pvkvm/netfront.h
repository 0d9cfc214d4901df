/*
 * pvkvm/netfront.h: the Xen PV network frontend (netif, <xen-abi/io/netif.h>, generated from
 * abi/io/netif.ts). Use it through <pvkvm/net.h>; this header has what is netfront's own.
 *
 *   struct netfront_dev *nf;
 *   if (netfront_open(0, &nf) == 0) { struct net_dev *nic = netfront_net(nf); ... }
 *
 * Handshake (netfront_open): xs_init, gnttab_init; the index-th device/vif by ascending id
 * (netfront_wait_vif waits for one to appear, watching device/vif); read <dev>/backend,
 * backend-id and mac; wait for the backend's InitWait (or Connected); it must offer
 * feature-rx-copy (we never flip pages); one TX and one RX ring page, granted to backend-id;
 * EVTCHNOP_alloc_unbound(backend-id), one port for both rings (no split channels); post every RX
 * buffer; in one transaction write tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy = 1,
 * feature-sg = 1, feature-rx-notify = 1, feature-no-csum-offload = 1 (we never receive a blank
 * checksum); switch to Connected; wait for the backend's Connected.
 *
 * Data path. TX: a pool of NETFRONT_TX_PAGES pages, each granted read-only once and tied to a TX
 * id; a frame is copied into one page per 4 KiB (a frame over a page becomes a chain of requests,
 * NETTXF_more_data on all but the last, the first carrying the total size; only when the backend
 * has feature-sg, else frames are limited to one page). Responses free their ids (O(1) free list),
 * reaped on every send and wait, without asking for an event unless a sender waits for room.
 * RX: NETFRONT_RX_PAGES pages granted writable once; request at ring index i uses id/page
 * i & (size - 1) (so an extra-info slot recycles its buffer by index, as Linux does); frames are
 * copied out (offset + size checked against the page), chains (NETRXF_more_data) concatenated,
 * extra-info slots skipped; consumed slots are reposted in batches. Pushes use
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, so a burst costs at most one notification.
 *
 * Waiting: port_wait (SCHEDOP_poll) on the masked port, armed with rx rsp_event = rsp_cons + 1
 * (and tx rsp_event when waiting for room). `netfront.poll=1` on the command line spins on the
 * rings instead (no kernel call per wake-up; burns the vCPU). The backend's directory is watched
 * and its state looked at during waits at most every NETFRONT_STATE_CHECK_NS: a backend being
 * unplugged (online = 0, then Closing) or gone makes the device close cleanly (ops then return
 * -XEN_ENOTCONN); one that leaves Connected otherwise — a new netback after a dom0 restart starts
 * at InitWait, one that faulted goes Closed — gets the handshake again (new rings, grants and
 * port; every RX buffer posted again; TX frames in flight are lost, as on a real NIC). A hostile
 * backend (impossible indices, ids not in flight) marks the device broken: -XEN_EIO.
 */
#ifndef PVKVM_NETFRONT_H
#define PVKVM_NETFRONT_H
#include <stdint.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/net.h>
#include <xen-abi/io/netif.h>

#define NETFRONT_MAX_DEVICES 2
#define NETFRONT_TX_RING_SIZE 256u   /* one page of netif_tx entries */
#define NETFRONT_RX_RING_SIZE 256u
#define NETFRONT_TX_PAGES NETFRONT_TX_RING_SIZE /* one per TX id */
#define NETFRONT_RX_PAGES NETFRONT_RX_RING_SIZE
#define NETFRONT_MAX_TX_SLOTS 17u    /* pages per frame with feature-sg (64 KiB + a header) */
#define NETFRONT_MAX_FRAME 65535u
#define NETFRONT_RX_REFILL_BATCH 16u /* repost consumed RX slots this many at a time */
#define NETFRONT_HANDSHAKE_TIMEOUT_NS 20000000000ULL
#define NETFRONT_POLL_SLICE_NS 100000000ULL
#define NETFRONT_STATE_CHECK_NS 500000000ULL

_Static_assert(XEN_CONST_RING_SIZE(netif_tx, 4096) == NETFRONT_TX_RING_SIZE, "one TX ring page");
_Static_assert(XEN_CONST_RING_SIZE(netif_rx, 4096) == NETFRONT_RX_RING_SIZE, "one RX ring page");

struct netfront_dev;

struct netfront_info {
  unsigned devid;
  char nodename[48];          /* device/vif/<devid> */
  char backend[128];
  domid_t backend_id;
  uint8_t mac[6];
  evtchn_port_t port;
  int feature_sg, feature_rx_notify;
  int feature_persistent; /* both ends: the backend keeps our pool grants mapped */
};

struct netfront_stats {
  uint64_t tx_requests;        /* ring slots used by TX */
  uint64_t rx_chains;          /* frames that spanned several RX slots */
  uint64_t rx_extras;          /* extra-info slots skipped */
  uint64_t rx_bad_id;          /* responses whose id is not their slot's */
  uint64_t refills;            /* RX pushes */
  uint64_t polls, lazy_wakeups;
  uint64_t state_checks;
  uint64_t reconnects;         /* handshakes redone after the backend restarted */
};

int netfront_list(unsigned *ids, unsigned max);        /* vif ids, ascending; how many */
/* Reconnect after a restore into a new domain (pvkvm_suspend returned 0): the new backend's
 * directory, watched, and the handshake again. pvkvm_suspend does it for every open device
 * (netfront_resume_all). 0 or -errno (the device is then unusable). */
int netfront_resume(struct netfront_dev *dev);
void netfront_resume_all(void);
/* Wait until at least index + 1 vifs exist (a vif may be hot-plugged after boot). 0 or -errno. */
int netfront_wait_vif(unsigned index, uint64_t timeout_ns);
int netfront_open(unsigned index, struct netfront_dev **out);
int netfront_close(struct netfront_dev *d);
struct net_dev *netfront_net(struct netfront_dev *d);
const struct netfront_info *netfront_get_info(const struct netfront_dev *d);
const struct netfront_stats *netfront_get_stats(const struct netfront_dev *d);
void netfront_print_info(const struct netfront_dev *d);

extern const struct net_driver netfront_net_driver; /* "pv" in net_drivers[] */

#endif
