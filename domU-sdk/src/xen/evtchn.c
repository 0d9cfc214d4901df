/* evtchn.c: shared_info mapping, the 2-level event dispatcher, EVTCHNOP wrappers, block/poll. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/lapic.h>
#include <pvkvm/string.h>
#include <pvkvm/kcall.h>

#define WORD_BITS 64u
#define NR_WORDS (EVTCHN_NR_PORTS / WORD_BITS)

_Static_assert(sizeof(((struct shared_info *)0)->evtchn_pending) / sizeof(uint64_t) == NR_WORDS,
               "2-level: 64 words of 64 ports");

/* The page shared_info is mapped over; nothing else lives in it. */
static uint8_t shared_info_page[4096] __attribute__((aligned(4096)));
static struct shared_info *shared;
static long shared_error;

struct handler {
  evtchn_handler_t fn;
  void *arg;
};
static struct handler handlers[EVTCHN_NR_PORTS];
/* Ports whose direct send the hypervisor refused (not wired to an ioeventfd): the gate at once. */
static uint64_t send_by_gate[NR_WORDS];
/* The vCPU each port notifies (as the SDK bound it); the dispatcher handles only its own. */
static uint8_t port_vcpu[EVTCHN_NR_PORTS];

struct vcpu_state {
  uint64_t upcalls, events, unhandled;
};
static struct vcpu_state vstate[PVKVM_MAX_VCPUS];

int pvkvm_domid(void) {
  if (!pvkvm_xen_present()) return -1;
  uint32_t base = pvkvm_xen_cpuid_base;
  if (cpuid(base, 0).eax < base + 4) return -1;
  struct cpuid_regs r = cpuid(base + 4, 0);
  return (r.eax & XEN_HVM_CPUID_DOMID_PRESENT) ? (int)(r.ecx & 0xffff) : -1;
}

struct shared_info *pvkvm_shared_info(void) {
  if (shared) return shared;
  struct xen_add_to_physmap xatp = {0};
  xatp.domid = DOMID_SELF;
  xatp.space = XENMAPSPACE_shared_info;
  xatp.idx = 0;
  xatp.gpfn = (uintptr_t)shared_info_page >> 12;
  long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
  if (rc < 0) {
    shared_error = rc;
    return NULL;
  }
  shared_error = 0;
  shared = (struct shared_info *)shared_info_page;
  return shared;
}

long pvkvm_shared_info_error(void) { return shared_error; }

struct vcpu_info *pvkvm_vcpu_info(void) {
  struct shared_info *s = pvkvm_shared_info();
  return s ? &s->vcpu_info[pvkvm_vcpu_id()] : NULL;
}

/* ---- bits ---- */

static inline uint64_t port_bit(evtchn_port_t port) { return 1ULL << (port % WORD_BITS); }

void evtchn_mask(evtchn_port_t port) {
  struct shared_info *s = pvkvm_shared_info();
  if (!s || port >= EVTCHN_NR_PORTS) return;
  __atomic_fetch_or(&s->evtchn_mask[port / WORD_BITS], port_bit(port), __ATOMIC_SEQ_CST);
}

int evtchn_masked(evtchn_port_t port) {
  struct shared_info *s = pvkvm_shared_info();
  if (!s || port >= EVTCHN_NR_PORTS) return 0;
  return (__atomic_load_n(&s->evtchn_mask[port / WORD_BITS], __ATOMIC_SEQ_CST) & port_bit(port)) != 0;
}

int evtchn_pending(evtchn_port_t port) {
  struct shared_info *s = pvkvm_shared_info();
  if (!s || port >= EVTCHN_NR_PORTS) return 0;
  return (__atomic_load_n(&s->evtchn_pending[port / WORD_BITS], __ATOMIC_SEQ_CST) & port_bit(port)) != 0;
}

void evtchn_clear(evtchn_port_t port) {
  struct shared_info *s = pvkvm_shared_info();
  if (!s || port >= EVTCHN_NR_PORTS) return;
  __atomic_fetch_and(&s->evtchn_pending[port / WORD_BITS], ~port_bit(port), __ATOMIC_SEQ_CST);
}

