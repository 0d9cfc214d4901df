/*
 * xenstore.c: the synchronous xenstore client (docs/xen-abi.md §12).
 *
 * Ring protocol (both directions are byte streams on a 1024-byte ring, u32 free-running indices,
 * slot = idx & 1023; a message may wrap and may arrive over several notifications):
 *   request:  load req_cons (acquire: our copies into the ring happen after we saw the space
 *             free), copy as much as fits up to the wrap point, store req_prod (release: the
 *             bytes are visible before the index), send the event; repeat until all is written.
 *   response: load rsp_prod (acquire: the bytes are read after the index), copy what is there
 *             up to the wrap point and the end of the current message, store rsp_cons (release:
 *             our reads finish before the server may reuse the space), send the event.
 * Each message is built whole in tx_buf, so a request is usually one ring update and one event.
 * The response side is an incremental parser (rx_buf/rx_got): a reply that times out half read
 * stays consistent, and a late reply to a timed-out request is recognised by its req_id and
 * dropped.
 *
 * Waiting (port_wait, <pvkvm/port_wait.h>). Why SCHEDOP_poll on the (masked) store port rather
 * than evtchn_block + a handler:
 *  - it needs no upcall (evtchn_init) and works with interrupts on or off, so xenstore can be
 *    used from any context a guest is in;
 *  - it takes a timeout (absolute system time), so a dead server gives -XEN_ETIMEDOUT instead of
 *    a hang; SCHEDOP_block has none and would need VIRQ_TIMER;
 *  - the port is masked at xs_init, so the 2-level dispatcher (pending & ~mask) never clears its
 *    pending bit behind our back; a masked pending port still ends a poll (Xen's do_poll, and
 *    the evtchn-poll test checks pvkvm does the same).
 * No lost wake-up: port_wait clears the port's pending bit BEFORE each look at the ring and polls
 * only if the ring showed no progress. The poll is capped at POLL_SLICE_NS, a safety net only.
 */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/lock.h>
#include <pvkvm/port_wait.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include <pvkvm/xenstore.h>

#define RING XENSTORE_RING_SIZE
#define MASK(i) ((i) & (RING - 1))
#define HDR sizeof(struct xsd_sockmsg)
#define POLL_SLICE_NS (100 * NSEC_PER_MSEC)
#define DEFAULT_TIMEOUT_NS (30 * NSEC_PER_SEC)
#define DEFAULT_TX_TRIES 64u

static struct xenstore_domain_interface *intf;
static evtchn_port_t store_port;
static int ready;  /* xs_init succeeded */
static int broken; /* the request stream is out of step (a request was half written) */
static uint32_t next_req_id = 1;
static uint64_t reply_timeout = DEFAULT_TIMEOUT_NS;

/* One message being built (tx) and one being received (rx); both under the client lock. */
static uint8_t tx_buf[HDR + XENSTORE_PAYLOAD_MAX];
static size_t tx_len;
static uint8_t rx_buf[HDR + XENSTORE_PAYLOAD_MAX + 1]; /* +1: the payload is NUL-terminated */
static size_t rx_got;

/* ---- lock: one vCPU in the client at a time; re-entry on the same vCPU is refused ---- */

static pvkvm_owner_lock_t client_lock = PVKVM_OWNER_LOCK_INIT;

static int xs_lock(void) { return owner_lock(&client_lock); }
static void xs_unlock(void) { owner_unlock(&client_lock); }

/* ---- set-up ---- */

