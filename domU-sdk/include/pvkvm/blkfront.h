/*
 * pvkvm/blkfront.h: the Xen PV block frontend (blkif, docs/xen-abi.md §8, §9, §13). Its wire
 * structs come from <xen-abi/io/blkif.h>, generated from abi/io.
 *
 *   struct blkfront_dev *bf;
 *   if (blkfront_open(0, &bf) == 0) {          // the first device/vbd: handshake with the backend
 *     struct block_dev *d = blkfront_block(bf); // use it through <pvkvm/block.h>
 *     ...
 *   }
 *
 * Handshake (blkfront_open): xs_init, gnttab_init; read <dev>/backend and backend-id; wait for
 * the backend's InitWait; read max-ring-page-order and feature-persistent; grant 2^order ring
 * pages (order = min(backend max, BLKFRONT_MAX_RING_ORDER)), EVTCHNOP_alloc_unbound(backend-id);
 * in one transaction (retried on EAGAIN) write ring-ref (order 0) or ring-page-order +
 * ring-ref0..N-1, event-channel, protocol = "x86_64-abi" and, when the backend offers it,
 * feature-persistent = 1; switch to Initialised; wait for Connected; read sectors, info,
 * sector-size (all three required), physical-sector-size, feature-flush-cache, feature-barrier,
 * feature-discard (+ discard-granularity/-alignment/-secure), feature-max-indirect-segments,
 * feature-persistent; switch to Connected.
 *
 * Data path: one request per ring slot, id = slot of the shadow table. READ/WRITE carry up to
 * BLKIF_MAX_SEGMENTS_PER_REQUEST segments directly, or up to min(backend's
 * feature-max-indirect-segments, BLKFRONT_MAX_INDIRECT_SEGS) through one indirect page (INDIRECT,
 * when offered). With persistent grants all data goes through a pool of pages granted once (the
 * backend keeps them mapped); otherwise a sector-aligned caller buffer is granted page by page for
 * the request (read-only for WRITE) and every grant is ended after the response (that must
 * succeed: the backend unmaps before it responds), else the data bounces through the pool.
 * A sector-aligned buffer inside registered I/O memory (block_register_buffer) goes to the device
 * directly in both modes: each of its pages is granted read-write on first use and stays granted
 * until close, so such requests neither copy nor grant. Indirect pages are granted once, one per
 * ring slot. FLUSH uses FLUSH_DISKCACHE (or
 * WRITE_BARRIER when only that is offered), DISCARD the discard layout.
 *
 * Responses: rsp_prod - rsp_cons > RING_SIZE, an id not in flight or a wrong operation mark the
 * device broken (everything in flight fails with -XEN_EIO). Each response is copied before use.
 * Waiting: SCHEDOP_poll on the ring's (masked) port: clear pending, look, set rsp_event =
 * rsp_cons + 1, full barrier, look again, then poll (100 ms slices, so a lost notification costs
 * time, not a hang; counted in stats.lazy_wakeups). Requests are pushed with
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY semantics on kick/poll.
 *
 * Reconnect (Xen's frontend recovery): the backend's state is watched; when a wait is quiet for
 * BLKFRONT_STATE_CHECK_NS and the backend has left Connected without being unplugged (a new
 * blkback after a dom0 restart starts at InitWait, one that faulted goes Closed), the old
 * connection is ended (grants, port, the closing handshake), the handshake runs again (features
 * renegotiated) and every request without a response is issued again, in submission order: the
 * caller's requests just complete later. A wait whose backend is gone (its end of the port closed)
 * outlives the caller's timeout by up to BLKFRONT_BACKEND_GONE_NS. After a restore, pvkvm_suspend
 * reconnects every open device the same way (blkfront_resume).
 *
 * At most BLKFRONT_MAX_DEVICES devices may be open at once. Not thread-safe: one vCPU per device.
 */
#ifndef PVKVM_BLKFRONT_H
#define PVKVM_BLKFRONT_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/block.h>
#include <pvkvm/grant.h>
#include <xen-abi/io/blkif.h>

/* The blkif wire ABI (io/blkif.h, docs/xen-abi.md §9) is generated from abi/io/blkif.ts: BLKIF_OP_*,
 * BLKIF_RSP_*, VDISK_*, the request/response structs, union blkif_sring_entry, struct blkif_sring
 * and the ring macros of <xen-abi/io/ring.h>. */

/* Entries in a one-page blkif ring: (4096 - 64) / 112 rounded down to a power of two (32). */
#define BLKIF_RING_SIZE_1PAGE XEN_CONST_RING_SIZE(blkif, 4096)

/* ---- frontend limits ---- */
#define BLKFRONT_MAX_DEVICES 2
#define BLKFRONT_MAX_RING_ORDER 2       /* at most 4 ring pages: 128 entries */
#define BLKFRONT_MAX_RING_SIZE (BLKIF_RING_SIZE_1PAGE << BLKFRONT_MAX_RING_ORDER)
#define BLKFRONT_MAX_INDIRECT_SEGS 128u /* per request (one indirect page): 512 KiB */
#define BLKFRONT_POOL_PAGES 256u        /* data pages per device (persistent grants, bouncing) */
#define BLKFRONT_MAX_REGIONS 4u         /* registered I/O memory regions per device */
#define BLKFRONT_MAX_REG_PAGES 1024u    /* registered pages per device (4 MiB) */
#define BLKFRONT_POLL_SLICE_NS 100000000ULL
#define BLKFRONT_HANDSHAKE_TIMEOUT_NS 20000000000ULL
#define BLKFRONT_STATE_CHECK_NS 500000000ULL /* a quiet wait looks at the backend's state this often */
#define BLKFRONT_BACKEND_GONE_NS 120000000000ULL /* how long a wait outlives a dead backend */

