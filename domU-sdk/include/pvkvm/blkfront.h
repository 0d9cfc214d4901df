/*
 * pvkvm/blkfront.h: the Xen PV block frontend (blkif, xen-abi-facts §8, §9, §13) and its wire
 * structs.
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
 * Indirect pages are granted once, one per ring slot. FLUSH uses FLUSH_DISKCACHE (or
 * WRITE_BARRIER when only that is offered), DISCARD the discard layout.
 *
 * Responses: rsp_prod - rsp_cons > RING_SIZE, an id not in flight or a wrong operation mark the
 * device broken (everything in flight fails with -XEN_EIO). Each response is copied before use.
 * Waiting: SCHEDOP_poll on the ring's (masked) port: clear pending, look, set rsp_event =
 * rsp_cons + 1, full barrier, look again, then poll (100 ms slices, so a lost notification costs
 * time, not a hang; counted in stats.lazy_wakeups). Requests are pushed with
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY semantics on kick/poll.
 *
 * At most BLKFRONT_MAX_DEVICES devices may be open at once. Not thread-safe: one vCPU per device.
 */
#ifndef PVKVM_BLKFRONT_H
#define PVKVM_BLKFRONT_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/block.h>
#include <pvkvm/grant.h>

/* ---- blkif wire ABI (io/blkif.h, x86_64-abi; xen-abi-facts §9). Not generated yet: defined
 * here, skipped if a generated xen-abi/blkif.h was included first. ---- */
#ifndef PVKVM_XEN_ABI_BLKIF_H
#define BLKIF_OP_READ 0
#define BLKIF_OP_WRITE 1
#define BLKIF_OP_WRITE_BARRIER 2
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_OP_RESERVED_1 4
#define BLKIF_OP_DISCARD 5
#define BLKIF_OP_INDIRECT 6

#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8
#define BLKIF_SEGS_PER_INDIRECT_FRAME 512 /* 4096 / sizeof(struct blkif_request_segment) */

#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR (-1)
#define BLKIF_RSP_OKAY 0

#define BLKIF_DISCARD_SECURE 1 /* blkif_request_discard.flag */

#define VDISK_CDROM 0x1
#define VDISK_REMOVABLE 0x2
#define VDISK_READONLY 0x4

#define BLKIF_SECTOR_SIZE 512 /* the unit of sector_number, first/last_sect and `sectors` */

struct blkif_request_segment {
  uint32_t gref;      /* grant of the data page */
  uint8_t first_sect; /* first and last 512-byte sector in the page, inclusive, 0..7 */
  uint8_t last_sect;
  uint16_t _pad;
};

