// memory.ts: memory_op sub-commands and argument structs (memory.h).
import { defineConstants, defineStruct } from './layout.ts';

export const XENMEM = defineConstants('memory_op commands', 'XENMEM_', {
  increase_reservation: 0, decrease_reservation: 1, maximum_ram_page: 2, current_reservation: 3,
  maximum_reservation: 4, machphys_mfn_list: 5, populate_physmap: 6, add_to_physmap: 7,
  memory_map: 9, machine_memory_map: 10, exchange: 11, machphys_mapping: 12, set_memory_map: 13,
  maximum_gpfn: 14, remove_from_physmap: 15, add_to_physmap_batch: 23, claim_pages: 24,
  get_vnumainfo: 26, reserved_device_memory_map: 27, acquire_resource: 28,
});

/** The op is `cmd & MEMOP_CMD_MASK`; higher bits carry a continuation extent. */
export const MEMOP = defineConstants('memory_op encoding', 'MEMOP_', {
  EXTENT_SHIFT: 6,
  CMD_MASK: 0x3f,
}, { inXenHeaders: false }); // Xen-internal (xen/hypercall.h), not in the public headers

export const XENMAPSPACE = defineConstants('add_to_physmap spaces', 'XENMAPSPACE_', {
  shared_info: 0, grant_table: 1, gmfn: 2, gmfn_range: 3, gmfn_foreign: 4, dev_mmio: 5,
});

/*
 * The i386 (compat) layouts below differ wherever a field is a xen_ulong_t, a xen_pfn_t or a guest
 * handle: all three are 4 bytes there.
 */

export const XenAddToPhysmap = defineStruct('xen_add_to_physmap', 24, [
  ['domid', 0, 'u16'],
  ['size', 2, 'u16'],
  ['space', 4, 'u32'],
  ['idx', 8, 'u64'],
  ['gpfn', 16, 'u64'],
]);

export const XenAddToPhysmap32 = defineStruct('compat_xen_add_to_physmap', 16, [
  ['domid', 0, 'u16'],
  ['size', 2, 'u16'],
  ['space', 4, 'u32'],
  ['idx', 8, 'u32'],
  ['gpfn', 12, 'u32'],
], { xenName: 'xen_add_to_physmap' });

export const XenRemoveFromPhysmap = defineStruct('xen_remove_from_physmap', 16, [
  ['domid', 0, 'u16'],
  ['gpfn', 8, 'u64'],
]);

export const XenRemoveFromPhysmap32 = defineStruct('compat_xen_remove_from_physmap', 8, [
  ['domid', 0, 'u16'],
  ['gpfn', 4, 'u32'],
], { xenName: 'xen_remove_from_physmap' });

export const XenMemoryReservation = defineStruct('xen_memory_reservation', 32, [
  ['extent_start', 0, 'u64'],
  ['nr_extents', 8, 'u64'],
  ['extent_order', 16, 'u32'],
  ['mem_flags', 20, 'u32'],
  ['domid', 24, 'u16'],
]);

export const XenMemoryReservation32 = defineStruct('compat_xen_memory_reservation', 20, [
  ['extent_start', 0, 'u32'],
  ['nr_extents', 4, 'u32'],
  ['extent_order', 8, 'u32'],
  ['mem_flags', 12, 'u32'],
  ['domid', 16, 'u16'],
], { xenName: 'xen_memory_reservation' });

/** In: `nr_entries` is the buffer's capacity; out: the number of entries written. */
export const XenMemoryMap = defineStruct('xen_memory_map', 16, [
  ['nr_entries', 0, 'u32'],
  ['buffer', 8, 'u64'],
]);

export const XenMemoryMap32 = defineStruct('compat_xen_memory_map', 8, [
  ['nr_entries', 0, 'u32'],
  ['buffer', 4, 'u32'],
], { xenName: 'xen_memory_map' });

/** The argument of current/maximum_reservation and maximum_gpfn; the same in both layouts. */
export const XenMemoryDomain = defineStruct('xen_memory_domain', 2, [
  ['domid', 0, 'u16'],
]);

/** The packed 20-byte E820 record XENMEM_memory_map fills (no Xen header names it). */
export const E820Entry = defineStruct('e820entry', 20, [
  ['addr', 0, 'u64'],
  ['size', 8, 'u64'],
  ['type', 16, 'u32'],
], { xenName: null });
