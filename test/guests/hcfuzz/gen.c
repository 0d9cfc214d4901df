/*
 * gen.c: hcfuzz's seeded generator — hypercall numbers, pointer classes, interesting integers,
 * frame numbers, and the scratch area struct arguments are read from.
 *
 * For the 64-bit ABI (the default) the classes are as the header of hcfuzz.c lists. For abi=32
 * every register is truncated to 32 bits by the hypervisor and every handle, xen_ulong_t and
 * xen_pfn_t in a struct is 4 bytes, so any 4-byte word may end up read as an address or as a
 * frame number: each class then keeps its low 32 bits off our own RAM in both readings
 * (safe32()), and "non-canonical" and "unmapped" become the hole, the top of 4 GiB and upper
 * halves of registers (hcfuzz.c) the hypervisor must drop.
 */
#include "hcfuzz.h"

uint64_t rnd(struct fuzzer *f) {
  uint64_t x = f->rng; /* xorshift64* */
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  f->rng = x;
  return x * 0x2545f4914f6cdd1dull;
}
uint64_t below(struct fuzzer *f, uint64_t n) { return n ? rnd(f) % n : 0; }

static const uint64_t interesting[] = {
    0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512, 4095, 4096, 4097,
    0x7fff, 0x8000, 0xffff, 0x10000, 0x7ff0, 0x7ff1, 0x7ff2, 0x7ff3, 0x7ff4, 0x7ffe, 0x7fffffff,
    0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
    ~0ull, ~0ull - 1, ~0ull - 4095,
};
#define NR_INTERESTING (sizeof(interesting) / sizeof(interesting[0]))

static uint64_t scratch_at(const struct fuzzer *f) { return (uint64_t)(uintptr_t)f->scratch; }

uint64_t frame_list(const struct fuzzer *f) { return scratch_at(f) + (SCRATCH_PAGES - 1) * PAGE; }

/*
 * 32-bit: v as an address must not reach our RAM above 1 MiB (the kernel, the image, the stacks)
 * except our scratch area, and as a frame number not a frame of it except scratch frames. A word
 * that would is moved above 2 GiB (past RAM, which main checks is smaller), keeping its low bits.
 */
uint32_t safe32(const struct fuzzer *f, uint32_t v) {
  uint64_t s = scratch_at(f);
  int scratch = v >= s && v < s + SCRATCH_PAGES * PAGE;
  int scratch_frame = v >= (s >> 12) && v < (s >> 12) + SCRATCH_PAGES;
  int ram = v >= KREGION && v < ram_top;
  int ram_frame = v >= (KREGION >> 12) && v < (ram_top >> 12);
  return (ram && !scratch) || (ram_frame && !scratch_frame) ? v | 0x80000000u : v;
}

/* A frame number the hypervisor may do anything with without killing us: a scratch frame,
 * one in low memory (unused by the SDK on pvkvm), or one beyond RAM. */
uint64_t safe_gfn(struct fuzzer *f) {
  if (abi32) {
    /* Also safe as an address: beyond-RAM frames stay below the hole (whose first 4 pages
     * pointers use as "not memory"), and large ones are above RAM either way. */
    switch (below(f, 5)) {
    case 0: return (scratch_at(f) >> 12) + below(f, SCRATCH_PAGES - 1);
    case 1: return below(f, 0x100);
    case 2: return (ram_top >> 12) + below(f, (hole - ram_top) >> 12);
    case 3: return ram_top + below(f, 0x80000000u - ram_top);
    default: return 0x80000000u | (uint32_t)rnd(f);
    }
  }
  switch (below(f, 5)) {
  case 0: return (scratch_at(f) >> 12) + below(f, SCRATCH_PAGES - 1);
  case 1: return below(f, 0x100);
  case 2: return (ram_top >> 12) + below(f, 0x10000);
  case 3: return 0xfffffull + below(f, 1ull << 40);
  default: return rnd(f) | (1ull << 36);
  }
}

/* The hypercall page as a target: at CPL 0 it is ours to scribble (restored after each call),
 * not when the call runs a stub (a write there would land under the running stub). */
static uint64_t hcpage_or_scratch(struct fuzzer *f) {
  if (hcpage_ok && !f->via_stub && f->image_ok) return (uint64_t)(uintptr_t)pvkvm_hypercall_page + below(f, PAGE);
  return scratch_at(f) + below(f, PAGE);
}

static uint64_t shared_info_or_scratch(struct fuzzer *f) {
  if (!f->image_ok) return scratch_at(f) + below(f, PAGE);
  return (uint64_t)(uintptr_t)pvkvm_shared_info() + below(f, PAGE);
}

