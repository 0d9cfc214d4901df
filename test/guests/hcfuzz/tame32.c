/*
 * tame32.c: hcfuzz's rules for abi=32, the 64-bit rules (tame64.c) on the i386 layouts: sched_poll's
 * timeout at offset 8, a reservation's nr_extents at 4 and its 4-byte extent list, add_to_physmap's
 * idx and gpfn at 8 and 12 (remove's gpfn at 4), grant structs built of 4-byte words each safe as
 * an address and as a frame number, 32-byte multicall entries of 4-byte words. Call numbers and
 * commands are matched on their low 32 bits, as the hypervisor reads them.
 */
#include "hcfuzz.h"

/* Where nothing can be read: the hole beyond RAM (no frame placed there: safe_gfn() stops short
 * of it) or the last bytes below 4 GiB, running past it. */
static uint64_t no_memory(struct fuzzer *f) {
  return below(f, 2) ? hole + below(f, PAGE) : 0xffffffffu - below(f, 64);
}

static void multicall_entries32(struct fuzzer *f, uint64_t *a, int depth) {
  unsigned n = (unsigned)below(f, MAX_ENTRIES + 1);
  if (below(f, 8) == 0) { /* a list the guest did not build, with any count */
    a[0] = no_memory(f);
    a[1] = below(f, 2) ? rnd(f) : below(f, 0x300);
    return;
  }
  struct compat_multicall_entry *e = f->entries;
  for (unsigned i = 0; i < n; i++) {
    uint64_t op = pick_nr(f, 1), args[6];
    for (unsigned j = 0; j < 6; j++) args[j] = j == 0 ? below(f, 16) : pointer(f);
    /* The struct pages an entry's pointers reach are rewritten first, as for the call's own. */
    if (window_refill) refill_windows(f, args, 6);
    tame32(f, op, args, depth + 1);
    e[i].op = (uint32_t)op;
    e[i].result = (uint32_t)rnd(f);
    for (unsigned j = 0; j < 6; j++) e[i].args[j] = (uint32_t)args[j];
  }
  int skew = below(f, 8) == 0; /* misaligned: only with a count of 0 (see tame64.c) */
  a[0] = (uint64_t)(uintptr_t)e + (skew ? 1 + below(f, 31) : 0);
  a[1] = skew ? 0 : n;
}

/* A reservation's extent list in the frame page: `nr` 4-byte entries from `first`, each made a
 * frame the op may release or repopulate (the page may hold the hypervisor's answers to earlier
 * calls by now); an extent of order > 0 must not run from a scratch frame on into our image. */
static void safe_extents(struct fuzzer *f, uint32_t *first, uint32_t nr, uint32_t order) {
  uint32_t s = (uint32_t)((uintptr_t)f->scratch >> 12);
  for (uint32_t i = 0; i < nr; i++) {
    uint32_t g = safe32(f, first[i]);
    if (order > 0 && g >= s && g < s + SCRATCH_PAGES) g &= 0xff; /* low memory, aligned extents stay below 1 MiB */
    first[i] = g;
  }
}

static void tame_memory32(struct fuzzer *f, uint64_t *a) {
  uint32_t *r = slot(f);
  uint64_t frames = frame_list(f);
  switch ((uint32_t)a[0] & MEMOP_CMD_MASK) {
  case XENMEM_increase_reservation: case XENMEM_decrease_reservation:
  case XENMEM_populate_physmap: {
    /* compat_xen_memory_reservation: extent_start 0, nr_extents 4, extent_order 8, domid 16 */
    a[1] = (uint64_t)(uintptr_t)r;
    if (below(f, 2)) r[2] = (uint32_t)below(f, 3); /* (mostly an order > 9 otherwise: -EPERM) */
    if (r[2] > 8 && r[2] <= 9) r[2] = 8; /* 2 MiB from frame 0 is the kernel */
    if (below(f, 8) == 0) {
      r[0] = (uint32_t)no_memory(f);
      break;
    }
    uint32_t at = (uint32_t)below(f, PAGE / 4 - 4);
    r[0] = (uint32_t)(frames + 4 * at);
    if (r[1] > PAGE / 4 - at) r[1] = (uint32_t)below(f, 4); /* a list that would run past the page */
    if (below(f, 2)) ((uint16_t *)r)[8] = DOMID_SELF; /* (a random domid is refused first) */
    safe_extents(f, (uint32_t *)(uintptr_t)frames + at, r[1], r[2]);
    break;
  }
  case XENMEM_add_to_physmap: /* idx 8, gpfn 12 */
    a[1] = (uint64_t)(uintptr_t)r;
    r[2] = (uint32_t)safe_gfn(f);
    r[3] = (uint32_t)safe_gfn(f);
    if (below(f, 2)) { /* reach the placement code too */
      ((uint16_t *)r)[0] = DOMID_SELF;
      r[1] = (uint32_t)below(f, 6); /* space: shared_info, grant_table, gmfn, gmfn_range, ... */
    }
    break;
  case XENMEM_remove_from_physmap: /* gpfn 4 */
    a[1] = (uint64_t)(uintptr_t)r;
    r[1] = (uint32_t)safe_gfn(f);
    break;
  case XENMEM_exchange: case XENMEM_add_to_physmap_batch: case XENMEM_acquire_resource:
  case XENMEM_set_memory_map:
    a[1] = below(f, 2) ? no_memory(f) : 0; /* frame lists at several offsets: only bad pointers */
    break;
  }
}

