/*
 * blkfront_dev.h: what the blkfront files share — the device and shadow structs, limits, and the
 * functions one file provides to another. Not part of the SDK API (that is <pvkvm/blkfront.h>).
 *
 * The files: handshake.c (open/close over xenbus, the block_dev it presents), reconnect.c (a
 * backend that restarts: the handshake again, unanswered requests re-issued), shadow.c (request
 * ids and what each request holds), request.c and response.c (the two halves of the ring data
 * path), raw.c (raw ring access for tests of hostile frontends).
 *
 * Ring arithmetic (io/ring.h, docs/xen-abi.md §8). All indices are free-running u32; a slot is
 * idx & (ring_size - 1). The front owns req_prod_pvt (next request slot), req_prod_pushed (what
 * sring->req_prod says) and rsp_cons (next response to read). Requests in flight =
 * req_prod_pvt - rsp_cons <= ring_size (each request has exactly one response, and request r
 * may only be written once response r - ring_size was consumed, as they share slots).
 * The port is masked (like the xenstore port), so an upcall dispatcher never consumes it.
 */
#ifndef PVKVM_SRC_BLKFRONT_DEV_H
#define PVKVM_SRC_BLKFRONT_DEV_H
#include <stdint.h>
#include <pvkvm/blkfront.h>

#define PAGE 4096u
#define MAX_RING_PAGES (1u << BLKFRONT_MAX_RING_ORDER)
#define MAX_SEGS BLKFRONT_MAX_INDIRECT_SEGS
#define NO_ID 0xffffu

_Static_assert(BLKFRONT_MAX_INDIRECT_SEGS <= BLKIF_SEGS_PER_INDIRECT_FRAME, "one indirect page per request");
_Static_assert(BLKFRONT_MAX_INDIRECT_SEGS <= BLKFRONT_POOL_PAGES, "a request always fits in the pool");
_Static_assert(BLKFRONT_MAX_RING_SIZE <= NO_ID, "shadow ids fit in u16");

/* Per-request bookkeeping, indexed by the request id. */
struct shadow {
  struct block_req *req;   /* NULL for raw or abandoned requests */
  uint32_t seq;            /* submission order (a reconnect re-issues in this order) */
  uint8_t in_use;
  uint8_t op;              /* the operation the response must carry */
  uint8_t raw;             /* blkfront_raw_request */
  uint8_t bounce;          /* the data lives in pool pages */
  uint16_t npool;          /* pool pages held */
  uint16_t ngrants;        /* per-request grants to end after the response */
  uint16_t next_free;
  uint32_t bytes;
  void *buf;
  uint16_t pool[MAX_SEGS];
  grant_ref_t grants[MAX_SEGS];
};

struct blkfront_dev {
  int used;                /* 1 open, 2 leaked (the backend may still hold its pages) */
  unsigned slot;
  struct blkfront_info info;
  struct blkfront_stats stats;
  struct block_dev bdev;
  volatile struct blkif_sring *sring;
  grant_ref_t ring_ref[MAX_RING_PAGES];
  unsigned nring_refs;
  int port_open;
  int published;           /* the transport keys may be out: closing needs the handshake */
  uint32_t req_prod_pvt, req_prod_pushed, rsp_cons;
  unsigned inflight;       /* ids in use */
  int broken;
  unsigned max_segs;       /* per request: 11, or the indirect limit */
  uint32_t sector_scale;   /* sector_size / 512 */
  /* indirect pages: one per id, granted once */
  uint8_t (*indirect_pages)[PAGE]; /* [BLKFRONT_MAX_RING_SIZE], the slot's arena memory */
  grant_ref_t iref[BLKFRONT_MAX_RING_SIZE];
  unsigned niref;
  /* the data page pool */
  uint8_t (*pool_pages)[PAGE];     /* [BLKFRONT_POOL_PAGES], the slot's arena memory */
  grant_ref_t pool_ref[BLKFRONT_POOL_PAGES];
  unsigned npool_granted;
  uint16_t pool_free[BLKFRONT_POOL_PAGES];
  unsigned pool_nfree;
  /* ids */
  uint16_t free_head;
  struct shadow *shadow;   /* [BLKFRONT_MAX_RING_SIZE], the slot's arena memory */
  /* registered I/O memory (block_register_buffer): whole pages, granted on first use, kept until
   * close; reg_ref[first .. first + npages) of each region, 0 = not granted yet */
  struct { uintptr_t base; uint32_t npages, first; } regions[BLKFRONT_MAX_REGIONS];
  unsigned nregions, nreg_pages;
  grant_ref_t reg_ref[BLKFRONT_MAX_REG_PAGES];
  /* the backend's state, watched (reconnect.c) */
  int watching;
  char watch_token[24];
  char watch_path[144];
  int recheck;               /* look at the backend's state at the next check, event or not */
  uint32_t next_seq;
  uint64_t gone_since;       /* pvclock ns when the backend's end of the port was first seen closed; 0 */
  /* the raw request being waited for */
  uint16_t raw_id;
  int raw_done;
  struct blkif_response raw_rsp;
};

