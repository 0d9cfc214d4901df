/*
 * pvkvm/block.h: a driver-neutral block device API over the PV disk (blkfront, <pvkvm/blkfront.h>)
 * or the emulated ATA disk (<pvkvm/ata.h>).
 *
 *   struct block_dev *d;
 *   if (block_open_default(&d) == 0) {                      // the first PV disk, else the ATA disk
 *     static uint8_t buf[8192] __attribute__((aligned(4096)));
 *     block_read(d, 0, 8192 / d->sector_size, buf);         // synchronous, 0 or -XEN_E*
 *     block_write(d, 16, 8192 / d->sector_size, buf);
 *     block_flush(d);
 *   }
 *
 * Units: `lba` and `count` are in the device's sectors (d->sector_size bytes, a power of two,
 * at least 512). Buffers aligned to the sector size (page-aligned is best) let a driver hand them
 * to the device directly; otherwise it bounces through its own pages.
 *
 * The queued interface:
 *   struct block_req r = {.op = BLOCK_OP_READ, .lba = 0, .count = 8, .buf = buf, .done = fn};
 *   block_submit(d, &r);   // 0 queued; -XEN_EBUSY: no room now (poll, then try again)
 *   block_kick(d);         // hand queued requests to the device (block_poll also does it)
 *   block_poll(d, ns);     // reap completions (waiting up to ns for one): r.status, r.done(&r)
 * r.status is BLOCK_PENDING until the request completes, then 0 or a negative Xen errno
 * (-XEN_EIO: the device answered with an error; -XEN_EOPNOTSUPP: it does not do that operation).
 * The request (and its buffer) belongs to the driver until then. `done` runs inside block_poll;
 * it may submit new requests but must not call block_poll itself.
 *
 * I/O memory: block_register_buffer(d, buf, len) declares memory the caller uses only for I/O
 * (a buffer pool, a page cache). A driver may then share its pages with the device for as long as
 * the device stays open — the device may read and write them at any time until block_close — so
 * requests inside it need no bounce copy. blkfront with persistent grants bounces every other
 * buffer through its own granted pages (the Xen persistent-grant protocol); inside registered
 * memory it grants each page once, on first use, and keeps it. Registration ends at close.
 *
 * `readonly` is what the device reports; the API does not refuse writes to it (the device does),
 * so a test can check that the device really refuses.
 *
 * Drivers fill a struct block_dev and a struct block_ops. Every op may be NULL: without `submit`
 * requests run synchronously through read/write/flush/discard (and complete in the next
 * block_poll); without `read`/`write` the synchronous calls go through submit/poll. A driver
 * completes a request with block_complete().
 */
#ifndef PVKVM_BLOCK_H
#define PVKVM_BLOCK_H
#include <stddef.h>
#include <stdint.h>

struct block_dev;
struct block_req;

enum block_op { BLOCK_OP_READ = 0, BLOCK_OP_WRITE = 1, BLOCK_OP_FLUSH = 2, BLOCK_OP_DISCARD = 3 };

#define BLOCK_PENDING 1                        /* block_req.status while in flight */
#define BLOCK_DEFAULT_TIMEOUT_NS 30000000000ULL /* 30 s per wait in the synchronous calls */
#define BLOCK_SYNC_QD 16u                      /* requests the synchronous calls keep in flight */

struct block_req {
  enum block_op op;
  uint64_t lba;     /* first sector (FLUSH: ignored) */
  uint32_t count;   /* sectors (FLUSH: 0); at most dev->max_count for READ/WRITE */
  void *buf;        /* READ/WRITE: count * sector_size bytes */
  void (*done)(struct block_req *req); /* optional completion callback */
  void *arg;        /* for the caller */
  volatile int status;     /* BLOCK_PENDING, then 0 or -XEN_E* */
  uint64_t submit_ns;      /* system time at block_submit */
  uint64_t done_ns;        /* system time at completion */
  struct block_req *next;  /* the driver's link while it owns the request */
  int sync_status;         /* block.c's, for drivers without submit */
};

struct block_ops {
  const char *name; /* "blkfront", ... */
  /* Queue a request (not yet visible to the device until kick/poll): 0, -XEN_EBUSY when the
   * queue or the driver's buffers are full, or another -errno (the request is not queued). */
  int (*submit)(struct block_dev *dev, struct block_req *req);
  void (*kick)(struct block_dev *dev);
  /* Kick, then reap completions, waiting up to timeout_ns for the first one if any request is in
   * flight. Returns how many completed (0: none in flight, or timeout_ns was 0), -XEN_ETIMEDOUT,
   * or -errno if the device is broken. */
  int (*poll)(struct block_dev *dev, uint64_t timeout_ns);
  /* Forget every request still in flight: they never complete (the device may still use their
   * buffers). Used after a timeout. */
  void (*abandon)(struct block_dev *dev);
  /* Synchronous operations (optional; see the top of this file). */
  int (*read)(struct block_dev *dev, uint64_t lba, uint32_t count, void *buf);
  int (*write)(struct block_dev *dev, uint64_t lba, uint32_t count, const void *buf);
  int (*flush)(struct block_dev *dev);
  int (*discard)(struct block_dev *dev, uint64_t lba, uint64_t count);
  int (*close)(struct block_dev *dev);
  /* Declare I/O memory (optional; see the top of this file): 0, or -errno (then requests there
   * still work, as before). */
  int (*register_buffer)(struct block_dev *dev, void *buf, size_t len);
};

