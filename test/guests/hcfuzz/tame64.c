/*
 * tame64.c: hcfuzz's rules for the 64-bit ABI. Calls that would legitimately end or wedge the
 * guest are turned into harmless shapes of the same call (see the header of hcfuzz.c), so that
 * any guest death is a finding; multicall lists are generated, each entry tamed the same way.
 */
#include "hcfuzz.h"

static void multicall_entries(struct fuzzer *f, uint64_t *a, int depth) {
  unsigned n = (unsigned)below(f, MAX_ENTRIES + 1);
  if (below(f, 8) == 0) {
    /* A list the guest did not build: only where nothing can be read as an op (any readable
     * memory could hold a shutdown), with any count. */
    static const uint64_t bad[] = {0xffffffff00000000ull & 0x0000ffff00000000ull, 0x123400000000ull, 0xdead00000000ull, 0xffff800000000000ull};
    a[0] = below(f, 5) ? bad[below(f, 4)] + below(f, PAGE) : hole + below(f, PAGE);
    a[1] = below(f, 2) ? rnd(f) : below(f, 0x300);
    return;
  }
  struct multicall_entry *e = f->entries;
  for (unsigned i = 0; i < n; i++) {
    e[i].op = pick_nr(f, 1);
    e[i].result = rnd(f);
    for (unsigned j = 0; j < 6; j++) e[i].args[j] = j == 0 ? below(f, 16) : pointer(f);
    /* Struct arguments of entries point into the first scratch page, already filled. */
    tame(f, e[i].op, e[i].args, depth + 1);
  }
  /* (misaligned: the list runs on into whatever follows it: only with a count of 0) */
  int skew = below(f, 8) == 0;
  a[0] = (uint64_t)(uintptr_t)e + (skew ? 1 + below(f, 63) : 0);
  a[1] = skew ? 0 : n;
}

