// blkif.ts: decode and encode blkif ring entries (io/blkif.h, docs/xen-abi.md §9) in both layouts a
// backend must honour — x86_64-abi, and x86_32-abi where u64 fields are 4-byte aligned. The
// numbers and layouts are abi/io/blkif.ts's; this file only turns them into objects and back.
// Decoding works on a private copy of the ring entry and checks nothing semantic.
import { offsetOf } from '../../abi/layout.ts';
import {
  BLKIF_OP as BLKIF_OP_GROUP, BLKIF_RSP as BLKIF_RSP_GROUP, VDISK as VDISK_GROUP, BLKIF_LIMITS, BLKIF_LAYOUTS,
  BLKIF_SECTOR_SIZE, BLKIF_SEGS_PER_INDIRECT_FRAME, BlkifRequestSegment,
} from '../../abi/io/blkif.ts';
import type { RingProtocol } from './transport.ts';

export const BLKIF_OP = BLKIF_OP_GROUP.values;
export const BLKIF_RSP = BLKIF_RSP_GROUP.values;
export const VDISK = VDISK_GROUP.values;
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = BLKIF_LIMITS.values.MAX_SEGMENTS_PER_REQUEST;
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = BLKIF_LIMITS.values.MAX_INDIRECT_PAGES_PER_REQUEST;
/** struct blkif_request_segment entries per indirect page. */
export const SEGS_PER_INDIRECT_FRAME = BLKIF_SEGS_PER_INDIRECT_FRAME;
export const SECTOR_SIZE = BLKIF_SECTOR_SIZE;
/** Bytes of one blkif_request_segment: u32 gref, u8 first_sect, u8 last_sect, pad. */
export const SEGMENT_SIZE = BlkifRequestSegment.size;
const SEG_FIRST = offsetOf(BlkifRequestSegment, 'first_sect');
const SEG_LAST = offsetOf(BlkifRequestSegment, 'last_sect');

/** Byte offsets of one protocol's layouts, looked up once (the decoder runs per request). */
interface Layout {
  readonly entry: number;
  /** Shared by every request layout: operation @0, nr_segments / flag / indirect_op @1. */
  readonly op: number;
  readonly byte1: number;
  /** handle of direct and discard requests; nr_segments of indirect ones. */
  readonly word2: number;
  readonly id: number;
  readonly sector: number;
  readonly seg: number;
  readonly discardNr: number;
  readonly indHandle: number;
  readonly indGrefs: number;
  readonly rsp: number;
  readonly rspId: number;
  readonly rspOp: number;
  readonly rspStatus: number;
}

function layoutOf(proto: RingProtocol): Layout {
  const { ring, request: rq, discard: d, indirect: ind, response: rs } = BLKIF_LAYOUTS[proto];
  const same = (what: string, ...offsets: number[]): number => {
    if (offsets.some((o) => o !== offsets[0])) throw new Error(`blkif ${proto}: ${what} differs between request layouts`);
    return offsets[0]!;
  };
  return {
    entry: ring.entrySize,
    op: same('operation', offsetOf(rq, 'operation'), offsetOf(d, 'operation'), offsetOf(ind, 'operation')),
    byte1: same('byte 1', offsetOf(rq, 'nr_segments'), offsetOf(d, 'flag'), offsetOf(ind, 'indirect_op')),
    word2: same('word 2', offsetOf(rq, 'handle'), offsetOf(d, 'handle'), offsetOf(ind, 'nr_segments')),
    id: same('id', offsetOf(rq, 'id'), offsetOf(d, 'id'), offsetOf(ind, 'id')),
    sector: same('sector_number', offsetOf(rq, 'sector_number'), offsetOf(d, 'sector_number'), offsetOf(ind, 'sector_number')),
    seg: offsetOf(rq, 'seg'),
    discardNr: offsetOf(d, 'nr_sectors'),
    indHandle: offsetOf(ind, 'handle'),
    indGrefs: offsetOf(ind, 'indirect_grefs'),
    rsp: rs.size,
    rspId: offsetOf(rs, 'id'),
    rspOp: offsetOf(rs, 'operation'),
    rspStatus: offsetOf(rs, 'status'),
  };
}

const LAYOUTS: Record<RingProtocol, Layout> = {
  'x86_64-abi': layoutOf('x86_64-abi'),
  'x86_32-abi': layoutOf('x86_32-abi'),
};

export interface BlkSegment {
  readonly gref: number;
  readonly first: number;
  readonly last: number;
}

/** A decoded request; which fields matter depends on `op`. */
export interface BlkRequest {
  readonly op: number;
  /** u8 for direct requests, u16 for indirect ones. */
  readonly nrSegments: number;
  readonly handle: number;
  /** The frontend's id, raw (echoed verbatim). */
  readonly id: Uint8Array;
  /** Numbers past 2^53 lose precision but stay past any disk's end. */
  readonly sector: number;
  /** Direct segments (the first min(nrSegments, 11)). */
  readonly segments: readonly BlkSegment[];
  /** DISCARD: sectors to discard; flag bit 0 = secure. */
  readonly nrSectors: number;
  readonly discardFlag: number;
  /** INDIRECT: the real operation and the grefs of the pages holding the segments. */
  readonly indirectOp: number;
  readonly indirectGrefs: readonly number[];
}

