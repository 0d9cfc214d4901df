/*
 * hcall_check.c: hypercalls from CPL 3 whose arguments lead to further addresses (gate.S sends
 * them here). The hypervisor acts on them at the kernel's privilege, so the kernel makes sure
 * none of them places, maps or writes a page of its own, or gives user code CPL 0:
 *   - structs that name a frame or an address are copied into the kernel before the check, and
 *     the copy is what the hypervisor reads, so user code cannot change them in between;
 *   - arrays of ops (grant maps and copies, multicall entries) go through a small kernel buffer
 *     in batches, the hypervisor's results copied back;
 *   - the reservation ops (ballooning) go through with their extent lists copied and every frame
 *     checked: user frames only, never the kernel's own (nor its page tables, in its region);
 *   - the FIFO event-channel set-up (init_control, expand_array) may name user frames only;
 *   - VCPUOP_initialise, XENMEM_exchange and add_to_physmap_batch are refused (-EPERM): vCPUs
 *     start through PVKVM_KC_VCPU_INIT, and the SDK does not move its memory around.
 * What stays unchecked is documented in docs/host-kvm.md §3 (grant entries user code writes).
 */
#include <pvkvm/evtchn.h>
#include <pvkvm/grant.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include "kernel.h"

#define BATCH 8
#define PAGE 4096ull

/* User memory: identity-mapped below 4 GiB, above the kernel's 2 MiB page, outside the APIC
 * pages. */
int kuser_range(uint64_t addr, uint64_t len) {
  uint64_t end = addr + len;
  if (end < addr || end > (1ull << 32) || addr < KREGION_END) return 0;
  if (addr < KLAPIC_BASE + PAGE && end > KIOAPIC_BASE) return 0;
  return 1;
}

/* gate.S's fast EVTCHNOP_send from CPL 3 reads the port at RSI in the stub: RSI - KREGION_END
 * must be at most this, which keeps the 4 bytes in the RAM that starts at the end of the kernel's
 * page (the rest goes to C and its full checks). Set at boot from the memory map. */
uint64_t khc_send_span;

void khc_init(void) {
  uint64_t top = kram_end_of(KREGION_END);
  if (top > KIOAPIC_BASE) top = KIOAPIC_BASE;
  if (top >= KREGION_END + 4) khc_send_span = top - 4 - KREGION_END;
}

/* gate.S's test of a register argument: not in the kernel's region nor just below it. */
static int not_kernel(uint64_t v) { return v - (KREGION_START - KPTR_WINDOW) >= KREGION_END - KREGION_START + KPTR_WINDOW; }

/* A frame the hypervisor may place something at, or map, for user code: not on the kernel's
 * page nor the APIC pages (frames beyond 4 GiB are the hypervisor's business). */
static int gfn_ok(uint64_t gfn) {
  if (gfn < KREGION_END / PAGE) return 0;
  return gfn < KIOAPIC_BASE / PAGE || gfn > KLAPIC_BASE / PAGE;
}

/* Guest RAM, by the boot memory map (the kernel's copy): where the hypervisor would find a
 * struct. What the kernel copies in must be there, or the call fails with -EFAULT as the
 * hypervisor's own would. */
static int ram_range(uint64_t addr, uint64_t len) { return kram_range(addr, len); }

/* Copy a user struct in; 0 if it does not lie in user memory that is RAM. */
static int copy_in(void *dst, uint64_t src, size_t n) {
  if (!kuser_range(src, n) || !ram_range(src, n)) return 0;
  kcopy_words(dst, (const void *)(uintptr_t)src, n);
  return 1;
}