/* 32-bit pointer classes (the upper halves the hypervisor must drop are added per call). */
static uint64_t pointer32(struct fuzzer *f) {
  uint64_t s = scratch_at(f);
  switch (below(f, 14)) {
  case 0: return 0;
  case 1: return safe32(f, (uint32_t)below(f, 0x1000));
  case 2: return s + below(f, (SCRATCH_PAGES - 1) * PAGE); /* any alignment */
  case 3: return s + PAGE - 1 - below(f, 64);               /* spans two scratch pages */
  case 4: return ram_top - 1 - below(f, 256);               /* spans the end of RAM */
  case 5: return hole + below(f, PAGE * 4);                  /* identity-mapped, not RAM */
  case 6: return shared_info_or_scratch(f);
  case 7: return grant_frames ? grant_frames + below(f, 4 * PAGE) : s;
  case 8: return hcpage_or_scratch(f);
  case 9: return 0xffffffffu - below(f, 64); /* runs past 4 GiB */
  case 10: return safe32(f, (uint32_t)interesting[below(f, NR_INTERESTING)]);
  case 11: return ram_top + below(f, 0x80000000u - ram_top); /* beyond RAM */
  default: return safe32(f, (uint32_t)rnd(f));
  }
}

/* A pointer-ish argument word. */
uint64_t pointer(struct fuzzer *f) {
  if (abi32) return pointer32(f);
  uint64_t s = scratch_at(f);
  switch (below(f, 15)) {
  case 0: return 0;
  case 1: return below(f, 0x1000);
  case 2: return s + below(f, (SCRATCH_PAGES - 1) * PAGE); /* any alignment */
  case 3: return s + PAGE - 1 - below(f, 64);               /* spans two scratch pages */
  case 4: return ram_top - 1 - below(f, 256);               /* spans the end of RAM */
  case 5: return 0x123400000000ull + below(f, 1ull << 30);  /* canonical, unmapped */
  case 6: return 0xdead00000000ull ^ (rnd(f) << 48);        /* mostly non-canonical */
  case 7: return hole + below(f, PAGE * 4);                  /* identity-mapped, not RAM */
  case 8: return shared_info_or_scratch(f);
  case 9: return grant_frames ? grant_frames + below(f, 4 * PAGE) : s;
  case 10: /* the kernel's own memory: the SDK's kernel must refuse it from CPL 3 */
    if (!direct) return KREGION + below(f, 0x100000);
    /* fallthrough */
  case 11: return hcpage_or_scratch(f);
  case 12: return 0xffffffffull - below(f, 64); /* the top of the 4 GiB identity map */
  case 13: return interesting[below(f, NR_INTERESTING)];
  default: return rnd(f);
  }
}

uint64_t word(struct fuzzer *f) {
  switch (below(f, 6)) {
  case 0: return pointer(f);
  case 1: return safe_gfn(f);
  case 2: return abi32 ? safe32(f, (uint32_t)rnd(f)) : rnd(f);
  case 3: return below(f, 64);
  default: {
    uint64_t v = interesting[below(f, NR_INTERESTING)];
    return abi32 ? safe32(f, (uint32_t)v) : v;
  }
  }
}

/* Rewrite the struct-page words from index `first` (in words of the ABI's width) up to `end`. */
static void rewrite(struct fuzzer *f, uint64_t first, uint64_t end) {
  if (abi32) {
    uint32_t *w = (uint32_t *)f->scratch;
    for (uint64_t i = first; i < end && i < (SCRATCH_PAGES - 1) * PAGE / 4; i++) w[i] = (uint32_t)word(f);
  } else {
    uint64_t *w = (uint64_t *)f->scratch;
    for (uint64_t i = first; i < end && i < (SCRATCH_PAGES - 1) * PAGE / 8; i++) w[i] = word(f);
  }
}

/* `n` entries of the frame-list page from entry `at` (8 bytes each, 4 for abi=32). */
static void rewrite_frames(struct fuzzer *f, unsigned at, unsigned n) {
  if (abi32) {
    uint32_t *frames = (uint32_t *)(uintptr_t)frame_list(f);
    for (unsigned i = 0; i < n; i++) frames[at + i] = (uint32_t)safe_gfn(f);
  } else {
    uint64_t *frames = (uint64_t *)(uintptr_t)frame_list(f);
    for (unsigned i = 0; i < n; i++) frames[at + i] = safe_gfn(f);
  }
}

/* Refill the struct pages (not the frame-list page) with argument words. */
void refill(struct fuzzer *f) {
  unsigned width = abi32 ? 4 : 8;
  rewrite(f, 0, (SCRATCH_PAGES - 1) * PAGE / width);
  rewrite_frames(f, 0, PAGE / width);
}

/* Emulated CPL-0 code costs ~2k cycles an instruction: rewriting 16 KiB of words per call would be
 * nearly all of a kernel-mode run. There (refill=window) the whole area is filled once, and each
 * call rewrites only what it can read first: the first 512 bytes (where tame() builds structs),
 * the 128 bytes at each of the `n` arguments that points into the struct pages, and 16
 * frame-list entries. */
