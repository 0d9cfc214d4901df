/* evtchn_fifo.c: the FIFO event channel ABI — control blocks, event-array pages, Linux's consume loop. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/evtchn_fifo.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/lock.h>
#include <pvkvm/string.h>

#define BIT(n) (1u << (n))
#define PENDING BIT(EVTCHN_FIFO_PENDING)
#define MASKED BIT(EVTCHN_FIFO_MASKED)
#define LINKED BIT(EVTCHN_FIFO_LINKED)
#define BUSY BIT(EVTCHN_FIFO_BUSY)
/* Each vCPU's control block sits at vcpu * CB_STRIDE in one page: 8-aligned, 32 fit. */
#define CB_STRIDE 128u

_Static_assert(sizeof(struct evtchn_fifo_control_block) <= CB_STRIDE, "control block fits its slot");
_Static_assert((PVKVM_MAX_VCPUS - 1) * CB_STRIDE + sizeof(struct evtchn_fifo_control_block) <= 4096,
               "every vCPU's control block fits the page");

static uint8_t control_page[4096] __attribute__((aligned(4096)));
static event_word_t array_pages[EVTCHN_FIFO_SDK_PAGES][EVTCHN_FIFO_WORDS_PER_PAGE] __attribute__((aligned(4096)));
static unsigned nr_pages;

/* The guest's own view of each queue: the head it will take next (0: read head[] from the control
 * block) and the ready bits taken from the control block but not yet drained. */
struct fifo_vcpu {
  uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
  uint32_t ready;
  uint64_t upcalls;
};
static struct fifo_vcpu fv[PVKVM_MAX_VCPUS];

static inline long evtchn_op(int cmd, void *arg) { return HYPERVISOR_event_channel_op(cmd, arg); }

long evtchn_fifo_init_control(uint64_t control_gfn, uint32_t offset, uint32_t vcpu, uint8_t *link_bits) {
  struct evtchn_init_control op = {0};
  op.control_gfn = control_gfn;
  op.offset = offset;
  op.vcpu = vcpu;
  long rc = evtchn_op(EVTCHNOP_init_control, &op);
  if (link_bits) *link_bits = op.link_bits;
  return rc;
}

long evtchn_fifo_expand_array(uint64_t array_gfn) {
  struct evtchn_expand_array op = {.array_gfn = array_gfn};
  return evtchn_op(EVTCHNOP_expand_array, &op);
}

long evtchn_fifo_set_priority(evtchn_port_t port, uint32_t priority) {
  struct evtchn_set_priority op = {.port = port, .priority = priority};
  return evtchn_op(EVTCHNOP_set_priority, &op);
}

volatile struct evtchn_fifo_control_block *evtchn_fifo_control(unsigned vcpu) {
  if (vcpu >= PVKVM_MAX_VCPUS) return NULL;
  return (volatile struct evtchn_fifo_control_block *)(control_page + vcpu * CB_STRIDE);
}

long evtchn_fifo_init(unsigned vcpu) {
  if (vcpu >= PVKVM_MAX_VCPUS) return -XEN_EINVAL;
  memset(control_page + vcpu * CB_STRIDE, 0, CB_STRIDE);
  long rc = evtchn_fifo_init_control((uintptr_t)control_page >> 12, vcpu * CB_STRIDE, vcpu, NULL);
  if (rc == 0) memset(&fv[vcpu], 0, sizeof(fv[vcpu]));
  return rc;
}

long evtchn_fifo_expand(void) {
  if (nr_pages >= EVTCHN_FIFO_SDK_PAGES) return -XEN_ENOSPC;
  event_word_t *page = array_pages[nr_pages];
  for (unsigned i = 0; i < EVTCHN_FIFO_WORDS_PER_PAGE; i++) page[i] = MASKED;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  long rc = evtchn_fifo_expand_array((uintptr_t)page >> 12);
  if (rc == 0) nr_pages++;
  return rc;
}

long evtchn_fifo_setup(evtchn_port_t port) {
  while (port >= evtchn_fifo_nr_ports()) {
    long rc = evtchn_fifo_expand();
    if (rc < 0) return rc;
  }
  return 0;
}

unsigned evtchn_fifo_nr_ports(void) { return nr_pages * EVTCHN_FIFO_WORDS_PER_PAGE; }

void evtchn_fifo_forget(void) {
  evtchn_set_dispatcher(NULL);
  nr_pages = 0;
  memset(fv, 0, sizeof(fv));
}

volatile event_word_t *evtchn_fifo_word(evtchn_port_t port) {
  if (port >= evtchn_fifo_nr_ports()) return NULL;
  return &array_pages[port / EVTCHN_FIFO_WORDS_PER_PAGE][port % EVTCHN_FIFO_WORDS_PER_PAGE];
}

static event_word_t *word_of(evtchn_port_t port) { return (event_word_t *)evtchn_fifo_word(port); }

static uint32_t load(evtchn_port_t port) {
  event_word_t *w = word_of(port);
  return w ? __atomic_load_n(w, __ATOMIC_SEQ_CST) : 0;
}

