// raise.ts: the event operations every caller uses — raise, unmask, clear, query, port space —
// dispatched on the domain's ABI: 2-level (two-level.ts) until its first EVTCHNOP_init_control,
// FIFO (fifo.ts) after, 2-level again after EVTCHNOP_reset. The hypercalls, the relay thread's
// sends (send.ts), dom0's channels and the timer thread all come through here.
import { EVTCHN_FIFO } from '../../abi/event-channel.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import { clearPending2l, isMasked2l, isPending2l, setPending2l, twoLevelLimit, unmask2l } from './two-level.ts';
import { clearPendingFifo, isBusyFifo, isMaskedFifo, isPendingFifo, setPendingFifo, unmaskFifo } from './fifo.ts';

/** A raise that keeps seeing the ABI switch under it gives up after this many tries. */
const RAISE_TRIES = 3;

/** Port-space size: 2^17 under FIFO (events wait for their array page), else the 2-level size. */
export function portLimit(h: DomainHandle): number {
  return h.shared.fifo.active ? EVTCHN_FIFO.values.NR_CHANNELS : twoLevelLimit(h);
}

/** Lowest free port the domain may bind next, or -1 (FIFO skips ports still on a guest queue). */
export function findFreePort(h: DomainHandle): number {
  const fifo = h.shared.fifo.active;
  return h.ports.findFree(portLimit(h), fifo ? (p) => isBusyFifo(h, p) : undefined);
}

/**
 * Raise `port` of domain `h` (its notify vCPU comes from the port table), from any thread. If the
 * domain switched ABI while we raised, the raise is repeated under the new one: the switch carries
 * over only what it saw, and a duplicate raise merges into the first.
 */
export function setPending(h: DomainHandle, port: number): void {
  const fifo = h.shared.fifo;
  for (let i = 0; i < RAISE_TRIES; i++) {
    const gen = fifo.generation;
    if ((gen & 1) === 1) setPendingFifo(h, port);
    else setPending2l(h, port);
    if (fifo.generation === gen) return;
  }
}

/** EVTCHNOP_unmask's effect: a pending event masked until now is delivered. */
export function unmask(h: DomainHandle, port: number): void {
  if (h.shared.fifo.active) unmaskFifo(h, port);
  else unmask2l(h, port);
}

export function clearPending(h: DomainHandle, port: number): void {
  if (h.shared.fifo.active) clearPendingFifo(h, port);
  else clearPending2l(h, port);
}

export function isPending(h: DomainHandle, port: number): boolean {
  return h.shared.fifo.active ? isPendingFifo(h, port) : isPending2l(h, port);
}

export function isMasked(h: DomainHandle, port: number): boolean {
  return h.shared.fifo.active ? isMaskedFifo(h, port) : isMasked2l(h, port);
}

export { markVcpuPending, inject } from './upcall.ts';
