/*
 * pvkvm/lock.h: locks between vCPUs — spinlocks, and owner locks that know which vCPU holds them.
 *
 *   static pvkvm_spinlock_t table_lock = PVKVM_SPINLOCK_INIT;
 *   unsigned long flags = spin_lock_irqsave(&table_lock);   // also keeps this vCPU's handlers out
 *   ...
 *   spin_unlock_irqrestore(&table_lock, flags);
 *
 *   static pvkvm_owner_lock_t ring_lock = PVKVM_OWNER_LOCK_INIT;
 *   int rc = owner_lock(&ring_lock);     // -XEN_EDEADLK: this vCPU holds it already
 *   if (rc < 0) return rc;
 *   ...
 *   owner_unlock(&ring_lock);
 *
 * A spinlock taken twice by one vCPU (say by an event handler or a trap that interrupts code
 * holding it) spins forever. An owner lock records the holder's vCPU id, so that second attempt
 * fails at once with -XEN_EDEADLK and the caller can back off (the xenstore client and the PV
 * console refuse re-entry this way; the console builds a recursive lock on it).
 */
#ifndef PVKVM_LOCK_H
#define PVKVM_LOCK_H
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/lapic.h>
#include <pvkvm/xen.h>

/* --- spinlocks (test-and-test-and-set) --- */
typedef struct {
  volatile uint32_t locked;
} pvkvm_spinlock_t;
#define PVKVM_SPINLOCK_INIT {0}

static inline int spin_trylock(pvkvm_spinlock_t *l) {
  return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}
static inline void spin_lock(pvkvm_spinlock_t *l) {
  while (!spin_trylock(l))
    while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) cpu_relax();
}
static inline void spin_unlock(pvkvm_spinlock_t *l) {
  __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}
/* Interrupts off on this vCPU while holding the lock (for data handlers touch too). */
static inline unsigned long spin_lock_irqsave(pvkvm_spinlock_t *l) {
  unsigned long flags = local_irq_save();
  spin_lock(l);
  return flags;
}
static inline void spin_unlock_irqrestore(pvkvm_spinlock_t *l, unsigned long flags) {
  spin_unlock(l);
  local_irq_restore(flags);
}

/* --- owner locks (the holder's vCPU id + 1; 0 when free) --- */
typedef struct {
  uint32_t owner;
} pvkvm_owner_lock_t;
#define PVKVM_OWNER_LOCK_INIT {0}

/* Nonzero if this vCPU holds l. */
static inline int owner_lock_held(const pvkvm_owner_lock_t *l) {
  return __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) == pvkvm_vcpu_id() + 1;
}
/* Spin until this vCPU holds l: 0. If it holds l already: -XEN_EDEADLK at once. */
static inline int owner_lock(pvkvm_owner_lock_t *l) {
  uint32_t me = pvkvm_vcpu_id() + 1;
  if (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) == me) return -XEN_EDEADLK;
  for (;;) {
    uint32_t free = 0;
    if (__atomic_compare_exchange_n(&l->owner, &free, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return 0;
    cpu_relax();
  }
}
static inline void owner_unlock(pvkvm_owner_lock_t *l) {
  __atomic_store_n(&l->owner, 0, __ATOMIC_RELEASE);
}

#endif
