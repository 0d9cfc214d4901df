/*
 * efault: hypercalls given pointers that are unmapped, beyond RAM or non-canonical must fail
 * with -XEN_EFAULT (and not hurt the domain); a good call afterwards still works.
 */
#include <pvkvm/pvkvm.h>

/* Canonical but with no page-table entry (our page tables map only the first 4 GiB). */
#define UNMAPPED ((void *)0x123400000000ULL)
#define UNMAPPED_HIGH ((void *)0xffff800000000000ULL)
/* Non-canonical: bits 63..47 are not all equal. (0xdead00000000 has bit 47 set.) */
#define NONCANONICAL ((void *)0xdead00000000ULL)
#define NONCANONICAL_HIGH ((void *)0x8000000000000000ULL)

/* A page-table-mapped address (identity map, first 4 GiB) that no memory-map entry covers. */
static void *beyond_ram(void) {
  const struct hvm_memmap_table_entry *map;
  unsigned n = pvkvm_memmap(&map);
  uint64_t top = 0;
  for (unsigned i = 0; i < n; i++)
    if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && map[i].addr + map[i].size > top)
      top = map[i].addr + map[i].size;
  for (uint64_t a = (top + (64ULL << 20)) & ~0xfffffULL; a < 0xf0000000ULL; a += 1ULL << 20) {
    int covered = 0;
    for (unsigned i = 0; i < n; i++)
      if (a + 4096 > map[i].addr && a < map[i].addr + map[i].size) covered = 1;
    if (!covered) return (void *)(uintptr_t)a;
  }
  return NULL;
}

int main(void) {
  REQUIRE_XEN();
  void *hole = beyond_ram();
  REQUIRE(hole != NULL);
  printf("efault: testing %p and %p (unmapped), %p (beyond RAM), %p and %p (non-canonical)\n",
         UNMAPPED, UNMAPPED_HIGH, hole, NONCANONICAL, NONCANONICAL_HIGH);

  void *const bad[] = {UNMAPPED, UNMAPPED_HIGH, hole, NONCANONICAL, NONCANONICAL_HIGH};
  for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    void *p = bad[i];
    printf("  pointer %p\n", p);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 16, p), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, p), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, p), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, p), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_hvm_op(HVMOP_get_param, p), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown, p), -XEN_EFAULT);

    /* A good xen_memory_map whose buffer is bad. */
    struct xen_memory_map mm = {0};
    mm.nr_entries = 8;
    mm.buffer = (uint64_t)(uintptr_t)p;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &mm), -XEN_EFAULT);
  }

  /* A write from the top of the identity map (not RAM) on into unmapped space above 4 GiB. */
  CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 64, (const char *)0xffffffe0ULL), -XEN_EFAULT);

  static const char good[] = "efault: a good console write still works\n";
  CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(good) - 1, good), 0);
  CHECK(HYPERVISOR_xen_version(XENVER_version, NULL) > 0);
  test_done();
}