long evtchn_unmask(evtchn_port_t port) {
  struct shared_info *s = pvkvm_shared_info();
  if (!s || port >= EVTCHN_NR_PORTS) return -XEN_EINVAL;
  uint64_t *mask = &s->evtchn_mask[port / WORD_BITS];
  /* Clear the mask before looking at pending, so an event arriving now is not missed. */
  __atomic_fetch_and(mask, ~port_bit(port), __ATOMIC_SEQ_CST);
  if (!evtchn_pending(port)) return 0;
  /* Pending while masked: the hypervisor raised no upcall for it. EVTCHNOP_unmask re-raises it,
   * but only if it sees the mask bit set, so set it again first. */
  __atomic_fetch_or(mask, port_bit(port), __ATOMIC_SEQ_CST);
  struct evtchn_unmask op = {.port = port};
  return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

/* ---- dispatcher ---- */

void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg) {
  if (port >= EVTCHN_NR_PORTS) return;
  unsigned long flags = local_irq_save();
  handlers[port].fn = fn;
  handlers[port].arg = arg;
  local_irq_restore(flags);
}

void evtchn_do_upcall(void) {
  struct shared_info *s = pvkvm_shared_info();
  if (!s) return;
  unsigned cpu = pvkvm_vcpu_id();
  struct vcpu_info *vi = &s->vcpu_info[cpu];
  struct vcpu_state *st = &vstate[cpu];
  do {
    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    uint64_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
      unsigned w = (unsigned)__builtin_ctzll(sel);
      sel &= sel - 1;
      uint64_t bits = __atomic_load_n(&s->evtchn_pending[w], __ATOMIC_SEQ_CST) &
                      ~__atomic_load_n(&s->evtchn_mask[w], __ATOMIC_SEQ_CST);
      while (bits) {
        unsigned b = (unsigned)__builtin_ctzll(bits);
        bits &= bits - 1;
        evtchn_port_t port = w * WORD_BITS + b;
        if (port_vcpu[port] != cpu) continue; /* bound to another vCPU: its upcall handles it */
        __atomic_fetch_and(&s->evtchn_pending[w], ~(1ULL << b), __ATOMIC_SEQ_CST);
        st->events++;
        struct handler h = handlers[port];
        if (h.fn) h.fn(port, h.arg);
        else st->unhandled++;
      }
    }
  } while (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
}

/* ---- upcall registration ---- */

static enum evtchn_upcall_mode upcall_mode[PVKVM_MAX_VCPUS];

void pvkvm_upcall_run(void);

/* The upcall as src/arch/virq.c runs it, interrupts (or the virtual flag) off: the kernel's entry
 * already sent the EOI (first, as Linux does, so an event raised while we dispatch is requested
 * again rather than lost). */
static void (*volatile dispatcher)(void);

void evtchn_set_dispatcher(void (*dispatch)(void)) { dispatcher = dispatch; }

static void dispatch(void) {
  void (*d)(void) = dispatcher;
  if (d) d();
  else evtchn_do_upcall();
}

void pvkvm_upcall_run(void) {
  vstate[pvkvm_vcpu_id()].upcalls++;
  dispatch();
}

long evtchn_init(enum evtchn_upcall_mode mode) {
  if (mode != EVTCHN_UPCALL_VECTOR && mode != EVTCHN_CALLBACK_VECTOR) return -XEN_EINVAL;
  if (!pvkvm_shared_info()) return shared_error;
  unsigned cpu = pvkvm_vcpu_id();
  unsigned long flags = local_irq_save();
  /* The gates (0xF3 upcall, 0xFF spurious) are the kernel's, installed at boot. */
  lapic_enable(PVKVM_SPURIOUS_VECTOR);
  /* Set the mode first: registering may raise the upcall at once (if an event is pending). */
  enum evtchn_upcall_mode old = upcall_mode[cpu];
  upcall_mode[cpu] = mode;
  long rc;
  if (mode == EVTCHN_UPCALL_VECTOR) {
    struct xen_hvm_evtchn_upcall_vector op = {0};
    op.vcpu = cpu;
    op.vector = PVKVM_UPCALL_VECTOR;
    rc = HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &op);
  } else {
    rc = pvkvm_hvm_set_param(HVM_PARAM_CALLBACK_IRQ,
                             ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | PVKVM_UPCALL_VECTOR);
  }
  if (rc < 0) upcall_mode[cpu] = old;
  local_irq_restore(flags);
  return rc;
}