static inline uint64_t gfn_of(const void *p) { return (uintptr_t)p >> 12; }
static inline uint8_t *pool_page(struct blkfront_dev *d, unsigned i) { return d->pool_pages[i]; }
static inline uint8_t *indirect_page(struct blkfront_dev *d, unsigned id) { return d->indirect_pages[id]; }
/* Ring space: requests in flight are req_prod_pvt - rsp_cons. */
static inline int bf_ring_full(const struct blkfront_dev *d) {
  return d->req_prod_pvt - d->rsp_cons >= d->info.ring_size;
}

/* shadow.c: ids, pool pages, per-request grants, failure. */
int bf_alloc_id(struct blkfront_dev *d); /* a free id (its shadow reset), or -1 */
void bf_free_id(struct blkfront_dev *d, unsigned id);
unsigned bf_end_grants(struct blkfront_dev *d, struct shadow *s); /* how many the backend still holds */
void bf_put_pool(struct blkfront_dev *d, struct shadow *s);        /* its pool pages back to the pool */
/* The backend broke the protocol: fail everything in flight, take no more requests. */
void bf_mark_broken(struct blkfront_dev *d, const char *why, unsigned long long a, unsigned long long b);

/* handshake.c: the connection, for reconnect.c. */
struct blkfront_dev *bf_device(unsigned slot); /* slot < BLKFRONT_MAX_DEVICES, open or not */
/* End the ring's, the indirect pages', the pool's, registered memory's and in-flight requests'
 * grants and close the port (registered regions stay). How many grants the backend still holds. */
unsigned bf_release_connection(struct blkfront_dev *d);
int bf_close_handshake(struct blkfront_dev *d); /* Closing/Closed, wait for the backend's Closed */
/* From Initialising through Connected again, all ids free; on failure what was set up is released. */
int bf_handshake_again(struct blkfront_dev *d);

/* reconnect.c */
/* Has the backend left Connected (its state watch fired)? Then reconnect and re-issue what had no
 * response: 1 reconnected, 0 nothing to do (or the device is being unplugged), -XEN_EIO failed
 * (the device is broken). bf_poll calls it after each quiet BLKFRONT_STATE_CHECK_NS. */
int bf_check_backend(struct blkfront_dev *d);

/* request.c: the request side. */
int bf_register_buffer(struct block_dev *bd, void *buf, size_t len);
unsigned bf_end_registered(struct blkfront_dev *d); /* how many the backend still holds; regions stay */
void bf_put_request(struct blkfront_dev *d, const union blkif_sring_entry *e); /* at req_prod_pvt */
union blkif_sring_entry *bf_next_request(struct blkfront_dev *d); /* the slot at req_prod_pvt, taken */
void bf_push(struct blkfront_dev *d); /* publish req_prod_pvt; notify if the backend asked */
int bf_submit(struct block_dev *bd, struct block_req *r);

/* response.c: the response side. */
void bf_kick(struct block_dev *bd);
int bf_poll(struct block_dev *bd, uint64_t timeout_ns);
void bf_abandon(struct block_dev *bd);

#endif
