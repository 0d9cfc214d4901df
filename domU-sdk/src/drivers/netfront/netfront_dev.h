/*
 * netfront_dev.h: what the netfront files share — the device struct and the functions one file
 * provides to another. Not part of the SDK API (that is <pvkvm/netfront.h>).
 *
 * The files: handshake.c (open/close over xenbus, long-lived grants, the backend-state watch),
 * tx.c (sending, reaping TX responses), rx.c (posting buffers, receiving), wait.c (sleeping on
 * the port, or spinning in poll mode), net_driver.c (the <pvkvm/net.h> face).
 *
 * Ring arithmetic is Xen's io/ring.h (the generated macros): free-running u32 indices, slot =
 * idx & (size - 1); the front owns req_prod_pvt and rsp_cons. The backend is untrusted: producer
 * indices are checked against what is in flight, every entry is copied before it is looked at.
 */
#ifndef PVKVM_SRC_NETFRONT_DEV_H
#define PVKVM_SRC_NETFRONT_DEV_H
#include <stdint.h>
#include <pvkvm/grant.h>
#include <pvkvm/netfront.h>

#define PAGE 4096u
#define TX_NO_ID 0xffffu

struct netfront_dev {
  int used;                  /* 1 open, 2 leaked (the backend may still hold its pages) */
  unsigned slot;
  struct netfront_info info;
  struct netfront_stats stats;
  struct net_dev ndev;
  struct netif_tx_front_ring tx;
  struct netif_rx_front_ring rx;
  grant_ref_t tx_ring_ref, rx_ring_ref;
  int have_tx_ring_ref, have_rx_ring_ref;
  int port_open, published, watching;
  int released, leaked;      /* release_resources ran; the backend kept some grants */
  int broken;                /* -XEN_EIO (protocol) or -XEN_ENOTCONN (backend closed) once broken */
  int poll_mode;             /* netfront.poll=1: spin instead of SCHEDOP_poll */
  unsigned max_tx_slots;     /* per frame: 1, or NETFRONT_MAX_TX_SLOTS with feature-sg */
  int tx_unpushed;           /* requests written since the last push */
  uint64_t next_state_check; /* pvclock ns */
  int recheck;               /* look at the backend's state at the next check, event or not */
  char watch_token[24];
  /* TX: page i is granted once (tx_ref[i]) and belongs to id i */
  uint8_t (*tx_pages)[PAGE];
  grant_ref_t tx_ref[NETFRONT_TX_PAGES];
  unsigned ntx_granted;
  uint16_t tx_free[NETFRONT_TX_PAGES];
  unsigned tx_nfree;
  uint8_t tx_inflight[NETFRONT_TX_PAGES];
  /* RX: page i is granted once (rx_ref[i]); the request at ring index r uses page r & (size-1) */
  uint8_t (*rx_pages)[PAGE];
  grant_ref_t rx_ref[NETFRONT_RX_PAGES];
  unsigned nrx_granted;
};

static inline uint64_t gfn_of(const void *p) { return (uintptr_t)p >> 12; }
/* The device is unusable: the reason (-XEN_EIO, -XEN_ENOTCONN), else 0. */
static inline int nf_dead(const struct netfront_dev *d) { return d->broken; }

/* handshake.c */
void nf_mark_broken(struct netfront_dev *d, int why, const char *msg, unsigned long long a, unsigned long long b);
/* Looks at the backend's state (its watch fired): unplugged (online = 0) or gone → close,
 * ENOTCONN; otherwise out of Connected (restarted, faulted) → handshake again (reconnect). */
void nf_check_backend(struct netfront_dev *d);

/* tx.c */
void nf_tx_init(struct netfront_dev *d);
int nf_send(struct net_dev *nd, const void *frame, size_t len, unsigned flags);
void nf_flush(struct net_dev *nd);
int nf_tx_reap(struct netfront_dev *d);     /* responses consumed, or -errno */
int nf_tx_room(struct netfront_dev *d);     /* could a largest frame be sent now (after reaping)? */

/* rx.c */
void nf_rx_init(struct netfront_dev *d);    /* post every buffer (not pushed) */
void nf_rx_refill(struct netfront_dev *d, unsigned min_batch); /* repost and push (notify if asked) */
int nf_recv(struct net_dev *nd, void *buf, size_t len);
int nf_rx_ready(struct netfront_dev *d);    /* a complete frame (or an error) is waiting; -errno */

/* wait.c */
int nf_wait(struct net_dev *nd, unsigned what, uint64_t timeout_ns);
void nf_notify(struct netfront_dev *d);

#endif
