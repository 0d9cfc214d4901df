// transport.ts: read and check the transport keys a frontend publishes before Initialised —
// ring-ref or ring-ref0..N with ring-page-order, event-channel, protocol (docs/xen-abi.md §9.3, §13).
import { RING_PROTOCOLS, XEN_IO_PROTO, type RingProtocol } from '../../abi/io/ring.ts';

export type { RingProtocol };

export interface RingTransport {
  /** Grant references of the ring pages, in order. */
  readonly refs: readonly number[];
  readonly order: number;
  /** The frontend's unbound event-channel port (the first of `ports`). */
  readonly port: number;
  /**
   * Every port to bind, in the order the driver's spec names them (a netif with split channels
   * has a TX and an RX port). Absent: `port` alone.
   */
  readonly ports?: readonly number[];
  readonly protocol: RingProtocol;
}

/**
 * A transport of several single-page rings under their own keys, for device classes that are
 * not "one ring at ring-ref" (a netif has `tx-ring-ref` and `rx-ring-ref`).
 */
export interface NamedRingsSpec {
  /** One key per ring; the refs come back in this order. */
  readonly ringKeys: readonly string[];
  /**
   * Alternative sets of event-channel keys, tried in order: the first set whose first key the
   * frontend wrote is used, and then all of its keys are required (e.g. `[['event-channel'],
   * ['event-channel-tx', 'event-channel-rx']]`).
   */
  readonly channelKeys: readonly (readonly string[])[];
}

/** The frontend's keys are guest-written: anything malformed is reported, never trusted. */
export class TransportError extends Error {
  override name = 'TransportError';
}

const U32 = /^(?:0|[1-9][0-9]{0,9})$/;

function u32(read: (key: string) => string | null, key: string): number {
  const v = read(key);
  if (v === null) throw new TransportError(`frontend has no ${key}`);
  const s = v.trim();
  if (!U32.test(s) || Number(s) > 0xffffffff) throw new TransportError(`frontend ${key} '${v.slice(0, 32)}' is not a number`);
  return Number(s);
}

/**
 * Read a single-queue ring transport. `maxOrder` is what the backend advertised in
 * `max-ring-page-order`; a frontend asking for more is refused, as Linux blkback does.
 * Without `protocol` the frontend speaks the native (x86_64) ABI.
 */
export function readRingTransport(read: (key: string) => string | null, maxOrder: number): RingTransport {
  const queues = read('multi-queue-num-queues');
  if (queues !== null && queues.trim() !== '1') throw new TransportError(`frontend asks for ${queues.slice(0, 16)} queues; only 1 is offered`);
  let order = 0;
  let refs: number[];
  if (read('ring-page-order') !== null) {
    order = u32(read, 'ring-page-order');
    if (order > maxOrder) throw new TransportError(`ring-page-order ${order} exceeds max-ring-page-order ${maxOrder}`);
    refs = [];
    for (let i = 0; i < 1 << order; i++) refs.push(u32(read, `ring-ref${i}`));
  } else {
    refs = [u32(read, 'ring-ref')];
  }
  const port = u32(read, 'event-channel');
  const proto = read('protocol')?.trim() ?? XEN_IO_PROTO.values.X86_64;
  if (!isRingProtocol(proto)) throw new TransportError(`unsupported protocol '${proto.slice(0, 32)}'`);
  return { refs, order, port, protocol: proto };
}

/** Read a multi-ring, single-queue transport as `spec` names it (each ring one page, order 0). */
export function readNamedRings(read: (key: string) => string | null, spec: NamedRingsSpec): RingTransport {
  const queues = read('multi-queue-num-queues');
  if (queues !== null && queues.trim() !== '1') throw new TransportError(`frontend asks for ${queues.slice(0, 16)} queues; only 1 is offered`);
  const refs = spec.ringKeys.map((k) => u32(read, k));
  const set = spec.channelKeys.find((keys) => keys.length > 0 && read(keys[0]!) !== null);
  if (set === undefined) throw new TransportError(`frontend has no ${spec.channelKeys.map((k) => k[0]).join(' or ')}`);
  const ports = set.map((k) => u32(read, k));
  const proto = read('protocol')?.trim() ?? XEN_IO_PROTO.values.X86_64;
  if (!isRingProtocol(proto)) throw new TransportError(`unsupported protocol '${proto.slice(0, 32)}'`);
  return { refs, order: 0, port: ports[0]!, ports, protocol: proto };
}

function isRingProtocol(s: string): s is RingProtocol {
  return (RING_PROTOCOLS as readonly string[]).includes(s);
}
