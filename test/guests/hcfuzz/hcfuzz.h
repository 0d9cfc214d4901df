/* hcfuzz.h: what the hcfuzz guest's files share: the per-vCPU fuzzer state, the generator
 * (gen.c), the taming of each ABI's calls (tame64.c, tame32.c) and the 32-bit entry (call32.S). */
#ifndef HCFUZZ_H
#define HCFUZZ_H
#include <pvkvm/pvkvm.h>

#define PAGE 4096ull
#define SCRATCH_PAGES 4
#define MAX_ERRNO 160
#define SLOTS 16        /* one per call of a multicall (at most MAX_ENTRIES) and the call itself */
#define SLOT_BYTES 512
#define MAX_ENTRIES 8
#define KREGION 0x100000ull /* the SDK kernel's 2 MiB page starts at 1 MiB (domU-sdk/link.ld) */

struct stats {
  uint64_t calls, answered, zero, positive, other, direct, high_nr, wrong;
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
  void *entries; /* a multicall's list (either ABI's entries), outside the scratch area too */
  struct stats st;
};

/* Set once by main before any vCPU fuzzes. */
extern uint64_t ram_top, hole, grant_frames;
extern int direct, hcpage_ok, nvcpus, abi32, window_refill;

/* gen.c: the seeded generator and its value classes. With abi32 set, every word it makes is
 * safe as the low 32 bits of an address and of a frame number (see safe32()). */
uint64_t rnd(struct fuzzer *f);
uint64_t below(struct fuzzer *f, uint64_t n);
uint64_t safe_gfn(struct fuzzer *f);
uint64_t pointer(struct fuzzer *f);
uint64_t word(struct fuzzer *f);
uint32_t safe32(const struct fuzzer *f, uint32_t v);
uint64_t pick_nr(struct fuzzer *f, int in_multicall);
uint64_t pick_cmd(struct fuzzer *f, uint64_t nr);
uint64_t other_vcpu(struct fuzzer *f);
uint64_t hvm_now(void);
void *slot(struct fuzzer *f);
void tame_hvm(struct fuzzer *f, uint32_t cmd, uint64_t *a, struct xen_hvm_param *p);
void refill(struct fuzzer *f);
void refill_windows(struct fuzzer *f, const uint64_t *a, unsigned n);
uint64_t frame_list(const struct fuzzer *f); /* the scratch page of safe frame numbers */

/* tame64.c / tame32.c: turn the shapes that would end or wedge the guest into harmless ones. */
void tame(struct fuzzer *f, uint64_t nr, uint64_t *a, int depth);
void tame32(struct fuzzer *f, uint64_t nr, uint64_t *a, int depth);

/* oracle32.c: check answers a 32-bit caller must get; returns how many were wrong. */
unsigned oracle32(struct fuzzer *f);

/* call32.c: one call from 32-bit compatibility mode. r = {RAX, RBX, RCX, RDX, RSI, RDI}, loaded
 * whole (upper halves too) before the switch; `target` is a stub of the hypercall page or
 * hc32_trap, a bare `out` to the trap port with the caller's EAX. Returns EAX sign-extended. */
long hc32_call(uint64_t target, const uint64_t r[6]);
extern const uint8_t hc32_trap[];
#endif