int xs_init(void) {
  if (ready) return 0;
  if (!pvkvm_xen_present()) return -XEN_ENODEV;
  uint64_t pfn = 0, evt = 0;
  long rc = pvkvm_hvm_get_param(HVM_PARAM_STORE_EVTCHN, &evt);
  if (rc < 0) return (int)rc;
  rc = pvkvm_hvm_get_param(HVM_PARAM_STORE_PFN, &pfn);
  if (rc < 0) return (int)rc;
  if (evt == 0 || pfn == 0) return -XEN_ENODEV; /* no xenstore for this domain */
  if (evt >= EVTCHN_NR_PORTS) return -XEN_EINVAL;
  if (pfn >= (1ULL << 20)) return -XEN_EFAULT; /* outside the SDK's 4 GiB identity map */
  if (!pvkvm_shared_info()) return (int)pvkvm_shared_info_error(); /* for the pending/mask bits */
  struct xenstore_domain_interface *p = (struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
  /* The indices need not start at 0, but they must be sane. */
  uint32_t reqp = __atomic_load_n(&p->req_prod, __ATOMIC_ACQUIRE);
  uint32_t reqc = __atomic_load_n(&p->req_cons, __ATOMIC_ACQUIRE);
  uint32_t rspp = __atomic_load_n(&p->rsp_prod, __ATOMIC_ACQUIRE);
  uint32_t rspc = __atomic_load_n(&p->rsp_cons, __ATOMIC_ACQUIRE);
  if (reqp - reqc > RING || rspp - rspc > RING) return -XEN_EIO;
  store_port = (evtchn_port_t)evt;
  evtchn_mask(store_port); /* only SCHEDOP_poll waits on it: see the top of this file */
  intf = p;
  rx_got = 0;
  broken = 0;
  __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  return 0;
}

int xs_available(void) { return __atomic_load_n(&ready, __ATOMIC_ACQUIRE); }
evtchn_port_t xs_port(void) { return store_port; }
void xs_set_timeout(uint64_t ns) { reply_timeout = ns; }

/*
 * Wait on the store port until look(w) reports progress (its result) or the deadline passes
 * (-XEN_ETIMEDOUT, or -XEN_EIO if the server flagged a ring error meanwhile), or -errno.
 */
static int store_wait(int (*look)(struct port_wait *w), void *arg, uint64_t deadline) {
  struct port_wait w = {
      .port = store_port, .deadline = deadline, .slice_ns = POLL_SLICE_NS, .look = look, .arg = arg};
  int rc = port_wait(&w);
  if (rc == -XEN_ETIMEDOUT && __atomic_load_n(&intf->error, __ATOMIC_RELAXED)) rc = -XEN_EIO;
  return rc;
}

/* ---- the request side ---- */

/* port_wait look: free space in the request ring (> 0), 0 if full, -XEN_EIO if corrupt. */
static int look_req_space(struct port_wait *w) {
  uint32_t cons = __atomic_load_n(&intf->req_cons, __ATOMIC_ACQUIRE);
  uint32_t prod = __atomic_load_n(&intf->req_prod, __ATOMIC_RELAXED); /* we are the only writer */
  if (prod - cons > RING) return -XEN_EIO;
  return (int)(RING - (prod - cons));
}

/* Write tx_buf[0..tx_len) to the request ring, waiting for space. 0 or -errno. */
static int ring_write(uint64_t deadline) {
  size_t done = 0;
  while (done < tx_len) {
    int space = store_wait(look_req_space, NULL, deadline);
    if (space < 0) return space;
    uint32_t prod = __atomic_load_n(&intf->req_prod, __ATOMIC_RELAXED);
    size_t chunk = tx_len - done;
    if (chunk > (size_t)space) chunk = (size_t)space;
    if (chunk > RING - MASK(prod)) chunk = RING - MASK(prod); /* up to the wrap point */
    memcpy(&intf->req[MASK(prod)], tx_buf + done, chunk);
    __atomic_store_n(&intf->req_prod, prod + (uint32_t)chunk, __ATOMIC_RELEASE);
    evtchn_send(store_port);
    done += chunk;
  }
  return 0;
}

/* Start a message in tx_buf. */
static void msg_begin(uint32_t type, uint32_t req_id, xs_transaction_t t) {
  struct xsd_sockmsg h = {.type = type, .req_id = req_id, .tx_id = t, .len = 0};
  memcpy(tx_buf, &h, HDR);
  tx_len = HDR;
}

/* Append n bytes of payload (with the NUL if nul). -XEN_E2BIG beyond XENSTORE_PAYLOAD_MAX. */
static int msg_put(const void *data, size_t n, int nul) {
  if (tx_len + n + (nul ? 1 : 0) > sizeof(tx_buf)) return -XEN_E2BIG;
  memcpy(tx_buf + tx_len, data, n);
  tx_len += n;
  if (nul) tx_buf[tx_len++] = 0;
  uint32_t len = (uint32_t)(tx_len - HDR);
  memcpy(tx_buf + offsetof(struct xsd_sockmsg, len), &len, sizeof(len));
  return 0;
}

static int msg_put_str(const char *s) { return msg_put(s, strlen(s), 1); }

/* ---- the response side ---- */

static const struct xsd_sockmsg *rx_hdr(void) { return (const struct xsd_sockmsg *)rx_buf; }
static const char *rx_body(void) { return (const char *)rx_buf + HDR; }

/*
 * Pull bytes from the response ring into rx_buf, never past the end of the current message.
 * 1 when rx_buf holds a whole message (NUL-terminated payload), 0 when more is needed, -XEN_EIO
 * on a corrupt ring or an oversized message. Sends the event if it consumed anything.
 */
static int rx_pump(void) {
  int consumed = 0, rc = 0;
  for (;;) {
    size_t want = HDR;
    if (rx_got >= HDR) {
      if (rx_hdr()->len > XENSTORE_PAYLOAD_MAX) {
        rc = -XEN_EIO;
        break;
      }
      want = HDR + rx_hdr()->len;
    }
    if (rx_got == want && rx_got >= HDR) {
      rx_buf[rx_got] = 0;
      rc = 1;
      break;
    }
    uint32_t cons = __atomic_load_n(&intf->rsp_cons, __ATOMIC_RELAXED); /* we are the only reader */
    uint32_t prod = __atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE);
    if (prod - cons > RING) {
      rc = -XEN_EIO;
      break;
    }
    if (prod == cons) break; /* nothing more yet */
    size_t chunk = prod - cons;
    if (chunk > want - rx_got) chunk = want - rx_got;
    if (chunk > RING - MASK(cons)) chunk = RING - MASK(cons);
    memcpy(rx_buf + rx_got, &intf->rsp[MASK(cons)], chunk);
    rx_got += chunk;
    __atomic_store_n(&intf->rsp_cons, cons + (uint32_t)chunk, __ATOMIC_RELEASE);
    consumed = 1;
  }
  if (consumed) evtchn_send(store_port);
  return rc;
}