static void tame_grants32(struct fuzzer *f, uint64_t *a) {
  /* map: host_addr 0 (u64: two words); unmap: host_addr 0; copy: gmfns at 0 and 8; setup_table:
   * frame_list at 12. Every word of the array is safe both ways. */
  uint32_t *w = slot(f);
  for (unsigned i = 0; i < SLOT_BYTES / 4; i++)
    w[i] = below(f, 3) ? (uint32_t)safe_gfn(f)
                       : (below(f, 2) ? (uint32_t)((uintptr_t)f->scratch + below(f, 2 * PAGE)) : (uint32_t)below(f, 64));
  /* Elsewhere only where nothing is read (with any count): a guessed array in memory could copy
   * into our image (a gmfn) or point setup_table's frame list there. */
  int in_slot = below(f, 8) != 0;
  a[1] = in_slot ? (uint64_t)(uintptr_t)w | (a[1] & ~0xffffffffull) : no_memory(f);
  if (in_slot && (uint32_t)a[2] > SLOT_BYTES / 32) a[2] = below(f, SLOT_BYTES / 32 + 1);
}

void tame32(struct fuzzer *f, uint64_t nr64, uint64_t *a, int depth) {
  uint32_t nr = (uint32_t)nr64, cmd = (uint32_t)a[0];
  if (nr == __HYPERVISOR_multicall) {
    if (depth > 0) { a[0] = pointer(f); return; } /* nested: the hypervisor must refuse it */
    multicall_entries32(f, a, depth);
    return;
  }
  if (nr == __HYPERVISOR_sched_op) {
    if (cmd == SCHEDOP_shutdown || cmd == SCHEDOP_block) a[0] = SCHEDOP_yield;
    if (cmd == SCHEDOP_poll) { /* compat_sched_poll: ports 0, nr_ports 4, timeout 8 */
      struct compat_sched_poll *p = slot(f);
      a[1] = (uint64_t)(uintptr_t)p;
      p->nr_ports = (uint32_t)below(f, 4);
      p->timeout = hvm_now() + below(f, 2000000) + 1; /* never 0: that means no timeout */
    }
    if (cmd == SCHEDOP_shutdown_code) {
      uint32_t *s = slot(f);
      a[1] = (uint64_t)(uintptr_t)s;
      s[0] = SHUTDOWN_poweroff;
    }
    if (cmd == SCHEDOP_remote_shutdown || cmd == SCHEDOP_watchdog) { /* {u32, u32} in both ABIs */
      uint32_t *s = slot(f);
      a[1] = (uint64_t)(uintptr_t)s;
      if (cmd == SCHEDOP_remote_shutdown) {
        s[0] = below(f, 2) ? 0 : 0x7fef - (uint32_t)below(f, 100);
        if (s[0] == (uint32_t)pvkvm_domid()) s[0] = 0;
      } else {
        if (s[0] == 0) s[0] = 1 + (uint32_t)below(f, 3); /* id 0 claims one, which fires at once */
        s[1] = 0;
      }
    }
    return;
  }
  if (nr == __HYPERVISOR_vcpu_op) {
    if (below(f, 2)) a[1] = f->vcpu; /* its own timers and state (usually out of range otherwise) */
    switch (cmd) {
    case VCPUOP_initialise: case VCPUOP_up: case VCPUOP_down: case VCPUOP_register_vcpu_info:
    case VCPUOP_send_nmi: case VCPUOP_register_runstate_memory_area:
    case VCPUOP_register_vcpu_time_memory_area:
      a[1] = other_vcpu(f);
    }
    return;
  }
  if (nr == __HYPERVISOR_event_channel_op) { /* the same layouts in both ABIs */
    uint32_t *s = slot(f);
    switch (cmd) {
    case EVTCHNOP_close: case EVTCHNOP_bind_vcpu: case EVTCHNOP_unmask:
      a[1] = (uint64_t)(uintptr_t)s;
      if (s[0] < 32) s[0] = 32 + (uint32_t)below(f, 4096);
      break;
    case EVTCHNOP_reset:
      a[1] = (uint64_t)(uintptr_t)s;
      s[0] = 0;
      break;
    case EVTCHNOP_init_control: case EVTCHNOP_expand_array:
      a[1] = no_memory(f);
      break;
    }
    return;
  }
  if (nr == __HYPERVISOR_hvm_op) { /* xen_hvm_param: one layout; upcall vector: vcpu at 0 */
    struct xen_hvm_param *p = slot(f);
    if (below(f, 2)) p->domid = DOMID_SELF; /* (a random domid is refused first) */
    tame_hvm(f, cmd, a, p);
    return;
  }
  if (nr == __HYPERVISOR_memory_op) { tame_memory32(f, a); return; }
  if (nr == __HYPERVISOR_grant_table_op) { tame_grants32(f, a); return; }
  if (nr == __HYPERVISOR_console_io && cmd == 0 /* CONSOLEIO_write */ && (uint32_t)a[1] > 96 && below(f, 16))
    a[1] = below(f, 96); /* mostly short: the log is read by people */
}
