/* smp.c: secondary vCPUs — VCPUOP wrappers, pvkvm_start_vcpu, the secondary's per-CPU set-up, and
 * the online set hot-plug moves (pvkvm_vcpu_set_online, pvkvm_smp_checkpoint). */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/kcall.h>
#include <pvkvm/lapic.h>
#include <pvkvm/lock.h>
#include <pvkvm/smp.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include <xen-abi/vcpu.h>

#define START_TIMEOUT_NS (5 * NSEC_PER_SEC)

uint32_t pvkvm_smp_id_leaf;

struct smp_cpu {
  void (*fn)(void *);
  void *arg;
  uint32_t request;         /* bumped by the starter for each function handed over */
  uint32_t taken;           /* the request the vCPU accepted last */
  uint32_t state;           /* enum pvkvm_vcpu_state */
  uint32_t initialised;     /* VCPUOP_initialise succeeded */
  enum evtchn_upcall_mode mode; /* upcall mode to register on the vCPU (the starter's) */
  long init_rc;
};
static struct smp_cpu cpus[PVKVM_MAX_VCPUS];

/* One stack per secondary vCPU id (vCPU 0 runs on pvh_entry.S's stack). */
static uint8_t stacks[PVKVM_MAX_VCPUS - 1][PVKVM_SMP_STACK_SIZE] __attribute__((aligned(16)));

static pvkvm_spinlock_t start_lock = PVKVM_SPINLOCK_INIT;
static int nr_vcpus_cached;

/* vCPUs taken offline (bit n: vCPU n). Everything starts online; hot-plug clears and sets bits. */
static uint32_t offline_mask;
/* What a vCPU that comes online with no work in progress runs (pvkvm_smp_on_online). */
static void (*online_fn)(void *);
static void *online_arg;


/* ---- VCPUOP wrappers ---- */

long pvkvm_vcpu_is_up(unsigned vcpu) { return HYPERVISOR_vcpu_op(VCPUOP_is_up, (int)vcpu, NULL); }
long pvkvm_vcpu_up(unsigned vcpu) { return HYPERVISOR_vcpu_op(VCPUOP_up, (int)vcpu, NULL); }
long pvkvm_vcpu_down(unsigned vcpu) { return HYPERVISOR_vcpu_op(VCPUOP_down, (int)vcpu, NULL); }

int pvkvm_nr_vcpus(void) {
  int n = __atomic_load_n(&nr_vcpus_cached, __ATOMIC_RELAXED);
  if (n) return n;
  if (!pvkvm_xen_present()) {
    n = 1;
  } else {
    for (n = 0; n < (int)PVKVM_MAX_VCPUS; n++)
      if (pvkvm_vcpu_is_up((unsigned)n) < 0) break; /* -ENOENT past the last one */
    if (n == 0) n = 1; /* no answer at all (-ENOSYS): at least we exist */
  }
  __atomic_store_n(&nr_vcpus_cached, n, __ATOMIC_RELAXED);
  return n;
}

long pvkvm_smp_prepare(void) {
  if (__atomic_load_n(&pvkvm_smp_id_leaf, __ATOMIC_ACQUIRE)) return 0;
  if (!pvkvm_xen_present()) return -XEN_ENOSYS;
  uint32_t base = pvkvm_xen_cpuid_base;
  if (cpuid(base, 0).eax < base + 4) return -XEN_ENOSYS;
  if (!(cpuid(base + 4, 0).eax & XEN_HVM_CPUID_VCPU_ID_PRESENT)) return -XEN_ENOSYS;
  /* Map shared_info now, so secondaries never race to map it. Failure is not fatal here. */
  pvkvm_shared_info();
  __atomic_store_n(&pvkvm_smp_id_leaf, base + 4, __ATOMIC_SEQ_CST);
  return 0;
}

enum pvkvm_vcpu_state pvkvm_vcpu_state(unsigned vcpu) {
  if (vcpu >= PVKVM_MAX_VCPUS) return PVKVM_VCPU_OFFLINE;
  if (vcpu == 0) return PVKVM_VCPU_RUNNING;
  return (enum pvkvm_vcpu_state)__atomic_load_n(&cpus[vcpu].state, __ATOMIC_ACQUIRE);
}

long pvkvm_vcpu_init_result(unsigned vcpu) {
  return vcpu < PVKVM_MAX_VCPUS ? __atomic_load_n(&cpus[vcpu].init_rc, __ATOMIC_ACQUIRE) : 0;
}

