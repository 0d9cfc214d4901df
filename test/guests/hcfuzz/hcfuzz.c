/*
 * hcfuzz: a seeded, reproducible hypercall fuzzer. seed=N calls=N [trace=1] [hcpage=0] [refill_window=0|1]
 *
 * Random hypercall numbers (the implemented families, all of 0..63, the rest of the page and, at
 * CPL 0, any 64-bit RAX through the trap port directly), random sub-ops and argument words drawn
 * from pointer classes (NULL, unmapped, non-canonical, beyond RAM, misaligned, spanning pages,
 * spanning the end of RAM, shared_info, grant frames, the kernel's region, the hypercall page)
 * and interesting integers. Struct arguments live in a scratch area refilled from the same word
 * classes before every call. With the SDK's default mode the calls go through its kernel (which
 * checks them); with sdk.mode=kernel they go straight to the hypervisor. With more than one
 * vCPU every vCPU fuzzes, each from its own stream of the seed.
 *
 * Calls that would legitimately end or wedge the guest are turned into harmless shapes of the
 * same call, so that any guest death is a finding: shutdown and remote_shutdown of itself,
 * block (→ yield), poll (a timeout from HVMOP_get_time), the watchdog (only queries), vCPU
 * state changes and NMIs (out-of-range vCPUs), closing/rebinding the ports the SDK uses (ports
 * below 32 become others), evtchn reset of itself, the HVM params and upcall vector the SDK
 * relies on, and frame lists (only scratch frames, low memory or frames beyond RAM). Multicall
 * entries are generated, not random (a random entry could be any of the above).
 *
 * At CPL 0 (emulated, slow) the scratch area is filled once and only the parts a call reads first
 * are rewritten per call (refill_window=1, the default there; 0 rewrites all of it every call).
 *
 * Output: per-class counts of the answers ("hcfuzz: answers 0=… >0=… -14=…") and
 * "hcfuzz: answered A of N calls", then the test result (SUCCESS when every call returned).
 */
#include <pvkvm/pvkvm.h>

#define PAGE 4096ull
#define SCRATCH_PAGES 4
#define MAX_ERRNO 160
#define SLOTS 16        /* one per call of a multicall (at most MAX_ENTRIES) and the call itself */
#define SLOT_BYTES 512
#define MAX_ENTRIES 8
#define KREGION 0x100000ull /* the SDK kernel's 2 MiB page starts at 1 MiB (domU-sdk/link.ld) */

struct stats {
  uint64_t calls, answered, zero, positive, other, direct, high_nr;
  uint64_t err[MAX_ERRNO];
};

struct fuzzer {
  uint64_t rng;
  unsigned vcpu;
  uint8_t *scratch; /* SCRATCH_PAGES pages; the last holds only safe frame numbers */
  int via_stub;     /* this call runs the hypercall page's stub */
  int image_ok;     /* pointers into our own image's special pages (shared_info, the hypercall
                     * page) are allowed: only as top-level arguments of calls that write a few
                     * bytes there, not where a count could run the write on over our data */
  uint8_t (*slots)[SLOT_BYTES]; /* SLOTS tamed structs, outside the scratch area (see slot()) */
  unsigned next_slot;
  struct multicall_entry *entries; /* a multicall's list, outside the scratch area too */
  struct stats st;
};

static uint8_t scratch_area[PVKVM_NR_CPUS][SCRATCH_PAGES][PAGE] __attribute__((aligned(4096)));
static uint8_t slot_area[PVKVM_NR_CPUS][SLOTS][SLOT_BYTES] __attribute__((aligned(64)));
static struct multicall_entry entry_area[PVKVM_NR_CPUS][MAX_ENTRIES];
static uint8_t hcpage_copy[PAGE];
static uint64_t ram_top, hole, grant_frames;
static int direct, hcpage_ok, trace, nvcpus, window_refill;
static struct fuzzer fz[PVKVM_NR_CPUS];
static volatile int vcpu_done[PVKVM_NR_CPUS];

static uint64_t rnd(struct fuzzer *f) {
  uint64_t x = f->rng; /* xorshift64* */
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  f->rng = x;
  return x * 0x2545f4914f6cdd1dull;
}
static uint64_t below(struct fuzzer *f, uint64_t n) { return n ? rnd(f) % n : 0; }

