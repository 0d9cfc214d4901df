// timers.ts: per-vCPU timers (set_timer_op, VCPUOP single-shot and periodic) and their expiry,
// which raises VIRQ_TIMER on the vCPU's bound port.
import { VIRQ } from '../../abi/event-channel.ts';
import type { DomainShared } from '../state/shared-state.ts';
import type { HypervisorShared } from '../state/global-state.ts';
import type { Domains } from '../state/domain-handle.ts';
import { setPending } from '../events/raise.ts';

/** Deadlines further out than ~2^50 ns (or negative) count as 100 ms from now, as in Xen. */
export const TOO_FAR_NS = 1n << 50n;

export function setSingleshot(hv: HypervisorShared, sh: DomainShared, vcpu: number, deadlineNs: bigint): void {
  Atomics.store(sh.timerDeadline, vcpu, deadlineNs);
  sh.waitTimerFiring(vcpu);
  hv.timersChanged();
}

export function setPeriodic(hv: HypervisorShared, sh: DomainShared, vcpu: number, periodNs: bigint, now: bigint): void {
  Atomics.store(sh.timerPeriod, vcpu, periodNs);
  Atomics.store(sh.periodicNext, vcpu, periodNs === 0n ? 0n : now + periodNs);
  sh.waitTimerFiring(vcpu);
  hv.timersChanged();
}

/** Raise VIRQ_TIMER for one vCPU of a domain, if the guest bound it. */
export function fireTimer(domains: Domains, domid: number, vcpu: number): void {
  domains.with(domid, undefined, (h) => {
    const port = h.ports.virqPort(vcpu, VIRQ.values.TIMER);
    if (port !== 0) setPending(h, port);
  });
}

/**
 * Fire every expired timer; return the earliest pending deadline (or 0n when none). A deadline
 * is consumed with compare-and-swap, so one a vCPU re-armed meanwhile is never lost.
 */
export function runExpired(hv: HypervisorShared, domains: Domains, now: bigint): bigint {
  let next = 0n;
  for (const slot of hv.liveSlots()) {
    const sh = hv.domain(slot);
    for (let v = 0; v < sh.nrVcpus; v++) {
      sh.beginTimerFiring(v);
      try {
        next = scanVcpu(domains, sh, v, now, next);
      } finally {
        sh.endTimerFiring(v);
      }
    }
  }
  return next;
}

/** Fire one vCPU's expired timers; fold its pending deadlines into `next`. */
function scanVcpu(domains: Domains, sh: DomainShared, v: number, now: bigint, nextIn: bigint): bigint {
  let next = nextIn;
  const earliest = (d: bigint): void => { if (d > 0n && (next === 0n || d < next)) next = d; };
  const d = Atomics.load(sh.timerDeadline, v);
  if (d > 0n && d <= now) {
    if (Atomics.compareExchange(sh.timerDeadline, v, d, 0n) === d) fireTimer(domains, sh.domid, v);
  } else {
    earliest(d);
  }
  const p = Atomics.load(sh.periodicNext, v);
  if (p > 0n && p <= now) {
    const period = Atomics.load(sh.timerPeriod, v);
    let due = p + period;
    if (due <= now) due = now + period; // skip missed periods rather than firing a burst
    if (Atomics.compareExchange(sh.periodicNext, v, p, due) === p) fireTimer(domains, sh.domid, v);
    earliest(due);
  } else {
    earliest(p);
  }
  return next;
}
