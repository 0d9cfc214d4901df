// blkif.ts: the block-device ring protocol (io/blkif.h) — operations, limits, statuses, VDISK_
// flags, and the request/response layouts in both ring ABIs a backend must accept: x86_64 (the
// native one) and x86_32, where u64 fields are only 4-byte aligned (Linux blkback's
// blkif_x86_32_* layouts; Xen's own structs compiled for i386).
import { defineConstants, defineStruct, type StructDef } from '../layout.ts';
import { defineRing, type RingDef, type RingProtocol } from './ring.ts';

export const BLKIF_OP = defineConstants('blkif operations', 'BLKIF_OP_', {
  READ: 0, WRITE: 1, WRITE_BARRIER: 2, FLUSH_DISKCACHE: 3, RESERVED_1: 4, DISCARD: 5, INDIRECT: 6,
});

export const BLKIF_LIMITS = defineConstants('blkif request limits', 'BLKIF_', {
  /** Segments a direct request carries (so that a one-page ring holds 32 requests). */
  MAX_SEGMENTS_PER_REQUEST: 11,
  /** Pages of segments an INDIRECT request may reference. */
  MAX_INDIRECT_PAGES_PER_REQUEST: 8,
});

export const BLKIF_RSP = defineConstants('blkif response status', 'BLKIF_RSP_', {
  EOPNOTSUPP: -2, ERROR: -1, OKAY: 0,
});

export const BLKIF_DISCARD = defineConstants('blkif_request_discard.flag bits', 'BLKIF_DISCARD_', {
  SECURE: 1,
});

/** The backend's `info` key. */
export const VDISK = defineConstants('Virtual disk info flags', 'VDISK_', {
  CDROM: 0x1, REMOVABLE: 0x2, READONLY: 0x4,
});

/** `_pad` is the tail padding Xen leaves unnamed; blkfront zeroes it by that name. */
export const BlkifRequestSegment = defineStruct('blkif_request_segment', 8, [
  ['gref', 0, 'u32'], ['first_sect', 4, 'u8'], ['last_sect', 5, 'u8'], ['_pad', 6, 'u16'],
], { padding: ['_pad'] });

const MAX_SEGS = BLKIF_LIMITS.values.MAX_SEGMENTS_PER_REQUEST;
const MAX_IND = BLKIF_LIMITS.values.MAX_INDIRECT_PAGES_PER_REQUEST;

/** The unit of sector_number, first/last_sect and the `sectors` key (whatever the disk's sector size). */
export const BLKIF_SECTOR_SIZE = 512;
/** Segments one indirect page holds. */
export const BLKIF_SEGS_PER_INDIRECT_FRAME = 4096 / BlkifRequestSegment.size;

export const BLKIF_UNITS = defineConstants('pvkvm blkif units', 'BLKIF_', {
  SECTOR_SIZE: BLKIF_SECTOR_SIZE,
  SEGS_PER_INDIRECT_FRAME: BLKIF_SEGS_PER_INDIRECT_FRAME,
}, { inXenHeaders: false });

// ---- x86_64 (native) layouts ----

/** READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE. */
export const BlkifRequest = defineStruct('blkif_request', 112, [
  ['operation', 0, 'u8'], ['nr_segments', 1, 'u8'], ['handle', 2, 'u16'], ['id', 8, 'u64'],
  ['sector_number', 16, 'u64'], ['seg', 24, BlkifRequestSegment, MAX_SEGS],
]);
export const BlkifRequestDiscard = defineStruct('blkif_request_discard', 32, [
  ['operation', 0, 'u8'], ['flag', 1, 'u8'], ['handle', 2, 'u16'], ['id', 8, 'u64'],
  ['sector_number', 16, 'u64'], ['nr_sectors', 24, 'u64'],
]);
export const BlkifRequestIndirect = defineStruct('blkif_request_indirect', 64, [
  ['operation', 0, 'u8'], ['indirect_op', 1, 'u8'], ['nr_segments', 2, 'u16'], ['id', 8, 'u64'],
  ['sector_number', 16, 'u64'], ['handle', 24, 'u16'], ['indirect_grefs', 28, 'u32', MAX_IND],
]);
export const BlkifResponse = defineStruct('blkif_response', 16, [
  ['id', 0, 'u64'], ['operation', 8, 'u8'], ['status', 10, 'i16'],
]);