static const uint64_t interesting[] = {
    0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512, 4095, 4096, 4097,
    0x7fff, 0x8000, 0xffff, 0x10000, 0x7ff0, 0x7ff1, 0x7ff2, 0x7ff3, 0x7ff4, 0x7ffe, 0x7fffffff,
    0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
    ~0ull, ~0ull - 1, ~0ull - 4095,
};

/* A frame number the hypervisor may do anything with without killing us: a scratch frame,
 * one in low memory (unused by the SDK on pvkvm), or one beyond RAM. */
static uint64_t safe_gfn(struct fuzzer *f) {
  switch (below(f, 5)) {
  case 0: return ((uint64_t)(uintptr_t)f->scratch >> 12) + below(f, SCRATCH_PAGES - 1);
  case 1: return below(f, 0x100);
  case 2: return (ram_top >> 12) + below(f, 0x10000);
  case 3: return 0xfffffull + below(f, 1ull << 40);
  default: return rnd(f) | (1ull << 36);
  }
}

/* A pointer-ish argument word. */
static uint64_t pointer(struct fuzzer *f) {
  uint64_t s = (uint64_t)(uintptr_t)f->scratch;
  switch (below(f, 15)) {
  case 0: return 0;
  case 1: return below(f, 0x1000);
  case 2: return s + below(f, (SCRATCH_PAGES - 1) * PAGE); /* any alignment */
  case 3: return s + PAGE - 1 - below(f, 64);               /* spans two scratch pages */
  case 4: return ram_top - 1 - below(f, 256);               /* spans the end of RAM */
  case 5: return 0x123400000000ull + below(f, 1ull << 30);  /* canonical, unmapped */
  case 6: return 0xdead00000000ull ^ (rnd(f) << 48);        /* mostly non-canonical */
  case 7: return hole + below(f, PAGE * 4);                  /* identity-mapped, not RAM */
  case 8:
    if (!f->image_ok) return s + below(f, PAGE);
    return (uint64_t)(uintptr_t)pvkvm_shared_info() + below(f, PAGE);
  case 9: return grant_frames ? grant_frames + below(f, 4 * PAGE) : s;
  case 10: /* the kernel's own memory: the SDK's kernel must refuse it from CPL 3 */
    if (!direct) return KREGION + below(f, 0x100000);
    /* fallthrough */
  case 11: /* the hypercall page: at CPL 0 it is ours to scribble (restored after each call) */
    /* (not when the call runs a stub: a write there would land under the running stub) */
    if (hcpage_ok && !f->via_stub && f->image_ok) return (uint64_t)(uintptr_t)pvkvm_hypercall_page + below(f, PAGE);
    return s + below(f, PAGE);
  case 12: return 0xffffffffull - below(f, 64); /* the top of the 4 GiB identity map */
  case 13: return interesting[below(f, sizeof(interesting) / sizeof(interesting[0]))];
  default: return rnd(f);
  }
}

static uint64_t word(struct fuzzer *f) {
  switch (below(f, 6)) {
  case 0: return pointer(f);
  case 1: return safe_gfn(f);
  case 2: return rnd(f);
  case 3: return below(f, 64);
  default: return interesting[below(f, sizeof(interesting) / sizeof(interesting[0]))];
  }
}

/* Refill the struct pages (not the frame-list page) with argument words. */
static void refill(struct fuzzer *f) {
  uint64_t *w = (uint64_t *)f->scratch;
  for (unsigned i = 0; i < (SCRATCH_PAGES - 1) * PAGE / 8; i++) w[i] = word(f);
  uint64_t *frames = (uint64_t *)(f->scratch + (SCRATCH_PAGES - 1) * PAGE);
  for (unsigned i = 0; i < PAGE / 8; i++) frames[i] = safe_gfn(f);
}

/* Emulated CPL-0 code costs ~2k cycles an instruction: rewriting 16 KiB of words per call would be
 * nearly all of a kernel-mode run. There (refill=window) the whole area is filled once, and each
 * call rewrites only what it can read first: the first 512 bytes (where tame() builds structs),
 * the 128 bytes at each argument that points into the struct pages, and 16 frame-list entries. */