enum evtchn_upcall_mode evtchn_upcall_mode(void) { return upcall_mode[pvkvm_vcpu_id()]; }

void evtchn_run_pending(void) {
  /* Dispatch directly rather than open an interrupt window (see lapic.h: on this host a pending
   * interrupt is not taken promptly after sti). The upcall interrupt that is still on its way
   * later finds nothing to do; in per-vCPU-vector mode it is EOI'd as usual. */
  unsigned long flags = local_irq_save();
  dispatch();
  local_irq_restore(flags);
}

uint64_t evtchn_upcall_count(void) { return vstate[pvkvm_vcpu_id()].upcalls; }
uint64_t evtchn_event_count(void) { return vstate[pvkvm_vcpu_id()].events; }
uint64_t evtchn_unhandled_count(void) { return vstate[pvkvm_vcpu_id()].unhandled; }

/* ---- EVTCHNOP wrappers ---- */

static inline long evtchn_op(int cmd, void *arg) { return HYPERVISOR_event_channel_op(cmd, arg); }

static void forget_port(evtchn_port_t port) {
  if (port >= EVTCHN_NR_PORTS) return;
  __atomic_fetch_and(&send_by_gate[port / WORD_BITS], ~port_bit(port), __ATOMIC_RELAXED);
  unsigned long flags = local_irq_save();
  handlers[port].fn = NULL;
  handlers[port].arg = NULL;
  port_vcpu[port] = 0;
  local_irq_restore(flags);
}

static void set_port_vcpu(evtchn_port_t port, uint32_t vcpu) {
  if (port < EVTCHN_NR_PORTS) port_vcpu[port] = vcpu < PVKVM_MAX_VCPUS ? (uint8_t)vcpu : 0;
}

long evtchn_alloc_unbound(domid_t remote_dom, evtchn_port_t *port) {
  struct evtchn_alloc_unbound op = {0};
  op.dom = DOMID_SELF;
  op.remote_dom = remote_dom;
  long rc = evtchn_op(EVTCHNOP_alloc_unbound, &op);
  if (rc == 0) {
    set_port_vcpu(op.port, 0);
    if (port) *port = op.port;
  }
  return rc;
}

long evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port, evtchn_port_t *port) {
  struct evtchn_bind_interdomain op = {0};
  op.remote_dom = remote_dom;
  op.remote_port = remote_port;
  long rc = evtchn_op(EVTCHNOP_bind_interdomain, &op);
  if (rc == 0) {
    set_port_vcpu(op.local_port, 0);
    if (port) *port = op.local_port;
  }
  return rc;
}

long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port) {
  struct evtchn_bind_virq op = {0};
  op.virq = virq;
  op.vcpu = vcpu;
  long rc = evtchn_op(EVTCHNOP_bind_virq, &op);
  if (rc == 0) {
    set_port_vcpu(op.port, vcpu);
    if (port) *port = op.port;
  }
  return rc;
}

long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port) {
  struct evtchn_bind_ipi op = {0};
  op.vcpu = vcpu;
  long rc = evtchn_op(EVTCHNOP_bind_ipi, &op);
  if (rc == 0) {
    set_port_vcpu(op.port, vcpu);
    if (port) *port = op.port;
  }
  return rc;
}

uint16_t pvkvm_evtchn_send_port;

/* pvkvm's fast send (src/kernel/hcall.c): the port in EAX, the result in RDI, which stays 0 when
 * KVM completed it in the kernel. */
