/*
 * grantcopy: the cost of GNTTABOP_copy of 4 KiB from a granted page (a grant reference of this
 * domain, granted to itself) into a local frame, against a plain 4 KiB memcpy, in one run.
 * Prints `copy_cycles=X batch_copy_cycles=Y memcpy_cycles=Z` (per 4 KiB) and the test result;
 * the memcpy baseline is a word-by-word loop;
 * every copy's data is verified once.
 */
#include <pvkvm/pvkvm.h>

#define BATCH 16

/* The baseline: a plain 8-byte-word copy loop (string instructions are emulated slowly on some
 * hosts, so `rep movsb` would understate memcpy). */
static void copy_words(void *d, const void *s, unsigned n) {
  uint64_t *dw = d;
  const uint64_t *sw = s;
  for (unsigned i = 0; i < n / 8; i++) dw[i] = sw[i];
}
static uint8_t src[BATCH][4096] __attribute__((aligned(4096)));
static uint8_t dst[BATCH][4096] __attribute__((aligned(4096)));
static struct gnttab_copy ops[BATCH];

static void fill_ops(domid_t self, const grant_ref_t *refs, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    memset(&ops[i], 0, sizeof(ops[i]));
    ops[i].source_u_ref = refs[i];
    ops[i].source_domid = self;
    ops[i].dest_u_ref = (uint32_t)((uintptr_t)dst[i] >> 12);
    ops[i].dest_domid = DOMID_SELF;
    ops[i].len = 4096;
    ops[i].flags = GNTCOPY_source_gref;
  }
}

int main(void) {
  REQUIRE_XEN();
  uint64_t e0 = rdtsc();
  for (unsigned k = 0; k < 64; k++) copy_words(dst[k % BATCH], src[k % BATCH], 4096);
  printf("grantcopy: early_memcpy_cycles=%llu\n", (unsigned long long)((rdtsc() - e0) / 64));
  /* A volatile loop: one load and one store of guest memory per iteration. */
  uint64_t a0 = rdtsc();
  volatile uint64_t acc = 0;
  for (unsigned k = 0; k < 20000; k++) acc += k;
  printf("grantcopy: loop_cycles_per_iter=%llu\n", (unsigned long long)((rdtsc() - a0) / 20000));
  REQUIRE(gnttab_init() == 0);
  domid_t self = (domid_t)pvkvm_domid();
  unsigned n = (unsigned)pvkvm_cmdline_ull("n", 4000);
  grant_ref_t refs[BATCH];
  for (unsigned i = 0; i < BATCH; i++) {
    for (unsigned j = 0; j < 4096; j++) src[i][j] = (uint8_t)(i * 31 + j * 7);
    long r = gnttab_grant_access(self, (uintptr_t)src[i] >> 12, 1);
    REQUIRE(r >= 0);
    refs[i] = (grant_ref_t)r;
  }
  /* Correctness once: every byte arrives. */
  fill_ops(self, refs, BATCH);
  CHECK_EQ(gnttab_copy(ops, BATCH), 0);
  for (unsigned i = 0; i < BATCH; i++) {
    CHECK_EQ(ops[i].status, GNTST_okay);
    CHECK(memcmp(src[i], dst[i], 4096) == 0);
  }
  uint64_t t0 = rdtsc();
  for (unsigned k = 0; k < n; k++) {
    fill_ops(self, refs, 1);
    gnttab_copy(ops, 1);
  }
  uint64_t single = (rdtsc() - t0) / n;
  t0 = rdtsc();
  for (unsigned k = 0; k < n / BATCH; k++) {
    fill_ops(self, refs, BATCH);
    gnttab_copy(ops, BATCH);
  }
  uint64_t batched = (rdtsc() - t0) / ((n / BATCH) * BATCH);
  t0 = rdtsc();
  for (unsigned k = 0; k < n; k++) {
    copy_words(dst[k % BATCH], src[k % BATCH], 4096);
    __asm__ volatile("" ::: "memory");
  }
  uint64_t plain = (rdtsc() - t0) / n;
  printf("grantcopy: copy_cycles=%llu batch_copy_cycles=%llu memcpy_cycles=%llu\n", (unsigned long long)single,
         (unsigned long long)batched, (unsigned long long)plain);
  test_done();
}
