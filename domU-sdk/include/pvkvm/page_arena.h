/*
 * pvkvm/page_arena.h: whole pages of RAM for buffers too big for .bss, never given back.
 *
 *   uint8_t (*ring)[4096] = page_arena_alloc(4 * 4096);   // 4 pages (not zeroed), or NULL
 *
 * Every SDK object is linked into every guest, so megabytes of driver buffers (blkfront's rings
 * and page pools) in .bss would weigh on guests that never use them. The arena hands out pages
 * from the top of the highest RAM region below 4 GiB (identity-mapped; the SDK has no heap and
 * nothing else uses that memory) downwards, and never below the image, the start info, its
 * memory map, the command line or the modules (the loader puts all of those right after the
 * image). The pages are not zeroed. Not thread-safe: allocate from one vCPU at a time.
 */
#ifndef PVKVM_PAGE_ARENA_H
#define PVKVM_PAGE_ARENA_H
#include <stddef.h>

#define PAGE_ARENA_PAGE_SIZE 4096u

/* bytes rounded up to whole pages, page-aligned; NULL when the arena has run out. */
void *page_arena_alloc(size_t bytes);

#endif
