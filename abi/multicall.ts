// multicall.ts: the multicall entry and vm_assist (xen.h).
import { defineConstants, defineStruct } from './layout.ts';

export const MulticallEntry = defineStruct('multicall_entry', 64, [
  ['op', 0, 'u64'],
  ['result', 8, 'u64'],
  ['args', 16, 'u64', 6],
]);

/** i386 layout: every word is a 4-byte xen_ulong_t. */
export const MulticallEntry32 = defineStruct('compat_multicall_entry', 32, [
  ['op', 0, 'u32'],
  ['result', 4, 'u32'],
  ['args', 8, 'u32', 6],
], { xenName: 'multicall_entry' });

export const VMASST = defineConstants('vm_assist commands and types', 'VMASST_', {
  CMD_enable: 0, CMD_disable: 1, TYPE_4gb_segments: 0, TYPE_4gb_segments_notify: 1,
  TYPE_writable_pagetables: 2, TYPE_pae_extended_cr3: 3, TYPE_architectural_iopl: 4,
  TYPE_runstate_update_flag: 5, TYPE_m2p_strict: 32,
});

export const DOMID = defineConstants('Special domain ids', 'DOMID_', {
  FIRST_RESERVED: 0x7ff0, SELF: 0x7ff0, IO: 0x7ff1, XEN: 0x7ff2, COW: 0x7ff3, INVALID: 0x7ff4,
  IDLE: 0x7fff,
});
