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
export const VcpuSetPeriodicTimer = defineStruct('vcpu_set_periodic_timer', 8, [['period_ns', 0, 'u64']]);
export const VcpuRegisterVcpuInfo = defineStruct('vcpu_register_vcpu_info', 16, [
  ['mfn', 0, 'u64'], ['offset', 8, 'u32'], ['rsvd', 12, 'u32'],
]);
export const VcpuRunstateInfo = defineStruct('vcpu_runstate_info', 48, [
  ['state', 0, 'i32'], ['state_entry_time', 8, 'u64'], ['time', 16, 'u64', 4],
]);

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