/* ---- the watch-event queue ---- */

struct watch_event {
  uint32_t len;                   /* payload bytes: path NUL token NUL */
  char data[XS_WATCH_EVENT_MAX + 1];
};
static struct watch_event wq[XS_WATCH_QUEUE];
static unsigned wq_head, wq_count; /* oldest at wq_head */
static unsigned wq_dropped;

static struct watch_event *wq_at(unsigned i) { return &wq[(wq_head + i) % XS_WATCH_QUEUE]; }

static void wq_push(const char *payload, uint32_t len) {
  if (len > XS_WATCH_EVENT_MAX) {
    wq_dropped++;
    return;
  }
  if (wq_count == XS_WATCH_QUEUE) { /* full: drop the oldest, keep the news */
    wq_head = (wq_head + 1) % XS_WATCH_QUEUE;
    wq_count--;
    wq_dropped++;
  }
  struct watch_event *e = wq_at(wq_count++);
  memcpy(e->data, payload, len);
  e->data[len] = 0;
  e->len = len;
}

static void wq_remove(unsigned i) {
  for (; i + 1 < wq_count; i++) *wq_at(i) = *wq_at(i + 1);
  wq_count--;
}

static const char *event_path(const struct watch_event *e) { return e->data; }
static const char *event_token(const struct watch_event *e) {
  size_t n = strnlen(e->data, e->len);
  return n < e->len ? e->data + n + 1 : ""; /* data[len] is NUL, so this is terminated */
}

static void copy_str(char *dst, size_t len, const char *src) {
  if (!dst || len == 0) return;
  size_t n = strnlen(src, len - 1);
  memcpy(dst, src, n);
  dst[n] = 0;
}

/* Take the oldest queued event (with this token, if token is not NULL). 1 if one was taken. */
static int wq_take(const char *token, char *path, size_t path_len, char *tok, size_t tok_len) {
  for (unsigned i = 0; i < wq_count; i++) {
    struct watch_event *e = wq_at(i);
    if (token && strcmp(event_token(e), token) != 0) continue;
    copy_str(path, path_len, event_path(e));
    copy_str(tok, tok_len, event_token(e));
    wq_remove(i);
    return 1;
  }
  return 0;
}

static void wq_purge(const char *token) {
  for (unsigned i = 0; i < wq_count;) {
    if (strcmp(event_token(wq_at(i)), token) == 0) wq_remove(i);
    else i++;
  }
}

