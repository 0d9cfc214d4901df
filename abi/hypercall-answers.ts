// hypercall-answers.ts: what Xen answers an unprivileged HVM/PVH domU for each hypercall number,
// so pvkvm gives the same answer for the ones it does not implement. Guests and test suites tell
// -EPERM ("exists, not for you") from -ENOSYS ("no such call here") apart.
//
// From Xen 4.17's hypercall table for hvm64/hvm32 callers (xen/include/hypercall-defs.c) and the
// checks at the top of each handler: calls outside the HVM table answer -ENOSYS; sysctl, domctl,
// platform_op, hypfs_op and dm_op exist but refuse a domU with -EPERM (XSM's default policy);
// xenpmu_op answers -EOPNOTSUPP while the vPMU is off (Xen's default); xsm_op is -ENOSYS without
// FLASK; argo_op is -ENOSYS in builds without Argo (the default); physdev_op is -ENOSYS for every
// sub-op of a domU without PIRQs. pvkvm does not offer mmuext_op (Xen's HVM form exists only for
// PV-capable builds and its sub-ops are for page-table-owning guests): -ENOSYS.
import { HC } from './hypercalls.ts';
import type { XenErrno } from './errno.ts';

/** 'implemented' calls have a handler; the others answer the named errno without reading arguments. */
export type DomUAnswer = 'implemented' | XenErrno;

export const DOMU_HYPERCALL_ANSWERS: Readonly<Record<keyof typeof HC, DomUAnswer>> = {
  // PV-only calls: not in Xen's HVM table.
  set_trap_table: 'ENOSYS', mmu_update: 'ENOSYS', set_gdt: 'ENOSYS', stack_switch: 'ENOSYS',
  set_callbacks: 'ENOSYS', fpu_taskswitch: 'ENOSYS', sched_op_compat: 'ENOSYS', set_debugreg: 'ENOSYS',
  get_debugreg: 'ENOSYS', update_descriptor: 'ENOSYS', update_va_mapping: 'ENOSYS',
  event_channel_op_compat: 'ENOSYS', physdev_op_compat: 'ENOSYS', update_va_mapping_otherdomain: 'ENOSYS',
  iret: 'ENOSYS', set_segment_base: 'ENOSYS', nmi_op: 'ENOSYS', callback_op: 'ENOSYS', kexec_op: 'ENOSYS',
  mmuext_op: 'ENOSYS',
  // The calls an HVM/PVH domU uses.
  memory_op: 'implemented', multicall: 'implemented', set_timer_op: 'implemented', xen_version: 'implemented',
  console_io: 'implemented', grant_table_op: 'implemented', vm_assist: 'implemented', vcpu_op: 'implemented',
  sched_op: 'implemented', event_channel_op: 'implemented', hvm_op: 'implemented',
  // In Xen's HVM table, refused or unavailable for a domU.
  platform_op: 'EPERM', sysctl: 'EPERM', domctl: 'EPERM', hypfs_op: 'EPERM', dm_op: 'EPERM',
  xenpmu_op: 'EOPNOTSUPP', xsm_op: 'ENOSYS', argo_op: 'ENOSYS', physdev_op: 'ENOSYS',
};
