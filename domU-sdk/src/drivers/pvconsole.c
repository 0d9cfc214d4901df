/*
 * pvconsole.c: the PV console ring driver (xencons_interface, docs/xen-abi.md §11) and the hooks
 * console.c uses to send printf output through it when a console backend exists.
 *
 * Ring protocol (as Linux's hvc_xen):
 *   output: load out_cons (acquire: we overwrite slots only after seeing the backend has read
 *           them), copy into out[(prod + i) & 2047], store out_prod (release: bytes before the
 *           index), send the event. While the ring is full: send, then wait.
 *   input:  load in_prod (acquire: bytes read after the index), copy in[(cons + i) & 1023],
 *           store in_cons (release: our reads finish before the backend may reuse the slots),
 *           send the event so the backend can push more.
 * A producer index more than the ring size ahead of the consumer marks the ring broken.
 *
 * Waiting is port_wait (<pvkvm/port_wait.h>): SCHEDOP_poll on the console port, masked at init
 * so the upcall dispatcher never clears its pending bit (see xenstore.c for why poll rather than
 * evtchn_block). It clears the pending bit before each look at the ring and polls only if it saw
 * no progress, so an event raised after the look ends the poll at once: no lost wake-up. Polls
 * are capped at a slice, a safety net only (e.g. another vCPU cleared the bit first).
 *
 * Locking: output and input each have a lock owned by one vCPU at a time. A writer keeps
 * interrupts off while it holds the output lock, so an event handler on the same vCPU cannot
 * interleave its own printf with a half-written line; if one runs anyway (a trap), it finds the
 * lock held by its own vCPU and pvconsole_try_write returns 0 (console.c uses console_io).
 */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/lapic.h>
#include <pvkvm/lock.h>
#include <pvkvm/port_wait.h>
#include <pvkvm/pvconsole.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>

#define OUT_MASK(i) ((i) & (XENCONS_OUT_SIZE - 1))
#define IN_MASK(i) ((i) & (XENCONS_IN_SIZE - 1))
#define WRITE_SLICE_NS (10 * NSEC_PER_MSEC)
#define READ_SLICE_NS (100 * NSEC_PER_MSEC)
#define HOOK_DRAIN_NS (2 * NSEC_PER_SEC)

static struct xencons_interface *cons_intf;
static evtchn_port_t cons_port;
static int ready;
static int broken;

/* The writer's record of a backend that stopped draining: while out_cons stays here, a full
 * ring is given up on at once instead of after another PVCONSOLE_STALL_NS. */
static int stalled;
static uint32_t stalled_cons;

/* Input taken from the ring but not yet returned (pvconsole_getline looks ahead). */
static char pend[XENCONS_IN_SIZE];
static size_t pend_len;
static int skip_lf; /* the last line ended with '\r': swallow a '\n' that follows */

/* Per-direction locks (re-entry on the same vCPU is refused with -XEN_EDEADLK). */
static pvkvm_owner_lock_t out_lock = PVKVM_OWNER_LOCK_INIT, in_lock = PVKVM_OWNER_LOCK_INIT;

/* ---- set-up ---- */

int pvconsole_init(void) {
  if (ready) return 0;
  if (!pvkvm_xen_present()) return -XEN_ENODEV;
  uint64_t pfn = 0, evt = 0;
  long rc = pvkvm_hvm_get_param(HVM_PARAM_CONSOLE_EVTCHN, &evt);
  if (rc < 0) return (int)rc;
  rc = pvkvm_hvm_get_param(HVM_PARAM_CONSOLE_PFN, &pfn);
  if (rc < 0) return (int)rc;
  if (evt == 0 || pfn == 0) return -XEN_ENODEV; /* no console backend */
  if (evt >= EVTCHN_NR_PORTS) return -XEN_EINVAL;
  if (pfn >= (1ULL << 20)) return -XEN_EFAULT; /* outside the SDK's 4 GiB identity map */
  if (!pvkvm_shared_info()) return (int)pvkvm_shared_info_error();
  struct xencons_interface *p = (struct xencons_interface *)(uintptr_t)(pfn << 12);
  uint32_t oc = __atomic_load_n(&p->out_cons, __ATOMIC_ACQUIRE);
  uint32_t op = __atomic_load_n(&p->out_prod, __ATOMIC_ACQUIRE);
  uint32_t ic = __atomic_load_n(&p->in_cons, __ATOMIC_ACQUIRE);
  uint32_t ip = __atomic_load_n(&p->in_prod, __ATOMIC_ACQUIRE);
  if (op - oc > XENCONS_OUT_SIZE || ip - ic > XENCONS_IN_SIZE) return -XEN_EIO;
  cons_port = (evtchn_port_t)evt;
  evtchn_mask(cons_port); /* only SCHEDOP_poll waits on it */
  cons_intf = p;
  __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  return 0;
}

