// disk.ts: one virtual disk served to one guest — its image file, its xenstore keys and its
// PV device (the SDK's lifecycle with blkback's worker as the data path).
import { openSync, closeSync } from 'node:fs';
import type { BackendContext } from '../backend-sdk/context.ts';
import { PvDevice } from '../backend-sdk/device.ts';
import { RingDriver } from '../backend-sdk/ring-device.ts';
import { VDISK } from '../backend-sdk/blkif.ts';
import { createDevicePair, removeDevicePair } from '../backend-sdk/xenbus/device-pair.ts';
import { backendPath } from '../backend-sdk/xenbus/paths.ts';
import type { BlkWorkerConfig } from './handler.ts';
import { imageSize } from '../../host/block-io.ts';
import { newBlkStats, readBlkStats } from './stats.ts';

export interface DiskConfig {
  /** Image file (or block device) on the host. */
  readonly target: string;
  /** Guest-visible name (`xvda`) and its number (vdevToDevid). */
  readonly vdev: string;
  readonly devid: number;
  readonly readonly: boolean;
}

/** Limits blkback advertises. */
export const MAX_INDIRECT_SEGMENTS = 256;
export const MAX_RING_PAGE_ORDER = 4;
/** dom0 is the backend domain. */
const BACK_DOMID = 0;

export class Disk {
  readonly device: PvDevice;
  readonly driver: RingDriver<BlkWorkerConfig>;
  private closed = false;
  /** I/O counters the data-path worker keeps (stats.ts), for `pvkvm top`. */
  readonly stats = newBlkStats();

  private constructor(private readonly ctx: BackendContext, readonly domid: number, readonly cfg: DiskConfig,
    private readonly fd: number, readonly sectors: number, workerUrl: URL, takeOver: boolean) {
    const info = String(cfg.readonly ? VDISK.READONLY : 0);
    const props = { sectors: String(sectors), info, 'sector-size': '512', 'physical-sector-size': '512' };
    const discard: Record<string, string> = cfg.readonly ? {} : { 'feature-discard': '1', 'discard-granularity': '4096', 'discard-alignment': '0', 'discard-secure': '0' };
    this.driver = new RingDriver<BlkWorkerConfig>(ctx, {
      workerUrl, name: 'blkback', maxRingPageOrder: MAX_RING_PAGE_ORDER,
      features: {
        'feature-flush-cache': '1', 'feature-barrier': '1', ...discard, 'feature-persistent': '1',
        'feature-max-indirect-segments': String(MAX_INDIRECT_SEGMENTS), 'max-ring-page-order': String(MAX_RING_PAGE_ORDER),
        'multi-queue-max-queues': '1', ...props,
      },
      config: () => ({ fd, stats: this.stats, sectors, readonly: cfg.readonly, maxIndirectSegments: MAX_INDIRECT_SEGMENTS, discard: !cfg.readonly }),
      // Linux blkfront needs sectors, info and sector-size present when we reach Connected.
      properties: () => props,
    });
    // Taken over (a dom0 restart): the pair the dead dom0 made stays, with the frontend's nodes.
    const back = takeOver ? backendPath({ type: 'vbd', frontDomid: domid, backDomid: BACK_DOMID, devid: cfg.devid }) : createDevicePair(ctx.store, {
      type: 'vbd', frontDomid: domid, backDomid: BACK_DOMID, devid: cfg.devid,
      frontKeys: { 'virtual-device': String(cfg.devid), 'device-type': 'disk', trusted: '1' },
      backKeys: {
        params: cfg.target, type: 'phy', mode: cfg.readonly ? 'r' : 'w', dev: cfg.vdev, 'device-type': 'disk',
        online: '1', removable: '0', bootable: '1',
      },
    }).backend;
    this.device = new PvDevice(ctx, back, this.driver, { takeOver });
  }

  /**
   * Open the image and create the device pair — or, with `takeOver`, serve the pair a dead dom0
   * left (its frontend then reconnects); throws a one-line Error if the image is unusable.
   */
  static open(ctx: BackendContext, domid: number, cfg: DiskConfig, workerUrl: URL, takeOver = false): Disk {
    let fd: number;
    let size: number;
    try {
      fd = openSync(cfg.target, cfg.readonly ? 'r' : 'r+');
    } catch (err) {
      throw new Error(`blkback: cannot open disk image ${cfg.target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      size = imageSize(fd);
      if (size < 512) throw new Error('image is smaller than one sector');
      return new Disk(ctx, domid, cfg, fd, Math.floor(size / 512), workerUrl, takeOver);
    } catch (err) {
      closeSync(fd);
      throw new Error(`blkback: disk image ${cfg.target}: ${(err as Error).message}`);
    }
  }

  start(): void {
    this.device.start();
  }

  /**
   * Stop serving, release grants, channel and fds, and remove both xenstore directories — unless
   * `keepNodes` (dom0 stopping with its guests left running): the next dom0 takes the pair over.
   */
  async close(keepNodes = false): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.device.destroy();
    closeSync(this.fd);
    // The device's final counters: `top` stops showing them once the device is gone.
    const c = readBlkStats(this.stats);
    this.ctx.log(`blkback: ${this.cfg.vdev} of domain ${this.domid} closed: ${c.rdReq} reads (${c.rdSect} sectors), ` +
      `${c.wrReq} writes (${c.wrSect} sectors), ${c.errors} errors`);
    if (keepNodes) return;
    try {
      removeDevicePair(this.ctx.store, { type: 'vbd', frontDomid: this.domid, backDomid: BACK_DOMID, devid: this.cfg.devid });
    } catch (err) {
      this.ctx.log(`blkback: removing ${this.cfg.vdev} of domain ${this.domid}: ${(err as Error).message}`);
    }
  }
}
