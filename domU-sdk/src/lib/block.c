/* block.c: the driver-neutral block API — choosing a disk driver from the driver table, request
 * checks, the queued interface, synchronous calls. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/block.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/isa.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>

/* Request timestamps and timeouts: pvclock with Xen, else the TSC (pvkvm_time_ns is 0 there). */
static uint64_t now_ns(void) { return pvkvm_xen_present() ? pvkvm_time_ns() : isa_time_ns(); }

const char *block_op_name(enum block_op op) {
  switch (op) {
  case BLOCK_OP_READ: return "read";
  case BLOCK_OP_WRITE: return "write";
  case BLOCK_OP_FLUSH: return "flush";
  case BLOCK_OP_DISCARD: return "discard";
  }
  return "?";
}

/* ---- opening ---- */

/* "pv or ata": the names block=NAME accepts, for a message. */
static void print_driver_names(void) {
  for (unsigned i = 0; i < block_nr_drivers; i++)
    printf("%s%s", i == 0 ? "" : i + 1 == block_nr_drivers ? " or " : ", ", block_drivers[i]->name);
}

/* cmdline block=NAME forces a driver; otherwise the first whose probe sees a disk, else the last
 * entry of the table (the fallback: the emulated ATA disk, when there is no Xen, no xenstore or
 * no vbd). */
static const struct block_driver *choose_driver(void) {
  char want[16];
  if (pvkvm_cmdline_get("block", want, sizeof(want)) >= 0) {
    for (unsigned i = 0; i < block_nr_drivers; i++)
      if (strcmp(want, block_drivers[i]->name) == 0) return block_drivers[i];
    printf("block: unknown block=%s (", want);
    print_driver_names();
    printf("); choosing by what is there\n");
  }
  for (unsigned i = 0; i + 1 < block_nr_drivers; i++)
    if (block_drivers[i]->probe && block_drivers[i]->probe() > 0) return block_drivers[i];
  return block_drivers[block_nr_drivers - 1];
}

int block_count(void) {
  const struct block_driver *drv = choose_driver();
  if (drv->probe) return drv->probe();
  struct block_dev *d;
  int rc = drv->open(0, &d);
  return rc == 0 ? 1 : rc == -XEN_ENODEV ? 0 : rc;
}

int block_open(unsigned index, struct block_dev **dev) { return choose_driver()->open(index, dev); }

int block_wait_present(unsigned index, uint64_t timeout_ns) {
  const struct block_driver *drv = choose_driver();
  if (drv->wait_present) return drv->wait_present(index, timeout_ns);
  int n = block_count();
  return n < 0 ? n : (unsigned)n > index ? 0 : -XEN_ENODEV;
}

int block_open_default(struct block_dev **dev) { return block_open(0, dev); }

int block_close(struct block_dev *dev) { return dev->ops->close ? dev->ops->close(dev) : 0; }

int block_register_buffer(struct block_dev *dev, void *buf, size_t len) {
  if (!buf || !len) return -XEN_EINVAL;
  return dev->ops->register_buffer ? dev->ops->register_buffer(dev, buf, len) : 0;
}

/* ---- the queued interface ---- */

void block_complete(struct block_dev *dev, struct block_req *req, int status) {
  req->done_ns = now_ns();
  if (dev->inflight) dev->inflight--;
  __atomic_store_n(&req->status, status, __ATOMIC_RELEASE);
  if (req->done) req->done(req);
}

/* Is the request well formed and inside the device? 0 or -errno. */
static int check_req(const struct block_dev *dev, const struct block_req *req) {
  switch (req->op) {
  case BLOCK_OP_FLUSH:
    return 0;
  case BLOCK_OP_READ:
  case BLOCK_OP_WRITE:
    if (!req->buf || req->count == 0 || req->count > dev->max_count) return -XEN_EINVAL;
    break;
  case BLOCK_OP_DISCARD:
    if (req->count == 0) return -XEN_EINVAL;
    break;
  default:
    return -XEN_EINVAL;
  }
  if (req->lba >= dev->nr_sectors || req->count > dev->nr_sectors - req->lba) return -XEN_ERANGE;
  return 0;
}

