// index.ts: blkback, the block backend on raw image files — the toolstack's entry point.
// Each disk of each domain is its own device with its own data-path worker.
import type { BackendContext } from '../backend-sdk/context.ts';
import { watchBackends } from '../backend-sdk/xenbus/watch-backends.ts';
import { Disk, type DiskConfig } from './disk.ts';
import { XenbusState } from '../../abi/io/xenbus.ts';

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

  /**
   * Create the device pair in xenstore for (domid, disk) and serve it; rejects if the image can't
   * be opened. `takeOver`: the pair exists, left by a dom0 that died; serve it again from InitWait.
   */
  async addDisk(domid: number, disk: DiskConfig, takeOver = false): Promise<void> {
    const k = key(domid, disk.devid);
    if (this.disks.has(k)) throw new Error(`blkback: domain ${domid} already has device ${disk.devid}`);
    const d = Disk.open(this.ctx, domid, disk, this.opts.workerUrl, takeOver);
    this.disks.set(k, d);
    d.start();
  }

  /**
   * Hot-unplug one disk (block-detach): offline, backend Closing, then wait (at most `timeoutMs`)
   * for the frontend to finish its closing handshake — the backend answers its Closed by
   * unmapping and going Closed — and remove the device pair.
   */
  async removeDisk(domid: number, devid: number, timeoutMs = 10_000): Promise<void> {
    const d = this.disks.get(key(domid, devid));
    if (d === undefined) throw new Error(`blkback: domain ${domid} has no disk ${devid}`);
    const store = this.ctx.store;
    const be = d.device.backendPath;
    const fe = store.read(`${be}/frontend`);
    store.write(`${be}/online`, '0');
    if (d.device.state === XenbusState.Connected) store.write(`${be}/state`, String(XenbusState.Closing));
    const deadline = Date.now() + timeoutMs;
    while (fe !== null && Date.now() < deadline) {
      // The frontend's state is the guest's to write: only a known number counts.
      const raw = store.read(`${fe}/state`);
      const s = raw !== null && /^\d$/.test(raw) ? Number(raw) : XenbusState.Closed;
      // A frontend that never connected holds nothing; one that closed is done once we are Closed too.
      if (s === XenbusState.Initialising || s === XenbusState.InitWait) break;
      if (s === XenbusState.Closed && d.device.state === XenbusState.Closed) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.drop(d);
  }

  /** Disks being served (for status and tests). */
  list(domid?: number): Disk[] {
    return [...this.disks.values()].filter((d) => domid === undefined || d.domid === domid);
  }

  /** Stop serving every disk of the domain: unmap grants, unbind, close fds, remove nodes. */
  async removeDomain(domid: number): Promise<void> {
    await Promise.all(this.list(domid).map((d) => this.drop(d)));
  }

  /** Stop serving every disk; `keepNodes`: leave their device pairs for the next dom0 (guests keep running). */
  async close(keepNodes = false): Promise<void> {
    this.unwatch();
    await Promise.all(this.list().map((d) => this.drop(d, keepNodes)));
  }

  private async drop(d: Disk, keepNodes = false): Promise<void> {
    this.disks.delete(key(d.domid, d.cfg.devid));
    await d.close(keepNodes);
  }
}

function key(domid: number, devid: number): string {
  return `${domid}/${devid}`;
}
