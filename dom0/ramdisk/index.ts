// index.ts: an example backend written against the public backend SDK only — a RAM disk that
// speaks blkif. Its contents live in a SharedArrayBuffer, so they outlive reconnects.
import {
  PvDevice, RingDriver, createDevicePair, removeDevicePair, type BackendContext,
} from '../backend-sdk/index.ts';
import type { RamdiskConfig } from './worker.ts';

export interface RamdiskOptions {
  /** Module URL of dom0/ramdisk/worker.ts (bundled: dist/ramdisk-worker.js). */
  readonly workerUrl: URL;
}

interface Served {
  readonly device: PvDevice;
  readonly devid: number;
}

export class Ramdisk {
  private readonly served = new Map<number, Served[]>();

  constructor(private readonly ctx: BackendContext, private readonly opts: RamdiskOptions) {}

  /** Give domain `domid` a RAM disk of `bytes` (a multiple of 512) as virtual device `devid`. */
  add(domid: number, devid: number, bytes: number): SharedArrayBuffer {
    if (bytes <= 0 || bytes % 512 !== 0) throw new RangeError('ramdisk size must be a positive multiple of 512');
    const data = new SharedArrayBuffer(bytes);
    const props = { sectors: String(bytes / 512), info: '0', 'sector-size': '512' };
    const driver = new RingDriver<RamdiskConfig>(this.ctx, {
      workerUrl: this.opts.workerUrl, name: 'ramdisk',
      maxRingPageOrder: 0,
      features: { 'feature-flush-cache': '1', ...props },
      config: () => ({ data }),
      properties: () => props,
    });
    // The toolstack's half: both xenstore directories, then the backend's half: the device.
    const paths = createDevicePair(this.ctx.store, {
      type: 'vbd', frontDomid: domid, backDomid: 0, devid,
      frontKeys: { 'virtual-device': String(devid), 'device-type': 'disk' },
      backKeys: { type: 'ramdisk', mode: 'w', params: `ram:${bytes}` },
    });
    const device = new PvDevice(this.ctx, paths.backend, driver).start();
    this.served.set(domid, [...(this.served.get(domid) ?? []), { device, devid }]);
    return data;
  }

  /** Stop serving the domain's RAM disks and remove their nodes. */
  async remove(domid: number): Promise<void> {
    for (const s of this.served.get(domid) ?? []) {
      await s.device.destroy();
      removeDevicePair(this.ctx.store, { type: 'vbd', frontDomid: domid, backDomid: 0, devid: s.devid });
    }
    this.served.delete(domid);
  }
}