static void refill_windows(struct fuzzer *f, const uint64_t *a) {
  uint64_t *w = (uint64_t *)f->scratch;
  uint64_t s = (uint64_t)(uintptr_t)f->scratch;
  for (unsigned i = 0; i < 512 / 8; i++) w[i] = word(f);
  for (int j = 0; j < 5; j++) {
    if (a[j] < s || a[j] >= s + (SCRATCH_PAGES - 1) * PAGE) continue;
    uint64_t first = (a[j] - s) / 8;
    for (uint64_t i = first; i < first + 16 && i < (SCRATCH_PAGES - 1) * PAGE / 8; i++) w[i] = word(f);
  }
  uint64_t *frames = (uint64_t *)(f->scratch + (SCRATCH_PAGES - 1) * PAGE);
  for (unsigned i = 0, at = (unsigned)below(f, PAGE / 8 - 16); i < 16; i++) frames[at + i] = safe_gfn(f);
}

/* Implemented families are drawn more often; the rest covers every number in the page. */
static const unsigned families[] = {
    __HYPERVISOR_memory_op, __HYPERVISOR_multicall, __HYPERVISOR_set_timer_op,
    __HYPERVISOR_xen_version, __HYPERVISOR_console_io, __HYPERVISOR_grant_table_op,
    __HYPERVISOR_vm_assist, __HYPERVISOR_vcpu_op, __HYPERVISOR_sched_op,
    __HYPERVISOR_event_channel_op, __HYPERVISOR_hvm_op,
};

static uint64_t pick_nr(struct fuzzer *f, int in_multicall) {
  unsigned r = (unsigned)below(f, 100);
  if (r < 65) return families[below(f, sizeof(families) / sizeof(families[0]))];
  if (r < 90 || in_multicall) return below(f, 64);
  if (r < 95) return 64 + below(f, 64);
  if (!direct) return 128 + below(f, 128); /* up to the kernel's own calls (KCALL_BASE) */
  return below(f, 2) ? below(f, 1ull << 16) : rnd(f);
}

static uint64_t hvm_now(void) {
  struct xen_hvm_get_time t = {0};
  return HYPERVISOR_hvm_op(HVMOP_get_time, &t) == 0 ? t.now : 0;
}

static uint64_t other_vcpu(struct fuzzer *f) {
  return (uint64_t)nvcpus + below(f, 2) * below(f, 1ull << 32); /* out of range */
}

/*
 * The struct a tamed call reads, in a slot of its own that no fuzzed pointer reaches: in scratch,
 * an earlier entry of the same multicall (or the call's own other arguments) could rewrite it
 * after tame() made it safe, e.g. a shutdown_code reason or a reservation's extent list (seed 4
 * at CPL 0 latched shutdown reason 226 that way). Filled with scratch words, then tamed.
 */
static void *slot(struct fuzzer *f) {
  uint8_t *p = f->slots[f->next_slot++ % SLOTS];
  memcpy(p, f->scratch + 8 * below(f, ((SCRATCH_PAGES - 1) * PAGE - SLOT_BYTES) / 8), SLOT_BYTES);
  return p;
}

/* Turn the shapes that would end or wedge the guest into harmless ones (see the header). */
static void tame(struct fuzzer *f, uint64_t nr, uint64_t *a, int depth);

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

static void tame(struct fuzzer *f, uint64_t nr, uint64_t *a, int depth) {
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
    if (cmd == HVMOP_set_param) {
      a[1] = (uint64_t)(uintptr_t)p;
      switch (p->index) {
      case HVM_PARAM_CALLBACK_IRQ: case HVM_PARAM_STORE_PFN: case HVM_PARAM_STORE_EVTCHN:
      case HVM_PARAM_CONSOLE_PFN: case HVM_PARAM_CONSOLE_EVTCHN:
        p->index = 64 + (uint32_t)below(f, 1000);
      }
    }
    if (cmd == HVMOP_set_evtchn_upcall_vector) {
      a[1] = (uint64_t)(uintptr_t)p;
      ((uint32_t *)p)[0] = (uint32_t)other_vcpu(f);
    }
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
    for (unsigned i = 0; i < 8 * 64 / 8 && (uint8_t *)(w + i) < f->scratch + 2 * PAGE; i++)
      w[i] = below(f, 3) ? safe_gfn(f) : (below(f, 2) ? (uint64_t)(uintptr_t)f->scratch + below(f, 2 * PAGE) : below(f, 64));
    return;
  }
  if (nr == __HYPERVISOR_console_io && cmd == 0 /* CONSOLEIO_write */ && a[1] > 96 && below(f, 16))
    a[1] = below(f, 96); /* mostly short: the log is read by people */
}

