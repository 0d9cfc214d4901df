// shared-info.ts: shared_info, vcpu_info and vcpu_time_info in the 64-bit and 32-bit (compat) layouts.
import { defineConstants, defineStruct } from './layout.ts';

export const XEN_LEGACY_MAX_VCPUS = 32;

export const PVCLOCK = defineConstants('pvclock flags', 'XEN_PVCLOCK_', {
  TSC_STABLE_BIT: 1 << 0,
  GUEST_STOPPED: 1 << 1,
});

/** Identical in both layouts: every u64 is explicitly aligned by padding in the header. */
export const VcpuTimeInfo = defineStruct('vcpu_time_info', 32, [
  ['version', 0, 'u32'],
  ['pad0', 4, 'u32'],
  ['tsc_timestamp', 8, 'u64'],
  ['system_time', 16, 'u64'],
  ['tsc_to_system_mul', 24, 'u32'],
  ['tsc_shift', 28, 'i8'],
  ['flags', 29, 'u8'],
  ['pad1', 30, 'u8', 2],
]);

export const VcpuInfo64 = defineStruct('vcpu_info', 64, [
  ['evtchn_upcall_pending', 0, 'u8'],
  ['evtchn_upcall_mask', 1, 'u8'],
  ['evtchn_pending_sel', 8, 'u64'],
  ['arch.cr2', 16, 'u64'],
  ['arch.pad', 24, 'u64'],
  ['time', 32, VcpuTimeInfo],
]);

/** The i386 layout a guest gets when it latched 32-bit mode (unsigned long is 4 bytes). */
export const VcpuInfo32 = defineStruct('compat_vcpu_info', 64, [
  ['evtchn_upcall_pending', 0, 'u8'],
  ['evtchn_upcall_mask', 1, 'u8'],
  ['evtchn_pending_sel', 4, 'u32'],
  ['arch.cr2', 8, 'u32'],
  ['arch.pad', 12, 'u32', 5],
  ['time', 32, VcpuTimeInfo],
], { xenName: 'vcpu_info' });

export const SharedInfo64 = defineStruct('shared_info', 3136, [
  ['vcpu_info', 0, VcpuInfo64, XEN_LEGACY_MAX_VCPUS],
  ['evtchn_pending', 2048, 'u64', 64],
  ['evtchn_mask', 2560, 'u64', 64],
  ['wc_version', 3072, 'u32'],
  ['wc_sec', 3076, 'u32'],
  ['wc_nsec', 3080, 'u32'],
  ['wc_sec_hi', 3084, 'u32'],
  ['arch.max_pfn', 3088, 'u64'],
  ['arch.pfn_to_mfn_frame_list_list', 3096, 'u64'],
  ['arch.nmi_reason', 3104, 'u64'],
  ['arch.p2m_cr3', 3112, 'u64'],
  ['arch.p2m_vaddr', 3120, 'u64'],
  ['arch.p2m_generation', 3128, 'u64'],
]);

/** i386 layout: 32 event words of 32 bits; wc_sec_hi lives in arch. */
export const SharedInfo32 = defineStruct('compat_shared_info', 2344, [
  ['vcpu_info', 0, VcpuInfo32, XEN_LEGACY_MAX_VCPUS],
  ['evtchn_pending', 2048, 'u32', 32],
  ['evtchn_mask', 2176, 'u32', 32],
  ['wc_version', 2304, 'u32'],
  ['wc_sec', 2308, 'u32'],
  ['wc_nsec', 2312, 'u32'],
  ['arch.max_pfn', 2316, 'u32'],
  ['arch.pfn_to_mfn_frame_list_list', 2320, 'u32'],
  ['arch.nmi_reason', 2324, 'u32'],
  ['arch.p2m_cr3', 2328, 'u32'],
  ['arch.p2m_vaddr', 2332, 'u32'],
  ['arch.p2m_generation', 2336, 'u32'],
  ['arch.wc_sec_hi', 2340, 'u32'],
], { xenName: 'shared_info' });