int evtchn_fifo_pending(evtchn_port_t port) { return (load(port) & PENDING) != 0; }
int evtchn_fifo_masked(evtchn_port_t port) { return (load(port) & MASKED) != 0; }
int evtchn_fifo_linked(evtchn_port_t port) { return (load(port) & LINKED) != 0; }
uint32_t evtchn_fifo_link(evtchn_port_t port) { return load(port) & EVTCHN_FIFO_LINK_MASK; }

void evtchn_fifo_mask(evtchn_port_t port) {
  event_word_t *w = word_of(port);
  if (w) __atomic_fetch_or(w, MASKED, __ATOMIC_SEQ_CST);
}

void evtchn_fifo_clear(evtchn_port_t port) {
  event_word_t *w = word_of(port);
  if (w) __atomic_fetch_and(w, ~PENDING, __ATOMIC_SEQ_CST);
}

long evtchn_fifo_unmask(evtchn_port_t port) {
  event_word_t *w = word_of(port);
  if (!w) return -XEN_EINVAL;
  event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);
  for (;;) {
    if (old & (PENDING | BUSY)) break; /* the hypervisor must link it: ask */
    if (__atomic_compare_exchange_n(w, &old, old & ~MASKED, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return 0;
  }
  struct evtchn_unmask op = {.port = port};
  return evtchn_op(EVTCHNOP_unmask, &op);
}

/* Clear LINKED and LINK together; returns the link the word had. */
static uint32_t clear_linked(event_word_t *w) {
  event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);
  while (!__atomic_compare_exchange_n(w, &old, old & ~(LINKED | EVTCHN_FIFO_LINK_MASK), 0, __ATOMIC_SEQ_CST,
                                      __ATOMIC_SEQ_CST)) {
  }
  return old & EVTCHN_FIFO_LINK_MASK;
}

/* Unlink the head of queue `prio` and handle it if it is pending and unmasked (Linux's
 * consume_one_event). Returns 1 if `fn` ran. */
static int consume_one(struct fifo_vcpu *q, volatile struct evtchn_fifo_control_block *cb, unsigned prio,
                       evtchn_handler_t fn, void *arg) {
  uint32_t head = q->head[prio];
  if (head == 0) head = __atomic_load_n(&cb->head[prio], __ATOMIC_SEQ_CST);
  event_word_t *w = word_of(head);
  if (!w) { /* a head we have no word for: drop the queue rather than loop on it */
    q->head[prio] = 0;
    q->ready &= ~BIT(prio);
    return 0;
  }
  uint32_t next = clear_linked(w);
  if (next == 0) q->ready &= ~BIT(prio);
  int ran = 0;
  /* A masked event stays pending, for the unmask to link again. */
  event_word_t cur = __atomic_load_n(w, __ATOMIC_SEQ_CST);
  if ((cur & PENDING) && !(cur & MASKED) && (__atomic_fetch_and(w, ~PENDING, __ATOMIC_SEQ_CST) & PENDING)) {
    if (fn) fn(head, arg);
    ran = 1;
  }
  q->head[prio] = next;
  return ran;
}

unsigned evtchn_fifo_consume(unsigned vcpu, evtchn_handler_t fn, void *arg, unsigned max) {
  volatile struct evtchn_fifo_control_block *cb = evtchn_fifo_control(vcpu);
  if (!cb) return 0;
  struct fifo_vcpu *q = &fv[vcpu];
  unsigned n = 0;
  q->ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
  while (q->ready && (max == 0 || n < max)) {
    unsigned prio = (unsigned)__builtin_ctz(q->ready);
    n += (unsigned)consume_one(q, cb, prio, fn, arg);
    q->ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
  }
  return n;
}

/* ---- upcall ---- */

static evtchn_handler_t upcall_fn;
static void *upcall_arg;

/* The dispatcher the upcall runs (evtchn_set_dispatcher), interrupts or the virtual flag off: the
 * kernel's entry sent the EOI first, as Linux does, so an event raised while we consume requests
 * a new upcall. The same path at CPL 3 and CPL 0: no gate of our own. */
static void fifo_dispatch(void) {
  unsigned cpu = pvkvm_vcpu_id();
  fv[cpu].upcalls++;
  struct vcpu_info *vi = pvkvm_vcpu_info();
  if (!vi) return;
  do {
    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    evtchn_fifo_consume(cpu, upcall_fn, upcall_arg, 0);
  } while (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
}

long evtchn_fifo_upcall_init(evtchn_handler_t fn, void *arg) {
  unsigned long flags = local_irq_save();
  upcall_fn = fn;
  upcall_arg = arg;
  evtchn_set_dispatcher(fifo_dispatch);
  long rc = evtchn_init(EVTCHN_UPCALL_VECTOR);
  if (rc < 0) evtchn_set_dispatcher(NULL);
  local_irq_restore(flags);
  return rc;
}

uint64_t evtchn_fifo_upcall_count(void) { return fv[pvkvm_vcpu_id()].upcalls; }
