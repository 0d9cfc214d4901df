/* hotplug.c: vbd hot-plug for blkfront — waiting for a disk the toolstack plugs in later
 * (pvkvm block-attach adds device/vbd/<id>) and noticing one it takes away (block-detach sets the
 * backend Closing, then removes the device): the guest then closes it cleanly. */
#include <stdint.h>
#include <pvkvm/blkfront.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/xenbus.h>
#include <pvkvm/xenstore.h>
#include "blkfront_dev.h"

#define GONE_WATCH_TOKEN "pvkvm-vbd-gone"

int blkfront_wait_vbd(unsigned index, uint64_t timeout_ns) {
  if (!pvkvm_xen_present()) return -XEN_ENODEV;
  int rc = xs_init();
  return rc < 0 ? rc : xenbus_wait_devices("vbd", index, timeout_ns);
}

int blkfront_removing(const struct blkfront_dev *d) {
  if (!d || d->used != 1) return 1;
  /* The toolstack's unplug: backend Closing (or already Closed), or its directory gone. */
  int s = xenbus_read_state(d->info.backend);
  return s == -XEN_ENOENT || s == -XEN_EACCES || s == XenbusStateClosing || s == XenbusStateClosed; /* EACCES: gone, its parent is dom0's */
}

int blkfront_wait_removal(struct blkfront_dev *d, uint64_t timeout_ns) {
  if (!d || d->used != 1) return -XEN_EINVAL;
  char key[160];
  snprintf(key, sizeof(key), "%s/state", d->info.backend);
  int rc = xs_watch(key, GONE_WATCH_TOKEN);
  if (rc < 0) return rc;
  uint64_t deadline = deadline_after(timeout_ns);
  for (;;) {
    if (blkfront_removing(d)) {
      rc = 0;
      break;
    }
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) {
      rc = -XEN_ETIMEDOUT;
      break;
    }
    rc = xs_wait_watch_token(GONE_WATCH_TOKEN, NULL, 0, deadline_remaining(now, deadline));
    if (rc < 0 && rc != -XEN_ETIMEDOUT) break;
  }
  xs_unwatch(key, GONE_WATCH_TOKEN);
  return rc;
}