void tame(struct fuzzer *f, uint64_t nr, uint64_t *a, int depth) {
  uint32_t cmd = (uint32_t)a[0];
  if (nr == __HYPERVISOR_multicall) {
    if (depth > 0) { a[0] = pointer(f); return; } /* nested: the hypervisor must refuse it */
    multicall_entries(f, a, depth);
    return;
  }
  if (nr == __HYPERVISOR_sched_op) {
    if (cmd == SCHEDOP_shutdown || cmd == SCHEDOP_block) a[0] = SCHEDOP_yield;
    if (cmd == SCHEDOP_poll) {
      struct sched_poll *p = (struct sched_poll *)slot(f);
      a[1] = (uint64_t)(uintptr_t)p;
      p->nr_ports = (uint32_t)below(f, 4);
      p->timeout = hvm_now() + below(f, 2000000) + 1; /* never 0: that means no timeout */
    }
    if (cmd == SCHEDOP_shutdown_code) { /* latched, it would be the reason of our poweroff */
      uint32_t *s = (uint32_t *)slot(f);
      a[1] = (uint64_t)(uintptr_t)s;
      s[0] = SHUTDOWN_poweroff;
    }
    if (cmd == SCHEDOP_remote_shutdown || cmd == SCHEDOP_watchdog) {
      /* remote_shutdown: of dom0 or domains that do not exist, never ourselves (a domU must get
       * -EPERM for the first); watchdog: timeout 0 only (query/disarm). Both take {u32, u32}. */
      uint32_t *s = (uint32_t *)slot(f);
      a[1] = (uint64_t)(uintptr_t)s;
      if (cmd == SCHEDOP_remote_shutdown) {
        s[0] = below(f, 2) ? 0 : 0x7fef - (uint32_t)below(f, 100);
        if (s[0] == (uint32_t)pvkvm_domid()) s[0] = 0;
      } else {
        /* id 0 claims a new watchdog even with timeout 0 (as in Xen), which fires at once */
        if (s[0] == 0) s[0] = 1 + (uint32_t)below(f, 3);
        s[1] = 0;
      }
    }
    return;
  }
  if (nr == __HYPERVISOR_vcpu_op) {
    switch (cmd) {
    case VCPUOP_initialise: case VCPUOP_up: case VCPUOP_down: case VCPUOP_register_vcpu_info:
    case VCPUOP_send_nmi: case VCPUOP_register_runstate_memory_area:
    case VCPUOP_register_vcpu_time_memory_area:
      a[1] = other_vcpu(f);
    }
    return;
  }
  if (nr == __HYPERVISOR_event_channel_op) {
    uint32_t *s = (uint32_t *)slot(f);
    switch (cmd) {
    case EVTCHNOP_close: case EVTCHNOP_bind_vcpu: case EVTCHNOP_unmask:
      a[1] = (uint64_t)(uintptr_t)s;
      if (s[0] < 32) s[0] = 32 + (uint32_t)below(f, 4096);
      break;
    case EVTCHNOP_reset: case EVTCHNOP_init_control: case EVTCHNOP_expand_array:
      /* reset: of dom0 only (must be refused); the FIFO set-up would take delivery away from
       * the SDK's 2-level handlers: only with a bad pointer */
      a[1] = (uint64_t)(uintptr_t)s;
      if (cmd == EVTCHNOP_reset) s[0] = 0;
      else a[1] = below(f, 2) ? 0x123400000000ull : 0xdead00000000ull;
      break;
    }
    return;
  }
  if (nr == __HYPERVISOR_hvm_op) {
    struct xen_hvm_param *p = (struct xen_hvm_param *)slot(f);
    tame_hvm(f, cmd, a, p);
    return;
  }
  if (nr == __HYPERVISOR_memory_op) {
    /* The extent lists and gpfns: frames from the safe page only. */
    struct xen_memory_reservation *r = (struct xen_memory_reservation *)slot(f);
    uint64_t frames = (uint64_t)(uintptr_t)(f->scratch + (SCRATCH_PAGES - 1) * PAGE);
    switch (a[0] & MEMOP_CMD_MASK) {
    case XENMEM_increase_reservation: case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
      a[1] = (uint64_t)(uintptr_t)r;
      r->extent_start = below(f, 8) ? frames + 8 * below(f, 64) : pointer(f);
      if ((a[0] & MEMOP_CMD_MASK) != XENMEM_increase_reservation) {
        /* decrease and populate act on the frames listed. A list elsewhere in our RAM (scratch
         * words: 512 is our code's first frame), or an extent of 2^order frames from a scratch
         * frame, would give back or zero pages we run on; so the list is the safe page or memory
         * that is not RAM, one frame per extent (scratch frames given back are populated again
         * after the call: hcfuzz.c). No draw is added: every seed keeps its sequence of calls. */
        if (r->extent_start != 0 && r->extent_start < ram_top && (r->extent_start < frames || r->extent_start >= frames + PAGE))
          r->extent_start = 0x123400000000ull + (r->extent_start & (PAGE - 1));
        r->extent_order = 0;
      }
      if (r->nr_extents > 512) r->nr_extents = below(f, 2) ? below(f, 512) : r->nr_extents;
      if (r->extent_start != 0 && r->extent_start >= frames && r->extent_start < frames + PAGE &&
          r->nr_extents > 512 - (r->extent_start - frames) / 8)
        r->nr_extents = below(f, 4); /* a list that would run past the safe page */
      break;
    case XENMEM_add_to_physmap: case XENMEM_remove_from_physmap: {
      uint64_t *x = (uint64_t *)r;
      a[1] = (uint64_t)(uintptr_t)x;
      x[1] = safe_gfn(f); /* remove: gpfn at offset 8 */
      x[2] = safe_gfn(f); /* add: gpfn at offset 16 */
      break;
    }
    case XENMEM_exchange: case XENMEM_add_to_physmap_batch: case XENMEM_acquire_resource:
    case XENMEM_set_memory_map:
      /* frame lists at several offsets: only bad pointers */
      a[1] = below(f, 2) ? 0x123400000000ull + below(f, PAGE) : 0;
      break;
    }
    return;
  }
  if (nr == __HYPERVISOR_grant_table_op) {
    /* map (host_addr at 0), unmap (host_addr 0), copy (gmfn in both sides), transfer (mfn 0):
     * every op's frames and addresses in the generated struct array come from safe values. */
    uint64_t *w = (uint64_t *)slot(f);
    a[1] = below(f, 8) ? (uint64_t)(uintptr_t)w : pointer(f);
    /* Huge counts are answered (the walk faults at the end of RAM) but take seconds: rarely. */
    if (a[2] > 64 && below(f, 64)) a[2] = below(f, 8);
    for (unsigned i = 0; i < SLOT_BYTES / 8; i++)
      w[i] = below(f, 3) ? safe_gfn(f) : (below(f, 2) ? (uint64_t)(uintptr_t)f->scratch + below(f, 2 * PAGE) : below(f, 64));
    return;
  }
  if (nr == __HYPERVISOR_console_io && cmd == 0 /* CONSOLEIO_write */ && a[1] > 96 && below(f, 16))
    a[1] = below(f, 96); /* mostly short: the log is read by people */
}