static long vcpu_op(unsigned long cmd, unsigned long vcpu, unsigned long arg) {
  switch (cmd) {
  case VCPUOP_initialise: return -XEN_EPERM;
  case VCPUOP_register_vcpu_info: {
    struct vcpu_register_vcpu_info r;
    if (!copy_in(&r, arg, sizeof(r))) return -XEN_EFAULT;
    if (!gfn_ok(r.mfn)) return -XEN_EPERM;
    return HYPERVISOR_vcpu_op((int)cmd, (int)vcpu, &r);
  }
  case VCPUOP_register_runstate_memory_area:
  case VCPUOP_register_vcpu_time_memory_area: {
    uint64_t addr; /* both take a guest address the hypervisor keeps writing */
    if (!copy_in(&addr, arg, sizeof(addr))) return -XEN_EFAULT;
    if (!kuser_range(addr, 64)) return -XEN_EPERM;
    return HYPERVISOR_vcpu_op((int)cmd, (int)vcpu, &addr);
  }
  default:
    if (arg && !kuser_range(arg, PAGE)) return -XEN_EFAULT;
    return HYPERVISOR_vcpu_op((int)cmd, (int)vcpu, (void *)(uintptr_t)arg);
  }
}

/* Frames the kernel depends on outside its region: the vCPUs' pvkvm_cpu, which its interrupt
 * entry writes (virq_entry.S). Giving them back would take them from under the kernel. */
static int kernel_used(uint64_t first, uint64_t last) {
  extern struct pvkvm_cpu pvkvm_cpus[PVKVM_NR_CPUS];
  uint64_t lo = (uintptr_t)pvkvm_cpus / PAGE, hi = ((uintptr_t)(pvkvm_cpus + PVKVM_NR_CPUS) - 1) / PAGE;
  return first <= hi && last >= lo;
}

/* How many of the extents in `list[0..n)`, each 2^order frames, lie wholly in user frames. */
static unsigned extents_ok(const uint64_t *list, unsigned n, unsigned order) {
  for (unsigned i = 0; i < n; i++) {
    uint64_t first = list[i], last = first + (1ull << order) - 1;
    if (last < first || !gfn_ok(first) || !gfn_ok(last)) return i;
    if (first < KIOAPIC_BASE / PAGE && last > KLAPIC_BASE / PAGE) return i; /* spans the APIC pages */
    if (kernel_used(first, last)) return i;
  }
  return n;
}

/*
 * XENMEM_increase/decrease_reservation and populate_physmap: the struct is copied in, and the
 * extent list goes through a kernel buffer a batch at a time, each frame checked (decrease and
 * populate act on the frames it names: they must be user frames, never the kernel's own, which
 * populate would replace with zeroed pages). The hypervisor reads the kernel's copy, so another
 * vCPU cannot change a frame after its check. Returns the extents done from `start` (the
 * continuation extent of the command's upper bits), as Xen does.
 */
#define XBATCH 64
static long reservation(unsigned cmd, unsigned long start, unsigned long arg) {
  struct xen_memory_reservation r;
  if (!copy_in(&r, arg, sizeof(r))) return -XEN_EFAULT;
  if (r.extent_order >= 32) return -XEN_EPERM; /* far above the largest order Xen gives a domU */
  uint64_t nr = r.nr_extents, list = r.extent_start;
  /* As the hypervisor answers, before anything is checked: a list too long for its progress to
   * fit a continuation (the start, nothing done); a start at or past the end. */
  if (nr > (0xffffffffu >> MEMOP_EXTENT_SHIFT) || start >= nr) return (long)start;
  if (cmd == XENMEM_increase_reservation) {
    /* The hypervisor writes nothing back for a translated guest: the list only needs to be
     * user memory if given. */
    if (list && (nr > (1ull << 29) || !kuser_range(list, nr * 8))) return -XEN_EFAULT;
    r.extent_start = 0;
    return hypercall2(__HYPERVISOR_memory_op, cmd | (start << MEMOP_EXTENT_SHIFT), (unsigned long)&r);
  }
  if (nr > (1ull << 29) || !kuser_range(list + start * 8, (nr - start) * 8) || !ram_range(list + start * 8, (nr - start) * 8))
    return -XEN_EFAULT;
  uint64_t buf[XBATCH];
  unsigned long done = start;
  while (done < nr) {
    unsigned n = nr - done < XBATCH ? (unsigned)(nr - done) : XBATCH;
    kcopy_words(buf, (const void *)(uintptr_t)(list + done * 8), n * 8);
    /* A frame of the kernel's ends the walk there, as a frame the hypervisor refuses would;
     * refused first, the call fails -EPERM. */
    unsigned ok = extents_ok(buf, n, r.extent_order);
    if (!ok) return done == start ? -XEN_EPERM : (long)done;
    r.extent_start = (uint64_t)(uintptr_t)buf;
    r.nr_extents = ok;
    long rc = HYPERVISOR_memory_op(cmd, &r);
    if (rc < 0) return done == start ? rc : (long)done;
    done += (unsigned long)rc;
    if ((unsigned long)rc < ok) break;
  }
  return (long)done;
}

