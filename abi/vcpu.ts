// vcpu.ts: vcpu_op commands and argument structs (vcpu.h), and the PVH vCPU start context.
import { defineConstants, defineStruct } from './layout.ts';

export const VCPUOP = defineConstants('vcpu_op commands', 'VCPUOP_', {
  initialise: 0, up: 1, down: 2, is_up: 3, get_runstate_info: 4, register_runstate_memory_area: 5,
  set_periodic_timer: 6, stop_periodic_timer: 7, set_singleshot_timer: 8, stop_singleshot_timer: 9,
  register_vcpu_info: 10, send_nmi: 11, get_physid: 12, register_vcpu_time_memory_area: 13,
});

export const VCPU_SSHOTTMR = defineConstants('Singleshot timer flags', 'VCPU_SSHOTTMR_', {
  future: 1,
});

export const RUNSTATE = defineConstants('vCPU run states', 'RUNSTATE_', {
  running: 0, runnable: 1, blocked: 2, offline: 3,
});

export const VcpuSetSingleshotTimer = defineStruct('vcpu_set_singleshot_timer', 16, [
  ['timeout_abs_ns', 0, 'u64'], ['flags', 8, 'u32'],
]);
/** i386 layout: a u64 is only 4-byte aligned, so there is no tail padding. */
export const VcpuSetSingleshotTimer32 = defineStruct('compat_vcpu_set_singleshot_timer', 12, [
  ['timeout_abs_ns', 0, 'u64'], ['flags', 8, 'u32'],
], { xenName: 'vcpu_set_singleshot_timer' });
export const VcpuSetPeriodicTimer = defineStruct('vcpu_set_periodic_timer', 8, [['period_ns', 0, 'u64']]);
export const VcpuRegisterVcpuInfo = defineStruct('vcpu_register_vcpu_info', 16, [
  ['mfn', 0, 'u64'], ['offset', 8, 'u32'], ['rsvd', 12, 'u32'],
]);
/** i386 layouts: the same (a u64 first, nothing after it that 4-byte alignment would move). */
export const VcpuSetPeriodicTimer32 = defineStruct('compat_vcpu_set_periodic_timer', 8, [['period_ns', 0, 'u64']], {
  xenName: 'vcpu_set_periodic_timer',
});
export const VcpuRegisterVcpuInfo32 = defineStruct('compat_vcpu_register_vcpu_info', 16, [
  ['mfn', 0, 'u64'], ['offset', 8, 'u32'], ['rsvd', 12, 'u32'],
], { xenName: 'vcpu_register_vcpu_info' });
export const VcpuRunstateInfo = defineStruct('vcpu_runstate_info', 48, [
  ['state', 0, 'i32'], ['state_entry_time', 8, 'u64'], ['time', 16, 'u64', 4],
]);
/** i386 layout: the u64s follow `state` directly (4-byte alignment). */
export const VcpuRunstateInfo32 = defineStruct('compat_vcpu_runstate_info', 44, [
  ['state', 0, 'i32'], ['state_entry_time', 4, 'u64'], ['time', 12, 'u64', 4],
], { xenName: 'vcpu_runstate_info' });

/** vcpu_hvm_context (VCPUOP_initialise for HVM/PVH): mode, then the 64-bit register set. */
export const VCPU_HVM_MODE = defineConstants('vcpu_hvm_context modes', 'VCPU_HVM_MODE_', {
  '32B': 0, '64B': 1,
});
export const VcpuHvmContext = defineStruct('vcpu_hvm_context', 128, [
  ['mode', 0, 'u32'],
  ['cpu_regs.x86_64.rax', 8, 'u64'], ['cpu_regs.x86_64.rcx', 16, 'u64'], ['cpu_regs.x86_64.rdx', 24, 'u64'],
  ['cpu_regs.x86_64.rbx', 32, 'u64'], ['cpu_regs.x86_64.rsp', 40, 'u64'], ['cpu_regs.x86_64.rbp', 48, 'u64'],
  ['cpu_regs.x86_64.rsi', 56, 'u64'], ['cpu_regs.x86_64.rdi', 64, 'u64'], ['cpu_regs.x86_64.rip', 72, 'u64'],
  ['cpu_regs.x86_64.rflags', 80, 'u64'], ['cpu_regs.x86_64.cr0', 88, 'u64'], ['cpu_regs.x86_64.cr3', 96, 'u64'],
  ['cpu_regs.x86_64.cr4', 104, 'u64'], ['cpu_regs.x86_64.efer', 112, 'u64'],
]);

/**
 * vcpu_hvm_x86_32: the 32-bit register set of a vcpu_hvm_context (mode 32B), at its cpu_regs
 * (offset 8). Segment attributes (`*_ar`) use Xen's 12-bit format: type 0-3, S 4, DPL 5-6, P 7,
 * AVL 8, L 9, D/B 10, G 11; limits are in bytes.
 */
export const VCPU_HVM_CONTEXT_REGS_OFFSET = 8;
export const VcpuHvmX86_32 = defineStruct('vcpu_hvm_x86_32', 120, [
  ['eax', 0, 'u32'], ['ecx', 4, 'u32'], ['edx', 8, 'u32'], ['ebx', 12, 'u32'], ['esp', 16, 'u32'], ['ebp', 20, 'u32'],
  ['esi', 24, 'u32'], ['edi', 28, 'u32'], ['eip', 32, 'u32'], ['eflags', 36, 'u32'],
  ['cr0', 40, 'u32'], ['cr3', 44, 'u32'], ['cr4', 48, 'u32'], ['efer', 56, 'u64'],
  ['cs_base', 64, 'u32'], ['ds_base', 68, 'u32'], ['ss_base', 72, 'u32'], ['es_base', 76, 'u32'], ['tr_base', 80, 'u32'],
  ['cs_limit', 84, 'u32'], ['ds_limit', 88, 'u32'], ['ss_limit', 92, 'u32'], ['es_limit', 96, 'u32'], ['tr_limit', 100, 'u32'],
  ['cs_ar', 104, 'u16'], ['ds_ar', 106, 'u16'], ['ss_ar', 108, 'u16'], ['es_ar', 110, 'u16'], ['tr_ar', 112, 'u16'],
]);
