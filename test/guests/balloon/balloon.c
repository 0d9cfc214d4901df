/* balloon: a small balloon driver — fills a region, then follows memory/target in xenstore by
 * giving frames back with XENMEM_decrease_reservation (so the host's memory use drops), checks
 * that current_reservation follows, and takes them back with XENMEM_populate_physmap (zeroed).
 * With touch=1 it reads a frame it gave back, which must end the domain. */
#include <pvkvm/pvkvm.h>


#define REGION_START (16ull << 20) /* above the image and its .bss, below the page arena */
#define REGION_PAGES 4096u         /* 16 MiB */
#define BATCH 256u

static void fail(const char *why) {
  printf("balloon: %s\n", why);
  test_exit(TEST_FAILURE);
}

static uint64_t frames[BATCH];

static long reservation(unsigned cmd, uint64_t first_pfn, unsigned n) {
  for (unsigned i = 0; i < n; i++) frames[i] = first_pfn + i;
  struct xen_memory_reservation r = {0};
  r.extent_start = (uint64_t)(uintptr_t)frames;
  r.nr_extents = n;
  r.extent_order = 0;
  r.domid = DOMID_SELF;
  return HYPERVISOR_memory_op(cmd, &r);
}

static long current_pages(void) {
  struct xen_memory_domain d = {.domid = DOMID_SELF};
  return HYPERVISOR_memory_op(XENMEM_current_reservation, &d);
}

static unsigned long long target_kib(void) {
  char v[32];
  if (xs_read(XBT_NIL, "memory/target", v, sizeof v) <= 0) return 0;
  return strtoull(v, NULL, 10);
}

/* touch=1: give a frame back, then read it. Its mapping is gone, as in Xen: at CPL 3 the domain
 * ends with a report, at CPL 0 (emulated) the read sees all-ones; never the old data or zero. */
static void touch_released(void) {
  volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)REGION_START;
  *p = 0x1234;
  CHECK_EQ(reservation(XENMEM_decrease_reservation, REGION_START / 4096, 1), 1);
  printf("balloon: reading frame %#llx after giving it back\n", (unsigned long long)(REGION_START / 4096));
  console_flush();
  uint64_t v = *p;
  printf("balloon: read %#llx from a released frame\n", (unsigned long long)v);
  /* Only CPL-0 code gets here on pvkvm: KVM's emulator runs it, and finds no memory at the frame,
   * so the access goes where Xen sends one with no p2m entry: reads all-ones, writes dropped. */
  CHECK_EQ(v, ~0ull);
  test_done();
}

int main(void) {
  REQUIRE_XEN();
  printf("balloon: at CPL %d\n", pvkvm_at_cpl3() ? 3 : 0); /* the SDK's default */
  if (pvkvm_cmdline_has("touch")) touch_released();
  CHECK_EQ(xs_init(), 0);
  uint64_t *region = (uint64_t *)(uintptr_t)REGION_START;
  unsigned long long bytes = (unsigned long long)REGION_PAGES * 4096;
  /* rep stosq: one instruction for the whole region, cheap even where kernel code is emulated. */
  uint64_t pattern = 0x5a5a5a5a5a5a5a5aull;
  unsigned long count = bytes / 8;
  void *dst = region;
  __asm__ volatile("rep stosq" : "+D"(dst), "+c"(count) : "a"(pattern) : "memory");
  long before = current_pages();
  unsigned long long start_kib = target_kib();
  printf("balloon: filled %u pages, reservation %ld, target %llu KiB\n", REGION_PAGES, before, start_kib);
  console_flush();

  /* Wait until the toolstack lowers the target (pvkvm mem-set). */
  CHECK_EQ(xs_watch("memory/target", "t"), 0);
  unsigned long long want = start_kib;
  uint64_t deadline = deadline_after(120 * NSEC_PER_SEC);
  while (want >= start_kib) {
    char path[64], tok[8];
    if (pvkvm_time_ns() > deadline) fail("memory/target never went down");
    if (xs_wait_watch(path, sizeof path, tok, sizeof tok, NSEC_PER_SEC) == 0) want = target_kib();
  }
  unsigned long long give_pages = (start_kib - want) / 4;
  if (give_pages > REGION_PAGES) give_pages = REGION_PAGES;
  unsigned given = 0;
  while (given < give_pages) {
    unsigned n = give_pages - given < BATCH ? (unsigned)(give_pages - given) : BATCH;
    long done = reservation(XENMEM_decrease_reservation, REGION_START / 4096 + given, n);
    CHECK_EQ(done, (long)n);
    given += n;
  }
  long after = current_pages();
  printf("balloon: released %u pages, reservation %ld\n", given, after);
  console_flush();
  CHECK_EQ(after, before - (long)given);
  /* Released frames are unmapped (touch=1 checks that); the next one is intact. */
  CHECK_EQ(region[given * 512], pattern);
  /* Giving a frame back twice stops the walk there: 0 extents done. */
  CHECK_EQ(reservation(XENMEM_decrease_reservation, REGION_START / 4096, 1), 0);

  /* The test reads the host's memory use now; wait for its go-ahead to take the frames back. */
  CHECK_EQ(xs_write(XBT_NIL, "data/balloon", "released"), 0);
  CHECK_EQ(xs_watch("data/refill", "r"), 0);
  char v[8];
  deadline = deadline_after(120 * NSEC_PER_SEC);
  while (xs_read(XBT_NIL, "data/refill", v, sizeof v) <= 0) {
    char path[64], tok[8];
    if (pvkvm_time_ns() > deadline) fail("no go-ahead to refill");
    xs_wait_watch(path, sizeof path, tok, sizeof tok, NSEC_PER_SEC);
  }
  for (unsigned done = 0; done < given;) {
    unsigned n = given - done < BATCH ? given - done : BATCH;
    CHECK_EQ(reservation(XENMEM_populate_physmap, REGION_START / 4096 + done, n), (long)n);
    done += n;
  }
  CHECK_EQ(current_pages(), before);
  CHECK_EQ(region[0], 0ull);
  printf("balloon: repopulated %u pages\n", given);
  test_done();
}