static long memory_op(unsigned long raw, unsigned long arg) {
  /* The hypervisor takes the op from the low bits (the rest is a continuation extent): so must
   * the check, or an op with high bits set would pass unchecked. */
  unsigned cmd = (unsigned)(raw & MEMOP_CMD_MASK);
  unsigned long start = (raw >> MEMOP_EXTENT_SHIFT) & 0xffffffffu;
  switch (cmd) {
  case XENMEM_increase_reservation:
  case XENMEM_decrease_reservation:
  case XENMEM_populate_physmap:
    return reservation(cmd, start, arg);
  case XENMEM_exchange:
  case XENMEM_add_to_physmap_batch:
    return -XEN_EPERM;
  case XENMEM_add_to_physmap: {
    struct xen_add_to_physmap x;
    if (!copy_in(&x, arg, sizeof(x))) return -XEN_EFAULT;
    if (!gfn_ok(x.gpfn)) return -XEN_EPERM;
    return HYPERVISOR_memory_op((unsigned)cmd, &x);
  }
  case XENMEM_remove_from_physmap: {
    struct xen_remove_from_physmap x;
    if (!copy_in(&x, arg, sizeof(x))) return -XEN_EFAULT;
    if (!gfn_ok(x.gpfn)) return -XEN_EPERM;
    return HYPERVISOR_memory_op((unsigned)cmd, &x);
  }
  case XENMEM_memory_map:
  case XENMEM_machine_memory_map: {
    struct xen_memory_map m;
    if (!copy_in(&m, arg, sizeof(m))) return -XEN_EFAULT;
    if (!kuser_range(m.buffer, (uint64_t)m.nr_entries * sizeof(struct e820entry))) return -XEN_EFAULT;
    long rc = HYPERVISOR_memory_op((unsigned)cmd, &m);
    ((struct xen_memory_map *)(uintptr_t)arg)->nr_entries = m.nr_entries;
    return rc;
  }
  default:
    if (arg && !kuser_range(arg, PAGE)) return -XEN_EFAULT;
    return HYPERVISOR_memory_op((unsigned)raw, (void *)(uintptr_t)arg);
  }
}

/* EVTCHNOP_init_control and expand_array name a frame the hypervisor keeps writing (a control
 * block, an event-array page): a user frame, checked on a copy the hypervisor then reads. */
static long evtchn_op(unsigned long cmd, unsigned long arg) {
  switch ((uint32_t)cmd) {
  case EVTCHNOP_init_control: {
    struct evtchn_init_control c;
    if (!copy_in(&c, arg, sizeof(c))) return -XEN_EFAULT;
    if (!gfn_ok(c.control_gfn)) return -XEN_EPERM;
    long rc = HYPERVISOR_event_channel_op((int)cmd, &c);
    ((struct evtchn_init_control *)(uintptr_t)arg)->link_bits = c.link_bits;
    return rc;
  }
  case EVTCHNOP_expand_array: {
    struct evtchn_expand_array x;
    if (!copy_in(&x, arg, sizeof(x))) return -XEN_EFAULT;
    if (!gfn_ok(x.array_gfn)) return -XEN_EPERM;
    return HYPERVISOR_event_channel_op((int)cmd, &x);
  }
  case EVTCHNOP_send: {
    /* The stub reads the port itself, at CPL 0: from a checked copy, or a bad pointer is a
     * fault in the kernel (gate.S sends here whatever its fast test does not pass). */
    if (!kuser_range(arg, 4) || !ram_range(arg, 4)) return -XEN_EFAULT;
    struct evtchn_send snd = {.port = *(volatile uint32_t *)(uintptr_t)arg};
    return HYPERVISOR_event_channel_op((int)cmd, &snd);
  }
  default:
    if (!not_kernel(arg)) return -XEN_EFAULT; /* gate.S's test */
    return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
  }
}

