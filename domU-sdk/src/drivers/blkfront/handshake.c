/*
 * handshake.c: opening and closing a blkfront device — the xenbus handshake with the backend
 * (see <pvkvm/blkfront.h>), the long-lived grants, and the block_dev it presents.
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
#include "blkfront_dev.h"

#define CLOSE_TIMEOUT_NS (10 * NSEC_PER_SEC)

static int bf_close(struct block_dev *bd) { return blkfront_close(bd->priv); }

/* The <pvkvm/block.h> face of a blkfront device. */
static const struct block_ops blkfront_ops = {
    .name = "blkfront",
    .submit = bf_submit,
    .kick = bf_kick,
    .poll = bf_poll,
    .abandon = bf_abandon,
    .close = bf_close,
    .register_buffer = bf_register_buffer,
};

static struct blkfront_dev devs[BLKFRONT_MAX_DEVICES];

struct blkfront_dev *bf_device(unsigned slot) { return &devs[slot]; }

/* Each device slot's memory, taken from the page arena (<pvkvm/page_arena.h>) on first use and
 * kept for reuse: a slot reuses its pages when a device is opened again. */
struct slot_mem {
  uint8_t (*ring)[PAGE];     /* MAX_RING_PAGES */
  uint8_t (*indirect)[PAGE]; /* BLKFRONT_MAX_RING_SIZE */
  uint8_t (*pool)[PAGE];     /* BLKFRONT_POOL_PAGES */
  struct shadow *shadow;     /* BLKFRONT_MAX_RING_SIZE */
};
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

/* ---- the handshake ---- */

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

unsigned bf_release_connection(struct blkfront_dev *d) {
  unsigned held = 0;
  for (unsigned i = 0; i < d->nring_refs; i++) held += gnttab_end_access(d->ring_ref[i]) != 0;
  for (unsigned i = 0; i < d->niref; i++) held += gnttab_end_access(d->iref[i]) != 0;
  for (unsigned i = 0; i < d->npool_granted; i++) held += gnttab_end_access(d->pool_ref[i]) != 0;
  held += bf_end_registered(d);
  for (unsigned id = 0; id < d->info.ring_size; id++)
    if (d->shadow[id].in_use) held += bf_end_grants(d, &d->shadow[id]);
  d->nring_refs = d->niref = d->npool_granted = 0;
  if (d->port_open) evtchn_close(d->info.port);
  d->port_open = 0;
  d->published = 0;
  return held;
}

/* End every long-lived grant, close the port, drop the watch. 0 if the backend let go of everything. */
static int release_resources(struct blkfront_dev *d) {
  unsigned held = bf_release_connection(d);
  d->nregions = d->nreg_pages = 0; /* registration ends at close */
  if (d->watching) xs_unwatch(d->watch_path, d->watch_token);
  d->watching = 0;
  if (held) printf("blkfront: %s: %u grants still in use by the backend; leaking its pages\n", d->info.nodename, held);
  d->used = held ? 2 : 0;
  return held ? -XEN_EBUSY : 0;
}

/* The teardown handshake (docs/xen-abi.md §13): Closing unless the backend is already closing,
 * then Closed, then wait for the backend's Closed (it has unmapped the ring by then). */
int bf_close_handshake(struct blkfront_dev *d) {
  const char *fe = d->info.nodename, *be = d->info.backend;
  int bs = xenbus_read_state(be);
  if (bs != XenbusStateClosing && bs != XenbusStateClosed) {
    xenbus_switch_state(fe, XenbusStateClosing);
    bs = xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateClosing) | XENBUS_STATE_BIT(XenbusStateClosed),
                           CLOSE_TIMEOUT_NS);
  }
  xenbus_switch_state(fe, XenbusStateClosed);
  if (bs >= 0) bs = xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateClosed), CLOSE_TIMEOUT_NS);
  /* The backend's directory is gone (an unplug removes it once both sides are Closed; unreadable
   * then, as its parent is dom0's): nothing left to wait for. */
  if (bs == -XEN_ENOENT || bs == -XEN_EACCES) bs = 0;
  if (bs < 0) printf("blkfront: %s: backend did not close (state %d): %d\n", fe, xenbus_read_state(be), bs);
  return bs < 0 ? bs : 0;
}

/* Give up on a half-done handshake: tell the backend (once it may have seen our keys), release
 * what we can. */
