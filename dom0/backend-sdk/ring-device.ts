// ring-device.ts: the usual shape of a ring backend — a DeviceDriver whose data path is a
// worker running runDataPath(): start it on connect, stop it (releasing its grants) on
// disconnect, and turn a data-path fault into a device disconnect.
import type { BackendContext } from './context.ts';
import type { DeviceDriver, FrontendLink } from './device.ts';
import { DataPath } from './data-path.ts';

export interface RingDriverOptions<C> {
  /** The worker module (it calls runDataPath). */
  readonly workerUrl: URL;
  /** Short backend name for the worker thread (`NAME-dDOMID` in /proc), e.g. `blkback`. */
  readonly name?: string;
  readonly features: Readonly<Record<string, string>>;
  readonly maxRingPageOrder: number;
  /** The backend's settings for the worker, per connection (structured-cloneable). */
  config(link: FrontendLink): C;
  /** Device properties to publish before Connected. */
  properties(link: FrontendLink): Readonly<Record<string, string>>;
}

export class RingDriver<C> implements DeviceDriver {
  private path: DataPath<C> | null = null;

  constructor(private readonly ctx: BackendContext, private readonly opts: RingDriverOptions<C>) {}

  get features(): Readonly<Record<string, string>> {
    return this.opts.features;
  }

  get maxRingPageOrder(): number {
    return this.opts.maxRingPageOrder;
  }

  /** Grants the running data path holds (0 when disconnected). */
  get heldGrants(): number {
    return this.path?.heldGrants ?? 0;
  }

  async connect(link: FrontendLink): Promise<Readonly<Record<string, string>>> {
    // Linux blkfront/netfront write feature-persistent = 1 when they will reuse their grants.
    const persistent = link.readFrontend('feature-persistent')?.trim() === '1' && this.opts.features['feature-persistent'] === '1';
    this.path = await DataPath.start<C>({
      workerUrl: this.opts.workerUrl, grants: this.ctx.grants, log: this.ctx.log,
      init: {
        domid: link.domid, memBase: link.memory.base, memSize: link.memory.size, ringOffsets: link.ringOffsets,
        kickFd: link.channel.kickFd, notifyFd: link.channel.notifyFd, protocol: link.transport.protocol,
        persistent, config: this.opts.config(link), threadName: `${this.opts.name ?? 'dp'}-d${link.domid}`,
      },
    });
    this.path.on('fault', (reason) => link.fail(reason));
    return this.opts.properties(link);
  }

  async disconnect(): Promise<void> {
    const p = this.path;
    this.path = null;
    await p?.stop();
  }
}