static int evtchn_frame_op(unsigned long cmd) {
  return (uint32_t)cmd >= KEVTCHNOP_FIRST_FRAME_OP && (uint32_t)cmd <= KEVTCHNOP_LAST_FRAME_OP;
}

static int is_self(uint16_t dom) {
  return dom == DOMID_SELF || (int)dom == kself_domid();
}

/* One batch of grant ops already copied into `ops`: is each one safe? */
static int grant_ops_ok(unsigned cmd, const void *ops, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    if (cmd == GNTTABOP_map_grant_ref) {
      const struct gnttab_map_grant_ref *m = (const struct gnttab_map_grant_ref *)ops + i;
      if ((m->flags & GNTMAP_host_map) && !gfn_ok(m->host_addr / PAGE)) return 0;
    } else if (cmd == GNTTABOP_copy) {
      const struct gnttab_copy *c = (const struct gnttab_copy *)ops + i;
      if (!(c->flags & GNTCOPY_dest_gref) && is_self(c->dest_domid) && !gfn_ok(c->dest_u_gmfn))
        return 0;
    }
  }
  return 1;
}

static long grant_table_op(unsigned long cmd, unsigned long uop, unsigned long count) {
  size_t size = cmd == GNTTABOP_map_grant_ref ? sizeof(struct gnttab_map_grant_ref)
              : cmd == GNTTABOP_copy          ? sizeof(struct gnttab_copy)
                                              : 0;
  if (cmd == GNTTABOP_setup_table) {
    struct gnttab_setup_table s;
    if (count != 1) return -XEN_EINVAL;
    if (!copy_in(&s, uop, sizeof(s))) return -XEN_EFAULT;
    if (!kuser_range(s.frame_list, (uint64_t)s.nr_frames * 8)) return -XEN_EFAULT;
    long rc = HYPERVISOR_grant_table_op((int)cmd, &s, 1);
    ((struct gnttab_setup_table *)(uintptr_t)uop)->status = s.status;
    return rc;
  }
  if (count >= (1u << 31)) return -XEN_EINVAL; /* as the hypervisor answers */
  if (!size || count == 0) {
    if (count && !not_kernel(uop)) return -XEN_EFAULT;
    return HYPERVISOR_grant_table_op((int)cmd, (void *)(uintptr_t)uop, (unsigned)count);
  }
  if (!kuser_range(uop, count * size) || !ram_range(uop, count * size)) return -XEN_EFAULT;
  uint64_t buf[BATCH * sizeof(struct gnttab_copy) / 8]; /* the larger of the two */
  for (unsigned long done = 0; done < count;) {
    unsigned n = count - done < BATCH ? (unsigned)(count - done) : BATCH;
    void *user = (void *)(uintptr_t)(uop + done * size);
    kcopy_words(buf, user, n * size);
    if (!grant_ops_ok((unsigned)cmd, buf, n)) return -XEN_EPERM;
    long rc = HYPERVISOR_grant_table_op((int)cmd, buf, n);
    kcopy_words(user, buf, n * size); /* statuses, handles */
    if (rc < 0) return rc;
    done += n;
  }
  return 0;
}

