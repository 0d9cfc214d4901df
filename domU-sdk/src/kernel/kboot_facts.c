/*
 * kboot_facts.c: what the kernel's checks read about the machine — the RAM ranges of the boot
 * memory map and the domain's own id — copied into kernel memory at boot, before anything runs at
 * CPL 3. The start info, its memory map and the user side's cached CPUID base all lie in user
 * memory: read there at check time, user code could rewrite them and steer the checks (the
 * hypercall fuzzer once rewrote its start info to name a map of billions of entries beyond RAM,
 * and the kernel scanned MMIO forever; the grant-copy check compares with the domain id).
 */
#include <pvkvm/evtchn.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/start.h>
#include "kernel.h"

#define KRAM_MAX 64 /* RAM ranges kept; a loader's map has a handful */

static struct { uint64_t start, end; } kram[KRAM_MAX];
static unsigned kram_count;
static int kram_known; /* 0: the loader gave no map, and the checks go without one */
static int kdomid = -1;

void kboot_facts_init(void) {
  const struct hvm_memmap_table_entry *e;
  unsigned n = pvkvm_memmap(&e);
  kram_known = n != 0;
  for (unsigned i = 0; i < n && kram_count < KRAM_MAX; i++) {
    if (e[i].type != XEN_HVM_MEMMAP_TYPE_RAM || e[i].addr + e[i].size < e[i].addr) continue;
    kram[kram_count].start = e[i].addr;
    kram[kram_count].end = e[i].addr + e[i].size;
    kram_count++;
  }
  kdomid = pvkvm_xen_present() ? pvkvm_domid() : -1;
}

int kram_range(uint64_t addr, uint64_t len) {
  if (!kram_known) return 1;
  uint64_t end = addr + len;
  if (end < addr) return 0;
  for (unsigned i = 0; i < kram_count; i++)
    if (addr >= kram[i].start && end <= kram[i].end) return 1;
  return 0;
}

uint64_t kram_end_of(uint64_t addr) {
  for (unsigned i = 0; i < kram_count; i++)
    if (addr >= kram[i].start && addr < kram[i].end) return kram[i].end;
  return 0;
}

int kself_domid(void) { return kdomid; }
