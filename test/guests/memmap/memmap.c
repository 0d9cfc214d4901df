/*
 * memmap: the memory map from hvm_start_info matches the domain's size (cmdline mem=MiB),
 * XENMEM_memory_map returns the same map, the reservation calls agree, and the console and
 * xenstore rings lie outside RAM in a reserved entry.
 */
#include <pvkvm/pvkvm.h>

#define MAX_ENTRIES 64

static const struct hvm_memmap_table_entry *map;
static unsigned nmap;

static const struct hvm_memmap_table_entry *entry_containing(uint64_t addr) {
  for (unsigned i = 0; i < nmap; i++)
    if (addr >= map[i].addr && addr - map[i].addr < map[i].size) return &map[i];
  return NULL;
}

static void check_special_page(const char *name, uint32_t param) {
  uint64_t pfn = 0;
  long rc = pvkvm_hvm_get_param(param, &pfn);
  printf("%s pfn: %#llx (rc %ld)\n", name, (unsigned long long)pfn, rc);
  if (!CHECK_EQ(rc, 0) || !CHECK(pfn != 0)) return;
  const struct hvm_memmap_table_entry *e = entry_containing(pfn << 12);
  CHECK(e != NULL);
  if (e) CHECK_EQ(e->type, XEN_HVM_MEMMAP_TYPE_RESERVED);
  /* The whole page is inside that entry, so no RAM entry can overlap it. */
  if (e) CHECK(((pfn + 1) << 12) - e->addr <= e->size);
}

int main(void) {
  const struct hvm_start_info *si = pvkvm_start_info();
  REQUIRE(si != NULL);
  CHECK_EQ(si->magic, XEN_HVM_START_MAGIC_VALUE);
  CHECK(si->version >= 1);
  nmap = pvkvm_memmap(&map);
  REQUIRE(nmap > 0);
  uint64_t ram = 0;
  for (unsigned i = 0; i < nmap; i++) {
    printf("  0x%012llx-0x%012llx type %u\n", (unsigned long long)map[i].addr,
           (unsigned long long)(map[i].addr + map[i].size - 1), map[i].type);
    if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM) ram += map[i].size;
    for (unsigned j = 0; j < i; j++) /* no two entries overlap */
      CHECK(map[i].addr >= map[j].addr + map[j].size || map[j].addr >= map[i].addr + map[i].size);
  }
  printf("RAM in memory map: %llu KiB\n", (unsigned long long)(ram >> 10));
  REQUIRE_XEN();

  uint64_t mem_mib = pvkvm_cmdline_ull("mem", 0);
  if (mem_mib) CHECK_EQ(ram, mem_mib << 20);
  else printf("no mem=MiB on the command line: not checking the total\n");

  /* XENMEM_memory_map agrees with the start info. */
  static struct e820entry e820[MAX_ENTRIES];
  struct xen_memory_map mm = {0};
  mm.nr_entries = MAX_ENTRIES;
  mm.buffer = (uint64_t)(uintptr_t)e820;
  CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &mm), 0);
  CHECK_EQ(mm.nr_entries, nmap);
  for (unsigned i = 0; i < mm.nr_entries && i < nmap; i++) {
    CHECK_EQ(e820[i].addr, map[i].addr);
    CHECK_EQ(e820[i].size, map[i].size);
    CHECK_EQ(e820[i].type, map[i].type);
  }

  /* Reservations, in pages. */
  uint16_t domid = DOMID_SELF;
  long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &domid);
  long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &domid);
  long top = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, &domid);
  printf("current_reservation %ld, maximum_reservation %ld, maximum_ram_page %ld\n", cur, max, top);
  CHECK(cur > 0);
  if (mem_mib) CHECK_EQ(cur, (long)(mem_mib * 256));
  CHECK(max >= cur);

  check_special_page("console", HVM_PARAM_CONSOLE_PFN);
  check_special_page("xenstore", HVM_PARAM_STORE_PFN);
  test_done();
}
