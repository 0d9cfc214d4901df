/* hello.c: the sample domU-sdk guest — greeting, Xen version, memory map, cmdline and modules. */
#include <pvkvm/pvkvm.h>

int main(void) {
  printf("Hello from a pvkvm PVH guest!\n");

  long v = HYPERVISOR_xen_version(XENVER_version, NULL);
  if (v >= 0)
    printf("Xen version %lu.%lu\n", (unsigned long)v >> 16, (unsigned long)v & 0xffff);
  else
    printf("No Xen hypervisor interface (xen_version: %ld)\n", v);

  const struct hvm_memmap_table_entry *map;
  unsigned n = pvkvm_memmap(&map);
  printf("Memory map (%u entries):\n", n);
  for (unsigned i = 0; i < n; i++)
    printf("  0x%012llx-0x%012llx type %u\n", (unsigned long long)map[i].addr,
           (unsigned long long)(map[i].addr + map[i].size - 1), map[i].type);
  printf("RAM: %llu MiB\n", (unsigned long long)(pvkvm_ram_bytes() >> 20));
  if (*pvkvm_cmdline()) printf("Command line: %s\n", pvkvm_cmdline());

  /* Boot modules (pvkvm run --module FILE): identity-mapped, so their addresses are usable. */
  const struct hvm_start_info *si = pvkvm_start_info();
  const struct hvm_modlist_entry *mods = (const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
  for (unsigned i = 0; i < si->nr_modules; i++) {
    const uint8_t *data = (const uint8_t *)(uintptr_t)mods[i].paddr;
    unsigned sum = 0;
    for (uint64_t j = 0; j < mods[i].size; j++) sum = sum * 31 + data[j];
    printf("module %u: %llu bytes at 0x%llx, checksum %08x\n", i, (unsigned long long)mods[i].size,
           (unsigned long long)mods[i].paddr, sum);
  }
  return 0;
}