void refill_windows(struct fuzzer *f, const uint64_t *a, unsigned n) {
  unsigned width = abi32 ? 4 : 8;
  uint64_t s = scratch_at(f);
  rewrite(f, 0, 512 / width);
  for (unsigned j = 0; j < n; j++) {
    uint64_t p = abi32 ? (uint32_t)a[j] : a[j];
    if (p < s || p >= s + (SCRATCH_PAGES - 1) * PAGE) continue;
    rewrite(f, (p - s) / width, (p - s) / width + 128 / width);
  }
  rewrite_frames(f, (unsigned)below(f, PAGE / width - 16), 16);
}

/* Implemented families are drawn more often; the rest covers every number in the page. */
static const unsigned families[] = {
    __HYPERVISOR_memory_op, __HYPERVISOR_multicall, __HYPERVISOR_set_timer_op,
    __HYPERVISOR_xen_version, __HYPERVISOR_console_io, __HYPERVISOR_grant_table_op,
    __HYPERVISOR_vm_assist, __HYPERVISOR_vcpu_op, __HYPERVISOR_sched_op,
    __HYPERVISOR_event_channel_op, __HYPERVISOR_hvm_op,
};

uint64_t pick_nr(struct fuzzer *f, int in_multicall) {
  unsigned r = (unsigned)below(f, 100);
  if (r < 65) return families[below(f, sizeof(families) / sizeof(families[0]))];
  if (r < 90 || in_multicall) return below(f, 64);
  if (r < 95) return 64 + below(f, 64);
  if (!direct) return 128 + below(f, 128); /* up to the kernel's own calls (KCALL_BASE) */
  /* (for abi=32 the hypervisor sees the low half: past the page but for 1 in 2^25) */
  if (abi32) return below(f, 2) ? 128 + below(f, (1ull << 16) - 128) : rnd(f) | 0x80000000u;
  return below(f, 2) ? below(f, 1ull << 16) : rnd(f);
}

/*
 * A sub-op for family `nr`. With abi=32 (slow, so fewer calls) mostly one the hypervisor may
 * implement, from the family's range of commands; otherwise any of 0..31, as the 64-bit fuzzer
 * has always drawn (its seeds keep their sequences).
 */
uint64_t pick_cmd(struct fuzzer *f, uint64_t nr) {
  if (!abi32 || below(f, 4) == 0) return below(f, 32);
  switch (nr) {
  case __HYPERVISOR_memory_op: return below(f, 16);
  case __HYPERVISOR_grant_table_op: return below(f, 13);
  case __HYPERVISOR_sched_op: return below(f, 8);
  case __HYPERVISOR_event_channel_op: return below(f, 14);
  case __HYPERVISOR_vcpu_op: return below(f, 14);
  case __HYPERVISOR_xen_version: return below(f, 15);
  case __HYPERVISOR_console_io: return below(f, 3);
  case __HYPERVISOR_hvm_op: {
    static const uint8_t hvm[] = {HVMOP_set_param, HVMOP_get_param, HVMOP_flush_tlbs, HVMOP_pagetable_dying,
                                  HVMOP_get_time, HVMOP_get_mem_type, HVMOP_set_evtchn_upcall_vector};
    return hvm[below(f, sizeof(hvm))];
  }
  default: return below(f, 32);
  }
}

uint64_t hvm_now(void) {
  struct xen_hvm_get_time t = {0};
  return HYPERVISOR_hvm_op(HVMOP_get_time, &t) == 0 ? t.now : 0;
}

uint64_t other_vcpu(struct fuzzer *f) {
  /* out of range, also as the low 32 bits the hypervisor keeps */
  return (uint64_t)nvcpus + below(f, 2) * below(f, (1ull << 32) - (uint64_t)nvcpus);
}

/*
 * The struct a tamed call reads, in a slot of its own that no fuzzed pointer reaches: in scratch,
 * an earlier entry of the same multicall (or the call's own other arguments) could rewrite it
 * after tame() made it safe, e.g. a shutdown_code reason or a reservation's extent list (seed 4
 * at CPL 0 latched shutdown reason 226 that way). Filled with scratch words, then tamed.
 */
void *slot(struct fuzzer *f) {
  uint8_t *p = f->slots[f->next_slot++ % SLOTS];
  memcpy(p, f->scratch + 8 * below(f, ((SCRATCH_PAGES - 1) * PAGE - SLOT_BYTES) / 8), SLOT_BYTES);
  return p;
}

/* HVMOP_set_param and set_evtchn_upcall_vector, in either ABI (one layout): never the params the
 * SDK relies on (CALLBACK_IRQ would also latch the i386 shared_info from 32-bit mode), never a
 * vCPU that exists. `p` is the call's struct, in a slot. */
void tame_hvm(struct fuzzer *f, uint32_t cmd, uint64_t *a, struct xen_hvm_param *p) {
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
}
