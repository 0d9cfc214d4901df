/*
 * preempt: reservation ops on huge extent lists, which the hypervisor does in runs with a
 * hypercall continuation between them (progress in the command's upper bits, as Xen does).
 * Checks, at CPL 0 (sdk.mode=kernel) or through the SDK kernel's checks at CPL 3:
 *   - 100,000 extents of decrease_reservation, then populate_physmap, then increase_reservation,
 *     each in one call: the whole count comes back and current_reservation follows;
 *   - a command that already carries progress bits starts there; a start at or past the end, and
 *     a list too long to encode progress for, return the start, as Xen does;
 *   - at CPL 0 with interrupts on: a timer event due during a call that would take very long is
 *     delivered in the middle of it (the handler shortens the list, which the re-issued call reads
 *     again), so the call ends early with the count done so far.
 * long=1: only start a call on a list so long it would take minutes (the test destroys the
 * domain during it). n=N: N extents instead of 100,000 in the huge-list checks.
 * hold=1: after the checks, print the result and wait to be destroyed (the test reads the
 * hypervisor's continuation counter meanwhile).
 */
#include <pvkvm/pvkvm.h>

#define PAGE 4096ull
#define REGION_START (64ull << 20) /* above the image, its .bss (the lists) and the page arena */
#define NBIG_MAX 100000u
#define NLONG (1u << 20)

static uint64_t big[NBIG_MAX];
static unsigned NBIG = NBIG_MAX; /* n= on the command line: fewer */
static uint64_t longlist[NLONG];
static uint8_t victim[PAGE] __attribute__((aligned(PAGE)));

static long reserve(unsigned long cmd, uint64_t *list, uint64_t n, struct xen_memory_reservation *r) {
  memset(r, 0, sizeof(*r));
  r->extent_start = (uint64_t)(uintptr_t)list;
  r->nr_extents = n;
  r->domid = DOMID_SELF;
  return hypercall2(__HYPERVISOR_memory_op, cmd, (unsigned long)r);
}

static long current_pages(void) {
  struct xen_memory_domain d = {.domid = DOMID_SELF};
  return HYPERVISOR_memory_op(XENMEM_current_reservation, &d);
}

static void huge_lists(void) {
  struct xen_memory_reservation r;
  volatile uint64_t *region = (volatile uint64_t *)(uintptr_t)REGION_START;
  for (unsigned i = 0; i < NBIG; i++) big[i] = REGION_START / PAGE + i;
  region[0] = 0x5a5a;
  long before = current_pages();
  CHECK_EQ(reserve(XENMEM_decrease_reservation, big, NBIG, &r), NBIG);
  CHECK_EQ(current_pages(), before - (long)NBIG);
  CHECK_EQ(reserve(XENMEM_populate_physmap, big, NBIG, &r), NBIG);
  CHECK_EQ(current_pages(), before);
  CHECK_EQ(region[0], 0); /* taken back zeroed */
  /* increase_reservation: pages without frames for a translated guest, counted only. */
  CHECK_EQ(reserve(XENMEM_decrease_reservation, big, NBIG, &r), NBIG);
  CHECK_EQ(reserve(XENMEM_increase_reservation, NULL, NBIG, &r), NBIG);
  CHECK_EQ(current_pages(), before);
  printf("preempt: %u extents of decrease, populate and increase in one call each\n", NBIG);
}

static void progress_bits(void) {
  struct xen_memory_reservation r;
  static uint64_t ten[10];
  for (unsigned i = 0; i < 10; i++) ten[i] = REGION_START / PAGE + NBIG + 16 + i;
  long before = current_pages();
  /* A continued call: extents 4..9 only, the count is the list's. */
  CHECK_EQ(reserve(XENMEM_decrease_reservation | (4ul << MEMOP_EXTENT_SHIFT), ten, 10, &r), 10);
  CHECK_EQ(current_pages(), before - 6);
  CHECK_EQ(reserve(XENMEM_populate_physmap | (4ul << MEMOP_EXTENT_SHIFT), ten, 10, &r), 10);
  CHECK_EQ(current_pages(), before);
  /* Started at or past the end: nothing done, the start returned. */
  CHECK_EQ(reserve(XENMEM_decrease_reservation | (10ul << MEMOP_EXTENT_SHIFT), ten, 10, &r), 10);
  CHECK_EQ(reserve(XENMEM_decrease_reservation | (20ul << MEMOP_EXTENT_SHIFT), ten, 10, &r), 20);
  /* More extents than a continuation can encode (2^26 - 1 at most): the start, nothing done. */
  CHECK_EQ(reserve(XENMEM_decrease_reservation, ten, 1ull << 26, &r), 0);
  CHECK_EQ(reserve(XENMEM_decrease_reservation | (3ul << MEMOP_EXTENT_SHIFT), ten, 1ull << 26, &r), 3);
  CHECK_EQ(current_pages(), before);
  printf("preempt: progress bits honoured\n");
}

