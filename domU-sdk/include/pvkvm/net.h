/*
 * pvkvm/net.h: a driver-neutral Ethernet NIC API — the PV NIC (netfront, <pvkvm/netfront.h>)
 * today, an emulated NIC behind the same table later, as <pvkvm/block.h> does for disks.
 *
 *   struct net_dev *nic;
 *   if (net_open(0, &nic) == 0) {                   // the first NIC of the preferred driver
 *     net_send(nic, frame, len);                    // queued and pushed; waits while the ring is full
 *     net_send_flags(nic, f2, n2, NET_SEND_MORE);   // queued, pushed by the next send or net_flush:
 *     net_flush(nic);                               //   one notification for a burst
 *     int n = net_recv(nic, buf, sizeof buf);       // one frame copied out: length, 0 if none
 *     net_wait(nic, NET_WAIT_RX, 1000000000ull);    // 1 once a frame is there, or -XEN_ETIMEDOUT
 *   }
 *
 * Frames are whole Ethernet frames without the FCS (destination MAC first), at least 14 bytes,
 * at most dev->max_frame. Received frames are copied into the caller's buffer, so the caller owns
 * the bytes it parses (the device, or a hostile backend, cannot change them afterwards); a frame
 * longer than the buffer is dropped and counted (stats.rx_dropped). Results are 0/lengths or
 * -XEN_E* (-XEN_EAGAIN: no room now; -XEN_EMSGSIZE: frame too long; -XEN_EIO / -XEN_ENOTCONN:
 * the device broke or the backend went away).
 *
 * Which driver: net_open/net_count use the first entry of net_drivers[] (src/drivers/
 * net_drivers.c) whose probe counts a NIC; `net=NAME` on the command line forces one ("pv").
 * A driver is a struct net_driver {name, probe, open} and a struct net_ops.
 */
#ifndef PVKVM_NET_H
#define PVKVM_NET_H
#include <stddef.h>
#include <stdint.h>
#include <xen-abi/errno.h>

#define NET_ETH_ALEN 6
#define NET_ETH_HLEN 14
#define NET_DEFAULT_MTU 1500
#define NET_SEND_MORE 1u          /* net_send_flags: more frames follow, do not push yet */
#define NET_WAIT_RX 1u            /* net_wait: a received frame is ready */
#define NET_WAIT_TX 2u            /* net_wait: room to send */
#define NET_DEFAULT_TIMEOUT_NS 10000000000ULL /* net_send's longest wait for room */

struct net_dev;

struct net_stats {
  uint64_t tx_frames, tx_bytes, tx_errors; /* tx_errors: the device answered an error */
  uint64_t rx_frames, rx_bytes, rx_errors; /* rx_errors: the device reported a bad frame */
  uint64_t rx_dropped;                     /* frames longer than the caller's buffer */
  uint64_t notifies;                       /* event-channel sends (or doorbells) */
  uint64_t waits;                          /* sleeps in net_wait */
  uint64_t tx_full;                        /* sends that found no room */
};

struct net_ops {
  const char *name;
  /* Queue one frame; push it unless flags has NET_SEND_MORE. 0, -XEN_EAGAIN (no room now),
   * -XEN_EMSGSIZE, -XEN_EINVAL (shorter than a header), or -errno if the device is broken. */
  int (*send)(struct net_dev *dev, const void *frame, size_t len, unsigned flags);
  void (*flush)(struct net_dev *dev); /* push what NET_SEND_MORE left queued */
  /* Copy out the next frame: its length, 0 if none is ready, or -errno. Never waits. */
  int (*recv)(struct net_dev *dev, void *buf, size_t len);
  /* Until one of `what` (NET_WAIT_RX | NET_WAIT_TX) is ready: 1, -XEN_ETIMEDOUT, or -errno.
   * timeout_ns 0 only looks. */
  int (*wait)(struct net_dev *dev, unsigned what, uint64_t timeout_ns);
  int (*close)(struct net_dev *dev);
};

struct net_dev {
  const struct net_ops *ops;
  void *priv;
  char name[64];
  uint8_t mac[NET_ETH_ALEN];
  unsigned mtu;        /* IP payload per frame */
  unsigned max_frame;  /* the longest frame send accepts */
  int broken;
  struct net_stats stats;
};

struct net_driver {
  const char *name;                    /* "pv", ... (net=NAME) */
  int (*probe)(void);                  /* NICs it can open (cheap, opens nothing), or -errno */
  int (*open)(unsigned index, struct net_dev **dev);
  /* Optional: wait until NIC `index` exists (hot-plug); 0 or -errno. */
  int (*wait_present)(unsigned index, uint64_t timeout_ns);
};
extern const struct net_driver *const net_drivers[];
extern const unsigned net_nr_drivers;

int net_count(void);                                    /* NICs of the chosen driver, or -errno */
int net_open(unsigned index, struct net_dev **dev);     /* 0 or -errno */
/* Wait up to timeout_ns for NIC `index` to appear (a vif added after boot). 0 or -errno. */
int net_wait_present(unsigned index, uint64_t timeout_ns);
int net_close(struct net_dev *dev);

static inline int net_send_flags(struct net_dev *dev, const void *frame, size_t len, unsigned flags) {
  return dev->ops->send(dev, frame, len, flags);
}
/* Queue and push one frame, waiting (up to NET_DEFAULT_TIMEOUT_NS) while there is no room. */
static inline int net_send(struct net_dev *dev, const void *frame, size_t len) {
  for (;;) {
    int rc = dev->ops->send(dev, frame, len, 0);
    if (rc != -XEN_EAGAIN) return rc;
    rc = dev->ops->wait(dev, NET_WAIT_TX, NET_DEFAULT_TIMEOUT_NS);
    if (rc < 0) return rc;
  }
}
static inline void net_flush(struct net_dev *dev) { dev->ops->flush(dev); }
static inline int net_recv(struct net_dev *dev, void *buf, size_t len) { return dev->ops->recv(dev, buf, len); }
static inline int net_wait(struct net_dev *dev, unsigned what, uint64_t timeout_ns) {
  return dev->ops->wait(dev, what, timeout_ns);
}

#endif
