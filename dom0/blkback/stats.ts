// stats.ts: a disk's I/O counters in a SharedArrayBuffer — the data-path worker counts, dom0's
// main thread reads them at any time (`pvkvm top`) without a message to a busy worker.

/** The counters, as xentop's VBD columns: requests and sectors each way, and failed requests. */
export interface BlkCounters {
  readonly rdReq: number;
  readonly wrReq: number;
  readonly rdSect: number;
  readonly wrSect: number;
  readonly errors: number;
}

const FIELDS = ['rdReq', 'wrReq', 'rdSect', 'wrSect', 'errors'] as const;
export type BlkCounter = (typeof FIELDS)[number];

export function newBlkStats(): SharedArrayBuffer {
  return new SharedArrayBuffer(FIELDS.length * 8);
}

/** The worker's side (single writer; doubles stay exact to 2^53). */
export class BlkStatsWriter {
  private readonly a: Float64Array;
  constructor(sab: SharedArrayBuffer) {
    this.a = new Float64Array(sab);
  }
  add(field: BlkCounter, n: number): void {
    this.a[FIELDS.indexOf(field)]! += n;
  }
}

export function readBlkStats(sab: SharedArrayBuffer): BlkCounters {
  const a = new Float64Array(sab);
  return { rdReq: a[0]!, wrReq: a[1]!, rdSect: a[2]!, wrSect: a[3]!, errors: a[4]! };
}
