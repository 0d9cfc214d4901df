// handler.ts: blkback's request processing inside its data-path worker — checked, mapped jobs
// (from the SDK) performed in ring order on the host image, answered after the host I/O is done.
import { BLKIF_OP, BLKIF_RSP, SECTOR_SIZE, blkifEntrySize } from '../backend-sdk/blkif.ts';
import { resolveBatch, jobResponse, type BlkJob, type BlkLimits } from '../backend-sdk/blkif-requests.ts';
import type { DataPathEnv, RingHandler } from '../backend-sdk/worker/runtime.ts';
import type { RingProtocol } from '../backend-sdk/transport.ts';
import { HostDisk } from '../../host/block-io.ts';
import { BlkStatsWriter } from './stats.ts';

/** What the main thread tells the worker about the disk. */
export interface BlkWorkerConfig extends BlkLimits {
  /** The image fd, opened by dom0's main thread (fds are process-wide). */
  readonly fd: number;
  /** The disk's counters (stats.ts), shared with the main thread; absent in tests that drive the handler alone. */
  readonly stats?: SharedArrayBuffer;
}

/** Host errors are logged this many times per device, then counted silently. */
const LOG_LIMIT = 5;

export class BlkHandler implements RingHandler {
  readonly entrySize: number;
  private readonly disk: HostDisk;
  private readonly proto: RingProtocol;
  private errors = 0;
  private readonly stats: BlkStatsWriter | null;

  constructor(private readonly env: DataPathEnv<BlkWorkerConfig>) {
    this.proto = env.protocol as RingProtocol;
    this.entrySize = blkifEntrySize(this.proto);
    this.disk = new HostDisk(env.config.fd, env.memory.base);
    this.stats = env.config.stats === undefined ? null : new BlkStatsWriter(env.config.stats);
  }

  process(batch: Uint8Array[]): Uint8Array[] {
    const jobs = resolveBatch(batch, this.proto, this.env.config, this.env.grants, this.env.memory);
    try {
      // In ring order, one at a time: a barrier therefore already follows every earlier request.
      for (const j of jobs) {
        if (j.status === null) j.status = this.perform(j);
        this.count(j);
      }
    } finally {
      // Before answering: the guest may end foreign access as soon as it sees a response.
      this.env.grants.releaseTransient();
    }
    return jobs.map((j) => jobResponse(j, this.proto));
  }

  /** xentop's VBD_RD/WR/RSECT/WSECT, and refused or failed requests. */
  private count(j: BlkJob): void {
    if (this.stats === null) return;
    if (j.status !== BLKIF_RSP.OKAY) this.stats.add('errors', 1);
    else if (j.op === BLKIF_OP.READ || j.op === BLKIF_OP.WRITE) {
      const sectors = j.spans.reduce((n, s) => n + s.len, 0) / SECTOR_SIZE;
      this.stats.add(j.op === BLKIF_OP.READ ? 'rdReq' : 'wrReq', 1);
      this.stats.add(j.op === BLKIF_OP.READ ? 'rdSect' : 'wrSect', sectors);
    }
  }

  private perform(j: BlkJob): number {
    const pos = j.req.sector * SECTOR_SIZE;
    let err = 0;
    switch (j.op) {
      case BLKIF_OP.READ:
        err = this.disk.transfer(false, pos, j.spans);
        break;
      case BLKIF_OP.WRITE:
        err = this.disk.transfer(true, pos, j.spans);
        break;
      case BLKIF_OP.FLUSH_DISKCACHE:
        // A preflush: what was written before is durable before this request's data goes down.
        err = this.disk.flush() || (j.spans.length > 0 ? this.disk.transfer(true, pos, j.spans) : 0);
        break;
      case BLKIF_OP.WRITE_BARRIER:
        // Earlier requests are complete (we run in order); make them durable, write, make that durable.
        err = this.disk.flush() || (j.spans.length > 0 ? this.disk.transfer(true, pos, j.spans) || this.disk.flush() : 0);
        break;
      case BLKIF_OP.DISCARD:
        err = this.disk.discard(pos, j.req.nrSectors * SECTOR_SIZE);
        break;
      default:
        return BLKIF_RSP.EOPNOTSUPP;
    }
    if (err === 0) return BLKIF_RSP.OKAY;
    if (++this.errors <= LOG_LIMIT) this.env.log(`blkback domain ${this.env.domid}: op ${j.op} at sector ${j.req.sector}: host errno ${err}`);
    return BLKIF_RSP.ERROR;
  }
}
