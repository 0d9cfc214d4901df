// version.ts: xen_version sub-commands, their buffers and the feature bits (version.h, features.h).
import { defineConstants, defineStruct } from './layout.ts';

export const XENVER = defineConstants('xen_version commands', 'XENVER_', {
  version: 0, extraversion: 1, compile_info: 2, capabilities: 3, changeset: 4,
  platform_parameters: 5, get_features: 6, pagesize: 7, guest_handle: 8, commandline: 9,
  build_id: 10, extraversion2: 11, capabilities2: 12, changeset2: 13, commandline2: 14,
}, { notInXen: ['extraversion2', 'capabilities2', 'changeset2', 'commandline2'] }); // newer than 4.17

/** Fixed-size string results: NUL-padded to the full length. */
export const XENVER_LEN = defineConstants('xen_version buffer sizes', 'PVKVM_XENVER_LEN_', {
  extraversion: 16, compile_info: 144, capabilities: 1024, changeset: 64, guest_handle: 16,
  commandline: 1024,
}, { inXenHeaders: false });

export const XenCompileInfo = defineStruct('xen_compile_info', 144, [
  ['compiler', 0, 'u8', 64],
  ['compile_by', 64, 'u8', 16],
  ['compile_domain', 80, 'u8', 32],
  ['compile_date', 112, 'u8', 32],
]);

export const XenPlatformParameters = defineStruct('xen_platform_parameters', 8, [
  ['virt_start', 0, 'u64'],
]);

/** i386 layout: virt_start is a 4-byte xen_ulong_t. */
export const XenPlatformParameters32 = defineStruct('compat_xen_platform_parameters', 4, [
  ['virt_start', 0, 'u32'],
], { xenName: 'xen_platform_parameters' });

export const XenFeatureInfo = defineStruct('xen_feature_info', 8, [
  ['submap_idx', 0, 'u32'],
  ['submap', 4, 'u32'],
]);

/**
 * Header of the variable-length buffers of commands 10–14: `{u32 len; u8 buf[]}`. Xen 4.17 has no
 * `xen_varbuf` yet; its `xen_build_id` (command 10) is the same layout and is what gets checked.
 */
export const XenVarbuf = defineStruct('xen_varbuf', 4, [['len', 0, 'u32']], { xenName: 'xen_build_id' });

export const XENFEAT = defineConstants('Feature bits (submap 0)', 'XENFEAT_', {
  writable_page_tables: 0, writable_descriptor_tables: 1, auto_translated_physmap: 2,
  supervisor_mode_kernel: 3, pae_pgdir_above_4gb: 4, mmu_pt_update_preserve_ad: 5,
  highmem_assist: 6, gnttab_map_avail_bits: 7, hvm_callback_vector: 8, hvm_safe_pvclock: 9,
  hvm_pirqs: 10, dom0: 11, grant_map_identity: 12, memory_op_vnode_supported: 13,
}, { notInXen: ['grant_map_identity'] }); // deprecated: commented out in 4.17's features.h

/** What an x86 HVM/PVH domU sees in submap 0 (bits 0 2 8 9 13 16 18 19 20, as Xen reports). */
export const DOMU_FEATURES_SUBMAP0 = 0x001d2305;
