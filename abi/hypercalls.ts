// hypercalls.ts: hypercall numbers and the hypercall-page geometry (Xen xen.h, hypercall-abi.rst).
import { defineConstants } from './layout.ts';

export const HYPERCALL = defineConstants('Hypercall numbers', '__HYPERVISOR_', {
  set_trap_table: 0, mmu_update: 1, set_gdt: 2, stack_switch: 3, set_callbacks: 4,
  fpu_taskswitch: 5, sched_op_compat: 6, platform_op: 7, set_debugreg: 8, get_debugreg: 9,
  update_descriptor: 10, memory_op: 12, multicall: 13, update_va_mapping: 14, set_timer_op: 15,
  event_channel_op_compat: 16, xen_version: 17, console_io: 18, physdev_op_compat: 19,
  grant_table_op: 20, vm_assist: 21, update_va_mapping_otherdomain: 22, iret: 23, vcpu_op: 24,
  set_segment_base: 25, mmuext_op: 26, xsm_op: 27, nmi_op: 28, sched_op: 29, callback_op: 30,
  event_channel_op: 32, physdev_op: 33, hvm_op: 34, sysctl: 35, domctl: 36, kexec_op: 37,
  argo_op: 39, xenpmu_op: 40, dm_op: 41, hypfs_op: 42,
});
export const HC = HYPERCALL.values;

/** Hypercall page: one 32-byte stub per hypercall number, 128 stubs in one 4 KiB page. */
export const HYPERCALL_PAGE = defineConstants('Hypercall page geometry', 'PVKVM_HYPERCALL_', {
  STUB_SIZE: 32,
  NR_STUBS: 128,
  /**
   * I/O port the stubs write to. This KVM cannot intercept VMCALL (no KVM_CAP_XEN_HVM), so each
   * stub is `mov eax, nr; out PORT, al; ret` and the port exit is the hypercall trap.
   */
  TRAP_PORT: 0xe8,
  /**
   * Fast path of EVTCHNOP_send from 64-bit guests: the event_channel_op stub writes the port
   * number here with a 4-byte `out`; ports wired to an ioeventfd never exit to user space.
   */
  SEND_PORT: 0xe7,
}, { inXenHeaders: false });

/** Xen's HVM debug console: each byte written is printed on the hypervisor console (arch-x86/xen.h). */
export const DEBUGCONS = defineConstants('Debug console', 'XEN_HVM_DEBUGCONS_', {
  IOPORT: 0xe9,
});

/** Hypercalls nested inside a multicall are not allowed to recurse beyond this. */
export const MULTICALL = defineConstants('Multicall', 'PVKVM_MULTICALL_', {
  MAX_ENTRIES: 512,
}, { inXenHeaders: false });
