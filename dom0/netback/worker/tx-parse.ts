// tx-parse.ts: split the TX slots a frontend published (already copied out of the ring) into
// packets, and check each against io/netif.h's rules before any guest page is touched: the first
// slot's size is the whole packet, more_data chains at most XEN_NETIF_NR_SLOTS_MIN slots, extra-info
// segments take slots of their own, and no slot's data may cross its page.
import { offsetOf } from '../../../abi/layout.ts';
import { NETIF_EXTRA_FLAG, NETIF_EXTRA_TYPE, NETIF_LIMITS, NETTXF, NetifExtraInfo, NetifTxRequest } from '../../../abi/io/netif.ts';

const PAGE = 4096;
export const ETH_HLEN = 14;
const MAX_SLOTS = NETIF_LIMITS.values.NR_SLOTS_MIN;
/** Each extra type at most once (Linux checks the same): more than this many segments is malformed. */
const MAX_EXTRAS = NETIF_EXTRA_TYPE.values.MAX - 1;
const O_GREF = offsetOf(NetifTxRequest, 'gref');
const O_OFFSET = offsetOf(NetifTxRequest, 'offset');
const O_FLAGS = offsetOf(NetifTxRequest, 'flags');
const O_ID = offsetOf(NetifTxRequest, 'id');
const O_SIZE = offsetOf(NetifTxRequest, 'size');
const O_XTYPE = offsetOf(NetifExtraInfo, 'type');
const O_XFLAGS = offsetOf(NetifExtraInfo, 'flags');
const X = NETIF_EXTRA_TYPE.values;

/** Where one piece of a packet lies: `len` bytes at `offset` in the page granted as `gref`. */
export interface TxSeg {
  readonly gref: number;
  readonly offset: number;
  readonly len: number;
}

export type TxParse =
  /** The chain goes on past what the frontend has published: wait for more. */
  | { readonly kind: 'incomplete' }
  /**
   * One packet over `ids.length` slots; `ids[i]` is the request id to answer slot i with, or null
   * for an extra-info slot (answered NETIF_RSP_NULL). `error` set: answer every slot ERROR.
   */
  | { readonly kind: 'packet'; readonly ids: readonly (number | null)[]; readonly segs: readonly TxSeg[];
      readonly size: number; readonly flags: number; readonly error: string | null }
  /** Not something a correct frontend can publish and we cannot resynchronise: disconnect. */
  | { readonly kind: 'fatal'; readonly reason: string };

interface Req { gref: number; offset: number; flags: number; id: number; size: number }

function decode(b: Uint8Array): Req {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    gref: v.getUint32(O_GREF, true), offset: v.getUint16(O_OFFSET, true), flags: v.getUint16(O_FLAGS, true),
    id: v.getUint16(O_ID, true), size: v.getUint16(O_SIZE, true),
  };
}

/** Parse the packet that starts at `slots[start]`; `maxFrame` is the largest acceptable packet. */
export function parseTxPacket(slots: readonly Uint8Array[], start: number, maxFrame: number): TxParse {
  let i = start;
  if (i >= slots.length) return { kind: 'incomplete' };
  const first = decode(slots[i++]!);
  const ids: (number | null)[] = [first.id];
  let error: string | null = null;
  if (first.flags & NETTXF.values.extra_info) {
    for (let n = 0; ; n++) {
      if (n >= MAX_EXTRAS) return { kind: 'fatal', reason: `more than ${MAX_EXTRAS} extra-info segments` };
      if (i >= slots.length) return { kind: 'incomplete' };
      const x = slots[i++]!;
      ids.push(null);
      const type = x[O_XTYPE]!;
      // Multicast filter updates are harmless (we flood multicast anyway); GSO was not offered.
      if (type === X.GSO) error ??= 'GSO extra info, but GSO was not negotiated';
      else if (type !== X.MCAST_ADD && type !== X.MCAST_DEL) error ??= `extra info of type ${type}`;
      if ((x[O_XFLAGS]! & NETIF_EXTRA_FLAG.values.MORE) === 0) break;
    }
  }
  const reqs = [first];
  for (let more = first.flags & NETTXF.values.more_data; more !== 0;) {
    if (reqs.length >= MAX_SLOTS) return { kind: 'fatal', reason: `packet of more than ${MAX_SLOTS} slots` };
    if (i >= slots.length) return { kind: 'incomplete' };
    const r = decode(slots[i++]!);
    ids.push(r.id);
    reqs.push(r);
    more = r.flags & NETTXF.values.more_data;
  }
  const rest = reqs.slice(1).reduce((n, r) => n + r.size, 0);
  if (first.size < ETH_HLEN) error ??= `packet of ${first.size} bytes is shorter than an Ethernet header`;
  else if (first.size > maxFrame) error ??= `packet of ${first.size} bytes exceeds the frame limit ${maxFrame}`;
  else if (rest > first.size) error ??= `slots carry ${rest} bytes after the first, more than the packet's ${first.size}`;
  const segs = reqs.map((r, k) => ({ gref: r.gref, offset: r.offset, len: k === 0 ? Math.max(0, first.size - rest) : r.size }));
  for (const s of segs) if (s.offset + s.len > PAGE) error ??= `slot of ${s.len} bytes at offset ${s.offset} crosses its page`;
  return { kind: 'packet', ids, segs, size: first.size, flags: first.flags, error };
}