struct blkif_request { /* READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE */
  uint8_t operation;
  uint8_t nr_segments;
  uint16_t handle; /* the virtual-device id */
  uint32_t _pad;
  uint64_t id;
  uint64_t sector_number;
  struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct blkif_request_discard {
  uint8_t operation; /* BLKIF_OP_DISCARD */
  uint8_t flag;      /* BLKIF_DISCARD_SECURE */
  uint16_t handle;
  uint32_t _pad;
  uint64_t id;
  uint64_t sector_number;
  uint64_t nr_sectors;
};

struct blkif_request_indirect {
  uint8_t operation;   /* BLKIF_OP_INDIRECT */
  uint8_t indirect_op; /* READ or WRITE */
  uint16_t nr_segments;
  uint32_t _pad1;
  uint64_t id;
  uint64_t sector_number;
  uint16_t handle;
  uint16_t _pad2;
  uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
  uint32_t _pad3;
};

struct blkif_response {
  uint64_t id;
  uint8_t operation;
  uint8_t _pad;
  int16_t status; /* BLKIF_RSP_* */
  uint32_t _pad2;
};

union blkif_sring_entry {
  struct blkif_request req;
  struct blkif_request_discard discard;
  struct blkif_request_indirect indirect;
  struct blkif_response rsp;
};

struct blkif_sring {
  uint32_t req_prod;
  uint32_t req_event;
  uint32_t rsp_prod;
  uint32_t rsp_event;
  uint8_t pvt[4];
  uint8_t _pad[44];
  union blkif_sring_entry ring[]; /* RING_SIZE entries */
};

_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif_request_segment: size");
_Static_assert(offsetof(struct blkif_request_segment, first_sect) == 4, "segment.first_sect");
_Static_assert(offsetof(struct blkif_request_segment, last_sect) == 5, "segment.last_sect");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request: size");
_Static_assert(offsetof(struct blkif_request, nr_segments) == 1, "blkif_request.nr_segments");
_Static_assert(offsetof(struct blkif_request, handle) == 2, "blkif_request.handle");
_Static_assert(offsetof(struct blkif_request, id) == 8, "blkif_request.id");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "blkif_request.sector_number");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "blkif_request.seg");
_Static_assert(sizeof(struct blkif_request_discard) == 32, "blkif_request_discard: size");
_Static_assert(offsetof(struct blkif_request_discard, flag) == 1, "discard.flag");
_Static_assert(offsetof(struct blkif_request_discard, handle) == 2, "discard.handle");
_Static_assert(offsetof(struct blkif_request_discard, id) == 8, "discard.id");
_Static_assert(offsetof(struct blkif_request_discard, sector_number) == 16, "discard.sector_number");
_Static_assert(offsetof(struct blkif_request_discard, nr_sectors) == 24, "discard.nr_sectors");
_Static_assert(sizeof(struct blkif_request_indirect) == 64, "blkif_request_indirect: size");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_op) == 1, "indirect.indirect_op");
_Static_assert(offsetof(struct blkif_request_indirect, nr_segments) == 2, "indirect.nr_segments");
_Static_assert(offsetof(struct blkif_request_indirect, id) == 8, "indirect.id");
_Static_assert(offsetof(struct blkif_request_indirect, sector_number) == 16, "indirect.sector_number");
_Static_assert(offsetof(struct blkif_request_indirect, handle) == 24, "indirect.handle");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "indirect.indirect_grefs");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response: size");
_Static_assert(offsetof(struct blkif_response, operation) == 8, "blkif_response.operation");
_Static_assert(offsetof(struct blkif_response, status) == 10, "blkif_response.status");
_Static_assert(sizeof(union blkif_sring_entry) == 112, "blkif_sring_entry: size");
_Static_assert(offsetof(struct blkif_sring, rsp_prod) == 8, "blkif_sring.rsp_prod");
_Static_assert(offsetof(struct blkif_sring, rsp_event) == 12, "blkif_sring.rsp_event");
_Static_assert(offsetof(struct blkif_sring, ring) == 64, "blkif_sring.ring");
#endif /* PVKVM_XEN_ABI_BLKIF_H */

/* Entries in a blkif ring of `pages` pages: (bytes - 64) / 112 rounded down to a power of two. */
#define BLKIF_RING_SIZE_1PAGE 32u
_Static_assert((4096 - 64) / sizeof(union blkif_sring_entry) >= BLKIF_RING_SIZE_1PAGE &&
                   (4096 - 64) / sizeof(union blkif_sring_entry) < 2 * BLKIF_RING_SIZE_1PAGE,
               "one-page blkif ring: 32 entries");

/* ---- frontend limits ---- */
#define BLKFRONT_MAX_DEVICES 2
#define BLKFRONT_MAX_RING_ORDER 2       /* at most 4 ring pages: 128 entries */
#define BLKFRONT_MAX_RING_SIZE (BLKIF_RING_SIZE_1PAGE << BLKFRONT_MAX_RING_ORDER)
#define BLKFRONT_MAX_INDIRECT_SEGS 128u /* per request (one indirect page): 512 KiB */
#define BLKFRONT_POOL_PAGES 256u        /* data pages per device (persistent grants, bouncing) */
#define BLKFRONT_POLL_SLICE_NS 100000000ULL
#define BLKFRONT_HANDSHAKE_TIMEOUT_NS 20000000000ULL

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

struct block_dev *blkfront_block(struct blkfront_dev *dev);
const struct blkfront_info *blkfront_get_info(const struct blkfront_dev *dev);
const struct blkfront_stats *blkfront_get_stats(const struct blkfront_dev *dev);
void blkfront_print_info(const struct blkfront_dev *dev); /* one "blkfront: ..." line */

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
