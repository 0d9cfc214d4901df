// event-channel-op.ts: hypercall 32, event_channel_op — ports and their bindings under either event
// ABI (the FIFO set-up commands are in event-channel-fifo.ts).
import { HC } from '../../abi/hypercalls.ts';
import {
  EVTCHNOP, EVTCHNSTAT, VIRQ, NR_VIRQS, EvtchnAllocUnbound, EvtchnBindInterdomain, EvtchnBindVirq, EvtchnBindIpi,
  EvtchnClose, EvtchnSend, EvtchnUnmask, EvtchnBindVcpu, EvtchnReset, EvtchnStatus,
} from '../../abi/event-channel.ts';
import { DOMID } from '../../abi/multicall.ts';
import { neg, E } from '../../abi/errno.ts';
import { GuestStruct } from './guest-struct.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import type { Port } from '../state/port-table.ts';
import { setPending, unmask, clearPending, portLimit, findFreePort } from '../events/raise.ts';
import { sendFrom } from '../events/send.ts';
import { addRelay, removeRelay } from '../events/relays.ts';
import { guestClosedDom0 } from '../events/dom0-channels.ts';
import { leaveFifo } from '../events/fifo-setup.ts';
import { expandArray, initControl, setPriority } from './event-channel-fifo.ts';

const OP = EVTCHNOP.values;
const S = EVTCHNSTAT.values;
const V = VIRQ.values;

/** VIRQs that belong to one vCPU; ARGO is per-domain; the rest are global (dom0's by default). */
const PER_VCPU_VIRQS = new Set<number>([V.TIMER, V.DEBUG, V.XENOPROF, V.XENPMU]);
const PER_DOMAIN_VIRQS = new Set<number>([V.ARGO]);

function resolveDom(ctx: HypercallContext, domid: number): number {
  return domid === DOMID.values.SELF ? ctx.dom.domid : domid;
}

/** Run `fn` holding the event locks of one or two domains (lower slot first: no deadlock). */
function locked<T>(a: DomainHandle, b: DomainHandle | null, fn: () => T): T {
  const [first, second] = b === null || b === a || b.shared === a.shared
    ? [a, null]
    : a.shared.offset <= b.shared.offset ? [a, b] : [b, a];
  first.shared.lockEvents();
  second?.shared.lockEvents();
  try {
    return fn();
  } finally {
    second?.shared.unlockEvents();
    first.shared.unlockEvents();
  }
}

/** A port number inside the port space (port 0 exists but is reserved: always 'closed'). */
function inRange(h: DomainHandle, port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port < portLimit(h);
}

/** A port that can be bound, closed or sent on (port 0 never is). */
function validPort(h: DomainHandle, port: number): boolean {
  return inRange(h, port) && port > 0;
}

/**
 * The `dom` argument of ops that act on a domain's own table: an unknown domain is -ESRCH (Xen
 * looks it up first), another existing domain is -EPERM for an unprivileged caller.
 */
function checkOwnDom(ctx: HypercallContext, domid: number): bigint | null {
  const d = resolveDom(ctx, domid);
  if (d === ctx.dom.domid) return null;
  return ctx.dom.domains.with(d, false, () => true) ? neg('EPERM') : neg('ESRCH');
}

/** Take the lowest free port of `self` for `entry` (under its lock); -1 when the space is full. */
function allocPort(self: DomainHandle, entry: Port): number {
  return locked(self, null, () => {
    const p = findFreePort(self);
    if (p > 0) self.ports.set(p, entry);
    return p;
  });
}

function allocUnbound(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnAllocUnbound);
  const bad = checkOwnDom(ctx, a.get('dom'));
  if (bad !== null) return bad;
  // The remote domain need not exist yet: Xen only records its id.
  const remote = resolveDom(ctx, a.get('remote_dom'));
  const self = ctx.dom.domains.self();
  const port = allocPort(self, { state: S.unbound, vcpu: 0, remoteDom: remote, remotePort: 0 });
  if (port < 0) return neg('ENOSPC');
  a.set('port', port);
  a.writeBack();
  return 0n;
}