/* A driver without `submit`: run the request now through its synchronous ops. */
static int run_sync(struct block_dev *dev, struct block_req *req) {
  const struct block_ops *o = dev->ops;
  switch (req->op) {
  case BLOCK_OP_READ: return o->read ? o->read(dev, req->lba, req->count, req->buf) : -XEN_EOPNOTSUPP;
  case BLOCK_OP_WRITE: return o->write ? o->write(dev, req->lba, req->count, req->buf) : -XEN_EOPNOTSUPP;
  case BLOCK_OP_FLUSH: return o->flush ? o->flush(dev) : 0;
  case BLOCK_OP_DISCARD: return o->discard ? o->discard(dev, req->lba, req->count) : -XEN_EOPNOTSUPP;
  }
  return -XEN_EINVAL;
}

int block_submit(struct block_dev *dev, struct block_req *req) {
  if (dev->broken) return -XEN_EIO;
  int rc = check_req(dev, req);
  if (rc < 0) return rc;
  req->status = BLOCK_PENDING;
  req->submit_ns = now_ns();
  req->done_ns = 0;
  req->next = NULL;
  dev->inflight++;
  if (dev->ops->submit) {
    rc = dev->ops->submit(dev, req);
    if (rc < 0) dev->inflight--;
    return rc;
  }
  /* Synchronous fallback: do it now, complete it in the next block_poll. */
  req->sync_status = run_sync(dev, req);
  struct block_req **tail = &dev->sync_done;
  while (*tail) tail = &(*tail)->next;
  *tail = req;
  return 0;
}

void block_kick(struct block_dev *dev) {
  if (dev->ops->kick) dev->ops->kick(dev);
}

int block_poll(struct block_dev *dev, uint64_t timeout_ns) {
  int n = 0;
  while (dev->sync_done) {
    struct block_req *r = dev->sync_done;
    dev->sync_done = r->next;
    r->next = NULL;
    block_complete(dev, r, r->sync_status);
    n++;
  }
  if (n || !dev->ops->poll) return n;
  return dev->ops->poll(dev, timeout_ns);
}

/* Deadlines on the block clock (now_ns). */
static uint64_t block_deadline(uint64_t ns) { return deadline_add(now_ns(), ns); }
static uint64_t left_until(uint64_t deadline) { return deadline_remaining(now_ns(), deadline); }

int block_wait(struct block_dev *dev, struct block_req *req, uint64_t timeout_ns) {
  uint64_t deadline = block_deadline(timeout_ns);
  while (__atomic_load_n(&req->status, __ATOMIC_ACQUIRE) == BLOCK_PENDING) {
    uint64_t left = left_until(deadline);
    if (left == 0) return -XEN_ETIMEDOUT;
    int rc = block_poll(dev, left);
    if (rc < 0 && __atomic_load_n(&req->status, __ATOMIC_ACQUIRE) == BLOCK_PENDING) return rc;
    if (rc == 0 && dev->inflight == 0 && req->status == BLOCK_PENDING) return -XEN_EINVAL; /* never submitted */
  }
  return req->status;
}

int block_drain(struct block_dev *dev, uint64_t timeout_ns) {
  uint64_t deadline = block_deadline(timeout_ns);
  while (dev->inflight || dev->sync_done) {
    uint64_t left = left_until(deadline);
    if (left == 0) return -XEN_ETIMEDOUT;
    int rc = block_poll(dev, left);
    if (rc < 0) return rc;
  }
  return 0;
}

/* After a timeout the device is given up: its requests (maybe on our stack) are forgotten. */
static void give_up(struct block_dev *dev, int rc) {
  printf("block: %s: %s; device disabled\n", dev->name, rc == -XEN_ETIMEDOUT ? "request timed out" : "device failed");
  if (dev->ops->abandon) dev->ops->abandon(dev);
  dev->broken = 1;
}

/* ---- synchronous calls ---- */

