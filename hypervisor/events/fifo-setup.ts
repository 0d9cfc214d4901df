// fifo-setup.ts: switching a domain to the FIFO ABI and back — EVTCHNOP_init_control's control
// blocks, EVTCHNOP_expand_array's event-array pages, and the reset to 2-level (Xen's
// evtchn_fifo_init_control, add_page_to_event_array and evtchn_fifo_destroy). The hypercall layer
// checks the arguments and turns guest frames into memfd offsets; this is what happens then.
import { EVTCHN_FIFO } from '../../abi/event-channel.ts';
import { E } from '../../abi/errno.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import { MAX_ARRAY_PAGES, WORDS_PER_PAGE } from '../state/fifo-state.ts';
import { isPending2l, twoLevelLimit } from './two-level.ts';
import { setPendingFifo } from './fifo.ts';

/**
 * Give `vcpu` its control block at memfd offset `cb` (-1: the frame is not the guest's RAM). The
 * domain's first success switches it to FIFO: ports bound so far keep their pending state (raised
 * again once their array page exists) and get the default priority. Returns 0 or -errno.
 */
export function initControlBlock(h: DomainHandle, vcpu: number, cb: number): number {
  const fifo = h.shared.fifo;
  h.shared.lockEvents();
  try {
    if (fifo.active) {
      if (fifo.controlOffset(vcpu) >= 0) return -E.EINVAL; // one control block per vCPU
      if (cb < 0) return -E.EINVAL;
      fifo.setControlOffset(vcpu, cb);
      return 0;
    }
    if (cb < 0) return -E.EINVAL;
    const prevLimit = twoLevelLimit(h);
    fifo.clear();
    fifo.setControlOffset(vcpu, cb);
    // Switch before looking at the 2-level bits: a sender that raced the switch re-checks the
    // generation after its raise and repeats it under FIFO, so no event falls between the two.
    fifo.setActive(true);
    carryOverPorts(h, prevLimit);
    return 0;
  } finally {
    h.shared.unlockEvents();
  }
}

/** Xen's setup_ports: save each bound port's 2-level pending bit, reset its priority. */
function carryOverPorts(h: DomainHandle, prevLimit: number): void {
  const end = Math.min(prevLimit, h.ports.highWater);
  for (let port = 1; port < end; port++) {
    if (isPending2l(h, port)) h.ports.setSavedPending(port, true);
    h.ports.setPriority(port, EVTCHN_FIFO.values.PRIORITY_DEFAULT);
  }
}

/**
 * Add the next event-array page at memfd offset `page` (-1: not the guest's RAM). Returns 0 or
 * -errno: -EOPNOTSUPP before init_control, -ENOSPC once the 2^17 ports are covered.
 */
export function addEventArrayPage(h: DomainHandle, page: number): number {
  const fifo = h.shared.fifo;
  if (!fifo.active) return -E.EOPNOTSUPP;
  h.shared.lockEvents();
  try {
    const first = fifo.numEvtchns;
    if (first / WORDS_PER_PAGE >= MAX_ARRAY_PAGES) return -E.ENOSPC;
    if (page < 0) return -E.EINVAL;
    fifo.addArrayPage(page);
    // Events that arrived while this page was missing are raised now.
    const end = Math.min(first + WORDS_PER_PAGE, h.ports.highWater);
    for (let port = Math.max(first, 1); port < end; port++) {
      if (h.ports.takeSavedPending(port)) setPendingFifo(h, port);
    }
    return 0;
  } finally {
    h.shared.unlockEvents();
  }
}

/** Back to 2-level (EVTCHNOP_reset, after every port was closed): forget pages and control blocks. */
export function leaveFifo(h: DomainHandle): void {
  h.shared.lockEvents();
  try {
    h.shared.fifo.setActive(false);
    h.shared.fifo.clear();
  } finally {
    h.shared.unlockEvents();
  }
}