unsigned xs_watch_events_dropped(void) { return wq_dropped; }

/*
 * Handle the whole message in rx_buf: queue a watch event; otherwise 1 if it is the reply to
 * req_id (left in rx_buf for the caller), else dropped (a late reply of a timed-out request).
 */
static int rx_dispatch(uint32_t req_id) {
  const struct xsd_sockmsg *h = rx_hdr();
  rx_got = 0; /* consumed; the bytes stay in rx_buf until the next rx_pump */
  if (h->type == XS_WATCH_EVENT) {
    wq_push(rx_body(), h->len);
    return 0;
  }
  return req_id != 0 && h->req_id == req_id;
}

/* ---- one request / reply ---- */

static const char *const error_names[] = {
    [XEN_EINVAL] = "EINVAL",   [XEN_EACCES] = "EACCES", [XEN_EEXIST] = "EEXIST",
    [XEN_EISDIR] = "EISDIR",   [XEN_ENOENT] = "ENOENT", [XEN_ENOMEM] = "ENOMEM",
    [XEN_ENOSPC] = "ENOSPC",   [XEN_EIO] = "EIO",       [XEN_ENOTEMPTY] = "ENOTEMPTY",
    [XEN_ENOSYS] = "ENOSYS",   [XEN_EROFS] = "EROFS",   [XEN_EBUSY] = "EBUSY",
    [XEN_EAGAIN] = "EAGAIN",   [XEN_EISCONN] = "EISCONN", [XEN_E2BIG] = "E2BIG",
    [XEN_EPERM] = "EPERM",
};

int xs_errno_from_name(const char *name) {
  for (unsigned i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++)
    if (error_names[i] && strcmp(error_names[i], name) == 0) return -(int)i;
  return -XEN_EIO;
}

/*
 * port_wait look for the reply to *req_id: 1 once it is in rx_buf, 0 if not yet, -XEN_EIO on a
 * corrupt ring (the client is then broken). Watch events and late replies met on the way are
 * queued / dropped.
 */
static int look_reply(struct port_wait *w) {
  const uint32_t *req_id = w->arg;
  for (;;) {
    int rc = rx_pump();
    if (rc < 0) broken = 1;
    if (rc <= 0) return rc;
    if (rx_dispatch(*req_id)) return 1;
  }
}

/*
 * Send the message in tx_buf (built with msg_begin/msg_put; its req_id is patched here) and wait
 * for the reply. On success the reply is in rx_buf (rx_hdr/rx_body, body NUL-terminated) until
 * the next call; returns 0, or the reply's mapped error, or -errno. Caller holds the lock.
 */
static int xs_talk(void) {
  if (!ready) return -XEN_ENODEV;
  if (broken) return -XEN_EIO;
  uint32_t req_id = next_req_id++;
  if (req_id == 0) req_id = next_req_id++; /* 0 is what watch events carry */
  memcpy(tx_buf + offsetof(struct xsd_sockmsg, req_id), &req_id, sizeof(req_id));
  uint64_t deadline = deadline_after(reply_timeout);
  int rc = ring_write(deadline);
  if (rc < 0) {
    broken = 1; /* part of the request may be in the ring: the stream is out of step */
    return rc;
  }
  rc = store_wait(look_reply, &req_id, deadline);
  if (rc < 0) return rc; /* after a timeout, a late reply is dropped by its req_id */
  if (rx_hdr()->type == XS_ERROR) return xs_errno_from_name(rx_body());
  return 0;
}

/* Build and send a request whose payload is the given strings, each with its NUL. */
static int request_strs(uint32_t type, xs_transaction_t t, const char *a, const char *b) {
  msg_begin(type, 0, t);
  int rc = msg_put_str(a);
  if (rc == 0 && b) rc = msg_put_str(b);
  return rc < 0 ? rc : xs_talk();
}

int xs_read(xs_transaction_t t, const char *path, char *buf, size_t len) {
  int rc = xs_lock();
  if (rc < 0) return rc;
  rc = request_strs(XS_READ, t, path, NULL);
  if (rc == 0) {
    uint32_t n = rx_hdr()->len;
    if (buf && len > 0) {
      size_t c = n < len - 1 ? n : len - 1;
      memcpy(buf, rx_body(), c);
      buf[c] = 0;
    }
    rc = (int)n;
  }
  xs_unlock();
  return rc;
}

