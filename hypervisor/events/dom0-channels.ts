// dom0-channels.ts: event channels whose far end is a dom0 backend (a process, not a VM).
//
//   guest → dom0:  out SEND_PORT, port ──KVM ioeventfd──▶ kick eventfd ──▶ dom0's epoll (no exit
//                  to user space; the hypercall path writes the same eventfd)
//   dom0 → guest:  dom0 writes its notify eventfd ──▶ relay thread (relay entry domid 0, port =
//                  channel) ──▶ setPending on the guest's port ──▶ MSI / PIC injection
//
// In the guest's port table such a port is interdomain with remoteDom 0 and remotePort = the
// channel number. Both eventfds are created here and handed to dom0 by SCM_RIGHTS; the
// hypervisor keeps its own copies until the channel is unbound or the guest dies.
import { EVTCHNSTAT } from '../../abi/event-channel.ts';
import { HYPERCALL_PAGE } from '../../abi/hypercalls.ts';
import { libc, EFD_CLOEXEC, EFD_NONBLOCK } from '../../host/libc.ts';
import type { HypervisorShared } from '../state/global-state.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import { findFreePort, portLimit, setPending } from './raise.ts';
import { RELAY } from '../state/relay-table.ts';
import { DOM0_CHANNEL, MAX_DOM0_CHANNELS } from '../state/dom0-channel-table.ts';
import { E } from '../../abi/errno.ts';

const S = EVTCHNSTAT.values;
const ONE = new BigUint64Array([1n]);

/**
 * The guest sent on a port bound to dom0 channel `c` (the user-space path; any thread). Under the
 * guest's event lock, so dom0's unbind cannot close the kick eventfd between the check and the
 * write (its number could by then be another file's).
 */
export function kickDom0(hv: HypervisorShared, guest: DomainHandle, c: number, guestPort: number): void {
  guest.shared.lockEvents();
  try {
    if (hv.dom0.connects(c, guest.domid, guestPort)) libc.write(hv.dom0.kickFd(c), ONE, 8);
  } finally {
    guest.shared.unlockEvents();
  }
}

/** dom0 wrote channel `c`'s notify eventfd (relay thread): raise the guest's port. */
export function raiseFromDom0(hv: HypervisorShared, guest: DomainHandle, c: number): void {
  if (!hv.dom0.connects(c, guest.domid, hv.dom0.guestPort(c))) return;
  const port = hv.dom0.guestPort(c);
  const p = guest.ports.get(port);
  if (p.state === S.interdomain && p.remoteDom === 0 && p.remotePort === c) setPending(guest, port);
}

/** Allocate an unbound port in `guest` whose remote end is dom0 (main thread). */
export function allocUnboundForDom0(guest: DomainHandle): number {
  guest.shared.lockEvents();
  try {
    const p = findFreePort(guest);
    if (p > 0) guest.ports.set(p, { state: S.unbound, vcpu: 0, remoteDom: 0, remotePort: 0 });
    return p;
  } finally {
    guest.shared.unlockEvents();
  }
}

export interface Dom0Binding { readonly channel: number; readonly kickFd: number; readonly notifyFd: number }

/**
 * Bind dom0 to the guest's unbound port `port` (remote dom0), as EVTCHNOP_bind_interdomain would.
 * Returns the channel and the two eventfds, or a negative errno.
 */
export function bindDom0(hv: HypervisorShared, guest: DomainHandle, port: number): Dom0Binding | number {
  if (!Number.isInteger(port) || port <= 0 || port >= portLimit(guest)) return -E.EINVAL;
  const c = hv.dom0.claimChannel();
  if (c < 0) return -E.ENOSPC;
  const kickFd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  const notifyFd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  const relay = hv.relays.claim();
  const undo = (err: number): number => {
    if (kickFd >= 0) libc.close(kickFd);
    if (notifyFd >= 0) libc.close(notifyFd);
    if (relay >= 0) hv.relays.setState(relay, RELAY.FREE);
    hv.dom0.setState(c, DOM0_CHANNEL.FREE);
    return err;
  };
  if (kickFd < 0 || notifyFd < 0 || relay < 0) return undo(-E.ENOMEM);
  guest.shared.lockEvents();
  try {
    const p = guest.ports.get(port);
    if (p.state !== S.unbound || p.remoteDom !== 0) return undo(-E.EINVAL);
    hv.dom0.publish(c, guest.domid, port, kickFd, notifyFd);
    guest.ports.set(port, { state: S.interdomain, vcpu: p.vcpu, remoteDom: 0, remotePort: c });
  } finally {
    guest.shared.unlockEvents();
  }
  try {
    guest.vm.ioeventfdPio(HYPERCALL_PAGE.values.SEND_PORT, port, kickFd);
  } catch {
    // No fast path: sends still reach dom0 through the hypercall path (kickDom0).
  }
  // dom0's sends: the relay thread watches the notify eventfd (a dup it closes when reaped).
  hv.relays.publish(relay, notifyFd, 0, c);
  hv.relaysChanged();
  // As Xen's bind: the new end is marked pending in case the peer signalled first.
  libc.write(kickFd, ONE, 8);
  return { channel: c, kickFd, notifyFd };
}

