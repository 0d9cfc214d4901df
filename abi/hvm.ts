// hvm.ts: hvm_op commands, HVM parameter indices and their guest access rules (hvm_op.h, params.h).
import { defineConstants, defineStruct } from './layout.ts';

export const HVMOP = defineConstants('hvm_op commands', 'HVMOP_', {
  set_param: 0, get_param: 1, flush_tlbs: 5, pagetable_dying: 9, get_time: 10, get_mem_type: 15,
  set_evtchn_upcall_vector: 23, guest_request_vm_event: 24, altp2m: 25,
});

export const HVM_PARAM = defineConstants('HVM parameter indices', 'HVM_PARAM_', {
  CALLBACK_IRQ: 0, STORE_PFN: 1, STORE_EVTCHN: 2, IOREQ_PFN: 5, BUFIOREQ_PFN: 6, VIRIDIAN: 9,
  TIMER_MODE: 10, HPET_ENABLED: 11, IDENT_PT: 12, ACPI_S_STATE: 14, VM86_TSS: 15, VPT_ALIGN: 16,
  CONSOLE_PFN: 17, CONSOLE_EVTCHN: 18, ACPI_IOPORTS_LOCATION: 19, PAGING_RING_PFN: 27,
  MONITOR_RING_PFN: 28, SHARING_RING_PFN: 29, TRIPLE_FAULT_REASON: 31, IOREQ_SERVER_PFN: 32,
  NR_IOREQ_SERVER_PAGES: 33, VM_GENERATION_ID_ADDR: 34, ALTP2M: 35, X87_FIP_WIDTH: 36,
  VM86_TSS_SIZED: 37, MCA_CAP: 38,
});
export const HVM_NR_PARAMS = 39;

/** Indices Xen has retired: any access returns -EINVAL. */
export const HVM_PARAM_DEPRECATED: readonly number[] = [4, 13, 20, 21, 22, 23, 24, 25, 26, 30];

/** What a domain may do to its own parameters (hvm_allow_get_param / hvm_allow_set_param). */
export type ParamAccess = { read: boolean; write: 'yes' | 'no' | 'eexist' };

export function guestParamAccess(index: number): ParamAccess {
  const p = HVM_PARAM.values;
  switch (index) {
    case p.CALLBACK_IRQ: case p.STORE_EVTCHN: case p.CONSOLE_EVTCHN: case p.VM86_TSS:
    case p.ACPI_IOPORTS_LOCATION: case p.VM_GENERATION_ID_ADDR: case p.X87_FIP_WIDTH:
    case p.VM86_TSS_SIZED:
      return { read: true, write: 'yes' };
    case p.STORE_PFN: case p.CONSOLE_PFN:
      return { read: true, write: 'no' };
    case p.ALTP2M:
      return { read: true, write: 'eexist' };
    default:
      return { read: false, write: 'no' };
  }
}

/** HVM_PARAM_CALLBACK_IRQ: bits 63:56 are the delivery type. */
export const HVM_PARAM_CALLBACK_TYPE = defineConstants('Callback IRQ types', 'HVM_PARAM_CALLBACK_TYPE_', {
  GSI: 0, PCI_INTX: 1, VECTOR: 2,
});

export const XenHvmParam = defineStruct('xen_hvm_param', 16, [
  ['domid', 0, 'u16'],
  ['pad', 2, 'u16'],
  ['index', 4, 'u32'],
  ['value', 8, 'u64'],
]);

export const XenHvmGetTime = defineStruct('xen_hvm_get_time', 8, [['now', 0, 'u64']]);

export const XenHvmEvtchnUpcallVector = defineStruct('xen_hvm_evtchn_upcall_vector', 8, [
  ['vcpu', 0, 'u32'],
  ['vector', 4, 'u8'],
]);
/** i386 layout: the same (no field wider than 4 bytes). */
export const XenHvmEvtchnUpcallVector32 = defineStruct('compat_xen_hvm_evtchn_upcall_vector', 8, [
  ['vcpu', 0, 'u32'],
  ['vector', 4, 'u8'],
], { xenName: 'xen_hvm_evtchn_upcall_vector' });

/** Special-page GFNs (libxenguest convention, not ABI: guests must read the params). */
export const SPECIAL_PFN = defineConstants('Special page frames', 'PVKVM_SPECIAL_PFN_', {
  XENSTORE: 0xfeffc,
  CONSOLE: 0xfefff,
}, { inXenHeaders: false });