function bindInterdomain(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnBindInterdomain);
  const remoteDom = resolveDom(ctx, a.get('remote_dom'));
  const remotePort = a.get('remote_port');
  const self = ctx.dom.domains.self();
  const result = ctx.dom.domains.with(remoteDom, -E.ESRCH, (remote) => {
    if (!validPort(remote, remotePort)) return -E.EINVAL;
    return locked(self, remote, () => {
      const r = remote.ports.get(remotePort);
      if (r.state !== S.unbound || r.remoteDom !== self.domid) return -E.EINVAL;
      const local = findFreePort(self);
      if (local < 0) return -E.ENOSPC;
      self.ports.set(local, { state: S.interdomain, vcpu: 0, remoteDom, remotePort });
      remote.ports.set(remotePort, { state: S.interdomain, vcpu: r.vcpu, remoteDom: self.domid, remotePort: local });
      return local;
    });
  });
  if (result < 0) return -BigInt(-result);
  // Both ends get the in-kernel send path (ioeventfd relays) when they are different domains.
  // A loopback channel stays on the synchronous path: its sender can watch the other end, and
  // Xen's send is complete when the hypercall returns.
  if (remoteDom !== self.domid) {
    const hv = ctx.dom.domains.hv;
    addRelay(hv, self, result);
    ctx.dom.domains.with(remoteDom, undefined, (remote) => addRelay(hv, remote, remotePort));
  }
  // Xen marks the new local port pending, in case the peer sent before the bind.
  setPending(self, result);
  a.set('local_port', result);
  a.writeBack();
  return 0n;
}

function bindVirq(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnBindVirq);
  const virq = a.get('virq');
  const vcpu = a.get('vcpu');
  if (virq >= NR_VIRQS) return neg('EINVAL');
  const perVcpu = PER_VCPU_VIRQS.has(virq);
  if (!perVcpu && vcpu !== 0) return neg('EINVAL');
  if (vcpu >= ctx.dom.nrVcpus) return neg('ENOENT');
  // Global VIRQs are delivered to the hardware domain unless dom0 hands them over.
  if (!perVcpu && !PER_DOMAIN_VIRQS.has(virq) && !ctx.dom.privileged) return neg('EBUSY');
  const self = ctx.dom.domains.self();
  const port = locked(self, null, () => {
    if (self.ports.virqPort(vcpu, virq) !== 0) return -E.EEXIST;
    const p = findFreePort(self);
    if (p < 0) return -E.ENOSPC;
    self.ports.set(p, { state: S.virq, vcpu, remoteDom: 0, remotePort: virq });
    self.ports.setVirqPort(vcpu, virq, p);
    return p;
  });
  if (port < 0) return BigInt(port);
  a.set('port', port);
  a.writeBack();
  return 0n;
}

function bindIpi(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnBindIpi);
  const vcpu = a.get('vcpu');
  if (vcpu >= ctx.dom.nrVcpus) return neg('ENOENT');
  const self = ctx.dom.domains.self();
  const port = allocPort(self, { state: S.ipi, vcpu, remoteDom: 0, remotePort: 0 });
  if (port < 0) return neg('ENOSPC');
  a.set('port', port);
  a.writeBack();
  return 0n;
}

/** Close one port of `self`; an interdomain peer reverts to unbound. Returns 0 or -errno. */
export function closePort(ctx: HypercallContext, self: DomainHandle, port: number): number {
  if (!validPort(self, port)) return -E.EINVAL;
  const p = self.ports.get(port);
  if (p.state === S.closed) return -E.EINVAL;
  const clear = (): void => {
    if (p.state === S.virq) self.ports.setVirqPort(p.vcpu, p.remotePort, 0);
    self.ports.set(port, { state: S.closed, vcpu: 0, remoteDom: 0, remotePort: 0 });
    // As Xen's evtchn_free: a stale pending bit must not fire on the next binding of this port.
    clearPending(self, port);
  };
  if (p.state !== S.interdomain) {
    locked(self, null, clear);
    return 0;
  }
  const hv = ctx.dom.domains.hv;
  if (p.remoteDom === 0) {
    guestClosedDom0(hv, self, p.remotePort, port);
    locked(self, null, clear);
    return 0;
  }
  removeRelay(hv, self, self.domid, port);
  const done = ctx.dom.domains.with(p.remoteDom, false, (remote) => locked(self, remote, () => {
    const r = remote.ports.get(p.remotePort);
    if (r.state === S.interdomain && r.remoteDom === self.domid && r.remotePort === port) {
      remote.ports.set(p.remotePort, { state: S.unbound, vcpu: r.vcpu, remoteDom: self.domid, remotePort: 0 });
      removeRelay(hv, remote, remote.domid, p.remotePort);
    }
    clear();
    return true;
  }));
  if (!done) locked(self, null, clear); // the peer is gone already
  return 0;
}

