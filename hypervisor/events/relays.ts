// relays.ts: the event-channel fast path — interdomain ports wired to ioeventfds, so a guest's
// EVTCHNOP_send costs an in-kernel exit (~1 µs) instead of a user-space one (~10 µs); the relay
// thread turns each eventfd signal into the raise on the other end (docs/performance.md §3).
//
//   guest: out SEND_PORT, port ──KVM ioeventfd──▶ eventfd ──epoll──▶ relay thread ──▶ setPending
//   (ports without a relay still exit to user space and are sent by the vCPU thread)
import { libc, EFD_CLOEXEC, EFD_NONBLOCK } from '../../host/libc.ts';
import { HYPERCALL_PAGE } from '../../abi/hypercalls.ts';
import type { HypervisorShared } from '../state/global-state.ts';
import { RELAY } from '../state/relay-table.ts';
import type { DomainHandle, Domains } from '../state/domain-handle.ts';
import { sendFrom } from './send.ts';

/**
 * Wire `port` of domain `h` to the fast path. Best effort: without a free entry or eventfd the
 * port simply keeps the user-space path, which has the same semantics.
 */
export function addRelay(hv: HypervisorShared, h: DomainHandle, port: number): void {
  const table = hv.relays;
  const i = table.claim();
  if (i < 0) return;
  const fd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    table.setState(i, RELAY.FREE);
    return;
  }
  try {
    h.vm.ioeventfdPio(HYPERCALL_PAGE.values.SEND_PORT, port, fd);
  } catch {
    libc.close(fd);
    table.setState(i, RELAY.FREE);
    return;
  }
  table.publish(i, fd, h.domid, port);
  hv.relaysChanged(); // the relay thread adds the eventfd to its epoll set
}

/** Unwire `port` of `h` (closed or rebound); the relay thread closes the eventfd. */
export function removeRelay(hv: HypervisorShared, h: DomainHandle | null, domid: number, port: number): void {
  const table = hv.relays;
  for (let i = 0; i < table.slots; i++) {
    if (table.state(i) !== RELAY.ACTIVE || table.domid(i) !== domid || table.port(i) !== port) continue;
    if (h !== null) {
      try {
        h.vm.ioeventfdPio(HYPERCALL_PAGE.values.SEND_PORT, port, table.fd(i), true);
      } catch {
        // The VM is going away: KVM drops its ioeventfds with it.
      }
    }
    table.setState(i, RELAY.CLOSING);
  }
  hv.relaysChanged();
}

/**
 * Deliver the sends a dying domain made through its relays that the relay thread has not taken
 * yet (main thread, while the domain can still be reached): as in Xen, a send the guest completed
 * reaches its peer even when the sender is destroyed straight after. The eventfd read is atomic,
 * so a send is relayed once, here or by the relay thread.
 */
export function flushDomainRelays(domains: Domains, domid: number): void {
  const table = domains.hv.relays;
  const count = new BigUint64Array(1);
  for (let i = 0; i < table.slots; i++) {
    if (table.state(i) !== RELAY.ACTIVE || table.domid(i) !== domid) continue;
    if (libc.read(table.fd(i), count, 8) !== 8) continue; // nothing pending (EAGAIN)
    const port = table.port(i);
    domains.with(domid, undefined, (h) => { sendFrom(domains, h, port); });
  }
}

/** Every relay of a dying domain (its VM fd closes right after, taking the ioeventfds). */
export function removeDomainRelays(hv: HypervisorShared, domid: number): void {
  hv.relays.retire(domid);
  hv.relaysChanged();
}
