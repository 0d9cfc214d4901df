/* hello.c: the sample domU-sdk guest — prints a greeting, the Xen version and the RAM size. */
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
  return 0;
}