/* An entry gate.S would pass straight on (its first three arguments clear of the kernel). */
static int plain_entry(const struct multicall_entry *e) {
  extern const uint8_t khc_class[KCALL_BASE];
  unsigned cls = e->op < KCALL_BASE ? khc_class[e->op] : KHC_C;
  if (cls == KHC_NO_PTR) return 1;
  if (cls == KHC_PTR_RSI) return not_kernel(e->args[1]);
  if (cls == KHC_EVTCHN) return !evtchn_frame_op(e->args[0]) && not_kernel(e->args[1]);
  return cls == KHC_PTR3 && not_kernel(e->args[0]) && not_kernel(e->args[1]) && not_kernel(e->args[2]);
}

static long run_batch(struct multicall_entry *k, unsigned n, struct multicall_entry *user) {
  if (!n) return 0;
  long rc = HYPERVISOR_multicall(k, n);
  for (unsigned i = 0; i < n; i++) user[i].result = k[i].result;
  return rc;
}

/*
 * One vCPU running and every entry plain: the hypervisor reads the caller's array itself, as
 * nothing else runs to change it after the check. Otherwise each entry is copied in before its
 * check; plain ones are run in batches, the others on their own, in order, through
 * khypercall_checked (the same rules as a direct call).
 */
static long multicall(unsigned long calls, unsigned long nr) {
  uint64_t bytes = nr * sizeof(struct multicall_entry);
  if (nr >= (1u << 24) || !kuser_range(calls, bytes)) return -XEN_EFAULT;
  struct multicall_entry *user = (struct multicall_entry *)(uintptr_t)calls;
  if (!ksmp_started) {
    unsigned i = 0;
    while (i < nr && plain_entry(&user[i])) i++;
    if (i == nr) return HYPERVISOR_multicall(user, (unsigned)nr); /* the hypervisor checks RAM */
  }
  if (!ram_range(calls, bytes)) return -XEN_EFAULT;
  struct multicall_entry k[BATCH];
  unsigned n = 0, first = 0;
  for (unsigned i = 0; i < nr; i++) {
    struct multicall_entry *e = &k[n];
    kcopy_words(e, &user[i], sizeof(*e));
    if (plain_entry(e)) {
      if (!n) first = i;
      if (++n == BATCH) {
        long rc = run_batch(k, n, user + first);
        if (rc < 0) return rc;
        n = 0;
      }
      continue;
    }
    long rc = run_batch(k, n, user + first);
    if (rc < 0) return rc;
    n = 0;
    e = &k[0];
    kcopy_words(e, &user[i], sizeof(*e));
    if (e->op == __HYPERVISOR_multicall) user[i].result = (uint64_t)-XEN_EINVAL; /* as Xen answers */
    else user[i].result = (uint64_t)khypercall_checked(e->op, e->args[0], e->args[1], e->args[2], e->args[3], e->args[4]);
  }
  return run_batch(k, n, user + first);
}

static long console_io(unsigned long cmd, unsigned long count, unsigned long buf) {
  if (count > (1u << 20) || !kuser_range(buf, count)) return -XEN_EFAULT;
  return HYPERVISOR_console_io((int)cmd, (int)count, (const char *)(uintptr_t)buf);
}

long khypercall_checked(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                        unsigned long a4, unsigned long a5) {
  switch (nr) {
  case __HYPERVISOR_vcpu_op: return vcpu_op(a1, a2, a3);
  case __HYPERVISOR_memory_op: return memory_op(a1, a2);
  case __HYPERVISOR_event_channel_op: return evtchn_op(a1, a2);
  case __HYPERVISOR_grant_table_op: return grant_table_op(a1, a2, a3);
  case __HYPERVISOR_multicall: return multicall(a1, a2);
  case __HYPERVISOR_console_io: return console_io(a1, a2, a3);
  default:
    /* A plain hypercall reached through a multicall: the same check gate.S makes. */
    if (nr >= KCALL_BASE) return -XEN_ENOSYS;
    if (!not_kernel(a1) || !not_kernel(a2) || !not_kernel(a3)) return -XEN_EFAULT;
    return hypercall5((unsigned)nr, a1, a2, a3, a4, a5);
  }
}