/* At CPL 0, straight to the trap port with a full 64-bit RAX (no stub, so no continuation). */
static long raw_trap(uint64_t nr, const uint64_t *a) {
  register uint64_t rax __asm__("rax") = nr;
  register uint64_t rdi __asm__("rdi") = a[0];
  register uint64_t rsi __asm__("rsi") = a[1];
  register uint64_t rdx __asm__("rdx") = a[2];
  register uint64_t r10 __asm__("r10") = a[3];
  register uint64_t r8 __asm__("r8") = a[4];
  __asm__ volatile("outb %%al, %[port]"
                   : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
                   : [port] "i"(PVKVM_HYPERCALL_TRAP_PORT)
                   : "memory", "cc", "rcx", "r11");
  return (long)rax;
}

static void count(struct stats *st, long rc) {
  st->answered++;
  if (rc == 0) st->zero++;
  else if (rc > 0) st->positive++;
  else if (rc > -MAX_ERRNO) st->err[-rc]++;
  else st->other++;
}

static void fuzz_one(struct fuzzer *f, uint64_t i) {
  uint64_t nr = pick_nr(f, 0);
  uint64_t a[5];
  /* At CPL 0 half the calls trap directly, the rest (and all at CPL 3) run the page's stub. */
  int raw = direct && (nr >= PVKVM_HYPERCALL_NR_STUBS || nr == __HYPERVISOR_iret || below(f, 2));
  f->via_stub = !raw;
  f->next_slot = 0;
  if (!window_refill) refill(f);
  f->image_ok = nr == __HYPERVISOR_xen_version || nr == __HYPERVISOR_hvm_op ||
                nr == __HYPERVISOR_event_channel_op || nr == __HYPERVISOR_sched_op ||
                nr == __HYPERVISOR_vcpu_op;
  a[0] = below(f, 4) ? below(f, 32) : word(f);
  for (int j = 1; j < 5; j++) a[j] = below(f, 4) ? pointer(f) : word(f);
  f->image_ok = 0;
  if (window_refill) refill_windows(f, a);
  tame(f, nr, a, 0);
  if (trace) printf("hcfuzz: v%u #%llu nr=%#llx %#llx %#llx %#llx %#llx %#llx\n", f->vcpu,
                    (unsigned long long)i, (unsigned long long)nr, (unsigned long long)a[0],
                    (unsigned long long)a[1], (unsigned long long)a[2], (unsigned long long)a[3],
                    (unsigned long long)a[4]);
  if (trace > 1 && a[1] >= (uint64_t)(uintptr_t)f->scratch && a[1] < (uint64_t)(uintptr_t)f->scratch + 3 * PAGE) {
    const uint64_t *w = (const uint64_t *)(uintptr_t)(a[1] & ~7ull);
    for (int j = 0; j < 40; j++) printf(" %#llx", (unsigned long long)w[j]);
    printf("\n");
  }
  f->st.calls++;
  long rc;
  if (raw || (direct && nr == __HYPERVISOR_event_channel_op && (uint32_t)a[0] == EVTCHNOP_send)) {
    /* (iret's stub is ud2 and the send stub reads the port itself: at CPL 0 either would be our
     * own fault, so they always trap directly) */
    f->st.direct++;
    rc = raw_trap(nr, a);
  } else {
    rc = hypercall5((unsigned)nr, a[0], a[1], a[2], a[3], a[4]);
  }
  if (nr >= PVKVM_HYPERCALL_NR_STUBS) f->st.high_nr++;
  if (hcpage_ok) memcpy(pvkvm_hypercall_page, hcpage_copy, PAGE);
  if (trace) printf("hcfuzz: v%u #%llu -> %ld\n", f->vcpu, (unsigned long long)i, rc);
  count(&f->st, rc);
}

static uint64_t ncalls;

static void fuzz_loop(void *arg) {
  struct fuzzer *f = arg;
  for (uint64_t i = 0; i < ncalls; i++) fuzz_one(f, i);
  vcpu_done[f->vcpu] = 1;
}

static uint64_t find_hole(void) {
  const struct hvm_memmap_table_entry *map;
  unsigned n = pvkvm_memmap(&map);
  for (uint64_t a = (ram_top + (64ULL << 20)) & ~0xfffffULL; a < 0xf0000000ULL; a += 1ULL << 20) {
    int covered = 0;
    for (unsigned i = 0; i < n; i++)
      if (a + 4 * PAGE > map[i].addr && a < map[i].addr + map[i].size) covered = 1;
    if (!covered) return a;
  }
  return 0x123400000000ull;
}

