/* page_arena.c: the page allocator of <pvkvm/page_arena.h> — RAM's top, downwards, never freed. */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/page_arena.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>

#define PAGE PAGE_ARENA_PAGE_SIZE

extern char __image_end[]; /* link.ld */
static uint64_t arena_top, arena_floor;

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* The lowest address the arena may hand out: above everything the loader placed. */
static uint64_t loaded_end(void) {
  const struct hvm_start_info *si = pvkvm_start_info();
  uint64_t floor = (uintptr_t)__image_end;
  if (!si) return floor;
  floor = max_u64(floor, (uintptr_t)si + sizeof(*si));
  uint64_t memmap_bytes = (uint64_t)si->memmap_entries * sizeof(struct hvm_memmap_table_entry);
  floor = max_u64(floor, si->memmap_paddr + memmap_bytes);
  if (si->cmdline_paddr) floor = max_u64(floor, si->cmdline_paddr + strlen(pvkvm_cmdline()) + 1);
  const struct hvm_modlist_entry *ml = (const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
  for (unsigned i = 0; ml && i < si->nr_modules; i++) {
    floor = max_u64(floor, (uintptr_t)&ml[i + 1]);
    floor = max_u64(floor, ml[i].paddr + ml[i].size);
  }
  return floor;
}

/* Place the arena in the highest RAM region below 4 GiB. 0, or -1 if there is none. */
static int arena_init(void) {
  const struct hvm_memmap_table_entry *e;
  unsigned n = pvkvm_memmap(&e);
  uint64_t floor = loaded_end();
  for (unsigned i = 0; i < n; i++) {
    if (e[i].type != XEN_HVM_MEMMAP_TYPE_RAM) continue;
    uint64_t lo = e[i].addr, hi = e[i].addr + e[i].size;
    if (hi > (1ull << 32)) hi = 1ull << 32;
    if (hi <= lo || (hi & ~(uint64_t)(PAGE - 1)) <= arena_top) continue;
    arena_top = hi & ~(uint64_t)(PAGE - 1);
    arena_floor = max_u64(lo, floor);
  }
  return arena_top ? 0 : -1;
}

void *page_arena_alloc(size_t bytes) {
  if (!arena_top && arena_init() < 0) return NULL;
  bytes = (bytes + PAGE - 1) & ~(size_t)(PAGE - 1);
  if (arena_top < arena_floor + bytes) return NULL;
  arena_top -= bytes;
  return (void *)(uintptr_t)arena_top;
}
