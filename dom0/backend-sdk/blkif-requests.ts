// blkif-requests.ts: turn a batch of blkif ring entries into checked jobs whose data segments
// are mapped guest memory — the part every block backend shares (blkback, the RAM disk…).
// Indirect segment pages and data pages are each mapped in one batch per ring pass.
import {
  BLKIF_OP, BLKIF_RSP, BLKIF_MAX_SEGMENTS_PER_REQUEST, SEGS_PER_INDIRECT_FRAME, SEGMENT_SIZE, SECTOR_SIZE,
  decodeRequest, encodeResponse, readSegment, type BlkRequest, type BlkSegment,
} from './blkif.ts';
import type { RingProtocol } from './transport.ts';
import type { GrantClient } from './worker/grants.ts';
import type { GuestMemory } from './worker/guest-memory.ts';

export interface BlkLimits {
  /** Disk size in 512-byte sectors. */
  readonly sectors: number;
  readonly readonly: boolean;
  /** What `feature-max-indirect-segments` advertised; 0 = INDIRECT unsupported. */
  readonly maxIndirectSegments: number;
  readonly discard: boolean;
}

/** A piece of guest memory one segment covers. */
export interface GuestSpan {
  readonly offset: number;
  readonly len: number;
}

export interface BlkJob {
  readonly req: BlkRequest;
  /** The operation to perform (an INDIRECT request's indirect_op), echoed in the response. */
  readonly op: number;
  /** Set when the request is refused; the job is then not performed. */
  status: number | null;
  /** Data segments, in disk order from `req.sector`. */
  spans: GuestSpan[];
  sectors: number;
  /** Segments before mapping (direct, or read out of the indirect pages). */
  segs: readonly BlkSegment[];
}

const WRITES: readonly number[] = [BLKIF_OP.WRITE, BLKIF_OP.WRITE_BARRIER, BLKIF_OP.FLUSH_DISKCACHE];

/** The response for a finished (or refused) job. */
export function jobResponse(job: BlkJob, proto: RingProtocol): Uint8Array {
  return encodeResponse(job.req.id, job.op, job.status ?? BLKIF_RSP.OKAY, proto);
}

/** Does `op` take data from the guest (so its pages are only read)? */
export function isWrite(op: number): boolean {
  return WRITES.includes(op);
}

/**
 * Decode, check and map a batch. Jobs come back in ring order with either `status` set
 * (ERROR / EOPNOTSUPP) or `spans` mapped. The caller performs the jobs, then calls
 * `grants.releaseTransient()` before answering, so the guest may end access at once.
 */
export function resolveBatch(raw: Uint8Array[], proto: RingProtocol, limits: BlkLimits, grants: GrantClient, memory: GuestMemory): BlkJob[] {
  const jobs = raw.map((e) => precheck(decodeRequest(e, proto), limits));
  // Pass 1: indirect pages (read-only: we only read the segment lists).
  const ind = jobs.filter((j) => j.status === null && j.req.op === BLKIF_OP.INDIRECT);
  const pageRefs = ind.flatMap((j) => j.req.indirectGrefs.slice(0, Math.ceil(j.req.nrSegments / SEGS_PER_INDIRECT_FRAME)));
  const pageMaps = pageRefs.length > 0 ? grants.acquire(pageRefs.map((ref) => ({ ref, readonly: true }))) : [];
  let k = 0;
  for (const j of ind) {
    const pages = pageMaps.slice(k, (k += Math.ceil(j.req.nrSegments / SEGS_PER_INDIRECT_FRAME)));
    if (pages.some((m) => m.status !== 0 || !memory.contains(m.offset, 4096))) j.status = BLKIF_RSP.ERROR;
    else j.segs = readIndirect(pages.map((m) => memory.page(m.offset)), j.req.nrSegments);
  }
  // Segment and range checks, then pass 2: the data pages.
  for (const j of jobs) if (j.status === null) checkSegments(j, limits);
  const live = jobs.filter((j) => j.status === null && j.segs.length > 0);
  const maps = grants.acquire(live.flatMap((j) => j.segs.map((s) => ({ ref: s.gref, readonly: isWrite(j.op) }))));
  k = 0;
  for (const j of live) {
    for (const s of j.segs) {
      const m = maps[k++]!;
      const offset = m.offset + s.first * SECTOR_SIZE;
      const len = (s.last - s.first + 1) * SECTOR_SIZE;
      if (m.status !== 0 || !memory.contains(offset, len)) j.status = BLKIF_RSP.ERROR;
      else j.spans.push({ offset, len });
    }
  }
  return jobs;
}