export function blkifEntrySize(proto: RingProtocol): number {
  return LAYOUTS[proto].entry;
}

export function readSegment(v: DataView, at: number): BlkSegment {
  return { gref: v.getUint32(at, true), first: v.getUint8(at + SEG_FIRST), last: v.getUint8(at + SEG_LAST) };
}

/** Decode one ring entry (already copied out of the ring). */
export function decodeRequest(buf: Uint8Array, proto: RingProtocol): BlkRequest {
  const L = LAYOUTS[proto];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const op = v.getUint8(L.op);
  const indirect = op === BLKIF_OP.INDIRECT;
  const nrSegments = indirect ? v.getUint16(L.word2, true) : v.getUint8(L.byte1);
  const segments: BlkSegment[] = [];
  if (op !== BLKIF_OP.DISCARD && !indirect) {
    for (let i = 0; i < Math.min(nrSegments, BLKIF_MAX_SEGMENTS_PER_REQUEST); i++) segments.push(readSegment(v, L.seg + i * SEGMENT_SIZE));
  }
  const indirectGrefs: number[] = [];
  if (indirect) for (let i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++) indirectGrefs.push(v.getUint32(L.indGrefs + 4 * i, true));
  return {
    op, nrSegments, segments, indirectGrefs,
    handle: indirect ? v.getUint16(L.indHandle, true) : v.getUint16(L.word2, true),
    id: buf.slice(L.id, L.id + 8),
    sector: Number(v.getBigUint64(L.sector, true)),
    nrSectors: op === BLKIF_OP.DISCARD ? Number(v.getBigUint64(L.discardNr, true)) : 0,
    discardFlag: op === BLKIF_OP.DISCARD ? v.getUint8(L.byte1) : 0,
    indirectOp: indirect ? v.getUint8(L.byte1) : 0,
  };
}

/** Encode a blkif_response (the id echoed as the frontend wrote it). */
export function encodeResponse(id: Uint8Array, op: number, status: number, proto: RingProtocol): Uint8Array {
  const L = LAYOUTS[proto];
  const out = new Uint8Array(L.rsp);
  out.set(id.subarray(0, 8), L.rspId);
  const v = new DataView(out.buffer);
  v.setUint8(L.rspOp, op);
  v.setInt16(L.rspStatus, status, true);
  return out;
}

/** Encoders for frontends (the test mock, guest tools): the inverse of decodeRequest. */
export function encodeRequest(r: Omit<Partial<BlkRequest>, 'id'> & { op: number; id: bigint | Uint8Array }, proto: RingProtocol): Uint8Array {
  const L = LAYOUTS[proto];
  const buf = new Uint8Array(L.entry);
  const v = new DataView(buf.buffer);
  v.setUint8(L.op, r.op);
  if (r.id instanceof Uint8Array) buf.set(r.id.subarray(0, 8), L.id);
  else v.setBigUint64(L.id, r.id, true);
  v.setBigUint64(L.sector, BigInt(r.sector ?? 0), true);
  if (r.op === BLKIF_OP.INDIRECT) {
    v.setUint8(L.byte1, r.indirectOp ?? 0);
    v.setUint16(L.word2, r.nrSegments ?? 0, true);
    v.setUint16(L.indHandle, r.handle ?? 0, true);
    (r.indirectGrefs ?? []).forEach((g, i) => v.setUint32(L.indGrefs + 4 * i, g, true));
  } else if (r.op === BLKIF_OP.DISCARD) {
    v.setUint8(L.byte1, r.discardFlag ?? 0);
    v.setUint16(L.word2, r.handle ?? 0, true);
    v.setBigUint64(L.discardNr, BigInt(r.nrSectors ?? 0), true);
  } else {
    v.setUint8(L.byte1, r.nrSegments ?? r.segments?.length ?? 0);
    v.setUint16(L.word2, r.handle ?? 0, true);
    (r.segments ?? []).forEach((s, i) => {
      const at = L.seg + i * SEGMENT_SIZE;
      v.setUint32(at, s.gref, true);
      v.setUint8(at + SEG_FIRST, s.first);
      v.setUint8(at + SEG_LAST, s.last);
    });
  }
  return buf;
}

/** Decode a blkif_response (frontends and tests). */
export function decodeResponse(buf: Uint8Array, proto: RingProtocol): { id: bigint; op: number; status: number } {
  const L = LAYOUTS[proto];
  const v = new DataView(buf.buffer, buf.byteOffset, L.rsp);
  return { id: v.getBigUint64(L.rspId, true), op: v.getUint8(L.rspOp), status: v.getInt16(L.rspStatus, true) };
}