int main(void) {
  REQUIRE_XEN();
  uint64_t seed = pvkvm_cmdline_ull("seed", 1);
  ncalls = pvkvm_cmdline_ull("calls", 20000);
  trace = (int)pvkvm_cmdline_ull("trace", 0);
  direct = !pvkvm_at_cpl3();
  nvcpus = pvkvm_nr_vcpus();
  if (nvcpus > (int)PVKVM_NR_CPUS) nvcpus = (int)PVKVM_NR_CPUS;
  ram_top = pvkvm_ram_bytes();
  {
    const struct hvm_memmap_table_entry *map;
    unsigned n = pvkvm_memmap(&map);
    for (unsigned i = 0; i < n; i++)
      if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && map[i].addr + map[i].size > ram_top)
        ram_top = map[i].addr + map[i].size;
  }
  hole = find_hole();
  window_refill = (int)pvkvm_cmdline_ull("refill_window", direct);
  if (gnttab_init() == 0) grant_frames = (uint64_t)(uintptr_t)gnttab_entry(0);
  /* The hypercall page as a target only where one vCPU runs: another would run its stubs. */
  hcpage_ok = direct && nvcpus == 1 && pvkvm_cmdline_ull("hcpage", 1);
  if (hcpage_ok) memcpy(hcpage_copy, pvkvm_hypercall_page, PAGE);
  printf("hcfuzz: seed=%llu calls=%llu vcpus=%d mode=%s refill=%s ram_top=%#llx hole=%#llx grant_frames=%#llx\n",
         (unsigned long long)seed, (unsigned long long)ncalls, nvcpus, direct ? "kernel" : "user",
         window_refill ? "window" : "full",
         (unsigned long long)ram_top, (unsigned long long)hole, (unsigned long long)grant_frames);

  for (int v = 0; v < nvcpus; v++) {
    fz[v].rng = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)(v + 1) * 0xbf58476d1ce4e5b9ull;
    fz[v].vcpu = (unsigned)v;
    fz[v].scratch = scratch_area[v][0];
    fz[v].slots = slot_area[v];
    fz[v].entries = entry_area[v];
    if (window_refill) refill(&fz[v]);
  }
  if (nvcpus > 1) {
    CHECK_EQ(pvkvm_smp_prepare(), 0);
    for (int v = 1; v < nvcpus; v++) CHECK_EQ(pvkvm_start_vcpu((unsigned)v, fuzz_loop, &fz[v]), 0);
  }
  fuzz_loop(&fz[0]);
  /* The other vCPUs: poll until done; a vCPU that never finishes is a hang the runner sees. */
  for (int v = 1; v < nvcpus; v++)
    while (!vcpu_done[v]) HYPERVISOR_sched_op(SCHEDOP_yield, NULL);

  struct stats t = {0};
  for (int v = 0; v < nvcpus; v++) {
    t.calls += fz[v].st.calls; t.answered += fz[v].st.answered; t.zero += fz[v].st.zero;
    t.positive += fz[v].st.positive; t.other += fz[v].st.other; t.direct += fz[v].st.direct;
    t.high_nr += fz[v].st.high_nr;
    for (int e = 0; e < MAX_ERRNO; e++) t.err[e] += fz[v].st.err[e];
  }
  printf("hcfuzz: answers 0=%llu >0=%llu", (unsigned long long)t.zero, (unsigned long long)t.positive);
  for (int e = 1; e < MAX_ERRNO; e++)
    if (t.err[e]) printf(" -%d=%llu", e, (unsigned long long)t.err[e]);
  printf(" other=%llu\n", (unsigned long long)t.other);
  printf("hcfuzz: direct=%llu beyond-page=%llu\n", (unsigned long long)t.direct, (unsigned long long)t.high_nr);
  printf("hcfuzz: answered %llu of %llu calls\n", (unsigned long long)t.answered, (unsigned long long)t.calls);
  CHECK_EQ(t.answered, t.calls);
  CHECK_EQ(t.calls, ncalls * (uint64_t)nvcpus);
  /* The hypervisor still answers a good call as before. */
  CHECK(HYPERVISOR_xen_version(XENVER_version, NULL) > 0);
  test_done();
}