/**
 * The guest closed (or reset) its end: stop its fast path; dom0 keeps its fds until it unbinds.
 * Called on the vCPU thread that ran EVTCHNOP_close, under no lock.
 */
export function guestClosedDom0(hv: HypervisorShared, guest: DomainHandle, c: number, port: number): void {
  // Under the guest's event lock, as dom0's unbind: otherwise an unbind (and a new bind of the
  // same number) between the check and the state change would be clobbered, and the ioeventfd
  // would be deassigned with an eventfd already closed, leaving a stale one on the port.
  guest.shared.lockEvents();
  try {
    if (!hv.dom0.connects(c, guest.domid, port)) return;
    try {
      guest.vm.ioeventfdPio(HYPERCALL_PAGE.values.SEND_PORT, port, hv.dom0.kickFd(c), true);
    } catch {
      // The VM is going away and takes its ioeventfds with it.
    }
    hv.dom0.transition(c, DOM0_CHANNEL.ACTIVE, DOM0_CHANNEL.GUEST_CLOSED);
  } finally {
    guest.shared.unlockEvents();
  }
}

/**
 * dom0 unbinds channel `c` (main thread): the guest's port reverts to unbound (remote dom0), the
 * relay is reaped and the hypervisor's copies of the eventfds are closed. A channel whose guest
 * died (GUEST_GONE) only has its number freed: everything else went with the guest.
 */
export function unbindDom0(hv: HypervisorShared, guest: DomainHandle | null, c: number): boolean {
  if (!hv.dom0.inRange(c)) return false;
  const st = hv.dom0.state(c);
  if (st === DOM0_CHANNEL.GUEST_GONE) {
    hv.dom0.setState(c, DOM0_CHANNEL.FREE);
    return true;
  }
  if (st !== DOM0_CHANNEL.ACTIVE && st !== DOM0_CHANNEL.GUEST_CLOSED) return false;
  if (guest === null || guest.domid !== hv.dom0.guestDomid(c)) {
    releaseChannel(hv, c);
    return true;
  }
  // The whole unbind under the guest's event lock, so the guest closing its port on a vCPU
  // thread (guestClosedDom0) or sending on it (kickDom0) sees the channel before or after, never
  // half-released.
  guest.shared.lockEvents();
  try {
    const now = hv.dom0.state(c);
    if (now !== DOM0_CHANNEL.ACTIVE && now !== DOM0_CHANNEL.GUEST_CLOSED) return false;
    const port = hv.dom0.guestPort(c);
    const p = guest.ports.get(port);
    if (p.state === S.interdomain && p.remoteDom === 0 && p.remotePort === c) {
      guest.ports.set(port, { state: S.unbound, vcpu: p.vcpu, remoteDom: 0, remotePort: 0 });
    }
    if (now === DOM0_CHANNEL.ACTIVE) {
      try {
        guest.vm.ioeventfdPio(HYPERCALL_PAGE.values.SEND_PORT, port, hv.dom0.kickFd(c), true);
      } catch {
        // VM already gone.
      }
    }
    releaseChannel(hv, c);
  } finally {
    guest.shared.unlockEvents();
  }
  return true;
}

/**
 * A guest is dying (main thread, after its ports are closed): release what the hypervisor holds
 * for each of its dom0 channels, but leave the numbers to dom0, which unbinds them when it has
 * cleaned up (GUEST_GONE). Returns the channels.
 */
export function releaseDomainDom0Channels(hv: HypervisorShared, domid: number): number[] {
  const gone: number[] = [];
  for (let c = 1; c < MAX_DOM0_CHANNELS; c++) {
    const st = hv.dom0.state(c);
    if ((st === DOM0_CHANNEL.ACTIVE || st === DOM0_CHANNEL.GUEST_CLOSED) && hv.dom0.guestDomid(c) === domid) {
      releaseChannel(hv, c, DOM0_CHANNEL.GUEST_GONE);
      gone.push(c);
    }
  }
  return gone;
}

/** dom0 went away: unbind every channel (main thread). Returns how many there were. */
export function releaseAllDom0Channels(hv: HypervisorShared, guestOf: (domid: number) => DomainHandle | null): number {
  let n = 0;
  for (let c = 1; c < MAX_DOM0_CHANNELS; c++) {
    const st = hv.dom0.state(c);
    if (st !== DOM0_CHANNEL.ACTIVE && st !== DOM0_CHANNEL.GUEST_CLOSED && st !== DOM0_CHANNEL.GUEST_GONE) continue;
    if (unbindDom0(hv, guestOf(hv.dom0.guestDomid(c)), c)) n++;
  }
  return n;
}

/** Close the hypervisor's side of channel `c` (its relay, its copy of the kick eventfd). */
function releaseChannel(hv: HypervisorShared, c: number, next: number = DOM0_CHANNEL.FREE): void {
  // Not connectable (and not claimable) before the fd is closed: a claim in between would get a
  // new eventfd that may carry the very number closed here.
  hv.dom0.setState(c, DOM0_CHANNEL.CLAIMED);
  hv.relays.retire(0, c); // the relay thread closes the notify eventfd
  hv.relaysChanged();
  libc.close(hv.dom0.kickFd(c));
  hv.dom0.setState(c, next);
}
