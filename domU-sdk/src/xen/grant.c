/* grant.c: grant table v1 — frame mapping, the entry allocator, publish/revoke, map/unmap/copy. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/arch.h>
#include <pvkvm/grant.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/lock.h>
#include <pvkvm/string.h>

#define ENTRIES_PER_FRAME (4096u / sizeof(struct grant_entry_v1))
#define MAX_ENTRIES (PVKVM_GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME)

static unsigned nr_frames, max_frames;
static long last_error;
/* Bit set = reference handed out by gnttab_grant_access (reserved entries are never handed out). */
static uint64_t used[MAX_ENTRIES / 64];
static pvkvm_spinlock_t lock = PVKVM_SPINLOCK_INIT;

static inline volatile struct grant_entry_v1 *table(void) {
  return (volatile struct grant_entry_v1 *)((uintptr_t)PVKVM_GNTTAB_GFN << 12);
}

long gnttab_last_error(void) { return last_error; }
unsigned gnttab_nr_frames(void) { return nr_frames; }
unsigned gnttab_max_frames(void) { return max_frames; }

static long map_frame(unsigned idx) {
  struct xen_add_to_physmap xatp = {0};
  xatp.domid = DOMID_SELF;
  xatp.space = XENMAPSPACE_grant_table;
  xatp.idx = idx;
  xatp.gpfn = PVKVM_GNTTAB_GFN + idx;
  return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
}

long gnttab_grow(unsigned want) {
  if (want > max_frames) return -XEN_EINVAL;
  while (nr_frames < want) {
    long rc = map_frame(nr_frames);
    if (rc < 0) return last_error = rc;
    nr_frames++;
  }
  return 0;
}

long gnttab_init(void) {
  if (nr_frames) return 0;
  struct gnttab_query_size q = {0};
  q.dom = DOMID_SELF;
  long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
  if (rc < 0) return last_error = rc;
  if (q.status != GNTST_okay) return last_error = -XEN_EINVAL;
  struct gnttab_set_version v = {.version = 1};
  rc = HYPERVISOR_grant_table_op(GNTTABOP_set_version, &v, 1);
  if (rc < 0) return last_error = rc;
  max_frames = q.max_nr_frames < PVKVM_GNTTAB_MAX_FRAMES ? q.max_nr_frames : PVKVM_GNTTAB_MAX_FRAMES;
  unsigned want = q.nr_frames ? q.nr_frames : 1;
  return gnttab_grow(want < max_frames ? want : max_frames);
}

volatile struct grant_entry_v1 *gnttab_entry(grant_ref_t ref) {
  if (ref >= nr_frames * ENTRIES_PER_FRAME) return NULL;
  return &table()[ref];
}

/* Find and mark a free reference; grows the table when the mapped frames are full. */
static long alloc_ref(void) {
  for (;;) {
    unsigned limit = nr_frames * ENTRIES_PER_FRAME;
    for (unsigned r = GNTTAB_NR_RESERVED_ENTRIES; r < limit; r++) {
      if (used[r / 64] & (1ull << (r % 64))) continue;
      used[r / 64] |= 1ull << (r % 64);
      return r;
    }
    if (nr_frames >= max_frames) return -XEN_ENOSPC;
    long rc = gnttab_grow(nr_frames + 1);
    if (rc < 0) return rc;
  }
}

long gnttab_grant_access(domid_t domid, uint64_t gfn, int readonly) {
  if (!nr_frames) {
    long rc = gnttab_init();
    if (rc < 0) return rc;
  }
  unsigned long flags = spin_lock_irqsave(&lock);
  long ref = alloc_ref();
  spin_unlock_irqrestore(&lock, flags);
  if (ref < 0) return ref;
  volatile struct grant_entry_v1 *e = &table()[ref];
  e->domid = domid;
  e->frame = (uint32_t)gfn;
  /* The hypervisor must never see the flags before the domid and frame they apply to. */
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)), __ATOMIC_RELEASE);
  return ref;
}

long gnttab_end_access(grant_ref_t ref) {
  if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= nr_frames * ENTRIES_PER_FRAME ||
      !(used[ref / 64] & (1ull << (ref % 64))))
    return -XEN_EINVAL;
  volatile uint16_t *pflags = &table()[ref].flags;
  uint16_t flags = __atomic_load_n(pflags, __ATOMIC_ACQUIRE);
  do {
    if (flags & (GTF_reading | GTF_writing)) return -XEN_EBUSY;
  } while (!__atomic_compare_exchange_n(pflags, &flags, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
  unsigned long irq = spin_lock_irqsave(&lock);
  used[ref / 64] &= ~(1ull << (ref % 64));
  spin_unlock_irqrestore(&lock, irq);
  return 0;
}

int gnttab_map(domid_t domid, grant_ref_t ref, uint64_t gpa, int readonly, grant_handle_t *handle) {
  struct gnttab_map_grant_ref op = {0};
  op.host_addr = gpa;
  op.flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
  op.ref = ref;
  op.dom = domid;
  long rc = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &op, 1);
  if (rc < 0) {
    last_error = rc;
    return GNTST_general_error;
  }
  if (op.status == GNTST_okay && handle) *handle = op.handle;
  return op.status;
}

int gnttab_unmap(grant_handle_t handle, uint64_t gpa) {
  struct gnttab_unmap_grant_ref op = {0};
  op.host_addr = gpa;
  op.handle = handle;
  long rc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1);
  if (rc < 0) {
    last_error = rc;
    return GNTST_general_error;
  }
  return op.status;
}

long gnttab_copy(struct gnttab_copy *ops, unsigned n) {
  long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, ops, n);
  if (rc < 0) last_error = rc;
  return rc;
}

/* The union at the start of each side is a u32 ref or a u64 GFN. */
static void put_side(uint8_t *at, const struct gnttab_copy_side *s) {
  uint64_t u = s->is_ref ? (uint32_t)s->ref_or_gfn : s->ref_or_gfn;
  memcpy(at, &u, sizeof(u));
  memcpy(at + 8, &s->domid, sizeof(s->domid));
  memcpy(at + 10, &s->offset, sizeof(s->offset));
}

int gnttab_copy_one(const struct gnttab_copy_side *src, const struct gnttab_copy_side *dst, uint16_t len) {
  struct gnttab_copy op;
  memset(&op, 0, sizeof(op));
  put_side((uint8_t *)&op, src);
  put_side((uint8_t *)&op + 16, dst);
  op.len = len;
  op.flags = (src->is_ref ? GNTCOPY_source_gref : 0) | (dst->is_ref ? GNTCOPY_dest_gref : 0);
  if (gnttab_copy(&op, 1) < 0) return GNTST_general_error;
  return op.status;
}