export function sendPort(ctx: HypercallContext, port: number): bigint {
  return BigInt(sendFrom(ctx.dom.domains, ctx.dom.domains.self(), port));
}

function status(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnStatus);
  const bad = checkOwnDom(ctx, a.get('dom'));
  if (bad !== null) return bad;
  const self = ctx.dom.domains.self();
  const port = a.get('port');
  if (!inRange(self, port)) return neg('EINVAL');
  const p = self.ports.get(port);
  a.set('status', p.state);
  a.set('vcpu', p.vcpu);
  // The union u: u.virq's word also carries unbound.dom and interdomain.dom (abi/event-channel.ts).
  a.set('u.virq', p.state === S.unbound || p.state === S.interdomain ? p.remoteDom : p.state === S.virq ? p.remotePort : 0);
  a.set('u.interdomain.port', p.state === S.interdomain ? p.remotePort : 0);
  a.writeBack();
  return 0n;
}

function bindVcpu(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnBindVcpu);
  const port = a.get('port');
  const vcpu = a.get('vcpu');
  const self = ctx.dom.domains.self();
  if (!validPort(self, port)) return neg('EINVAL');
  if (vcpu >= ctx.dom.nrVcpus) return neg('ENOENT');
  return locked(self, null, () => {
    const p = self.ports.get(port);
    const movable = p.state === S.unbound || p.state === S.interdomain ||
      (p.state === S.virq && !PER_VCPU_VIRQS.has(p.remotePort));
    if (!movable) return neg('EINVAL');
    self.ports.setVcpu(port, vcpu);
    return 0n;
  });
}

function reset(ctx: HypercallContext, arg: bigint): bigint {
  const a = new GuestStruct(ctx, arg, EvtchnReset);
  const bad = checkOwnDom(ctx, a.get('dom'));
  if (bad !== null) return bad;
  const self = ctx.dom.domains.self();
  for (let port = 1, end = self.ports.highWater; port < end; port++) {
    if (self.ports.state(port) !== S.closed) closePort(ctx, self, port);
  }
  // A FIFO domain goes back to the 2-level ABI (and may init_control again).
  if (self.shared.fifo.active) leaveFifo(self);
  return 0n;
}

export function eventChannelOp(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & 0xffffffffn);
  const arg = args[1]!;
  switch (cmd) {
    case OP.alloc_unbound: return allocUnbound(ctx, arg);
    case OP.bind_interdomain: return bindInterdomain(ctx, arg);
    case OP.bind_virq: return bindVirq(ctx, arg);
    case OP.bind_ipi: return bindIpi(ctx, arg);
    case OP.close: {
      const r = closePort(ctx, ctx.dom.domains.self(), new GuestStruct(ctx, arg, EvtchnClose).get('port'));
      return BigInt(r);
    }
    case OP.send: return sendPort(ctx, new GuestStruct(ctx, arg, EvtchnSend).get('port'));
    case OP.status: return status(ctx, arg);
    case OP.bind_vcpu: return bindVcpu(ctx, arg);
    case OP.unmask: {
      const port = new GuestStruct(ctx, arg, EvtchnUnmask).get('port');
      const self = ctx.dom.domains.self();
      if (!inRange(self, port)) return neg('EINVAL');
      unmask(self, port);
      return 0n;
    }
    case OP.reset: return reset(ctx, arg);
    case OP.bind_pirq:
      return neg('EINVAL'); // HVM domUs here have no physical IRQs
    case OP.init_control: return initControl(ctx, arg);
    case OP.expand_array: return expandArray(ctx, arg);
    case OP.set_priority: return setPriority(ctx, arg);
    default:
      return neg('ENOSYS');
  }
}

export function registerEventChannelOp(table: HypercallTable): void {
  table.register(HC.event_channel_op, 'event_channel_op', eventChannelOp);
}
