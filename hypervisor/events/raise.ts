// raise.ts: Xen's 2-level event semantics on a guest's shared_info (docs/xen-abi.md §4.4, §5.3),
// with truly atomic read-modify-writes against the running guest, and upcall injection.
//
//   set_pending(port):  pending[port] test-and-set ──already set──▶ done (events coalesce)
//                        ▼ newly set
//                       mask[port] set? ──yes──▶ (skip to the wake: unmask re-raises later)
//                       sel[port / BITS] test-and-set ──already set──▶ (wake)
//                        ▼
//                       upcall_pending test-and-set ──already set──▶ (wake)
//                        ▼
//                       inject: per-vCPU vector (MSI to its LAPIC) or the callback vector (PIC)
//                       then wake poll/block waiters of the notify vCPU (last, as in Xen)
import { SharedInfo32, SharedInfo64 } from '../../abi/shared-info.ts';
import { HVM_PARAM } from '../../abi/hvm.ts';
import type { DomainHandle } from '../state/domain-handle.ts';

const P64 = SharedInfo64.byName;
const P32 = SharedInfo32.byName;
const LAPIC_MSI_BASE = 0xfee00000;

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

/** Port-space size for the domain's latched word size. */
export function portLimit(h: DomainHandle): number {
  return h.shared.wordSize === 32 ? 1024 : 4096;
}

/** Index into h.i32 of the 32-bit word holding bit `port` of a bit array at byte `base`. */
function bitWord(base: number, port: number): number {
  return (base >>> 2) + (port >> 5);
}

export function isPending(h: DomainHandle, port: number): boolean {
  const si = h.shared.sharedInfoOffset;
  if (si < 0) return false;
  return (Atomics.load(h.i32, bitWord(si + layout(h).pending, port)) & (1 << (port & 31))) !== 0;
}

export function isMasked(h: DomainHandle, port: number): boolean {
  const si = h.shared.sharedInfoOffset;
  if (si < 0) return false;
  return (Atomics.load(h.i32, bitWord(si + layout(h).mask, port)) & (1 << (port & 31))) !== 0;
}

/** Offset of vCPU `vcpu`'s vcpu_info in the memfd (vCPUs 0–31 live in shared_info). */
function vcpuInfoOffset(h: DomainHandle, vcpu: number): number {
  return h.shared.vcpuInfoOffset(vcpu);
}

export function clearPending(h: DomainHandle, port: number): void {
  const si = h.shared.sharedInfoOffset;
  if (si < 0) return;
  Atomics.and(h.i32, bitWord(si + layout(h).pending, port), ~(1 << (port & 31)));
}

/** Raise `port` of domain `h` (its notify vCPU comes from the port table). */
export function setPending(h: DomainHandle, port: number): void {
  const si = h.shared.sharedInfoOffset;
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
export function unmask(h: DomainHandle, port: number): void {
  const si = h.shared.sharedInfoOffset;
  if (si < 0) return;
  const L = layout(h);
  const bit = 1 << (port & 31);
  const wasMasked = (Atomics.and(h.i32, bitWord(si + L.mask, port), ~bit) & bit) !== 0;
  if (!wasMasked) return;
  if ((Atomics.load(h.i32, bitWord(si + L.pending, port)) & bit) === 0) return;
  markSelector(h, h.ports.get(port).vcpu, port, L);
}

function markSelector(h: DomainHandle, vcpu: number, port: number, L: Layout): void {
  const vi = vcpuInfoOffset(h, vcpu);
  if (vi < 0) return;
  const selBit = Math.floor(port / L.bitsPerWord);
  const word = ((vi + L.selOffset) >>> 2) + (selBit >> 5);
  const bit = 1 << (selBit & 31);
  if ((Atomics.or(h.i32, word, bit) & bit) !== 0) return;
  markVcpuPending(h, vcpu);
}

/** vcpu_mark_events_pending: test-and-set the upcall byte; on 0→1, deliver and wake. */
export function markVcpuPending(h: DomainHandle, vcpu: number): void {
  const vi = vcpuInfoOffset(h, vcpu);
  if (vi < 0) return;
  if (Atomics.exchange(h.u8, vi, 1) !== 0) return;
  inject(h, vcpu);
  h.shared.wakeVcpu(vcpu);
}

/** Deliver the upcall interrupt, from any thread, without entering the target vCPU's thread. */
export function inject(h: DomainHandle, vcpu: number): void {
  const vector = h.shared.upcallVector(vcpu);
  if (vector !== 0) {
    // A fixed, edge-triggered interrupt to the vCPU's LAPIC (APIC id = vCPU id); the guest EOIs.
    h.vm.signalMsi(LAPIC_MSI_BASE | (vcpu << 12), 0, vector);
    return;
  }
  const cb = h.shared.param(HVM_PARAM.values.CALLBACK_IRQ);
  const gsi = h.shared.callbackGsi;
  if (cb !== 0n && gsi >= 0) {
    // Domain-wide callback vector: the master PIC in auto-EOI mode feeds it through LVT0 ExtINT,
    // so the guest needs no EOI (Xen injects it directly).
    h.vm.irqLine(gsi, 1);
    h.vm.irqLine(gsi, 0);
  }
}
