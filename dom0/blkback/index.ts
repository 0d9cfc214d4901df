// index.ts: blkback, the block backend on raw image files — the toolstack's entry point.
// Each disk of each domain is its own device with its own data-path worker.
import type { BackendContext } from '../backend-sdk/context.ts';
import { watchBackends } from '../backend-sdk/xenbus/watch-backends.ts';
import { Disk, type DiskConfig } from './disk.ts';

export type { DiskConfig } from './disk.ts';
export { vdevToDevid } from './vdev.ts';

export class Blkback {
  private readonly disks = new Map<string, Disk>();
  private readonly unwatch: () => void;

  constructor(private readonly ctx: BackendContext, private readonly opts: { workerUrl: URL }) {
    // A device directory removed behind our back (xenstore-rm, another toolstack) stops being served.
    this.unwatch = watchBackends(ctx.store, 0, 'vbd', () => undefined, (domid, devid) => {
      const d = this.disks.get(key(domid, devid));
      if (d !== undefined) void this.drop(d);
    });
  }

  /** Create the device pair in xenstore for (domid, disk) and serve it; rejects if the image can't be opened. */
  async addDisk(domid: number, disk: DiskConfig): Promise<void> {
    const k = key(domid, disk.devid);
    if (this.disks.has(k)) throw new Error(`blkback: domain ${domid} already has device ${disk.devid}`);
    const d = Disk.open(this.ctx, domid, disk, this.opts.workerUrl);
    this.disks.set(k, d);
    d.start();
  }

  /** Disks being served (for status and tests). */
  list(domid?: number): Disk[] {
    return [...this.disks.values()].filter((d) => domid === undefined || d.domid === domid);
  }

  /** Stop serving every disk of the domain: unmap grants, unbind, close fds, remove nodes. */
  async removeDomain(domid: number): Promise<void> {
    await Promise.all(this.list(domid).map((d) => this.drop(d)));
  }

  async close(): Promise<void> {
    this.unwatch();
    await Promise.all(this.list().map((d) => this.drop(d)));
  }

  private async drop(d: Disk): Promise<void> {
    this.disks.delete(key(d.domid, d.cfg.devid));
    await d.close();
  }
}

function key(domid: number, devid: number): string {
  return `${domid}/${devid}`;
}