int pvconsole_available(void) { return __atomic_load_n(&ready, __ATOMIC_ACQUIRE); }
evtchn_port_t pvconsole_port(void) { return cons_port; }

/* Wait on the console port until look(w) reports progress (port_wait, <pvkvm/port_wait.h>). */
static int cons_wait(int (*look)(struct port_wait *w), void *arg, uint64_t deadline, uint64_t slice,
                     int notify) {
  struct port_wait w = {
      .port = cons_port, .deadline = deadline, .slice_ns = slice, .look = look, .notify = notify, .arg = arg};
  return port_wait(&w);
}

/* Remember where a backend stopped draining: later writes and drains do not wait for it again
 * until out_cons moves. */
static void note_stall(void) {
  stalled = 1;
  stalled_cons = __atomic_load_n(&cons_intf->out_cons, __ATOMIC_ACQUIRE);
}

/* ---- output ---- */

/* port_wait look: free bytes in the out ring (> 0), 0 while it is full, -XEN_EIO if corrupt,
 * -XEN_ETIMEDOUT if it is full and the backend is still where it stalled last time. */
static int look_out_room(struct port_wait *w) {
  struct xencons_interface *c = cons_intf;
  uint32_t cons = __atomic_load_n(&c->out_cons, __ATOMIC_ACQUIRE);
  uint32_t prod = __atomic_load_n(&c->out_prod, __ATOMIC_RELAXED); /* we are the only writer */
  if (prod - cons > XENCONS_OUT_SIZE) {
    broken = 1;
    return -XEN_EIO;
  }
  uint32_t space = XENCONS_OUT_SIZE - (prod - cons);
  if (space == 0 && stalled && cons == stalled_cons) return -XEN_ETIMEDOUT;
  return (int)space;
}

/* Room in the out ring, waiting while it is full (with an event before each poll: the backend
 * drains on every event). -XEN_ETIMEDOUT when the backend took nothing for PVCONSOLE_STALL_NS. */
static int out_room(void) {
  int rc = cons_wait(look_out_room, NULL, deadline_after(PVCONSOLE_STALL_NS), WRITE_SLICE_NS, 1);
  if (rc > 0) stalled = 0;
  if (rc == -XEN_ETIMEDOUT) note_stall();
  return rc;
}

long pvconsole_write(const void *buf, size_t n) {
  if (!ready) return -XEN_ENODEV;
  unsigned long flags = local_irq_save();
  int rc = owner_lock(&out_lock);
  if (rc < 0) {
    local_irq_restore(flags);
    return rc;
  }
  struct xencons_interface *c = cons_intf;
  const char *s = buf;
  size_t done = 0;
  while (done < n && !broken) {
    int space = out_room();
    if (space < 0) break;
    uint32_t prod = __atomic_load_n(&c->out_prod, __ATOMIC_RELAXED);
    size_t chunk = n - done;
    if (chunk > (size_t)space) chunk = (size_t)space;
    for (size_t i = 0; i < chunk; i++) c->out[OUT_MASK(prod + (uint32_t)i)] = s[done + i];
    __atomic_store_n(&c->out_prod, prod + (uint32_t)chunk, __ATOMIC_RELEASE);
    evtchn_send(cons_port);
    done += chunk;
  }
  owner_unlock(&out_lock);
  local_irq_restore(flags);
  if (done == 0 && broken) return -XEN_EIO;
  return (long)done;
}

/* port_wait look: 1 once the backend has taken everything, 0 while not, -XEN_EIO if the ring is
 * broken, -XEN_ETIMEDOUT if the backend is still where it stalled last time. */
static int look_drained(struct port_wait *w) {
  struct xencons_interface *c = cons_intf;
  uint32_t cons = __atomic_load_n(&c->out_cons, __ATOMIC_ACQUIRE);
  uint32_t prod = __atomic_load_n(&c->out_prod, __ATOMIC_ACQUIRE);
  if (cons == prod) return 1;
  if (broken || prod - cons > XENCONS_OUT_SIZE) return -XEN_EIO;
  if (stalled && cons == stalled_cons) return -XEN_ETIMEDOUT;
  return 0;
}

int pvconsole_drain(uint64_t timeout_ns) {
  if (!ready) return -XEN_ENODEV;
  int rc = cons_wait(look_drained, NULL, deadline_after(timeout_ns), WRITE_SLICE_NS, 0);
  if (rc == -XEN_ETIMEDOUT) note_stall();
  return rc < 0 ? rc : 0;
}

/* ---- input ---- */

