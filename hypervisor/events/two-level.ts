// two-level.ts: Xen's 2-level event semantics on a guest's shared_info (docs/xen-abi.md §4.4,
// §5.3), with truly atomic read-modify-writes against the running guest.
//
//   set_pending(port):  pending[port] test-and-set ──already set──▶ done (events coalesce)
//                        ▼ newly set
//                       mask[port] set? ──yes──▶ (skip to the wake: unmask re-raises later)
//                       sel[port / BITS] test-and-set ──already set──▶ (wake)
//                        ▼
//                       upcall_pending test-and-set ──already set──▶ (wake)
//                        ▼
//                       inject (upcall.ts), then wake poll/block waiters of the notify vCPU
//
// Every entry point ignores ports past the 2-level space: a port of a domain that just left the
// FIFO ABI must not reach past the bit arrays into the rest of its memory.
import { SharedInfo32, SharedInfo64 } from '../../abi/shared-info.ts';
import { EVTCHN_2L } from '../../abi/event-channel.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import { markVcpuPending } from './upcall.ts';

const P64 = SharedInfo64.byName;
const P32 = SharedInfo32.byName;

interface Layout {
  pending: number;
  mask: number;
  /** Byte offset of evtchn_pending_sel within vcpu_info, and the ports one selector bit covers. */
  selOffset: number;
  bitsPerWord: number;
}
const L64: Layout = { pending: P64.evtchn_pending.offset, mask: P64.evtchn_mask.offset, selOffset: 8, bitsPerWord: 64 };
const L32: Layout = { pending: P32.evtchn_pending.offset, mask: P32.evtchn_mask.offset, selOffset: 4, bitsPerWord: 32 };

function layout(h: DomainHandle): Layout {
  return h.shared.wordSize === 32 ? L32 : L64;
}

/** Port-space size of the 2-level ABI for the domain's latched word size. */
export function twoLevelLimit(h: DomainHandle): number {
  return h.shared.wordSize === 32 ? EVTCHN_2L.values.NR_CHANNELS_32 : EVTCHN_2L.values.NR_CHANNELS_64;
}

/** Byte offset of shared_info when `port` is a 2-level port of a domain that has it, else -1. */
function sharedInfo(h: DomainHandle, port: number): number {
  return port >= 0 && port < twoLevelLimit(h) ? h.shared.sharedInfoOffset : -1;
}

/** Index into h.i32 of the 32-bit word holding bit `port` of a bit array at byte `base`. */
function bitWord(base: number, port: number): number {
  return (base >>> 2) + (port >> 5);
}

export function isPending2l(h: DomainHandle, port: number): boolean {
  const si = sharedInfo(h, port);
  if (si < 0) return false;
  return (Atomics.load(h.i32, bitWord(si + layout(h).pending, port)) & (1 << (port & 31))) !== 0;
}

export function isMasked2l(h: DomainHandle, port: number): boolean {
  const si = sharedInfo(h, port);
  if (si < 0) return false;
  return (Atomics.load(h.i32, bitWord(si + layout(h).mask, port)) & (1 << (port & 31))) !== 0;
}

export function clearPending2l(h: DomainHandle, port: number): void {
  const si = sharedInfo(h, port);
  if (si < 0) return;
  Atomics.and(h.i32, bitWord(si + layout(h).pending, port), ~(1 << (port & 31)));
}

/** Raise `port` of domain `h` (its notify vCPU comes from the port table). */
export function setPending2l(h: DomainHandle, port: number): void {
  const si = sharedInfo(h, port);
  if (si < 0) return;
  const L = layout(h);
  const bit = 1 << (port & 31);
  if ((Atomics.or(h.i32, bitWord(si + L.pending, port), bit) & bit) !== 0) return;
  const vcpu = h.ports.get(port).vcpu;
  if ((Atomics.load(h.i32, bitWord(si + L.mask, port)) & bit) === 0) markSelector(h, vcpu, port, L);
  // A newly pending port may end a SCHEDOP_poll, masked or not. Pollers are woken last, as in
  // Xen's evtchn_2l_set_pending: a woken poller must find the selector and upcall bits already
  // set, not have them appear after it has cleared the port.
  h.shared.wakeVcpu(vcpu);
}

/** EVTCHNOP_unmask: clear the mask; re-raise the edge if the port was masked and is pending. */
export function unmask2l(h: DomainHandle, port: number): void {
  const si = sharedInfo(h, port);
  if (si < 0) return;
  const L = layout(h);
  const bit = 1 << (port & 31);
  const wasMasked = (Atomics.and(h.i32, bitWord(si + L.mask, port), ~bit) & bit) !== 0;
  if (!wasMasked) return;
  if ((Atomics.load(h.i32, bitWord(si + L.pending, port)) & bit) === 0) return;
  markSelector(h, h.ports.get(port).vcpu, port, L);
}

function markSelector(h: DomainHandle, vcpu: number, port: number, L: Layout): void {
  const vi = h.shared.vcpuInfoOffset(vcpu);
  if (vi < 0) return;
  const selBit = Math.floor(port / L.bitsPerWord);
  const word = ((vi + L.selOffset) >>> 2) + (selBit >> 5);
  const bit = 1 << (selBit & 31);
  if ((Atomics.or(h.i32, word, bit) & bit) !== 0) return;
  markVcpuPending(h, vcpu);
}