int xs_write_bytes(xs_transaction_t t, const char *path, const void *data, size_t n) {
  int rc = xs_lock();
  if (rc < 0) return rc;
  msg_begin(XS_WRITE, 0, t);
  rc = msg_put_str(path);
  if (rc == 0) rc = msg_put(data, n, 0); /* the value has no NUL: the length says where it ends */
  if (rc == 0) rc = xs_talk();
  xs_unlock();
  return rc;
}

int xs_write(xs_transaction_t t, const char *path, const char *value) {
  return xs_write_bytes(t, path, value, strlen(value));
}

static int simple_request(uint32_t type, xs_transaction_t t, const char *a, const char *b) {
  int rc = xs_lock();
  if (rc < 0) return rc;
  rc = request_strs(type, t, a, b);
  xs_unlock();
  return rc;
}

int xs_mkdir(xs_transaction_t t, const char *path) { return simple_request(XS_MKDIR, t, path, NULL); }
int xs_rm(xs_transaction_t t, const char *path) { return simple_request(XS_RM, t, path, NULL); }

/* Split a reply of NUL-separated strings: count them (a missing final NUL is tolerated). */
static unsigned count_strings(const char *s, uint32_t len) {
  unsigned n = 0;
  for (uint32_t i = 0; i < len; i++)
    if (s[i] == 0) n++;
  if (len > 0 && s[len - 1] != 0) n++;
  return n;
}

int xs_directory(xs_transaction_t t, const char *path, char *buf, size_t len) {
  int rc = xs_lock();
  if (rc < 0) return rc;
  rc = request_strs(XS_DIRECTORY, t, path, NULL);
  if (rc == 0) {
    uint32_t n = rx_hdr()->len;
    size_t need = n + (n > 0 && rx_body()[n - 1] != 0 ? 1 : 0); /* body[n] is NUL */
    if (need > len) {
      rc = -XEN_E2BIG;
    } else {
      memcpy(buf, rx_body(), need);
      rc = (int)count_strings(rx_body(), n);
    }
  }
  xs_unlock();
  return rc;
}

static int perm_letter(uint32_t perms) {
  switch (perms & XS_PERM_BOTH) {
  case XS_PERM_READ: return 'r';
  case XS_PERM_WRITE: return 'w';
  case XS_PERM_BOTH: return 'b';
  default: return 'n';
  }
}

int xs_get_perms(xs_transaction_t t, const char *path, struct xs_permissions *perms, unsigned max) {
  int rc = xs_lock();
  if (rc < 0) return rc;
  rc = request_strs(XS_GET_PERMS, t, path, NULL);
  if (rc == 0) {
    const char *p = rx_body(), *end = rx_body() + rx_hdr()->len;
    unsigned n = 0;
    while (p < end) {
      size_t l = strnlen(p, (size_t)(end - p));
      if (l > 0) {
        uint32_t bits;
        switch (p[0]) {
        case 'r': bits = XS_PERM_READ; break;
        case 'w': bits = XS_PERM_WRITE; break;
        case 'b': bits = XS_PERM_BOTH; break;
        case 'n': bits = XS_PERM_NONE; break;
        default: rc = -XEN_EIO; goto out;
        }
        if (n < max && perms) {
          perms[n].perms = bits;
          perms[n].id = (uint32_t)strtoull(p + 1, NULL, 10);
        }
        n++;
      }
      p += l + 1;
    }
    rc = (int)n;
  }
out:
  xs_unlock();
  return rc;
}

int xs_set_perms(xs_transaction_t t, const char *path, const struct xs_permissions *perms, unsigned n) {
  if (n == 0) return -XEN_EINVAL;
  int rc = xs_lock();
  if (rc < 0) return rc;
  msg_begin(XS_SET_PERMS, 0, t);
  rc = msg_put_str(path);
  for (unsigned i = 0; rc == 0 && i < n; i++) {
    char one[16];
    snprintf(one, sizeof(one), "%c%u", perm_letter(perms[i].perms), perms[i].id);
    rc = msg_put_str(one);
  }
  if (rc == 0) rc = xs_talk();
  xs_unlock();
  return rc;
}

