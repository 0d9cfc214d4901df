// preempt.ts: when a long hypercall should stop and be continued later (Xen's
// hypercall_preempt_check), and the event tests it shares with sched_op and hvm_op.
import type { HypercallContext } from './context.ts';
import { HVM_PARAM } from '../../abi/hvm.ts';

/** Is an event upcall pending for this vCPU (vcpu_info.evtchn_upcall_pending)? */
export function upcallPending(ctx: HypercallContext): boolean {
  const vi = ctx.dom.shared.vcpuInfoOffset(ctx.vcpuId);
  return vi >= 0 && Atomics.load(ctx.dom.mem.bytes, vi) !== 0;
}

/**
 * Xen's local_events_need_delivery() for HVM: an upcall is pending and the vCPU can take it now.
 * With interrupts off, an already-pending upcall does not end a block; only a new event does.
 */
export function eventsNeedDelivery(ctx: HypercallContext): boolean {
  return upcallPending(ctx) && ctx.arch.interruptsEnabled();
}

/** Is there a way to deliver the upcall (a per-vCPU vector or the domain-wide callback)? (upcall.ts) */
function upcallRouted(ctx: HypercallContext): boolean {
  const sh = ctx.dom.shared;
  return sh.upcallVector(ctx.vcpuId) !== 0 || (sh.param(HVM_PARAM.values.CALLBACK_IRQ) !== 0n && sh.callbackGsi >= 0);
}

/**
 * Should a long hypercall yield now? When the toolstack wants the vCPU (pause, destroy) or an
 * event can be delivered: the vCPU thread runs the handler, so until it returns neither happens.
 * A pending upcall with no route to the guest would stay pending, and yielding for it would only
 * slow the call down.
 */
export function preemptCheck(ctx: HypercallContext): boolean {
  return ctx.stopRequested() || (eventsNeedDelivery(ctx) && upcallRouted(ctx));
}