/* What was negotiated. */
struct blkfront_info {
  char nodename[40];       /* "device/vbd/<devid>" */
  char backend[128];       /* the backend's directory */
  domid_t backend_id;
  unsigned devid;          /* the device id (virtual-device); the request handle is its low 16 bits */
  uint64_t sectors;        /* 512-byte units */
  uint32_t sector_size;
  uint32_t physical_sector_size;
  uint32_t vdisk_info;     /* VDISK_* */
  int readonly;
  int feature_flush;       /* feature-flush-cache */
  int feature_barrier;
  int feature_discard;
  int discard_secure;
  uint32_t discard_granularity, discard_alignment;
  int persistent;          /* both sides offered feature-persistent */
  unsigned max_indirect_segs; /* used per request (0: no INDIRECT) */
  unsigned ring_order, ring_size;
  evtchn_port_t port;
};

struct blkfront_stats {
  uint64_t requests;       /* pushed to the ring */
  uint64_t indirect;       /* of which INDIRECT */
  uint64_t bounced;        /* data went through pool pages */
  uint64_t notifies;       /* EVTCHNOP_send on the ring's port */
  uint64_t polls;          /* SCHEDOP_poll calls */
  uint64_t lazy_wakeups;   /* responses found after a poll slice ended with no event */
  uint64_t grant_end_failures; /* gnttab_end_access refused after a response (backend bug) */
  uint64_t bounce_bytes;   /* bytes copied between the caller's buffers and pool pages */
  uint64_t bounce_cycles;  /* TSC cycles spent in those copies */
  uint64_t registered;     /* requests whose data went straight to registered memory */
  uint64_t registered_grants; /* pages of registered memory granted so far (once each) */
  uint64_t reconnects;     /* handshakes redone after the backend restarted */
  uint64_t reissued;       /* requests re-issued by those reconnects */
};

struct blkfront_dev; /* opaque */

/* Device ids under device/vbd, ascending (at most max), or -errno. xs_init must have worked. */
int blkfront_list(unsigned *ids, unsigned max);
/* Handshake with the index-th vbd (ascending ids). 0, -XEN_ENODEV (no such device), -XEN_EBUSY
 * (too many open), -XEN_ETIMEDOUT (the backend did not get to InitWait/Connected), -XEN_EIO (the
 * backend closed or published bad properties), or -errno. Messages explain failures. */
int blkfront_open(unsigned index, struct blkfront_dev **out);
/* Teardown: Closing, wait for the backend to be Closed (or Closing then Closed), end the ring
 * and pool grants, close the port, Closed. 0 or -errno; the slot is freed either way. */
int blkfront_close(struct blkfront_dev *dev);

/* Hot-plug (pvkvm block-attach / block-detach). blkfront_wait_vbd: wait until there are more
 * than `index` vbds under device/vbd (a watch on device/vbd): 0, -XEN_ETIMEDOUT or -errno.
 * blkfront_removing: 1 when the toolstack is taking the device away (its backend is Closing or
 * Closed, or its directory is gone), else 0. blkfront_wait_removal: wait for that (a watch on
 * the backend's state): 0, -XEN_ETIMEDOUT or -errno. Then blkfront_close (block_close) does the
 * closing handshake, and the toolstack removes the device once the frontend is Closed. */
int blkfront_wait_vbd(unsigned index, uint64_t timeout_ns);
int blkfront_removing(const struct blkfront_dev *dev);
int blkfront_wait_removal(struct blkfront_dev *dev, uint64_t timeout_ns);

struct block_dev *blkfront_block(struct blkfront_dev *dev);
const struct blkfront_info *blkfront_get_info(const struct blkfront_dev *dev);
const struct blkfront_stats *blkfront_get_stats(const struct blkfront_dev *dev);
/* block_register_buffer for this device: up to BLKFRONT_MAX_REGIONS regions, BLKFRONT_MAX_REG_PAGES
 * whole pages in all (the part of [buf, buf + len) in whole pages counts). 0, -XEN_ENOSPC. */
int blkfront_register_buffer(struct blkfront_dev *dev, void *buf, size_t len);
void blkfront_print_info(const struct blkfront_dev *dev); /* one "blkfront: ..." line */

/* Reconnect after a restore into a new domain (pvkvm_suspend returned 0): read the new backend's
 * directory, watch it, handshake, re-issue what had no response. pvkvm_suspend does this for every
 * open device (blkfront_resume_all). 0 or -errno (the device is then broken). */
int blkfront_resume(struct blkfront_dev *dev);
void blkfront_resume_all(void);

/* ---- raw access, for tests of hostile frontends ---- */
/* Put `req` (any layout; its id is replaced) in the ring, push, wait for its response (copied to
 * *rsp). 0, -XEN_EBUSY (ring full), -XEN_ETIMEDOUT, -XEN_EIO (device broken) or -errno. Grants in
 * the request are the caller's business. */
int blkfront_raw_request(struct blkfront_dev *dev, const union blkif_sring_entry *req,
                         struct blkif_response *rsp, uint64_t timeout_ns);
volatile struct blkif_sring *blkfront_sring(struct blkfront_dev *dev);
uint32_t blkfront_req_prod(const struct blkfront_dev *dev); /* req_prod_pvt */
long blkfront_notify(struct blkfront_dev *dev);             /* EVTCHNOP_send */
/* Mark the device broken (no further requests), e.g. after scribbling on the ring. */
void blkfront_set_broken(struct blkfront_dev *dev);

/* blkfront in the block API's driver table (block=pv; disks are device/vbd entries by id). */
extern const struct block_driver blkfront_block_driver;

#endif