function precheck(req: BlkRequest, limits: BlkLimits): BlkJob {
  const indirect = req.op === BLKIF_OP.INDIRECT;
  const op = indirect ? req.indirectOp : req.op;
  const job: BlkJob = { req, op, status: null, spans: [], sectors: 0, segs: req.segments };
  const fail = (status: number): BlkJob => ((job.status = status), job);
  switch (req.op) {
    case BLKIF_OP.READ: case BLKIF_OP.WRITE:
      if (req.nrSegments === 0 || req.nrSegments > BLKIF_MAX_SEGMENTS_PER_REQUEST) return fail(BLKIF_RSP.ERROR);
      break;
    case BLKIF_OP.WRITE_BARRIER: case BLKIF_OP.FLUSH_DISKCACHE:
      // A flush may carry data to write after the flush; with none it is a pure flush.
      if (req.nrSegments > BLKIF_MAX_SEGMENTS_PER_REQUEST) return fail(BLKIF_RSP.ERROR);
      break;
    case BLKIF_OP.INDIRECT:
      if (limits.maxIndirectSegments === 0) return fail(BLKIF_RSP.EOPNOTSUPP);
      if (op !== BLKIF_OP.READ && op !== BLKIF_OP.WRITE) return fail(BLKIF_RSP.ERROR);
      if (req.nrSegments === 0 || req.nrSegments > limits.maxIndirectSegments) return fail(BLKIF_RSP.ERROR);
      job.segs = [];
      break;
    case BLKIF_OP.DISCARD:
      if (limits.readonly) return fail(BLKIF_RSP.ERROR);
      if (!limits.discard) return fail(BLKIF_RSP.EOPNOTSUPP);
      if (req.sector + req.nrSectors > limits.sectors) return fail(BLKIF_RSP.ERROR);
      break;
    default:
      return fail(BLKIF_RSP.EOPNOTSUPP);
  }
  if (isWrite(op) && limits.readonly && req.nrSegments > 0) return fail(BLKIF_RSP.ERROR);
  return job;
}

/** Copy the segment list out of the indirect pages before looking at it (no double fetch). */
function readIndirect(pages: Uint8Array[], n: number): BlkSegment[] {
  const segs: BlkSegment[] = [];
  for (let p = 0; p < pages.length; p++) {
    const count = Math.min(SEGS_PER_INDIRECT_FRAME, n - p * SEGS_PER_INDIRECT_FRAME);
    const copy = pages[p]!.slice(0, count * SEGMENT_SIZE);
    const v = new DataView(copy.buffer);
    for (let i = 0; i < count; i++) segs.push(readSegment(v, i * SEGMENT_SIZE));
  }
  return segs;
}

function checkSegments(job: BlkJob, limits: BlkLimits): void {
  let total = 0;
  for (const s of job.segs) {
    if (s.first > s.last || s.last >= 4096 / SECTOR_SIZE) {
      job.status = BLKIF_RSP.ERROR;
      return;
    }
    total += s.last - s.first + 1;
  }
  job.sectors = total;
  if (total > 0 && job.req.sector + total > limits.sectors) job.status = BLKIF_RSP.ERROR;
}
