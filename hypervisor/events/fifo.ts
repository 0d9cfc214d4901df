// fifo.ts: Xen's FIFO event semantics (event_fifo.c) on a guest's event array and control blocks.
//
//   set_pending(port):  no event word yet ──▶ remember it (re-raised when expand_array adds the page)
//                       lock the port's queue (and the queue it was last on, if it moved)
//                       PENDING test-and-set
//                       unmasked and LINKED newly set? ──no──▶ unlock (already queued, or masked)
//                        ▼
//                       link it after the queue's tail (a CAS on the tail's LINK field, only while
//                       the tail is still LINKED); an empty queue gets it as head[priority]
//                       unlock; newly headed: ready[priority] test-and-set ──0→1──▶ upcall
//
// The guest changes the same words concurrently (it unlinks, masks, clears PENDING), and may write
// anything there: every update is a compare-and-swap, every retry loop is bounded, and nothing the
// guest wrote (LINK fields, head[], ready) is ever followed or trusted as an index.
import { EVTCHN_FIFO, EvtchnFifoControlBlock } from '../../abi/event-channel.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import { MAX_PORTS } from '../state/port-table.ts';
import { MAX_VCPUS } from '../state/shared-state.ts';
import { queueIndex } from '../state/fifo-state.ts';
import { markVcpuPending } from './upcall.ts';

const F = EVTCHN_FIFO.values;
const PENDING = 1 << F.PENDING;
const MASKED = 1 << F.MASKED;
const LINKED = 1 << F.LINKED;
const BUSY = 1 << F.BUSY;
const LINK_MASK = F.LINK_MASK;
/** Xen's bounds: 3 tries to lock a queue that keeps moving, 4 CAS retries on a busy tail. */
const LOCK_TRIES = 3;
const LINK_TRIES = 4;
const READY = EvtchnFifoControlBlock.byName.ready.offset;
const HEAD = EvtchnFifoControlBlock.byName.head.offset;

/** Index into h.i32 of `port`'s event word, or -1 when its array page is missing. */
function eventWord(h: DomainHandle, port: number): number {
  const i = h.shared.fifo.wordIndex(port);
  return i >= 0 && i < h.i32.length ? i : -1;
}

export function isPendingFifo(h: DomainHandle, port: number): boolean {
  const w = eventWord(h, port);
  return w >= 0 && (Atomics.load(h.i32, w) & PENDING) !== 0;
}

/** A port without an event word counts as masked, as in Xen. */
export function isMaskedFifo(h: DomainHandle, port: number): boolean {
  const w = eventWord(h, port);
  return w < 0 || (Atomics.load(h.i32, w) & MASKED) !== 0;
}

/** Still LINKED on a guest queue: a free port in this state is not handed out again yet. */
export function isBusyFifo(h: DomainHandle, port: number): boolean {
  const w = eventWord(h, port);
  return w >= 0 && (Atomics.load(h.i32, w) & LINKED) !== 0;
}

/** Clear PENDING only: the guest unlinks a non-pending event itself and ignores it. */
export function clearPendingFifo(h: DomainHandle, port: number): void {
  if (port > 0 && port < MAX_PORTS) h.ports.setSavedPending(port, false);
  const w = eventWord(h, port);
  if (w >= 0) Atomics.and(h.i32, w, ~PENDING);
}

/** EVTCHNOP_unmask: clear MASKED; a pending event is linked (and raised) now. */
export function unmaskFifo(h: DomainHandle, port: number): void {
  const w = eventWord(h, port);
  if (w < 0) return;
  Atomics.and(h.i32, w, ~MASKED);
  if ((Atomics.load(h.i32, w) & PENDING) !== 0) setPendingFifo(h, port);
}

/** Lock queues `a` and `b` (one lock when equal), lower index first so two raisers never deadlock. */
function lockPair(h: DomainHandle, a: number, b: number): void {
  const fifo = h.shared.fifo;
  fifo.lockQueue(Math.min(a, b));
  if (a !== b) fifo.lockQueue(Math.max(a, b));
}