/* Copy up to n bytes from the in ring (caller holds the input lock). Count or -XEN_EIO. */
static long ring_read(char *dst, size_t n) {
  struct xencons_interface *c = cons_intf;
  if (broken) return -XEN_EIO;
  uint32_t cons = __atomic_load_n(&c->in_cons, __ATOMIC_RELAXED); /* we are the only reader */
  uint32_t prod = __atomic_load_n(&c->in_prod, __ATOMIC_ACQUIRE);
  if (prod - cons > XENCONS_IN_SIZE) {
    broken = 1;
    return -XEN_EIO;
  }
  size_t avail = prod - cons;
  if (avail > n) avail = n;
  if (avail == 0) return 0;
  for (size_t i = 0; i < avail; i++) dst[i] = c->in[IN_MASK(cons + (uint32_t)i)];
  __atomic_store_n(&c->in_cons, cons + (uint32_t)avail, __ATOMIC_RELEASE);
  evtchn_send(cons_port); /* room for more input */
  return (long)avail;
}

/* Move up to n bytes from the look-ahead buffer to dst. */
static size_t take_pending(char *dst, size_t n) {
  if (n > pend_len) n = pend_len;
  memcpy(dst, pend, n);
  memmove(pend, pend + n, pend_len - n);
  pend_len -= n;
  return n;
}

long pvconsole_read(void *buf, size_t n) {
  if (!ready) return -XEN_ENODEV;
  int rc = owner_lock(&in_lock);
  if (rc < 0) return rc;
  size_t got = take_pending(buf, n);
  long r = got < n ? ring_read((char *)buf + got, n - got) : 0;
  owner_unlock(&in_lock);
  if (r < 0) return got ? (long)got : r;
  return (long)got + r;
}

/* A read in progress: where to, and (once done) its result. */
struct read_wait {
  char *buf;
  size_t n;
  long result;
};

/* port_wait look for pvconsole_read_wait: 1 once something was read (or an error), else 0. */
static int look_read(struct port_wait *w) {
  struct read_wait *rw = w->arg;
  rw->result = pvconsole_read(rw->buf, rw->n);
  return rw->result != 0;
}

long pvconsole_read_wait(void *buf, size_t n, uint64_t timeout_ns) {
  if (!ready) return -XEN_ENODEV;
  if (n == 0) return 0;
  struct read_wait rw = {.buf = buf, .n = n};
  int rc = cons_wait(look_read, &rw, deadline_after(timeout_ns), READ_SLICE_NS, 0);
  if (rc == -XEN_ETIMEDOUT) return 0;
  return rc < 0 ? rc : rw.result;
}

/*
 * port_wait look for pvconsole_getline: 1 once a line (or a piece of one that fills the buffer,
 * or an error) is in rw->result, 0 while the look-ahead holds no whole line and the ring is
 * empty, or the input lock's -errno.
 */
static int look_line(struct port_wait *w) {
  struct read_wait *rw = w->arg;
  char *buf = rw->buf;
  size_t n = rw->n;
  int rc = owner_lock(&in_lock);
  if (rc < 0) return rc;
  for (;;) {
    if (skip_lf && pend_len > 0) {
      if (pend[0] == '\n') take_pending(buf, 1); /* dropped */
      skip_lf = 0;
    }
    size_t i = 0;
    while (i < pend_len && pend[i] != '\n' && pend[i] != '\r') i++;
    if (i < pend_len && i <= n - 1) { /* a whole line that fits */
      char term = pend[i];
      take_pending(buf, i);
      buf[i] = 0;
      char drop;
      take_pending(&drop, 1);
      skip_lf = term == '\r';
      rw->result = (long)i;
      rc = 1;
      break;
    }
    if (i >= n - 1 || pend_len == sizeof(pend)) { /* longer than buf (or pend): a piece */
      size_t m = i < n - 1 ? i : n - 1;
      take_pending(buf, m);
      buf[m] = 0;
      rw->result = (long)m;
      rc = 1;
      break;
    }
    long r = ring_read(pend + pend_len, sizeof(pend) - pend_len);
    if (r > 0) {
      pend_len += (size_t)r;
      continue; /* look for the end of the line again */
    }
    rw->result = r;
    rc = r < 0; /* an error ends the wait; nothing read: sleep */
    break;
  }
  owner_unlock(&in_lock);
  return rc;
}

long pvconsole_getline(char *buf, size_t n, uint64_t timeout_ns) {
  if (!ready) return -XEN_ENODEV;
  if (n < 2) return -XEN_EINVAL;
  struct read_wait rw = {.buf = buf, .n = n};
  int rc = cons_wait(look_line, &rw, deadline_after(timeout_ns), READ_SLICE_NS, 0);
  return rc < 0 ? rc : rw.result;
}

/* ---- console.c hooks ---- */

static int hook_state; /* 0 undecided, 1 PV console in use, -1 not */

size_t pvconsole_try_write(const char *s, size_t n) {
  if (hook_state == 0) {
    if (!pvkvm_xen_present()) return 0; /* too early (or QEMU): decide later */
    hook_state = pvconsole_init() == 0 ? 1 : -1;
  }
  if (hook_state < 0) return 0;
  long r = pvconsole_write(s, n);
  return r > 0 ? (size_t)r : 0;
}

void pvconsole_try_drain(void) {
  if (hook_state > 0) pvconsole_drain(HOOK_DRAIN_NS);
}
