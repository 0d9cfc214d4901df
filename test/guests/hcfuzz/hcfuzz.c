/*
 * hcfuzz: a seeded, reproducible hypercall fuzzer.
 *   seed=N calls=N [trace=1] [hcpage=0] [refill_window=0|1] [abi=64|32]
 *
 * Random hypercall numbers (the implemented families, all of 0..63, the rest of the page and, at
 * CPL 0, any 64-bit RAX through the trap port directly), random sub-ops and argument words drawn
 * from pointer classes (NULL, unmapped, non-canonical, beyond RAM, misaligned, spanning pages,
 * spanning the end of RAM, shared_info, grant frames, the kernel's region, the hypercall page)
 * and interesting integers (gen.c). Struct arguments live in a scratch area refilled from the same
 * word classes before every call. With the SDK's default mode the calls go through its kernel
 * (which checks them); with sdk.mode=kernel they go straight to the hypervisor. With more than one
 * vCPU every vCPU fuzzes, each from its own stream of the seed.
 *
 * abi=32 (needs sdk.mode=kernel) makes every call from 32-bit compatibility mode (call32.c) with
 * the i386 convention and argument layouts: through the hypercall page's stubs, or a bare trap for
 * numbers past the page, iret, and half the rest; registers carry upper halves the hypervisor must
 * drop, and pointers are the 32-bit classes of gen.c (values above 4 GiB truncated, the top of
 * 4 GiB, the hole beyond RAM, ...).
 *
 * Calls that would legitimately end or wedge the guest are turned into harmless shapes of the
 * same call (tame64.c, tame32.c), so that any guest death is a finding: shutdown and
 * remote_shutdown of itself, block (→ yield), poll (a timeout from HVMOP_get_time), the watchdog
 * (only queries), vCPU state changes and NMIs (out-of-range vCPUs), closing/rebinding the ports
 * the SDK uses (ports below 32 become others), evtchn reset of itself, the HVM params and upcall
 * vector the SDK relies on, and frame lists (only scratch frames, low memory or frames beyond
 * RAM). Multicall entries are generated, not random (a random entry could be any of the above).
 *
 * At CPL 0 (emulated, slow) the scratch area is filled once and only the parts a call reads first
 * are rewritten per call (refill_window=1, the default there; 0 rewrites all of it every call).
 *
 * Output: per-class counts of the answers ("hcfuzz: answers 0=… >0=… -14=…"), for abi=32 the
 * wrong answers oracle32.c saw between calls ("hcfuzz: wrong answers W"), and "hcfuzz: answered A
 * of N calls", then the test result (SUCCESS when every call returned and none was wrong).
 */
#include "hcfuzz.h"

uint64_t ram_top, hole, grant_frames;
int direct, hcpage_ok, nvcpus, abi32, window_refill;
static uint8_t scratch_area[PVKVM_NR_CPUS][SCRATCH_PAGES][PAGE] __attribute__((aligned(4096)));
static uint8_t slot_area[PVKVM_NR_CPUS][SLOTS][SLOT_BYTES] __attribute__((aligned(64)));
static struct multicall_entry entry_area[PVKVM_NR_CPUS][MAX_ENTRIES]; /* (compat entries are smaller) */
static uint8_t hcpage_copy[PAGE];
static int trace;
static struct fuzzer fz[PVKVM_NR_CPUS];
static volatile int vcpu_done[PVKVM_NR_CPUS];

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

/* From 32-bit mode: a stub of the page, or the bare trap (see call32.c). A quarter of the
 * registers get upper halves (values above 4 GiB): the hypervisor must see only the low 32 bits. */
static long call32(struct fuzzer *f, uint64_t nr, const uint64_t *a, int raw) {
  uint64_t r[6] = {nr, a[0], a[1], a[2], a[3], a[4]};
  for (int j = 0; j < 6; j++)
    if (below(f, 4) == 0) r[j] |= rnd(f) << 32;
  return hc32_call(raw ? (uint64_t)(uintptr_t)hc32_trap : pvkvm_hypercall_stub((unsigned)nr), r);
}

/*
 * The frame list names our scratch frames among its safe ones (gen.c), and a decrease_reservation
 * that gives one back unmaps it: the next refill would then fault, as on Xen. After any call that
 * may have done so, the scratch pages (not the frame list itself, which names none of its own) are
 * populated again, zeroed; the next refill rewrites them.
 */