static struct xen_memory_reservation long_call;
static volatile int in_call;
static volatile unsigned events_in_call;

/* VIRQ_TIMER during the long call: shorten the list; the re-issued call reads it again. */
static void on_timer(void *arg) {
  if (!in_call) return;
  events_in_call++;
  long_call.nr_extents = 0;
}

/* A list that names the victim frame NLONG times: populating it over and over takes very long. */
static void fill_long_list(void) {
  /* rep stosq: one instruction, cheap where kernel code is emulated. */
  void *dst = longlist;
  unsigned long count = NLONG;
  __asm__ volatile("rep stosq" : "+D"(dst), "+c"(count) : "a"((uintptr_t)victim / PAGE) : "memory");
}

/* long=1: start the very long call with interrupts off and never come back (the test destroys
 * the domain meanwhile). */
static void endless_call(void) {
  fill_long_list();
  static struct xen_memory_reservation r;
  printf("preempt: starting a call of %u extents\n", NLONG);
  console_flush();
  if (!pvkvm_at_cpl3()) cli();
  long done = reserve(XENMEM_populate_physmap, longlist, NLONG, &r);
  printf("preempt: the call returned %ld\n", done);
  test_done();
}

static void interrupted_call(void) {
  fill_long_list();
  REQUIRE(evtchn_init(EVTCHN_UPCALL_VECTOR) == 0);
  REQUIRE(pvkvm_timer_init() == 0);
  pvkvm_timer_set_hook(on_timer, NULL);
  memset(&long_call, 0, sizeof(long_call));
  long_call.extent_start = (uint64_t)(uintptr_t)longlist;
  long_call.nr_extents = NLONG;
  long_call.domid = DOMID_SELF;
  /* The whole list would take minutes; the timer is due in 1 ms. */
  CHECK_EQ(pvkvm_set_timer(pvkvm_time_ns() + NSEC_PER_MSEC), 0);
  in_call = 1;
  sti();
  long done = hypercall2(__HYPERVISOR_memory_op, XENMEM_populate_physmap, (unsigned long)&long_call);
  cli();
  in_call = 0;
  printf("preempt: the long call ended after %ld of %u extents, %u event(s) delivered during it\n", done, NLONG,
         events_in_call);
  CHECK_EQ(events_in_call, 1);
  CHECK(done > 0 && done < (long)NLONG);
  CHECK_EQ(long_call.nr_extents, 0);
}

int main(void) {
  REQUIRE_XEN();
  printf("preempt: at CPL %d\n", pvkvm_at_cpl3() ? 3 : 0);
  char n[16];
  if (pvkvm_cmdline_get("n", n, sizeof n) > 0) NBIG = (unsigned)strtoull(n, NULL, 10);
  REQUIRE(NBIG > 20 && NBIG <= NBIG_MAX);
  if (pvkvm_cmdline_has("long")) endless_call();
  huge_lists();
  progress_bits();
  /* The SDK kernel forwards calls from CPL 3 with interrupts off: only CPL-0 code gets events
   * in the middle of one. */
  if (!pvkvm_at_cpl3()) interrupted_call();
  if (pvkvm_cmdline_has("hold")) {
    printf("preempt: holding, %s\n", test_failures ? "FAILED" : "checks passed");
    console_flush();
    for (;;) HYPERVISOR_sched_op(SCHEDOP_block, NULL);
  }
  test_done();
}