struct block_dev {
  const struct block_ops *ops;
  void *priv;             /* the driver's */
  char name[48];          /* e.g. "device/vbd/51712" */
  uint32_t sector_size;   /* bytes, a power of two >= 512 */
  uint64_t nr_sectors;    /* device size in sector_size units */
  int readonly;           /* the device says it refuses writes */
  int can_flush;          /* a flush reaches stable storage (else block_flush is a no-op) */
  int can_discard;
  uint32_t max_count;     /* most sectors in one READ/WRITE request */
  uint32_t queue_depth;   /* most requests in flight */
  uint64_t timeout_ns;    /* per wait in the synchronous calls (BLOCK_DEFAULT_TIMEOUT_NS) */
  unsigned inflight;      /* requests submitted and not completed (kept by block.c) */
  int broken;             /* set after a timeout: everything fails with -XEN_EIO */
  struct block_req *sync_done; /* completions of the synchronous fallback, for block_poll */
};

/* Which driver (see struct block_driver below): cmdline block=pv or block=ata forces one;
 * otherwise PV when Xen is present with at least one device/vbd, else the ATA disk (primary
 * channel, drive 0; cmdline ata.mode=irq|polled, default polled; see <pvkvm/ata.h>) — so the same
 * guest runs on pvkvm and under QEMU.
 * PV: the first disk (device/vbd with the lowest id); block_open(i, ...) the i-th (ascending ids).
 * ATA: index 0 only. 0, -XEN_ENODEV if there is none, or -errno of the handshake / probe. */
int block_open_default(struct block_dev **dev);
int block_open(unsigned index, struct block_dev **dev);
/* How many disks there are (PV: entries under device/vbd; ATA: 0 or 1), or -errno. */
int block_count(void);
int block_close(struct block_dev *dev);
/* Wait until disk `index` exists (PV: a vbd the toolstack hot-plugs with pvkvm block-attach),
 * at most timeout_ns: 0, -XEN_ETIMEDOUT, -XEN_ENODEV (a driver without hot-plug has none) or -errno. */
int block_wait_present(unsigned index, uint64_t timeout_ns);

/* Synchronous calls: split into requests of at most max_count sectors, keep up to
 * min(BLOCK_SYNC_QD, queue_depth) in flight, return 0 or the first error. */
int block_read(struct block_dev *dev, uint64_t lba, uint32_t count, void *buf);
int block_write(struct block_dev *dev, uint64_t lba, uint32_t count, const void *buf);
int block_flush(struct block_dev *dev);                       /* 0 if the device cannot flush */
int block_discard(struct block_dev *dev, uint64_t lba, uint64_t count); /* -XEN_EOPNOTSUPP if not */
/* Declare [buf, buf + len) as I/O memory the device may keep access to until close (see the top
 * of this file). 0 (also for drivers that never bounce), -XEN_ENOSPC (no room to track more:
 * requests there still work, bounced) or -XEN_EINVAL. */
int block_register_buffer(struct block_dev *dev, void *buf, size_t len);

/* Queued interface (see the top of this file). */
int block_submit(struct block_dev *dev, struct block_req *req);
void block_kick(struct block_dev *dev);
int block_poll(struct block_dev *dev, uint64_t timeout_ns);
/* Poll until req completes (its status), or -XEN_ETIMEDOUT after timeout_ns. */
int block_wait(struct block_dev *dev, struct block_req *req, uint64_t timeout_ns);
/* Poll until nothing is in flight: 0, or the first poll error. */
int block_drain(struct block_dev *dev, uint64_t timeout_ns);

/* For drivers: finish a request (status 0 or -errno), run its callback. */
void block_complete(struct block_dev *dev, struct block_req *req, int status);
const char *block_op_name(enum block_op op);

/*
 * The driver table. block_open and block_count pick a driver from block_drivers[] (listed in
 * src/drivers/block_drivers.c, in order of preference): the one the command line names
 * (block=NAME), else the first whose probe sees a disk, else the last entry — the fallback, which
 * need not have a probe. The table: blkfront ("pv", <pvkvm/blkfront.h>), then ATA ("ata",
 * <pvkvm/ata.h>).
 */
struct block_driver {
  const char *name; /* its block=NAME */
  /* How many disks it sees (0 if none), or -errno when its bus is not there (no Xen, no
   * xenstore). Cheap and harmless: it runs on every block_open. NULL if the driver cannot tell
   * without opening a disk (block_count then opens disk 0). */
  int (*probe)(void);
  /* Open its index-th disk: 0, -XEN_ENODEV if there is no such disk, or -errno. */
  int (*open)(unsigned index, struct block_dev **dev);
  /* Wait until it sees more than `index` disks (hot-plug; blkfront watches device/vbd): 0,
   * -XEN_ETIMEDOUT or -errno. NULL if its disks cannot appear later. */
  int (*wait_present)(unsigned index, uint64_t timeout_ns);
};
extern const struct block_driver *const block_drivers[];
extern const unsigned block_nr_drivers;

#endif