static int block_rw(struct block_dev *dev, enum block_op op, uint64_t lba, uint32_t count, void *buf) {
  if (count == 0) return 0;
  if (dev->broken) return -XEN_EIO;
  if (lba >= dev->nr_sectors || count > dev->nr_sectors - lba) return -XEN_ERANGE;
  if (!dev->ops->submit) { /* a synchronous driver: straight through, in chunks */
    for (uint32_t done = 0; done < count;) {
      uint32_t n = count - done < dev->max_count ? count - done : dev->max_count;
      struct block_req r = {.op = op, .lba = lba + done, .count = n, .buf = (uint8_t *)buf + (size_t)done * dev->sector_size};
      int rc = run_sync(dev, &r);
      if (rc < 0) return rc;
      done += n;
    }
    return 0;
  }
  struct block_req reqs[BLOCK_SYNC_QD];
  unsigned qd = dev->queue_depth < BLOCK_SYNC_QD ? dev->queue_depth : BLOCK_SYNC_QD;
  if (qd == 0) qd = 1;
  uint32_t busy = 0; /* bit k: reqs[k] in flight */
  uint32_t done = 0;
  int err = 0;
  while ((done < count && !err) || busy) {
    unsigned k = 0;
    while (k < qd && (busy & (1u << k))) k++;
    if (done < count && !err && k < qd) {
      uint32_t n = count - done < dev->max_count ? count - done : dev->max_count;
      struct block_req *r = &reqs[k];
      memset(r, 0, sizeof(*r));
      r->op = op;
      r->lba = lba + done;
      r->count = n;
      r->buf = (uint8_t *)buf + (size_t)done * dev->sector_size;
      int rc = block_submit(dev, r);
      if (rc == 0) {
        busy |= 1u << k;
        done += n;
        continue;
      }
      if (rc != -XEN_EBUSY || dev->inflight == 0) {
        err = rc; /* not queued: stop submitting, collect what is in flight */
        continue;
      }
    }
    int rc = block_poll(dev, dev->timeout_ns);
    if (rc < 0) {
      give_up(dev, rc);
      return rc;
    }
    for (unsigned i = 0; i < qd; i++)
      if ((busy & (1u << i)) && reqs[i].status != BLOCK_PENDING) {
        busy &= ~(1u << i);
        if (reqs[i].status < 0 && !err) err = reqs[i].status;
      }
    if (rc == 0 && busy && dev->inflight == 0) { /* the driver lost them */
      give_up(dev, -XEN_EIO);
      return -XEN_EIO;
    }
  }
  return err;
}

int block_read(struct block_dev *dev, uint64_t lba, uint32_t count, void *buf) {
  return block_rw(dev, BLOCK_OP_READ, lba, count, buf);
}

int block_write(struct block_dev *dev, uint64_t lba, uint32_t count, const void *buf) {
  return block_rw(dev, BLOCK_OP_WRITE, lba, count, (void *)buf);
}

/* One request, waited for. */
static int block_one(struct block_dev *dev, enum block_op op, uint64_t lba, uint32_t count) {
  struct block_req r = {.op = op, .lba = lba, .count = count};
  int rc = block_submit(dev, &r);
  while (rc == -XEN_EBUSY) { /* someone else's requests fill the queue: wait for room */
    int p = block_poll(dev, dev->timeout_ns);
    if (p < 0) {
      give_up(dev, p);
      return p;
    }
    rc = block_submit(dev, &r);
  }
  if (rc < 0) return rc;
  rc = block_wait(dev, &r, dev->timeout_ns);
  if (rc == -XEN_ETIMEDOUT || (rc < 0 && r.status == BLOCK_PENDING)) give_up(dev, rc);
  return rc;
}

int block_flush(struct block_dev *dev) {
  if (dev->broken) return -XEN_EIO;
  if (!dev->can_flush) return 0;
  if (!dev->ops->submit) return dev->ops->flush ? dev->ops->flush(dev) : 0;
  return block_one(dev, BLOCK_OP_FLUSH, 0, 0);
}

int block_discard(struct block_dev *dev, uint64_t lba, uint64_t count) {
  if (dev->broken) return -XEN_EIO;
  if (!dev->can_discard) return -XEN_EOPNOTSUPP;
  if (lba >= dev->nr_sectors || count > dev->nr_sectors - lba) return -XEN_ERANGE;
  if (!dev->ops->submit) return dev->ops->discard ? dev->ops->discard(dev, lba, count) : -XEN_EOPNOTSUPP;
  while (count) {
    uint32_t n = count > 0x40000000u ? 0x40000000u : (uint32_t)count;
    int rc = block_one(dev, BLOCK_OP_DISCARD, lba, n);
    if (rc < 0) return rc;
    lba += n;
    count -= n;
  }
  return 0;
}