static int open_failed(struct blkfront_dev *d, int rc, const char *what) {
  printf("blkfront: %s: %s failed: %d\n", d->info.nodename, what, rc);
  if (d->published) bf_close_handshake(d);
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

/*
 * Steps 1-5 of the handshake and Connected, from a frontend in Initialising: used by open and by
 * a reconnect (the ring, the port and every long-lived grant are new; the request ids all free).
 * `fail` says how to give up. 0 or -errno.
 */
static int bf_connect(struct blkfront_dev *d, int (*fail)(struct blkfront_dev *, int, const char *)) {
  struct blkfront_info *in = &d->info;
  d->req_prod_pvt = d->req_prod_pushed = d->rsp_cons = 0;
  d->inflight = 0;
  memset(d->shadow, 0, sizeof(struct shadow) * BLKFRONT_MAX_RING_SIZE);
  /* 1. The backend publishes its features and reaches InitWait. */
  int rc = xenbus_wait_state(in->backend, XENBUS_STATE_BIT(XenbusStateInitWait), BLKFRONT_HANDSHAKE_TIMEOUT_NS);
  if (rc < 0) {
    printf("blkfront: %s: backend %s did not reach InitWait (state %d): %d\n", in->nodename, in->backend,
           xenbus_read_state(in->backend), rc);
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
  uint8_t (*ring)[PAGE] = slot_mem[d->slot].ring;
  long lrc;
  memset(ring, 0, (size_t)npages * PAGE);
  d->sring = (volatile struct blkif_sring *)ring[0];
  d->sring->req_prod = d->sring->rsp_prod = 0;
  d->sring->req_event = d->sring->rsp_event = 1;
  for (unsigned i = 0; i < npages; i++) {
    lrc = grant_rw(d, ring[i]);
    if (lrc < 0) return fail(d, (int)lrc, "granting the ring");
    d->ring_ref[d->nring_refs++] = (grant_ref_t)lrc;
  }
  rc = (int)evtchn_alloc_unbound(in->backend_id, &in->port);
  if (rc < 0) return fail(d, rc, "EVTCHNOP_alloc_unbound");
  d->port_open = 1;
  if (in->port >= EVTCHN_NR_PORTS) return fail(d, -XEN_EINVAL, "event channel number");
  evtchn_mask(in->port); /* only SCHEDOP_poll waits on it */
  evtchn_clear(in->port);

  /* 3. Publish the transport and switch to Initialised. */
  d->published = 1;
  rc = xs_transaction(write_transport, d, 0);
  if (rc < 0) return fail(d, rc, "writing ring-ref/event-channel/protocol");
  rc = xenbus_switch_state(in->nodename, XenbusStateInitialised);
  if (rc < 0) return fail(d, rc, "switching to Initialised");

  /* 4. The backend maps the ring, binds the port, publishes the disk and says Connected. */
  rc = xenbus_wait_state(in->backend,
                         XENBUS_STATE_BIT(XenbusStateConnected) | XENBUS_STATE_BIT(XenbusStateClosing) |
                             XENBUS_STATE_BIT(XenbusStateClosed),
                         BLKFRONT_HANDSHAKE_TIMEOUT_NS);
  if (rc >= 0 && rc != XenbusStateConnected) {
    printf("blkfront: %s: backend went %s instead of Connected\n", in->nodename, xenbus_state_name(rc));
    rc = -XEN_EIO;
  }
  if (rc < 0) return fail(d, rc, "waiting for the backend to connect");
  rc = read_properties(d);
  if (rc < 0) return fail(d, rc, "reading the disk properties");

  /* 5. Long-lived grants: indirect pages (one per id), and with persistent grants the pool. */
  if (in->max_indirect_segs) {
    for (unsigned i = 0; i < in->ring_size; i++) {
      lrc = grant_rw(d, indirect_page(d, i));
      if (lrc < 0) return fail(d, (int)lrc, "granting indirect pages");
      d->iref[d->niref++] = (grant_ref_t)lrc;
    }
  }
  if (in->persistent) {
    for (unsigned i = 0; i < BLKFRONT_POOL_PAGES; i++) {
      lrc = grant_rw(d, pool_page(d, i));
      if (lrc < 0) return fail(d, (int)lrc, "granting the persistent pool");
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
  struct block_dev *bd = &d->bdev;
  bd->sector_size = in->sector_size;
  bd->nr_sectors = in->sectors / d->sector_scale;
  bd->readonly = in->readonly;
  bd->can_flush = in->feature_flush || in->feature_barrier;
  bd->can_discard = in->feature_discard;
  bd->max_count = d->max_segs * PAGE / in->sector_size;
  bd->queue_depth = in->ring_size;

  rc = xenbus_switch_state(in->nodename, XenbusStateConnected);
  if (rc < 0) return fail(d, rc, "switching to Connected");
  return 0;
}

/* A reconnect that fails: what was set up goes (the caller marks the device broken). */
static int reconnect_failed(struct blkfront_dev *d, int rc, const char *what) {
  printf("blkfront: %s: reconnecting: %s failed: %d\n", d->info.nodename, what, rc);
  if (d->published) bf_close_handshake(d);
  bf_release_connection(d);
  return rc;
}

int bf_handshake_again(struct blkfront_dev *d) {
  int rc = xenbus_switch_state(d->info.nodename, XenbusStateInitialising);
  return rc < 0 ? rc : bf_connect(d, reconnect_failed);
}

int blkfront_open(unsigned index, struct blkfront_dev **out) {
  int rc = xenbus_frontend_ready();
  if (rc < 0) return rc;
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
  d->indirect_pages = slot_mem[slot].indirect;
  d->pool_pages = slot_mem[slot].pool;
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
  d->raw_id = NO_ID;
  struct block_dev *bd = &d->bdev;
  bd->ops = &blkfront_ops;
  bd->priv = d;
  snprintf(bd->name, sizeof(bd->name), "%s", in->nodename);
  bd->timeout_ns = BLOCK_DEFAULT_TIMEOUT_NS;
  rc = bf_connect(d, open_failed);
  if (rc < 0) {
    if (d->used == 1 && !d->published) d->used = 0; /* gave up before anything was granted */
    return rc;
  }
  /* The backend's state, watched: a backend that restarts (or dom0 with it) makes us reconnect. */
  snprintf(d->watch_token, sizeof(d->watch_token), "pvkvm-blkfront-%u", d->slot);
  snprintf(d->watch_path, sizeof(d->watch_path), "%s/state", in->backend);
  if (xs_watch(d->watch_path, d->watch_token) == 0) d->watching = 1; /* fires once now: drained at the first check */
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
  int rc = bf_close_handshake(d);
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