// ---- x86_32 layouts: the same fields, u64s 4-byte aligned (checked with -m32 as Xen's structs) ----

export const BlkifX86_32Request = defineStruct('blkif_x86_32_request', 108, [
  ['operation', 0, 'u8'], ['nr_segments', 1, 'u8'], ['handle', 2, 'u16'], ['id', 4, 'u64'],
  ['sector_number', 12, 'u64'], ['seg', 20, BlkifRequestSegment, MAX_SEGS],
], { xenName: 'blkif_request' });
export const BlkifX86_32RequestDiscard = defineStruct('blkif_x86_32_request_discard', 28, [
  ['operation', 0, 'u8'], ['flag', 1, 'u8'], ['handle', 2, 'u16'], ['id', 4, 'u64'],
  ['sector_number', 12, 'u64'], ['nr_sectors', 20, 'u64'],
], { xenName: 'blkif_request_discard' });
/** i386 pads it to 64 bytes explicitly, so that it is as long as the x86_64 one. */
export const BlkifX86_32RequestIndirect = defineStruct('blkif_x86_32_request_indirect', 64, [
  ['operation', 0, 'u8'], ['indirect_op', 1, 'u8'], ['nr_segments', 2, 'u16'], ['id', 4, 'u64'],
  ['sector_number', 12, 'u64'], ['handle', 20, 'u16'], ['indirect_grefs', 24, 'u32', MAX_IND], ['pad', 56, 'u64'],
], { xenName: 'blkif_request_indirect' });
export const BlkifX86_32Response = defineStruct('blkif_x86_32_response', 12, [
  ['id', 0, 'u64'], ['operation', 8, 'u8'], ['status', 10, 'i16'],
], { xenName: 'blkif_response' });

// ---- the rings ----

/** Xen's union has req and rsp; the discard and indirect views share the slot (all no longer than req). */
export const BlkifRing = defineRing('blkif', 'x86_64', [
  ['req', BlkifRequest], ['discard', BlkifRequestDiscard], ['indirect', BlkifRequestIndirect], ['rsp', BlkifResponse],
]);
export const BlkifX86_32Ring = defineRing('blkif_x86_32', 'x86_32', [
  ['req', BlkifX86_32Request], ['discard', BlkifX86_32RequestDiscard], ['indirect', BlkifX86_32RequestIndirect],
  ['rsp', BlkifX86_32Response],
], { xenName: 'blkif' });

type FieldsOf<S> = S extends StructDef<infer N> ? N : never;

/** The request and response layouts of one ring ABI (same field names in both). */
export interface BlkifLayouts {
  readonly ring: RingDef;
  readonly request: StructDef<FieldsOf<typeof BlkifRequest>>;
  readonly discard: StructDef<FieldsOf<typeof BlkifRequestDiscard>>;
  readonly indirect: StructDef<FieldsOf<typeof BlkifRequestIndirect>>;
  readonly response: StructDef<FieldsOf<typeof BlkifResponse>>;
}

/** Layouts by the frontend's `protocol` key. */
export const BLKIF_LAYOUTS: Readonly<Record<RingProtocol, BlkifLayouts>> = {
  'x86_64-abi': {
    ring: BlkifRing, request: BlkifRequest, discard: BlkifRequestDiscard, indirect: BlkifRequestIndirect,
    response: BlkifResponse,
  },
  'x86_32-abi': {
    ring: BlkifX86_32Ring, request: BlkifX86_32Request, discard: BlkifX86_32RequestDiscard,
    indirect: BlkifX86_32RequestIndirect, response: BlkifX86_32Response,
  },
};
