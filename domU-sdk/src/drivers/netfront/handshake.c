/*
 * handshake.c: opening and closing a netfront device — the xenbus handshake with the backend
 * (see <pvkvm/netfront.h>), the long-lived grants, the watch on the backend's state, and
 * waiting for a vif to be hot-plugged.
 */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/page_arena.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/xenbus.h>
#include <pvkvm/xenstore.h>
#include "netfront_dev.h"

#define CLOSE_TIMEOUT_NS (5 * NSEC_PER_SEC)

static struct netfront_dev devs[NETFRONT_MAX_DEVICES];

/* Each slot's pages (2 ring pages, the TX and RX pools: about 2 MiB), from the page arena on
 * first use and kept for the next open of that slot. */
struct slot_mem {
  uint8_t (*rings)[PAGE];
  uint8_t (*tx)[PAGE];
  uint8_t (*rx)[PAGE];
};
static struct slot_mem slot_mem[NETFRONT_MAX_DEVICES];

static int slot_mem_get(unsigned slot) {
  struct slot_mem *m = &slot_mem[slot];
  if (m->rings) return 0;
  void *rings = page_arena_alloc(2 * PAGE);
  void *tx = page_arena_alloc((size_t)NETFRONT_TX_PAGES * PAGE);
  void *rx = page_arena_alloc((size_t)NETFRONT_RX_PAGES * PAGE);
  if (!rings || !tx || !rx) return -XEN_ENOMEM;
  m->rings = rings;
  m->tx = tx;
  m->rx = rx;
  return 0;
}

static void sort_ids(unsigned *ids, unsigned n) {
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
      unsigned t = ids[j];
      ids[j] = ids[j - 1];
      ids[j - 1] = t;
    }
}

int netfront_list(unsigned *ids, unsigned max) {
  unsigned all[32];
  int n = xenbus_list_devices("vif", all, 32);
  if (n < 0) return n;
  unsigned got = n > 32 ? 32 : (unsigned)n;
  sort_ids(all, got);
  for (unsigned i = 0; i < got && i < max && ids; i++) ids[i] = all[i];
  return (int)got;
}

int netfront_wait_vif(unsigned index, uint64_t timeout_ns) {
  if (!pvkvm_xen_present()) return -XEN_ENODEV;
  int rc = xs_init();
  return rc < 0 ? rc : xenbus_wait_devices("vif", index, timeout_ns);
}

/* ---- xenstore helpers ---- */

