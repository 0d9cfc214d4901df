// event-channel.ts: event_channel_op commands, argument structs, status values and VIRQs (event_channel.h).
import { defineConstants, defineStruct } from './layout.ts';

export const EVTCHNOP = defineConstants('event_channel_op commands', 'EVTCHNOP_', {
  bind_interdomain: 0, bind_virq: 1, bind_pirq: 2, close: 3, send: 4, status: 5, alloc_unbound: 6,
  bind_ipi: 7, bind_vcpu: 8, unmask: 9, reset: 10, init_control: 11, expand_array: 12, set_priority: 13,
});

export const EVTCHNSTAT = defineConstants('Event channel status values', 'EVTCHNSTAT_', {
  closed: 0, unbound: 1, interdomain: 2, pirq: 3, virq: 4, ipi: 5,
});

export const VIRQ = defineConstants('Virtual IRQs', 'VIRQ_', {
  TIMER: 0, DEBUG: 1, CONSOLE: 2, DOM_EXC: 3, TBUF: 4, DEBUGGER: 6, XENOPROF: 7, CON_RING: 8,
  PCPU_STATE: 9, MEM_EVENT: 10, ARGO: 11, ENOMEM: 12, XENPMU: 13,
});
export const NR_VIRQS = 24;

/** Port-space sizes of the 2-level ABI: 64×64 bits for 64-bit guests, 32×32 for 32-bit ones. */
export const EVTCHN_2L = defineConstants('2-level event channel limits', 'PVKVM_EVTCHN_2L_', {
  NR_CHANNELS_64: 4096,
  NR_CHANNELS_32: 1024,
}, { inXenHeaders: false });

export const EvtchnAllocUnbound = defineStruct('evtchn_alloc_unbound', 8, [
  ['dom', 0, 'u16'], ['remote_dom', 2, 'u16'], ['port', 4, 'u32'],
]);
export const EvtchnBindInterdomain = defineStruct('evtchn_bind_interdomain', 12, [
  ['remote_dom', 0, 'u16'], ['remote_port', 4, 'u32'], ['local_port', 8, 'u32'],
]);
export const EvtchnBindVirq = defineStruct('evtchn_bind_virq', 12, [
  ['virq', 0, 'u32'], ['vcpu', 4, 'u32'], ['port', 8, 'u32'],
]);
export const EvtchnBindIpi = defineStruct('evtchn_bind_ipi', 8, [['vcpu', 0, 'u32'], ['port', 4, 'u32']]);
export const EvtchnClose = defineStruct('evtchn_close', 4, [['port', 0, 'u32']]);
export const EvtchnSend = defineStruct('evtchn_send', 4, [['port', 0, 'u32']]);
export const EvtchnUnmask = defineStruct('evtchn_unmask', 4, [['port', 0, 'u32']]);
export const EvtchnBindVcpu = defineStruct('evtchn_bind_vcpu', 8, [['port', 0, 'u32'], ['vcpu', 4, 'u32']]);
export const EvtchnReset = defineStruct('evtchn_reset', 2, [['dom', 0, 'u16']]);
/**
 * The union `u` is declared by its widest member at offset 16: u.virq (u32). u.unbound.dom and
 * u.interdomain.dom are the low 16 bits of that word, so they are written through it too.
 */
export const EvtchnStatus = defineStruct('evtchn_status', 24, [
  ['dom', 0, 'u16'], ['port', 4, 'u32'], ['status', 8, 'u32'], ['vcpu', 12, 'u32'],
  ['u.virq', 16, 'u32'], ['u.interdomain.port', 20, 'u32'],
]);

// --- FIFO ABI (Xen 4.4+): EVTCHNOP_init_control / expand_array / set_priority ---

/**
 * FIFO event channels: priorities (0 highest), the bits of an event word, and the port space its
 * 17-bit LINK field addresses.
 */
export const EVTCHN_FIFO = defineConstants('FIFO event channels', 'EVTCHN_FIFO_', {
  PRIORITY_MAX: 0, PRIORITY_DEFAULT: 7, PRIORITY_MIN: 15, MAX_QUEUES: 16,
  PENDING: 31, MASKED: 30, LINKED: 29, BUSY: 28,
  LINK_BITS: 17, LINK_MASK: 0x1ffff, NR_CHANNELS: 0x20000,
});

/** The out field link_bits is written on success only; `_pad` makes it 24 bytes in both modes. */
export const EvtchnInitControl = defineStruct('evtchn_init_control', 24, [
  ['control_gfn', 0, 'u64'], ['offset', 8, 'u32'], ['vcpu', 12, 'u32'], ['link_bits', 16, 'u8'], ['_pad', 17, 'u8', 7],
]);
export const EvtchnExpandArray = defineStruct('evtchn_expand_array', 8, [['array_gfn', 0, 'u64']]);
export const EvtchnSetPriority = defineStruct('evtchn_set_priority', 8, [['port', 0, 'u32'], ['priority', 4, 'u32']]);
/** Per-vCPU control block, in a guest page (8-aligned, must not cross the page). */
export const EvtchnFifoControlBlock = defineStruct('evtchn_fifo_control_block', 72, [
  ['ready', 0, 'u32'], ['_rsvd', 4, 'u32'], ['head', 8, 'u32', 16],
]);