int xs_watch(const char *path, const char *token) {
  return simple_request(XS_WATCH, XBT_NIL, path, token);
}

int xs_unwatch(const char *path, const char *token) {
  int rc = xs_lock();
  if (rc < 0) return rc;
  rc = request_strs(XS_UNWATCH, XBT_NIL, path, token);
  wq_purge(token); /* also events that came in with the reply */
  xs_unlock();
  return rc;
}

struct watch_wait {
  const char *filter; /* a token, or NULL for any event */
  char *path, *tok;
  size_t path_len, tok_len;
};

/*
 * port_wait look for a watch event: 1 once one was taken from the queue, 0 if none yet, or
 * -errno. It holds the client lock only while it looks, so other vCPUs can make requests while
 * this one sleeps.
 */
static int look_watch(struct port_wait *w) {
  struct watch_wait *ww = w->arg;
  int rc = xs_lock();
  if (rc < 0) return rc;
  for (;;) {
    if (wq_take(ww->filter, ww->path, ww->path_len, ww->tok, ww->tok_len)) {
      rc = 1;
      break;
    }
    if (broken) {
      rc = -XEN_EIO;
      break;
    }
    rc = rx_pump();
    if (rc < 0) broken = 1;
    if (rc <= 0) break;
    rx_dispatch(0); /* queues an event; a stray reply is dropped */
  }
  xs_unlock();
  return rc;
}

static int wait_watch(const char *filter, char *path, size_t path_len, char *tok, size_t tok_len,
                      uint64_t timeout_ns) {
  if (!ready) return -XEN_ENODEV;
  struct watch_wait ww = {
      .filter = filter, .path = path, .tok = tok, .path_len = path_len, .tok_len = tok_len};
  int rc = store_wait(look_watch, &ww, timeout_ns == 0 ? 0 : deadline_after(timeout_ns));
  return rc < 0 ? rc : 0;
}

int xs_wait_watch(char *path, size_t path_len, char *token, size_t token_len, uint64_t timeout_ns) {
  return wait_watch(NULL, path, path_len, token, token_len, timeout_ns);
}

int xs_wait_watch_token(const char *token, char *path, size_t path_len, uint64_t timeout_ns) {
  return wait_watch(token, path, path_len, NULL, 0, timeout_ns);
}

int xs_transaction_start(xs_transaction_t *t) {
  int rc = xs_lock();
  if (rc < 0) return rc;
  rc = request_strs(XS_TRANSACTION_START, XBT_NIL, "", NULL);
  if (rc == 0) {
    const char *end;
    unsigned long long id = strtoull(rx_body(), &end, 10);
    if (end == rx_body() || id == 0 || id > UINT32_MAX) rc = -XEN_EIO;
    else *t = (xs_transaction_t)id;
  }
  xs_unlock();
  return rc;
}

int xs_transaction_end(xs_transaction_t t, int commit) {
  return simple_request(XS_TRANSACTION_END, t, commit ? "T" : "F", NULL);
}

int xs_transaction(int (*fn)(xs_transaction_t t, void *arg), void *arg, unsigned max_tries) {
  if (max_tries == 0) max_tries = DEFAULT_TX_TRIES;
  int rc = -XEN_EAGAIN;
  for (unsigned tries = 0; tries < max_tries; tries++) {
    xs_transaction_t t;
    rc = xs_transaction_start(&t);
    if (rc < 0) return rc;
    rc = fn(t, arg);
    if (rc < 0) {
      xs_transaction_end(t, 0);
      if (rc == -XEN_EAGAIN) continue;
      return rc;
    }
    rc = xs_transaction_end(t, 1);
    if (rc != -XEN_EAGAIN) return rc;
  }
  return rc;
}

int xs_get_domain_path(unsigned domid, char *buf, size_t len) {
  char id[16];
  snprintf(id, sizeof(id), "%u", domid);
  int rc = xs_lock();
  if (rc < 0) return rc;
  rc = request_strs(XS_GET_DOMAIN_PATH, XBT_NIL, id, NULL);
  if (rc == 0) {
    size_t n = strnlen(rx_body(), rx_hdr()->len);
    copy_str(buf, len, rx_body());
    rc = (int)n;
  }
  xs_unlock();
  return rc;
}