static uint64_t read_opt(const char *dir, const char *key, uint64_t dflt) {
  char path[192];
  long long v;
  snprintf(path, sizeof(path), "%s/%s", dir, key);
  return xenbus_read_int(XBT_NIL, path, &v) == 0 && v >= 0 ? (uint64_t)v : dflt;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "aa:bb:cc:dd:ee:ff" from <dir>/mac. 0, or -XEN_EINVAL / -errno. */
static int read_mac(const char *dir, uint8_t mac[6]) {
  char path[192], s[32];
  snprintf(path, sizeof(path), "%s/" NETIF_XS_MAC, dir);
  int n = xs_read(XBT_NIL, path, s, sizeof(s) - 1);
  if (n < 0) return n;
  if (n != 17) return -XEN_EINVAL;
  for (int i = 0; i < 6; i++) {
    int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) return -XEN_EINVAL;
    mac[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

static int write_key(xs_transaction_t t, const char *dir, const char *key, unsigned v) {
  char path[128];
  snprintf(path, sizeof(path), "%s/%s", dir, key);
  return xenbus_printf(t, path, "%u", v);
}

static int write_transport(xs_transaction_t t, void *arg) {
  struct netfront_dev *d = arg;
  const char *dir = d->info.nodename;
  int rc = write_key(t, dir, NETIF_XS_TX_RING_REF, d->tx_ring_ref);
  if (rc == 0) rc = write_key(t, dir, NETIF_XS_RX_RING_REF, d->rx_ring_ref);
  if (rc == 0) rc = write_key(t, dir, NETIF_XS_EVENT_CHANNEL, d->info.port);
  if (rc == 0) rc = write_key(t, dir, NETIF_XS_REQUEST_RX_COPY, 1);
  if (rc == 0) rc = write_key(t, dir, NETIF_XS_FEATURE_SG, 1);
  if (rc == 0) rc = write_key(t, dir, NETIF_XS_FEATURE_RX_NOTIFY_BACK, 1);
  if (rc == 0) rc = write_key(t, dir, NETIF_XS_FEATURE_NO_CSUM_OFFLOAD, 1);
  /* Our pools are granted once and ended only after the backend has closed: promise so, and the
   * backend keeps them mapped instead of mapping and unmapping every batch. */
  if (rc == 0 && d->info.feature_persistent) rc = write_key(t, dir, NETIF_XS_FEATURE_PERSISTENT, 1);
  return rc;
}

/* ---- teardown ---- */

/* End every long-lived grant and close the port: how many grants the backend still holds. */
static unsigned release_connection(struct netfront_dev *d) {
  unsigned held = 0;
  if (d->have_tx_ring_ref) held += gnttab_end_access(d->tx_ring_ref) != 0;
  if (d->have_rx_ring_ref) held += gnttab_end_access(d->rx_ring_ref) != 0;
  for (unsigned i = 0; i < d->ntx_granted; i++) held += gnttab_end_access(d->tx_ref[i]) != 0;
  for (unsigned i = 0; i < d->nrx_granted; i++) held += gnttab_end_access(d->rx_ref[i]) != 0;
  d->have_tx_ring_ref = d->have_rx_ring_ref = 0;
  d->ntx_granted = d->nrx_granted = 0;
  if (d->port_open) evtchn_close(d->info.port);
  d->port_open = 0;
  d->published = 0;
  return held;
}

/* The connection's resources and the watch. 0 if the backend let go of all. */
static int release_resources(struct netfront_dev *d) {
  unsigned held = release_connection(d);
  if (d->watching) xs_unwatch(d->info.backend, d->watch_token);
  d->watching = 0;
  if (held) printf("netfront: %s: %u grants still in use by the backend; leaking its pages\n", d->info.nodename, held);
  d->released = 1;
  d->leaked = held != 0;
  return held ? -XEN_EBUSY : 0;
}

/* Closing (unless the backend already is), Closed, then wait for the backend's Closed. */
static int close_handshake(struct netfront_dev *d) {
  const char *fe = d->info.nodename, *be = d->info.backend;
  int bs = xenbus_read_state(be);
  if (bs >= 0 && bs != XenbusStateClosing && bs != XenbusStateClosed) {
    xenbus_switch_state(fe, XenbusStateClosing);
    bs = xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateClosing) | XENBUS_STATE_BIT(XenbusStateClosed),
                           CLOSE_TIMEOUT_NS);
  }
  xenbus_switch_state(fe, XenbusStateClosed);
  if (bs >= 0) bs = xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateClosed), CLOSE_TIMEOUT_NS);
  /* The backend's directory is gone (unreadable then, as its parent is dom0's): nothing to wait for. */
  if (bs == -XEN_ENOENT || bs == -XEN_EACCES) bs = 0;
  if (bs < 0) printf("netfront: %s: backend did not close (state %d): %d\n", fe, xenbus_read_state(be), bs);
  return bs < 0 ? bs : 0;
}

void nf_mark_broken(struct netfront_dev *d, int why, const char *msg, unsigned long long a, unsigned long long b) {
  if (d->broken) return;
  if (msg) printf("netfront: %s: %s: %llu, %llu; device unusable\n", d->info.nodename, msg, a, b);
  d->broken = why;
  d->ndev.broken = 1;
}

/* Does the toolstack want the vif gone (network-detach writes online = 0 before Closing)? */
static int unplugging(const struct netfront_dev *d) {
  char path[160], v[8];
  snprintf(path, sizeof(path), "%s/online", d->info.backend);
  int n = xs_read(XBT_NIL, path, v, sizeof(v));
  return n == -XEN_ENOENT || n == -XEN_EACCES || (n == 1 && v[0] == '0'); /* gone: unreadable */
}

static int nf_connect(struct netfront_dev *d, int (*fail)(struct netfront_dev *, int, const char *));

static int reconnect_failed(struct netfront_dev *d, int rc, const char *what) {
  printf("netfront: %s: reconnecting: %s failed: %d\n", d->info.nodename, what, rc);
  if (d->published) close_handshake(d);
  release_connection(d);
  return rc;
}

/*
 * The backend left Connected without being unplugged (a new netback after a dom0 restart starts
 * at InitWait; one that faulted goes Closed): end the old connection and handshake again. TX
 * frames in flight are lost (as on a real NIC); RX buffers are all posted again.
 */
