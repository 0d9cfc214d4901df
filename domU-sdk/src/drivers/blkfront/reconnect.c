/*
 * reconnect.c: a backend that restarts (a new blkback after a dom0 restart starts at InitWait; a
 * backend that faulted goes Closed) — Xen's frontend recovery. A watch on the backend's state,
 * looked at while a wait is quiet, notices it left Connected; then the old connection goes (every
 * grant ended — a dead backend's mappings were dropped with it — the port closed, the closing
 * handshake), the handshake runs again (persistent grants, indirect segments and the ring size
 * are negotiated afresh) and every request that had no response is issued again, in the order it
 * was first submitted. A write that was answered is on the disk; one that was not is simply
 * written again, so callers only see their requests complete later. A backend that is being
 * unplugged (online = 0, block-detach) or whose directory is gone is left to blkfront_removing.
 * After a restore (pvkvm_suspend returned 0) the same happens with the new domain's backend.
 */
#include <stdint.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/xenbus.h>
#include <pvkvm/xenstore.h>
#include "blkfront_dev.h"

/* Does the toolstack want the device gone (block-detach writes online = 0 before Closing)? */
static int unplugging(const struct blkfront_dev *d) {
  char path[160], v[8];
  snprintf(path, sizeof(path), "%s/online", d->info.backend);
  int n = xs_read(XBT_NIL, path, v, sizeof(v));
  return n == -XEN_ENOENT || n == -XEN_EACCES || (n == 1 && v[0] == '0'); /* gone: unreadable */
}

/* In-flight requests in submission order (raw ones are answered with an error: they are the
 * caller's own ring protocol, not ours to repeat). How many were put in `out`. */
static unsigned collect_unanswered(struct blkfront_dev *d, struct block_req **out) {
  static uint32_t seqs[BLKFRONT_MAX_RING_SIZE];
  unsigned n = 0;
  for (unsigned id = 0; id < d->info.ring_size; id++) {
    struct shadow *s = &d->shadow[id];
    if (!s->in_use) continue;
    if (s->raw && d->raw_id == id) {
      d->raw_done = 1;
      d->raw_rsp.status = BLKIF_RSP_ERROR;
    }
    if (!s->req) continue; /* raw or abandoned: nobody waits for it */
    unsigned i = n++;
    /* Insertion sort (at most a ring's worth); seq is free-running, so compare by difference. */
    for (; i > 0 && (int32_t)(seqs[i - 1] - s->seq) > 0; i--) {
      seqs[i] = seqs[i - 1];
      out[i] = out[i - 1];
    }
    seqs[i] = s->seq;
    out[i] = s->req;
  }
  return n;
}

/* Redo the connection and re-issue what had no response. 1, or -XEN_EIO with the device broken. */
static int reconnect(struct blkfront_dev *d, const char *why) {
  static struct block_req *reqs[BLKFRONT_MAX_RING_SIZE];
  printf("blkfront: %s: %s; reconnecting\n", d->info.nodename, why);
  unsigned n = collect_unanswered(d, reqs);
  unsigned held = bf_release_connection(d);
  if (held) {
    /* The backend can still reach pages we would reuse: give the device up instead. */
    printf("blkfront: %s: %u grants still in use by the old backend\n", d->info.nodename, held);
    bf_mark_broken(d, "grants held across a backend restart (held, requests)", held, n);
    return -XEN_EIO;
  }
  bf_close_handshake(d);
  int rc = bf_handshake_again(d); /* every id free again: the shadows of `reqs` are gone */
  if (rc < 0) {
    d->broken = 1;
    d->bdev.broken = 1;
    for (unsigned i = 0; i < n; i++) block_complete(&d->bdev, reqs[i], -XEN_EIO);
    return -XEN_EIO;
  }
  d->stats.reconnects++;
  d->gone_since = 0;
  for (unsigned i = 0; i < n; i++) {
    rc = bf_submit(&d->bdev, reqs[i]);
    if (rc < 0) {
      printf("blkfront: %s: re-issuing a %s request: %d\n", d->info.nodename, block_op_name(reqs[i]->op), rc);
      block_complete(&d->bdev, reqs[i], rc);
    } else {
      d->stats.reissued++;
    }
  }
  bf_push(d);
  /* The events of our own handshake go; a backend that changed again since is looked at anew. */
  while (xs_wait_watch_token(d->watch_token, NULL, 0, 0) == 0) {
  }
  d->recheck = xenbus_read_state(d->info.backend) != XenbusStateConnected;
  printf("blkfront: %s: reconnected; %u request(s) re-issued\n", d->info.nodename, n);
  return 1;
}

int bf_check_backend(struct blkfront_dev *d) {
  if (!d->watching || d->broken) return 0;
  int fired = d->recheck;
  d->recheck = 0;
  while (xs_wait_watch_token(d->watch_token, NULL, 0, 0) == 0) fired = 1;
  if (!fired) return 0;
  int bs = xenbus_read_state(d->info.backend);
  if (bs == XenbusStateConnected || unplugging(d)) return 0;
  char why[48];
  snprintf(why, sizeof(why), "backend went %s", bs < 0 ? "away" : xenbus_state_name(bs));
  return reconnect(d, why);
}

int blkfront_resume(struct blkfront_dev *d) {
  if (!d || d->used != 1) return -XEN_EINVAL;
  if (d->broken) return -XEN_EIO;
  /* A new domain: new backend directory (it names our domid), and no watches any more. */
  int rc = xenbus_read_backend(d->info.nodename, d->info.backend, sizeof(d->info.backend), &d->info.backend_id);
  if (rc < 0) {
    printf("blkfront: %s: after the restore: no backend/backend-id: %d\n", d->info.nodename, rc);
    bf_mark_broken(d, "no backend after a restore (rc, 0)", (unsigned long long)-rc, 0);
    return rc;
  }
  snprintf(d->watch_path, sizeof(d->watch_path), "%s/state", d->info.backend);
  d->watching = xs_watch(d->watch_path, d->watch_token) == 0;
  rc = reconnect(d, "restored in a new domain");
  return rc < 0 ? rc : 0;
}

void blkfront_resume_all(void) {
  for (unsigned i = 0; i < BLKFRONT_MAX_DEVICES; i++) {
    struct blkfront_dev *d = bf_device(i);
    if (d->used == 1 && !d->broken) blkfront_resume(d);
  }
}
