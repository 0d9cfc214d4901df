/* hello.c: the sample domU-sdk guest — greeting, Xen version, memory map, cmdline, modules, and
 * the first sector of its PV disk when it has one (pvkvm run --disk IMAGE). */
#include <pvkvm/pvkvm.h>
#include <pvkvm/block.h>

/* Print the text at the start of the first PV disk (up to the first NUL or 512 bytes). */
static void show_disk(void) {
  struct block_dev *disk;
  if (block_open_default(&disk) != 0) return; /* no xenstore or no device/vbd: nothing to show */
  static char sector[4096] __attribute__((aligned(4096)));
  long rc = block_read(disk, 0, 1, sector);
  if (rc == 0) {
    unsigned n = 0;
    while (n < disk->sector_size && n < sizeof(sector) && sector[n] != 0) n++;
    printf("PV disk: %llu sectors of %u bytes; sector 0 says:\n%.*s", (unsigned long long)disk->nr_sectors,
           disk->sector_size, (int)n, sector);
    if (n > 0 && sector[n - 1] != '\n') printf("\n");
  } else {
    printf("PV disk: reading sector 0 failed (%ld)\n", rc);
  }
  block_close(disk);
}

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
  show_disk();
  return 0;
}