static long direct_send(evtchn_port_t port) {
  register unsigned long rdi __asm__("rdi") = 0;
  __asm__ volatile("outl %%eax, %[p]" : "+r"(rdi) : "a"(port), [p] "i"(PVKVM_HYPERCALL_SEND_PORT) : "memory");
  return (long)rdi;
}

long evtchn_send(evtchn_port_t port) {
  if (pvkvm_evtchn_send_port && port < EVTCHN_NR_PORTS && pvkvm_at_cpl3() &&
      !(__atomic_load_n(&send_by_gate[port / WORD_BITS], __ATOMIC_RELAXED) & port_bit(port))) {
    long rc = direct_send(port);
    if (rc != -XEN_EPERM) return rc;
    __atomic_fetch_or(&send_by_gate[port / WORD_BITS], port_bit(port), __ATOMIC_RELAXED);
  }
  struct evtchn_send op = {.port = port};
  return evtchn_op(EVTCHNOP_send, &op);
}

long evtchn_close(evtchn_port_t port) {
  struct evtchn_close op = {.port = port};
  long rc = evtchn_op(EVTCHNOP_close, &op);
  if (rc == 0) forget_port(port);
  return rc;
}

long evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu) {
  struct evtchn_bind_vcpu op = {0};
  op.port = port;
  op.vcpu = vcpu;
  long rc = evtchn_op(EVTCHNOP_bind_vcpu, &op);
  if (rc == 0) set_port_vcpu(port, vcpu);
  return rc;
}

long evtchn_reset(domid_t dom) {
  struct evtchn_reset op = {.dom = dom};
  long rc = evtchn_op(EVTCHNOP_reset, &op);
  if (rc == 0 && (dom == DOMID_SELF || (int)dom == pvkvm_domid())) {
    unsigned long flags = local_irq_save();
    memset(handlers, 0, sizeof(handlers));
    memset(port_vcpu, 0, sizeof(port_vcpu));
    memset(send_by_gate, 0, sizeof(send_by_gate));
    local_irq_restore(flags);
  }
  return rc;
}

long evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status_info *info) {
  struct evtchn_status op = {0};
  op.dom = dom;
  op.port = port;
  long rc = evtchn_op(EVTCHNOP_status, &op);
  if (rc == 0 && info) {
    /* The union at offset 16: unbound.dom / interdomain.{dom, port} / pirq / virq. */
    const uint8_t *u = (const uint8_t *)&op + 16;
    uint16_t dom16;
    uint32_t word0, word1;
    memcpy(&dom16, u, 2);
    memcpy(&word0, u, 4);
    memcpy(&word1, u + 4, 4);
    memset(info, 0, sizeof(*info));
    info->status = op.status;
    info->vcpu = op.vcpu;
    switch (op.status) {
    case EVTCHNSTAT_unbound: info->remote_dom = dom16; break;
    case EVTCHNSTAT_interdomain: info->remote_dom = dom16; info->remote_port = word1; break;
    case EVTCHNSTAT_pirq: info->pirq = word0; break;
    case EVTCHNSTAT_virq: info->virq = word0; break;
    default: break;
    }
  }
  return rc;
}

/* ---- waiting ---- */

long evtchn_block(void) {
  unsigned long flags = local_irq_save();
  /* The kernel blocks with `sti` in the hypercall's STI shadow (src/kernel/hcall.c), or not at
   * all if an interrupt already waits for us; returns with interrupts enabled at CPL 0. */
  long rc = pvkvm_kcall0(PVKVM_KC_BLOCK);
  cli();
  evtchn_run_pending();
  local_irq_restore(flags);
  return rc;
}

long evtchn_poll(const evtchn_port_t *ports, unsigned n, uint64_t timeout_abs_ns) {
  struct sched_poll op = {0};
  op.ports = (uint64_t)(uintptr_t)ports;
  op.nr_ports = n;
  op.timeout = timeout_abs_ns;
  return HYPERVISOR_sched_op(SCHEDOP_poll, &op);
}