static void nf_reconnect(struct netfront_dev *d, const char *why) {
  printf("netfront: %s: %s; reconnecting\n", d->info.nodename, why);
  unsigned held = release_connection(d);
  if (held) {
    printf("netfront: %s: %u grants still in use by the old backend\n", d->info.nodename, held);
    d->leaked = 1;
    nf_mark_broken(d, -XEN_EIO, NULL, 0, 0);
    return;
  }
  close_handshake(d);
  int rc = xenbus_switch_state(d->info.nodename, XenbusStateInitialising);
  if (rc == 0) rc = nf_connect(d, reconnect_failed);
  if (rc < 0) {
    nf_mark_broken(d, -XEN_ENOTCONN, NULL, 0, 0);
    return;
  }
  /* The events of our own handshake go; a backend that changed again since is looked at anew. */
  while (xs_wait_watch_token(d->watch_token, NULL, 0, 0) == 0) {
  }
  d->recheck = xenbus_read_state(d->info.backend) != XenbusStateConnected;
  d->stats.reconnects++;
  printf("netfront: %s: reconnected\n", d->info.nodename);
}

void nf_check_backend(struct netfront_dev *d) {
  d->next_state_check = deadline_after(NETFRONT_STATE_CHECK_NS);
  if (!d->watching || d->broken) return;
  d->stats.state_checks++;
  char path[160];
  int fired = d->recheck;
  d->recheck = 0;
  while (xs_wait_watch_token(d->watch_token, path, sizeof(path), 0) == 0) fired = 1;
  if (!fired) return;
  int bs = xenbus_read_state(d->info.backend);
  if (bs == XenbusStateConnected) return;
  if (bs >= 0 && !unplugging(d)) {
    char why[48];
    snprintf(why, sizeof(why), "backend went %s", xenbus_state_name(bs));
    nf_reconnect(d, why);
    return;
  }
  if (bs >= 0 && bs != XenbusStateClosing && bs != XenbusStateClosed) return;
  printf("netfront: %s: backend is %s; closing\n", d->info.nodename, bs < 0 ? "gone" : xenbus_state_name(bs));
  nf_mark_broken(d, -XEN_ENOTCONN, NULL, 0, 0);
  close_handshake(d);
  release_resources(d);
}

int netfront_resume(struct netfront_dev *d) {
  if (!d || d->used != 1) return -XEN_EINVAL;
  if (d->broken) return d->broken;
  /* A new domain: a new backend directory (it names our domid), and no watches any more. */
  int rc = xenbus_read_backend(d->info.nodename, d->info.backend, sizeof(d->info.backend), &d->info.backend_id);
  if (rc < 0) {
    printf("netfront: %s: after the restore: no backend/backend-id: %d\n", d->info.nodename, rc);
    nf_mark_broken(d, -XEN_ENOTCONN, NULL, 0, 0);
    return rc;
  }
  d->watching = xs_watch(d->info.backend, d->watch_token) == 0;
  nf_reconnect(d, "restored in a new domain");
  return d->broken;
}

void netfront_resume_all(void) {
  for (unsigned i = 0; i < NETFRONT_MAX_DEVICES; i++)
    if (devs[i].used == 1 && !devs[i].broken) netfront_resume(&devs[i]);
}

static int open_failed(struct netfront_dev *d, int rc, const char *what) {
  printf("netfront: %s: %s failed: %d\n", d->info.nodename, what, rc);
  if (d->published) close_handshake(d);
  release_resources(d);
  d->used = d->leaked ? 2 : 0;
  return rc;
}

/* ---- the handshake ---- */

/*
 * The handshake from Initialising to Connected (steps 1-4 of <pvkvm/netfront.h>): used by open
 * and by a reconnect (rings, pools' grants and the port are all new, TX ids all free, every RX
 * buffer posted). `fail` says how to give up. 0 or -errno.
 */
