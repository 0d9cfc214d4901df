// grant-table.ts: grant_table_op commands, grant entry v1, operation structs and GNTST codes
// (grant_table.h).
import { defineConstants, defineStruct } from './layout.ts';

export const GNTTABOP = defineConstants('grant_table_op commands', 'GNTTABOP_', {
  map_grant_ref: 0, unmap_grant_ref: 1, setup_table: 2, dump_table: 3, transfer: 4, copy: 5,
  query_size: 6, unmap_and_replace: 7, set_version: 8, get_status_frames: 9, get_version: 10,
  swap_grant_ref: 11, cache_flush: 12,
});

export const GTF = defineConstants('Grant entry flags', 'GTF_', {
  invalid: 0, permit_access: 1, accept_transfer: 2, transitive: 3, type_mask: 3,
  readonly: 1 << 2, reading: 1 << 3, writing: 1 << 4, PWT: 1 << 5, PCD: 1 << 6, PAT: 1 << 7,
  sub_page: 1 << 8,
});

export const GNTMAP = defineConstants('Grant map flags', 'GNTMAP_', {
  device_map: 1, host_map: 2, readonly: 4, application_map: 8, contains_pte: 16,
});

export const GNTCOPY = defineConstants('Grant copy flags', 'GNTCOPY_', {
  source_gref: 1, dest_gref: 2,
});

export const GNTST = defineConstants('Grant operation status codes', 'GNTST_', {
  okay: 0, general_error: -1, bad_domain: -2, bad_gntref: -3, bad_handle: -4, bad_virt_addr: -5,
  bad_dev_addr: -6, no_device_space: -7, permission_denied: -8, bad_page: -9, bad_copy_arg: -10,
  address_too_big: -11, eagain: -12,
}, { notInXen: [] });

export const GNTTAB = defineConstants('Grant table geometry', 'GNTTAB_', {
  NR_RESERVED_ENTRIES: 8,
});

export const GNTTAB_LIMITS = defineConstants('pvkvm grant table limits', 'PVKVM_GNTTAB_', {
  /** Grant frames a domain may have (v1: 512 entries each). */
  MAX_FRAMES: 32,
  ENTRIES_PER_FRAME_V1: 512,
}, { inXenHeaders: false });

export const GrantEntryV1 = defineStruct('grant_entry_v1', 8, [
  ['flags', 0, 'u16'], ['domid', 2, 'u16'], ['frame', 4, 'u32'],
]);

export const GnttabMapGrantRef = defineStruct('gnttab_map_grant_ref', 32, [
  ['host_addr', 0, 'u64'], ['flags', 8, 'u32'], ['ref', 12, 'u32'], ['dom', 16, 'u16'],
  ['status', 18, 'i16'], ['handle', 20, 'u32'], ['dev_bus_addr', 24, 'u64'],
]);

export const GnttabUnmapGrantRef = defineStruct('gnttab_unmap_grant_ref', 24, [
  ['host_addr', 0, 'u64'], ['dev_bus_addr', 8, 'u64'], ['handle', 16, 'u32'], ['status', 20, 'i16'],
]);

/**
 * i386 layouts of map and unmap. Their u64 fields (host_addr, dev_bus_addr) are only 4-byte
 * aligned there, but every one already sits at a multiple of 8 and the sizes are multiples of 8,
 * so nothing moves: named apart so the probe checks that under -m32.
 */
export const GnttabMapGrantRef32 = defineStruct('compat_gnttab_map_grant_ref', 32, [
  ['host_addr', 0, 'u64'], ['flags', 8, 'u32'], ['ref', 12, 'u32'], ['dom', 16, 'u16'],
  ['status', 18, 'i16'], ['handle', 20, 'u32'], ['dev_bus_addr', 24, 'u64'],
], { xenName: 'gnttab_map_grant_ref' });
export const GnttabUnmapGrantRef32 = defineStruct('compat_gnttab_unmap_grant_ref', 24, [
  ['host_addr', 0, 'u64'], ['dev_bus_addr', 8, 'u64'], ['handle', 16, 'u32'], ['status', 20, 'i16'],
], { xenName: 'gnttab_unmap_grant_ref' });

export const GnttabSetupTable = defineStruct('gnttab_setup_table', 24, [
  ['dom', 0, 'u16'], ['nr_frames', 4, 'u32'], ['status', 8, 'i16'], ['frame_list', 16, 'u64'],
]);

/** i386 layout: the frame_list handle is 4 bytes, and so is each xen_pfn_t it points to. */
export const GnttabSetupTable32 = defineStruct('compat_gnttab_setup_table', 16, [
  ['dom', 0, 'u16'], ['nr_frames', 4, 'u32'], ['status', 8, 'i16'], ['frame_list', 12, 'u32'],
], { xenName: 'gnttab_setup_table' });

/** Each side starts with a union: a grant reference, or (a DOMID_SELF side) a GFN. */
export const GnttabCopy = defineStruct('gnttab_copy', 40, [
  ['source.u.ref', 0, 'u32'], ['source.u.gmfn', 0, 'u64'], ['source.domid', 8, 'u16'], ['source.offset', 10, 'u16'],
  ['dest.u.ref', 16, 'u32'], ['dest.u.gmfn', 16, 'u64'], ['dest.domid', 24, 'u16'], ['dest.offset', 26, 'u16'],
  ['len', 32, 'u16'], ['flags', 34, 'u16'], ['status', 36, 'i16'],
], { unions: [['source.u.ref', 'source.u.gmfn'], ['dest.u.ref', 'dest.u.gmfn']] });

/** i386 layout: xen_pfn_t is 4 bytes, so each side's union is too. */
export const GnttabCopy32 = defineStruct('compat_gnttab_copy', 24, [
  ['source.u.ref', 0, 'u32'], ['source.u.gmfn', 0, 'u32'], ['source.domid', 4, 'u16'], ['source.offset', 6, 'u16'],
  ['dest.u.ref', 8, 'u32'], ['dest.u.gmfn', 8, 'u32'], ['dest.domid', 12, 'u16'], ['dest.offset', 14, 'u16'],
  ['len', 16, 'u16'], ['flags', 18, 'u16'], ['status', 20, 'i16'],
], { xenName: 'gnttab_copy', unions: [['source.u.ref', 'source.u.gmfn'], ['dest.u.ref', 'dest.u.gmfn']] });

export const GnttabQuerySize = defineStruct('gnttab_query_size', 16, [
  ['dom', 0, 'u16'], ['nr_frames', 4, 'u32'], ['max_nr_frames', 8, 'u32'], ['status', 12, 'i16'],
]);

export const GnttabSetVersion = defineStruct('gnttab_set_version', 4, [['version', 0, 'u32']]);
export const GnttabGetVersion = defineStruct('gnttab_get_version', 8, [['dom', 0, 'u16'], ['version', 4, 'u32']]);
export const GnttabSwapGrantRef = defineStruct('gnttab_swap_grant_ref', 12, [
  ['ref_a', 0, 'u32'], ['ref_b', 4, 'u32'], ['status', 8, 'i16'],
]);
