/*
 * pvkvm/grant.h: grant tables v1 — sharing pages with other domains and mapping theirs.
 *
 *   gnttab_init();                                       // query_size, set_version(1), map frame 0
 *   long ref = gnttab_grant_access(peer, gfn, 0);        // peer may map/copy our page `gfn`
 *   ...
 *   if (gnttab_end_access(ref) == 0) ...                 // revoked (fails while the peer uses it)
 *
 *   grant_handle_t h;                                    // the other side:
 *   if (gnttab_map(granter, ref, 0xC0000000, 0, &h) == GNTST_okay) {
 *     volatile uint8_t *p = (volatile uint8_t *)0xC0000000;   // the granter's page
 *     ...
 *     gnttab_unmap(h, 0xC0000000);
 *   }
 *
 * Frames: gnttab_init maps grant frame i at GFN PVKVM_GNTTAB_GFN + i with
 * XENMEM_add_to_physmap(XENMAPSPACE_grant_table). That is beyond RAM (pvkvm guests have at most
 * 3 GiB) and below 4 GiB, so the SDK's identity map already covers it. gnttab_grant_access grows
 * the table one frame at a time (add_to_physmap of the next index) when it runs out of entries.
 *
 * Maps: for an HVM/PVH guest a grant map puts the granter's page at a guest-physical address of
 * our choosing (`gpa`, page-aligned, not RAM): use addresses from PVKVM_GNTTAB_MAP_BASE
 * (0xC0000000), also identity-mapped. A read-only map is really read-only: writes are dropped.
 *
 * Results: gnttab_map / gnttab_unmap / gnttab_copy_one return a GNTST_* status (0 = okay). If the
 * hypercall itself fails they return GNTST_general_error and gnttab_last_error() gives its -errno.
 * The entry allocator and the table are shared by all vCPUs (a spinlock guards the allocator).
 */
#ifndef PVKVM_GRANT_H
#define PVKVM_GRANT_H
#include <stdint.h>
#include <pvkvm/evtchn.h>
#include <xen-abi/grant-table.h>

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

/* Where gnttab_init places grant frame i (GFN), and a suggested area for mapping others' pages. */
#define PVKVM_GNTTAB_GFN 0xE0000u
#define PVKVM_GNTTAB_MAP_BASE 0xC0000000ull

/* Query the table size, select version 1 and map the current frames. 0 or -errno; idempotent. */
long gnttab_init(void);
/* Frames mapped now, and the most the hypervisor allows (0 before gnttab_init). */
unsigned gnttab_nr_frames(void);
unsigned gnttab_max_frames(void);
/* Map frames up to `nr_frames` (growing the table). 0 or -errno. */
long gnttab_grow(unsigned nr_frames);
/* Our entry `ref` (NULL before gnttab_init or beyond the mapped frames). */
volatile struct grant_entry_v1 *gnttab_entry(grant_ref_t ref);

/*
 * Grant `domid` access to our page `gfn` with the publish protocol: domid and frame first, a
 * write barrier, then the flags. Returns the reference (>= GNTTAB_NR_RESERVED_ENTRIES; the first
 * one in a fresh domain is 8) or -XEN_ENOSPC when the table is full at its maximum size.
 */
long gnttab_grant_access(domid_t domid, uint64_t gfn, int readonly);
/*
 * Revoke: compare-and-swap the flags to 0 only while neither GTF_reading nor GTF_writing is set,
 * then free the reference. 0, -XEN_EBUSY (the grantee has it mapped or is copying) or
 * -XEN_EINVAL (not a reference gnttab_grant_access handed out).
 */
long gnttab_end_access(grant_ref_t ref);

/* GNTTABOP_map_grant_ref (GNTMAP_host_map, plus GNTMAP_readonly) of `domid`'s `ref` at `gpa`. */
int gnttab_map(domid_t domid, grant_ref_t ref, uint64_t gpa, int readonly, grant_handle_t *handle);
/* GNTTABOP_unmap_grant_ref of `handle`, mapped at `gpa`. */
int gnttab_unmap(grant_handle_t handle, uint64_t gpa);

/* One side of a copy: a grant reference of `domid`, or (domid DOMID_SELF, is_ref 0) our own GFN. */
struct gnttab_copy_side {
  int is_ref;
  uint64_t ref_or_gfn;
  domid_t domid;
  uint16_t offset;
};
/* GNTTABOP_copy of `len` bytes from `src` to `dst`: the op's status. */
int gnttab_copy_one(const struct gnttab_copy_side *src, const struct gnttab_copy_side *dst, uint16_t len);
/* Raw GNTTABOP_copy: the hypercall's result; per-op statuses in ops[i].status. */
long gnttab_copy(struct gnttab_copy *ops, unsigned n);

/* The -errno of the last failed grant hypercall in the helpers above (0 if none). */
long gnttab_last_error(void);

#endif