static int nf_connect(struct netfront_dev *d, int (*fail)(struct netfront_dev *, int, const char *)) {
  struct netfront_info *in = &d->info;
  /* 1. The backend publishes its features and reaches InitWait. */
  long lrc;
  int rc = xenbus_wait_state(in->backend, XENBUS_STATE_BIT(XenbusStateInitWait) | XENBUS_STATE_BIT(XenbusStateConnected),
                         NETFRONT_HANDSHAKE_TIMEOUT_NS);
  if (rc < 0) {
    printf("netfront: %s: backend %s did not reach InitWait (state %d): %d\n", in->nodename, in->backend,
           xenbus_read_state(in->backend), rc);
    return rc;
  }
  if (read_opt(in->backend, NETIF_XS_FEATURE_RX_COPY, 0) != 1) {
    printf("netfront: %s: backend lacks feature-rx-copy (page flipping is not supported)\n", in->nodename);
    return -XEN_EOPNOTSUPP;
  }
  in->feature_sg = read_opt(in->backend, NETIF_XS_FEATURE_SG, 0) == 1;
  in->feature_rx_notify = read_opt(in->backend, NETIF_XS_FEATURE_RX_NOTIFY_BACK, 0) == 1;
  in->feature_persistent = read_opt(in->backend, NETIF_XS_FEATURE_PERSISTENT, 0) == 1 &&
                           pvkvm_cmdline_ull("netfront.persistent", 1) != 0;
  d->max_tx_slots = in->feature_sg ? NETFRONT_MAX_TX_SLOTS : 1;
  d->poll_mode = pvkvm_cmdline_ull("netfront.poll", 0) != 0;

  /* 2. The rings and the pools: initialised, then granted. */
  uint8_t (*rings)[PAGE] = slot_mem[d->slot].rings;
  struct netif_tx_sring *txs = (struct netif_tx_sring *)rings[0];
  struct netif_rx_sring *rxs = (struct netif_rx_sring *)rings[1];
  SHARED_RING_INIT(txs);
  SHARED_RING_INIT(rxs);
  FRONT_RING_INIT(&d->tx, txs, PAGE);
  FRONT_RING_INIT(&d->rx, rxs, PAGE);
  if ((lrc = gnttab_grant_access(in->backend_id, gfn_of(txs), 0)) < 0) return fail(d, (int)lrc, "granting the TX ring");
  d->tx_ring_ref = (grant_ref_t)lrc;
  d->have_tx_ring_ref = 1;
  if ((lrc = gnttab_grant_access(in->backend_id, gfn_of(rxs), 0)) < 0) return fail(d, (int)lrc, "granting the RX ring");
  d->rx_ring_ref = (grant_ref_t)lrc;
  d->have_rx_ring_ref = 1;
  for (unsigned i = 0; i < NETFRONT_TX_PAGES; i++) {
    if ((lrc = gnttab_grant_access(in->backend_id, gfn_of(d->tx_pages[i]), 1)) < 0)
      return fail(d, (int)lrc, "granting the TX pool");
    d->tx_ref[d->ntx_granted++] = (grant_ref_t)lrc;
  }
  for (unsigned i = 0; i < NETFRONT_RX_PAGES; i++) {
    if ((lrc = gnttab_grant_access(in->backend_id, gfn_of(d->rx_pages[i]), 0)) < 0)
      return fail(d, (int)lrc, "granting the RX pool");
    d->rx_ref[d->nrx_granted++] = (grant_ref_t)lrc;
  }
  nf_tx_init(d);
  nf_rx_init(d);
  rc = (int)evtchn_alloc_unbound(in->backend_id, &in->port);
  if (rc < 0) return fail(d, rc, "EVTCHNOP_alloc_unbound");
  d->port_open = 1;
  if (in->port >= EVTCHN_NR_PORTS) return fail(d, -XEN_EINVAL, "event channel number");
  evtchn_mask(in->port); /* only SCHEDOP_poll waits on it */
  evtchn_clear(in->port);

  /* 3. Publish the transport and say Connected (netif has no Initialised step in Linux's
   * frontends; the backend connects when it sees ours). */
  d->published = 1;
  rc = xs_transaction(write_transport, d, 0);
  if (rc < 0) return fail(d, rc, "writing ring refs/event-channel/features");
  rc = xenbus_switch_state(in->nodename, XenbusStateConnected);
  if (rc < 0) return fail(d, rc, "switching to Connected");

  /* 4. The backend maps the rings, binds the port and says Connected. */
  rc = xenbus_wait_state(in->backend,
                         XENBUS_STATE_BIT(XenbusStateConnected) | XENBUS_STATE_BIT(XenbusStateClosing) |
                             XENBUS_STATE_BIT(XenbusStateClosed),
                         NETFRONT_HANDSHAKE_TIMEOUT_NS);
  if (rc >= 0 && rc != XenbusStateConnected) {
    printf("netfront: %s: backend went %s instead of Connected\n", in->nodename, xenbus_state_name(rc));
    rc = -XEN_EIO;
  }
  if (rc < 0) return fail(d, rc, "waiting for the backend to connect");
  return 0;
}

static const struct net_ops netfront_ops;

