// relays.ts: the event-channel fast path — interdomain ports wired to ioeventfds, so a guest's
// EVTCHNOP_send costs an in-kernel exit (~1 µs) instead of a user-space one (~10 µs); the relay
// thread turns each eventfd signal into the raise on the other end (DESIGN §4).
//
//   guest: out SEND_PORT, port ──KVM ioeventfd──▶ eventfd ──epoll──▶ relay thread ──▶ setPending
//   (ports without a relay still exit to user space and are sent by the vCPU thread)
import { libc, EFD_CLOEXEC, EFD_NONBLOCK } from '../kvm/libc.ts';
import { HYPERCALL_PAGE } from '../../abi/hypercalls.ts';
import type { HypervisorShared } from '../domain/global-state.ts';
import type { DomainHandle } from './domain-handle.ts';

export const MAX_RELAYS = 1024;
const WORDS = 4; // state, eventfd, domid, port
export const RELAY_TABLE_BYTES = MAX_RELAYS * WORDS * 4;

/** Entry states. CLOSING entries are reaped (epoll removal, close) by the relay thread. */
export const RELAY = { FREE: 0, ACTIVE: 1, CLOSING: 2, CLAIMED: 3 } as const;

export class RelayTable {
  readonly w: Int32Array;

  constructor(sab: SharedArrayBuffer, offset: number) {
    this.w = new Int32Array(sab, offset, MAX_RELAYS * WORDS);
  }

  state(i: number): number { return Atomics.load(this.w, i * WORDS); }
  fd(i: number): number { return this.w[i * WORDS + 1]!; }
  domid(i: number): number { return this.w[i * WORDS + 2]!; }
  port(i: number): number { return this.w[i * WORDS + 3]!; }
  setState(i: number, s: number): void { Atomics.store(this.w, i * WORDS, s); }

  claim(): number {
    for (let i = 0; i < MAX_RELAYS; i++) {
      if (Atomics.compareExchange(this.w, i * WORDS, RELAY.FREE, RELAY.CLAIMED) === RELAY.FREE) return i;
    }
    return -1;
  }

  fill(i: number, fd: number, domid: number, port: number): void {
    const o = i * WORDS;
    this.w[o + 1] = fd;
    this.w[o + 2] = domid;
    this.w[o + 3] = port;
    Atomics.store(this.w, o, RELAY.ACTIVE);
  }
}

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
  table.fill(i, fd, h.domid, port);
  hv.relaysChanged(); // the relay thread adds the eventfd to its epoll set
}

/** Unwire `port` of `h` (closed or rebound); the relay thread closes the eventfd. */
export function removeRelay(hv: HypervisorShared, h: DomainHandle | null, domid: number, port: number): void {
  const table = hv.relays;
  for (let i = 0; i < MAX_RELAYS; i++) {
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

/** Every relay of a dying domain (its VM fd closes right after, taking the ioeventfds). */
export function removeDomainRelays(hv: HypervisorShared, domid: number): void {
  const table = hv.relays;
  for (let i = 0; i < MAX_RELAYS; i++) {
    if (table.state(i) === RELAY.ACTIVE && table.domid(i) === domid) table.setState(i, RELAY.CLOSING);
  }
  hv.relaysChanged();
}