int pvkvm_wait_vcpu_parked(unsigned vcpu, uint64_t timeout_ns) {
  if (vcpu == 0 || vcpu >= PVKVM_MAX_VCPUS) return 0;
  uint64_t end = deadline_after(timeout_ns);
  for (;;) {
    if (pvkvm_vcpu_state(vcpu) == PVKVM_VCPU_PARKED && pvkvm_vcpu_is_up(vcpu) == 0) return 1;
    if (pvkvm_time_ns() >= end) return 0;
    cpu_relax();
  }
}

/* ---- starting ---- */

/* The kernel builds the context (its entry, its stack for the vCPU, our paging) and issues
 * VCPUOP_initialise; the vCPU then enters pvkvm_secondary_main on this stack, at our level. */
static long initialise(unsigned vcpu) {
  return pvkvm_kcall2(PVKVM_KC_VCPU_INIT, vcpu, &stacks[vcpu - 1][PVKVM_SMP_STACK_SIZE]);
}

long pvkvm_start_vcpu(unsigned vcpu, void (*fn)(void *), void *arg) {
  if (vcpu == 0 || vcpu >= PVKVM_MAX_VCPUS || !fn) return -XEN_EINVAL;
  long rc = pvkvm_smp_prepare();
  if (rc < 0) return rc;
  if (vcpu == pvkvm_vcpu_id()) return -XEN_EINVAL;
  /* Taken offline (hot-plug): it gets no work. A vCPU that does not exist fails below (-ENOENT). */
  if (__atomic_load_n(&offline_mask, __ATOMIC_ACQUIRE) & (1u << vcpu)) return -XEN_ENODEV;
  struct smp_cpu *c = &cpus[vcpu];

  spin_lock(&start_lock);
  uint32_t state = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
  if (state == PVKVM_VCPU_STARTING || state == PVKVM_VCPU_RUNNING || state == PVKVM_VCPU_HELD) {
    spin_unlock(&start_lock);
    return -XEN_EBUSY;
  }
  int fresh = state == PVKVM_VCPU_OFFLINE;
  c->fn = fn;
  c->arg = arg;
  uint32_t req = c->request + 1;
  if (fresh) {
    c->mode = evtchn_upcall_mode();
    c->init_rc = 0;
  }
  __atomic_store_n(&c->state, PVKVM_VCPU_STARTING, __ATOMIC_RELEASE);
  __atomic_store_n(&c->request, req, __ATOMIC_RELEASE);
  if (fresh) {
    if (!c->initialised) {
      rc = initialise(vcpu);
      if (rc == 0) c->initialised = 1;
    }
    if (rc == 0) rc = pvkvm_vcpu_up(vcpu);
    if (rc < 0) {
      /* Never ran: forget the request (a retry skips VCPUOP_initialise if that succeeded). */
      __atomic_store_n(&c->request, req - 1, __ATOMIC_RELEASE);
      __atomic_store_n(&c->state, PVKVM_VCPU_OFFLINE, __ATOMIC_RELEASE);
      spin_unlock(&start_lock);
      return rc;
    }
  }
  spin_unlock(&start_lock);

  /* Wait for the vCPU to take the function. A parked vCPU may still be on its way into
   * VCPUOP_down: keep upping it while it reads as down, until it has taken the request. */
  uint64_t end = deadline_after(START_TIMEOUT_NS);
  for (;;) {
    if (__atomic_load_n(&c->taken, __ATOMIC_ACQUIRE) == req) return 0;
    if (pvkvm_time_ns() >= end) return -XEN_ETIMEDOUT;
    if (!fresh && pvkvm_vcpu_is_up(vcpu) == 0) pvkvm_vcpu_up(vcpu);
    cpu_relax();
  }
}

/* ---- the secondary ---- */

/* Entered by the kernel (src/kernel/ksmp.c) with its tables loaded and interrupts off. */
void pvkvm_secondary_main(unsigned vcpu) {
  struct smp_cpu *c = &cpus[vcpu];
  long rc = 0;
  if (cpuid(pvkvm_smp_id_leaf, 0).ebx != vcpu) {
    rc = -XEN_ESRCH; /* CPUID disagrees: per-vCPU state would be mixed up */
  } else if (c->mode != EVTCHN_UPCALL_NONE) {
    rc = evtchn_init(c->mode); /* enables this vCPU's LAPIC, registers the upcall */
  } else {
    lapic_enable(PVKVM_SPURIOUS_VECTOR);
  }
  __atomic_store_n(&c->init_rc, rc, __ATOMIC_RELEASE);

  for (;;) {
    uint32_t req = __atomic_load_n(&c->request, __ATOMIC_ACQUIRE);
    if (req != c->taken) {
      void (*fn)(void *) = c->fn;
      void *arg = c->arg;
      __atomic_store_n(&c->state, PVKVM_VCPU_RUNNING, __ATOMIC_RELEASE);
      __atomic_store_n(&c->taken, req, __ATOMIC_RELEASE);
      fn(arg);
      cli();
      __atomic_store_n(&c->state, PVKVM_VCPU_PARKED, __ATOMIC_RELEASE);
      continue;
    }
    /* Park. Returns once someone ups us again; then look for work. */
    if (pvkvm_vcpu_down(vcpu) < 0) cpu_relax();
  }
}