int netfront_open(unsigned index, struct netfront_dev **out) {
  int rc = xenbus_frontend_ready();
  if (rc < 0) return rc;
  unsigned ids[32];
  int n = netfront_list(ids, 32);
  if (n < 0) return n;
  if (index >= (unsigned)n || index >= 32) return -XEN_ENODEV;
  for (unsigned i = 0; i < NETFRONT_MAX_DEVICES; i++)
    if (devs[i].used && devs[i].info.devid == ids[index]) return -XEN_EBUSY;
  struct netfront_dev *d = NULL;
  for (unsigned i = 0; i < NETFRONT_MAX_DEVICES && !d; i++)
    if (!devs[i].used) d = &devs[i];
  if (!d) return -XEN_EBUSY;
  unsigned slot = (unsigned)(d - devs);
  rc = slot_mem_get(slot);
  if (rc < 0) {
    printf("netfront: no memory for a device (the arena is below RAM's top)\n");
    return rc;
  }
  memset(d, 0, sizeof(*d));
  d->used = 1;
  d->tx_pages = slot_mem[slot].tx;
  d->rx_pages = slot_mem[slot].rx;
  struct netfront_info *in = &d->info;
  in->devid = ids[index];
  xenbus_device_path("vif", in->devid, in->nodename, sizeof(in->nodename));
  snprintf(d->watch_token, sizeof(d->watch_token), "pvkvm-netfront-%u", in->devid);
  rc = xenbus_read_backend(in->nodename, in->backend, sizeof(in->backend), &in->backend_id);
  if (rc < 0) {
    d->used = 0;
    printf("netfront: %s: no backend/backend-id: %d\n", in->nodename, rc);
    return rc;
  }
  if (read_mac(in->nodename, in->mac) < 0 && (rc = read_mac(in->backend, in->mac)) < 0) {
    d->used = 0;
    printf("netfront: %s: no usable mac: %d\n", in->nodename, rc);
    return rc;
  }
  int fs = xenbus_read_state(in->nodename);
  if (fs >= 0 && fs != XenbusStateInitialising) xenbus_switch_state(in->nodename, XenbusStateInitialising);
  d->slot = slot;
  rc = nf_connect(d, open_failed);
  if (rc < 0) {
    if (d->used == 1 && !d->published && !d->released) d->used = 0; /* gave up before anything was granted */
    return rc;
  }
  if (xs_watch(in->backend, d->watch_token) == 0) d->watching = 1; /* fires once now: drained at the first check */
  d->next_state_check = 0;

  struct net_dev *nd = &d->ndev;
  nd->ops = &netfront_ops;
  nd->priv = d;
  snprintf(nd->name, sizeof(nd->name), "%s", in->nodename);
  memcpy(nd->mac, in->mac, 6);
  nd->mtu = NET_DEFAULT_MTU;
  nd->max_frame = in->feature_sg ? NETFRONT_MAX_FRAME : PAGE;
  *out = d;
  return 0;
}

int netfront_close(struct netfront_dev *d) {
  if (!d || d->used != 1) return -XEN_EINVAL;
  if (!d->broken) {
    nf_flush(&d->ndev);
    /* Let the backend answer what it took (briefly), so it holds none of our TX pages. */
    uint64_t until = deadline_after(NSEC_PER_SEC);
    while (d->tx_nfree < NETFRONT_TX_PAGES && pvkvm_time_ns() < until && nf_tx_reap(d) >= 0)
      pvkvm_sleep_ns(NSEC_PER_MSEC);
  }
  int rc = 0, rr = 0;
  if (!d->released) {
    rc = close_handshake(d);
    rr = release_resources(d);
  }
  nf_mark_broken(d, -XEN_ENOTCONN, NULL, 0, 0);
  d->used = d->leaked ? 2 : 0;
  return rc < 0 ? rc : rr;
}

static int nf_close_op(struct net_dev *nd) { return netfront_close(nd->priv); }

static const struct net_ops netfront_ops = {
    .name = "netfront",
    .send = nf_send,
    .flush = nf_flush,
    .recv = nf_recv,
    .wait = nf_wait,
    .close = nf_close_op,
};

struct net_dev *netfront_net(struct netfront_dev *d) { return &d->ndev; }
const struct netfront_info *netfront_get_info(const struct netfront_dev *d) { return &d->info; }
const struct netfront_stats *netfront_get_stats(const struct netfront_dev *d) { return &d->stats; }

void netfront_print_info(const struct netfront_dev *d) {
  const struct netfront_info *in = &d->info;
  printf("netfront: %s backend=%s backend-id=%u mac=%02x:%02x:%02x:%02x:%02x:%02x port=%u sg=%d rx-notify=%d "
         "poll=%d persistent=%d\n",
         in->nodename, in->backend, in->backend_id, in->mac[0], in->mac[1], in->mac[2], in->mac[3], in->mac[4],
         in->mac[5], in->port, in->feature_sg, in->feature_rx_notify, d->poll_mode, in->feature_persistent);
}