function unlockPair(h: DomainHandle, a: number, b: number): void {
  const fifo = h.shared.fifo;
  if (a !== b) fifo.unlockQueue(Math.max(a, b));
  fifo.unlockQueue(Math.min(a, b));
}

/**
 * Set the LINK field of the tail's word `tw` to `link`, only while the tail is still LINKED (the
 * guest may unlink it at any time). Returns false when the tail was no longer linked (the queue
 * is empty: the new event becomes its head). BUSY tells the guest not to unmask the word while
 * we retry; after LINK_TRIES failures the event is given up as linked, as Xen does.
 */
export function setLink(i32: Int32Array, tw: number, link: number): boolean {
  let w = Atomics.load(i32, tw);
  if ((w & LINKED) === 0) return false;
  let seen = Atomics.compareExchange(i32, tw, w, (w & ~(BUSY | LINK_MASK)) | link);
  if (seen === w) return true;
  Atomics.or(i32, tw, BUSY);
  w = Atomics.load(i32, tw);
  for (let i = 0; i < LINK_TRIES; i++) {
    if ((w & LINKED) === 0) {
      Atomics.and(i32, tw, ~BUSY);
      return false;
    }
    seen = Atomics.compareExchange(i32, tw, w, (w & ~(BUSY | LINK_MASK)) | link);
    if (seen === w) return true;
    w = seen;
  }
  Atomics.and(i32, tw, ~BUSY);
  return true;
}

/** Raise `port` of FIFO domain `h` on its notify vCPU's queue for its priority. */
export function setPendingFifo(h: DomainHandle, port: number): void {
  if (!(port > 0 && port < MAX_PORTS)) return;
  const w = eventWord(h, port);
  if (w < 0) {
    // No array page yet: keep the event for when the guest adds it.
    h.ports.setSavedPending(port, true);
    return;
  }
  const vcpu = h.ports.get(port).vcpu;
  if (!(vcpu >= 0 && vcpu < MAX_VCPUS)) return;
  const fifo = h.shared.fifo;
  let q = -1;
  let oldQ = -1;
  let prio = 0;
  let locked = false;
  for (let t = 0; t < LOCK_TRIES && !locked; t++) {
    const s = h.ports.fifoState(port);
    prio = s.priority;
    q = queueIndex(vcpu, prio);
    oldQ = queueIndex(s.lastVcpu, s.lastPriority);
    lockPair(h, q, oldQ);
    const again = h.ports.fifoState(port);
    if (again.priority === prio && queueIndex(again.lastVcpu, again.lastPriority) === oldQ) locked = true;
    else unlockPair(h, q, oldQ);
  }
  const wasPending = (Atomics.or(h.i32, w, PENDING) & PENDING) !== 0;
  let linked = true;
  if (locked) {
    const cb = fifo.controlOffset(vcpu);
    // Without a control block the guest cannot have unmasked the event yet: it stays pending only.
    if (cb >= 0 && (Atomics.load(h.i32, w) & MASKED) === 0 && (Atomics.or(h.i32, w, LINKED) & LINKED) === 0) {
      // Its old queue must not keep it as tail, or a later event there would link after it.
      if (fifo.tail(oldQ) === port) fifo.setTail(oldQ, 0);
      if (oldQ !== q) {
        h.ports.setLastQueue(port, vcpu, prio);
        fifo.unlockQueue(oldQ);
        oldQ = q;
      }
      linked = false;
      const tail = fifo.tail(q);
      if (tail !== 0) {
        const tw = eventWord(h, tail);
        if (tw >= 0) linked = setLink(h.i32, tw, port);
      }
      if (!linked) Atomics.store(h.i32, (cb + HEAD) / 4 + prio, port);
      fifo.setTail(q, port);
    }
    unlockPair(h, q, oldQ);
  }
  if (!linked) {
    const cb = fifo.controlOffset(vcpu);
    const bit = 1 << prio;
    if (cb >= 0 && (Atomics.or(h.i32, (cb + READY) / 4, bit) & bit) === 0) markVcpuPending(h, vcpu);
  }
  // A newly pending port may end a SCHEDOP_poll on its vCPU, linked or not (Xen's pollers check).
  if (!wasPending) h.shared.wakeVcpu(vcpu);
}