static void repopulate_scratch(struct fuzzer *f) {
  uint64_t gfns[SCRATCH_PAGES - 1];
  for (unsigned p = 0; p < SCRATCH_PAGES - 1; p++) gfns[p] = ((uint64_t)(uintptr_t)f->scratch >> 12) + p;
  struct xen_memory_reservation r = {.extent_start = (uint64_t)(uintptr_t)gfns, .nr_extents = SCRATCH_PAGES - 1, .domid = DOMID_SELF};
  long rc = HYPERVISOR_memory_op(XENMEM_populate_physmap, &r);
  if (rc != SCRATCH_PAGES - 1) printf("hcfuzz: v%u: repopulating the scratch pages: %ld\n", f->vcpu, rc);
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
  a[0] = below(f, 4) ? pick_cmd(f, nr) : word(f);
  for (int j = 1; j < 5; j++) a[j] = below(f, 4) ? pointer(f) : word(f);
  f->image_ok = 0;
  if (window_refill) refill_windows(f, a, 5);
  if (abi32) tame32(f, nr, a, 0);
  else tame(f, nr, a, 0);
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
  if (abi32) {
    /* (iret's stub is ud2; from 32-bit mode the 64-bit page's event_channel_op stub takes its
     * EVTCHNOP_send fast path when EDI, the fifth argument, is 4, and reads the port at ESI
     * itself: past 4 GiB that is our own #GP) */
    if (nr == __HYPERVISOR_event_channel_op && (uint32_t)a[4] == EVTCHNOP_send) raw = 1;
    if (raw) f->st.direct++;
    rc = call32(f, nr, a, raw);
  } else if (raw || (direct && nr == __HYPERVISOR_event_channel_op && (uint32_t)a[0] == EVTCHNOP_send)) {
    /* (iret's stub is ud2 and the send stub reads the port itself: at CPL 0 either would be our
     * own fault, so they always trap directly) */
    f->st.direct++;
    rc = raw_trap(nr, a);
  } else {
    rc = hypercall5((unsigned)nr, a[0], a[1], a[2], a[3], a[4]);
  }
  if (nr >= PVKVM_HYPERCALL_NR_STUBS) f->st.high_nr++;
  if (hcpage_ok) memcpy(pvkvm_hypercall_page, hcpage_copy, PAGE);
  if (nr == __HYPERVISOR_multicall || (nr == __HYPERVISOR_memory_op && (a[0] & MEMOP_CMD_MASK) == XENMEM_decrease_reservation))
    repopulate_scratch(f);
  if (trace) printf("hcfuzz: v%u #%llu -> %ld\n", f->vcpu, (unsigned long long)i, rc);
  count(&f->st, rc);
}

static uint64_t ncalls;

static void fuzz_loop(void *arg) {
  struct fuzzer *f = arg;
  for (uint64_t i = 0; i < ncalls; i++) {
    fuzz_one(f, i);
    if (abi32 && (i % 32 == 31 || i + 1 == ncalls)) f->st.wrong += oracle32(f);
  }
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
  unsigned abi = (unsigned)pvkvm_cmdline_ull("abi", 64);
  if (abi != 64 && abi != 32) {
    printf("hcfuzz: abi=%u: must be 64 or 32\n", abi);
    test_exit(TEST_FAILURE);
  }
  abi32 = abi == 32;
  /* 32-bit calls need CPL 0 (the SDK's gate is 64-bit); gen.c moves unsafe 32-bit words above
   * 2 GiB and uses the hole below 4 GiB as "not memory". */
  if (abi32 && (!direct || ram_top > 0x80000000ull || hole > 0xf0000000ull)) {
    printf("hcfuzz: abi=32 needs sdk.mode=kernel, RAM below 2 GiB and a hole below 4 GiB\n");
    test_exit(TEST_FAILURE);
  }
  window_refill = (int)pvkvm_cmdline_ull("refill_window", direct);
  if (gnttab_init() == 0) grant_frames = (uint64_t)(uintptr_t)gnttab_entry(0);
  /* The hypercall page as a target only where one vCPU runs: another would run its stubs. */
  hcpage_ok = direct && nvcpus == 1 && pvkvm_cmdline_ull("hcpage", 1);
  if (hcpage_ok) memcpy(hcpage_copy, pvkvm_hypercall_page, PAGE);
  printf("hcfuzz: seed=%llu calls=%llu vcpus=%d mode=%s abi=%u refill=%s ram_top=%#llx hole=%#llx grant_frames=%#llx\n",
         (unsigned long long)seed, (unsigned long long)ncalls, nvcpus, direct ? "kernel" : "user", abi,
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
    t.high_nr += fz[v].st.high_nr; t.wrong += fz[v].st.wrong;
    for (int e = 0; e < MAX_ERRNO; e++) t.err[e] += fz[v].st.err[e];
  }
  printf("hcfuzz: answers 0=%llu >0=%llu", (unsigned long long)t.zero, (unsigned long long)t.positive);
  for (int e = 1; e < MAX_ERRNO; e++)
    if (t.err[e]) printf(" -%d=%llu", e, (unsigned long long)t.err[e]);
  printf(" other=%llu\n", (unsigned long long)t.other);
  printf("hcfuzz: direct=%llu beyond-page=%llu\n", (unsigned long long)t.direct, (unsigned long long)t.high_nr);
  if (abi32) printf("hcfuzz: wrong answers %llu\n", (unsigned long long)t.wrong);
  printf("hcfuzz: answered %llu of %llu calls\n", (unsigned long long)t.answered, (unsigned long long)t.calls);
  CHECK_EQ(t.answered, t.calls);
  CHECK_EQ(t.wrong, 0);
  CHECK_EQ(t.calls, ncalls * (uint64_t)nvcpus);
  /* The hypervisor still answers a good call as before. */
  CHECK(HYPERVISOR_xen_version(XENVER_version, NULL) > 0);
  test_done();
}