/* ---- the online set (vCPU hot-plug) ---- */

static uint32_t bit(unsigned vcpu) { return 1u << vcpu; }

uint32_t pvkvm_smp_online_mask(void) {
  int n = pvkvm_nr_vcpus();
  uint32_t all = n >= 32 ? ~0u : bit((unsigned)n) - 1;
  return all & ~__atomic_load_n(&offline_mask, __ATOMIC_ACQUIRE);
}

int pvkvm_vcpu_online(unsigned vcpu) {
  return vcpu < PVKVM_MAX_VCPUS && (pvkvm_smp_online_mask() & bit(vcpu)) != 0;
}

void pvkvm_smp_on_online(void (*fn)(void *), void *arg) {
  spin_lock(&start_lock);
  online_fn = fn;
  online_arg = arg;
  spin_unlock(&start_lock);
}

int pvkvm_smp_checkpoint(void) {
  unsigned id = pvkvm_vcpu_id();
  if (id == 0 || id >= PVKVM_MAX_VCPUS || pvkvm_vcpu_online(id)) return 0;
  struct smp_cpu *c = &cpus[id];
  __atomic_store_n(&c->state, PVKVM_VCPU_HELD, __ATOMIC_RELEASE);
  /* Down until someone brings us online again; an up that raced our own down is repeated by
   * pvkvm_vcpu_set_online until we have left HELD. */
  while (!pvkvm_vcpu_online(id))
    if (pvkvm_vcpu_down(id) < 0) cpu_relax();
  __atomic_store_n(&c->state, PVKVM_VCPU_RUNNING, __ATOMIC_RELEASE);
  return 1;
}

/* Offline: mark it, then wait until the vCPU is down (it parks, or holds at a checkpoint). */
static long take_offline(unsigned vcpu, uint64_t timeout_ns) {
  __atomic_or_fetch(&offline_mask, bit(vcpu), __ATOMIC_SEQ_CST);
  uint64_t end = deadline_after(timeout_ns);
  for (;;) {
    enum pvkvm_vcpu_state st = pvkvm_vcpu_state(vcpu);
    int idle = st == PVKVM_VCPU_OFFLINE || st == PVKVM_VCPU_PARKED || st == PVKVM_VCPU_HELD;
    if (idle && pvkvm_vcpu_is_up(vcpu) == 0) return 0;
    if (pvkvm_time_ns() >= end) return -XEN_ETIMEDOUT;
    cpu_relax();
  }
}

/* Online: a vCPU held at a checkpoint is upped until it resumes; an idle one gets online_fn. */
static long bring_online(unsigned vcpu, uint64_t timeout_ns) {
  __atomic_and_fetch(&offline_mask, ~bit(vcpu), __ATOMIC_SEQ_CST);
  uint64_t end = deadline_after(timeout_ns);
  while (pvkvm_vcpu_state(vcpu) == PVKVM_VCPU_HELD) {
    if (pvkvm_vcpu_is_up(vcpu) == 0) pvkvm_vcpu_up(vcpu);
    if (pvkvm_time_ns() >= end) return -XEN_ETIMEDOUT;
    cpu_relax();
  }
  spin_lock(&start_lock);
  void (*fn)(void *) = online_fn;
  void *arg = online_arg;
  spin_unlock(&start_lock);
  enum pvkvm_vcpu_state st = pvkvm_vcpu_state(vcpu);
  if (fn == NULL || (st != PVKVM_VCPU_OFFLINE && st != PVKVM_VCPU_PARKED)) return 0;
  return pvkvm_start_vcpu(vcpu, fn, arg); /* VCPUOP_initialise first if it never ran */
}

long pvkvm_vcpu_set_online(unsigned vcpu, int online, uint64_t timeout_ns) {
  if (vcpu >= (unsigned)pvkvm_nr_vcpus()) return -XEN_ENOENT;
  if (vcpu == 0 || vcpu == pvkvm_vcpu_id()) return -XEN_EINVAL;
  return online ? bring_online(vcpu, timeout_ns) : take_offline(vcpu, timeout_ns);
}
