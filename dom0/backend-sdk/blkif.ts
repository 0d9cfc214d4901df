// blkif.ts: the block-device ring protocol (io/blkif.h, xen-abi-facts §9) in both layouts a
// backend must honour — x86_64-abi, and x86_32-abi where u64 fields are 4-byte aligned.
// Decoding works on a private copy of the ring entry and checks nothing semantic.
import type { RingProtocol } from './transport.ts';

export const BLKIF_OP = { READ: 0, WRITE: 1, WRITE_BARRIER: 2, FLUSH_DISKCACHE: 3, DISCARD: 5, INDIRECT: 6 } as const;
export const BLKIF_RSP = { OKAY: 0, ERROR: -1, EOPNOTSUPP: -2 } as const;
export const VDISK = { CDROM: 1, REMOVABLE: 2, READONLY: 4 } as const;
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
/** struct blkif_request_segment entries per indirect page. */
export const SEGS_PER_INDIRECT_FRAME = 512;
export const SECTOR_SIZE = 512;
/** Bytes of one blkif_request_segment: u32 gref, u8 first_sect, u8 last_sect, pad. */
export const SEGMENT_SIZE = 8;

interface Layout {
  readonly entry: number;
  readonly id: number;
  readonly sector: number;
  readonly seg: number;
  readonly discardNr: number;
  readonly indHandle: number;
  readonly indGrefs: number;
  readonly rsp: number;
}

const LAYOUTS: Record<RingProtocol, Layout> = {
  'x86_64-abi': { entry: 112, id: 8, sector: 16, seg: 24, discardNr: 24, indHandle: 24, indGrefs: 28, rsp: 16 },
  'x86_32-abi': { entry: 108, id: 4, sector: 12, seg: 20, discardNr: 20, indHandle: 20, indGrefs: 24, rsp: 12 },
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
  return { gref: v.getUint32(at, true), first: v.getUint8(at + 4), last: v.getUint8(at + 5) };
}

/** Decode one ring entry (already copied out of the ring). */
export function decodeRequest(buf: Uint8Array, proto: RingProtocol): BlkRequest {
  const L = LAYOUTS[proto];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const op = v.getUint8(0);
  const indirect = op === BLKIF_OP.INDIRECT;
  const nrSegments = indirect ? v.getUint16(2, true) : v.getUint8(1);
  const segments: BlkSegment[] = [];
  if (op !== BLKIF_OP.DISCARD && !indirect) {
    for (let i = 0; i < Math.min(nrSegments, BLKIF_MAX_SEGMENTS_PER_REQUEST); i++) segments.push(readSegment(v, L.seg + i * SEGMENT_SIZE));
  }
  const indirectGrefs: number[] = [];
  if (indirect) for (let i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++) indirectGrefs.push(v.getUint32(L.indGrefs + 4 * i, true));
  return {
    op, nrSegments, segments, indirectGrefs,
    handle: indirect ? v.getUint16(L.indHandle, true) : v.getUint16(2, true),
    id: buf.slice(L.id, L.id + 8),
    sector: Number(v.getBigUint64(L.sector, true)),
    nrSectors: op === BLKIF_OP.DISCARD ? Number(v.getBigUint64(L.discardNr, true)) : 0,
    discardFlag: op === BLKIF_OP.DISCARD ? v.getUint8(1) : 0,
    indirectOp: indirect ? v.getUint8(1) : 0,
  };
}

/** Encode a blkif_response: id @0, operation @8, status (i16) @10. */
export function encodeResponse(id: Uint8Array, op: number, status: number, proto: RingProtocol): Uint8Array {
  const out = new Uint8Array(LAYOUTS[proto].rsp);
  out.set(id.subarray(0, 8), 0);
  const v = new DataView(out.buffer);
  v.setUint8(8, op);
  v.setInt16(10, status, true);
  return out;
}

/** Encoders for frontends (the test mock, guest tools): the inverse of decodeRequest. */
export function encodeRequest(r: Omit<Partial<BlkRequest>, 'id'> & { op: number; id: bigint | Uint8Array }, proto: RingProtocol): Uint8Array {
  const L = LAYOUTS[proto];
  const buf = new Uint8Array(L.entry);
  const v = new DataView(buf.buffer);
  v.setUint8(0, r.op);
  if (r.id instanceof Uint8Array) buf.set(r.id.subarray(0, 8), L.id);
  else v.setBigUint64(L.id, r.id, true);
  v.setBigUint64(L.sector, BigInt(r.sector ?? 0), true);
  if (r.op === BLKIF_OP.INDIRECT) {
    v.setUint8(1, r.indirectOp ?? 0);
    v.setUint16(2, r.nrSegments ?? 0, true);
    v.setUint16(L.indHandle, r.handle ?? 0, true);
    (r.indirectGrefs ?? []).forEach((g, i) => v.setUint32(L.indGrefs + 4 * i, g, true));
  } else if (r.op === BLKIF_OP.DISCARD) {
    v.setUint8(1, r.discardFlag ?? 0);
    v.setUint16(2, r.handle ?? 0, true);
    v.setBigUint64(L.discardNr, BigInt(r.nrSectors ?? 0), true);
  } else {
    v.setUint8(1, r.nrSegments ?? r.segments?.length ?? 0);
    v.setUint16(2, r.handle ?? 0, true);
    (r.segments ?? []).forEach((s, i) => {
      v.setUint32(L.seg + i * SEGMENT_SIZE, s.gref, true);
      v.setUint8(L.seg + i * SEGMENT_SIZE + 4, s.first);
      v.setUint8(L.seg + i * SEGMENT_SIZE + 5, s.last);
    });
  }
  return buf;
}

/** Decode a blkif_response (frontends and tests). */
export function decodeResponse(buf: Uint8Array, proto: RingProtocol): { id: bigint; op: number; status: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, LAYOUTS[proto].rsp);
  return { id: v.getBigUint64(0, true), op: v.getUint8(8), status: v.getInt16(10, true) };
}
