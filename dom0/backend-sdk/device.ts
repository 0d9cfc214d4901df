// device.ts: one PV device's backend lifecycle over xenbus — publish features, wait for the
// frontend, map its ring and bind its event channel, hand them to the driver's data path, go
// Connected; on Closing/Closed, a malformed ring or any error, undo it all and end in Closed.
import { EventEmitter } from 'eventemitter3';
import { libc } from '../../host/libc.ts';
import { BackendDevice } from './xenbus/backend-device.ts';
import { XenbusState, type XenbusStateValue } from '../../abi/io/xenbus.ts';
import { PAGE_SIZE, type BackendContext, type BoundChannel } from './context.ts';
import { mapGuestMemory, type GuestMapping } from '../../host/guest-memory-file.ts';
import { readRingTransport, type RingTransport } from './transport.ts';

export type { RingTransport } from './transport.ts';

/** What a driver gets when a frontend has connected. */
export interface FrontendLink {
  readonly domid: number;
  readonly backendPath: string;
  readonly transport: RingTransport;
  /** Byte offsets of the mapped ring pages in guest memory, in ring-ref order. */
  readonly ringOffsets: readonly number[];
  /** The bound channel of `transport.port`. */
  readonly channel: BoundChannel;
  /** One bound channel per port of `transport.ports` (just `channel` for one-port transports). */
  readonly channels: readonly BoundChannel[];
  /** dom0's mapping of the whole guest memory file (valid until disconnect). */
  readonly memory: GuestMapping;
  readFrontend(key: string): string | null;
  /** Give up on this connection (the data path faulted): the device goes Closing → Closed. */
  fail(reason: string): void;
}

/** The device-class part of a backend: the SDK calls it; it never touches xenbus states itself. */
export interface DeviceDriver {
  /** Features and limits, published before InitWait. */
  readonly features: Readonly<Record<string, string>>;
  /** Largest ring-page-order accepted (advertise it in features as max-ring-page-order). */
  readonly maxRingPageOrder: number;
  /**
   * Read the frontend's transport keys; absent: the standard `ring-ref`/`ring-refN` and
   * `event-channel` (readRingTransport). Throw TransportError on anything malformed.
   */
  readTransport?(read: (key: string) => string | null): RingTransport;
  /** Start serving; resolve with the device properties to publish before Connected. */
  connect(link: FrontendLink): Promise<Readonly<Record<string, string>>>;
  /** Stop serving; the SDK then unmaps the ring and unbinds the channel. */
  disconnect(): Promise<void>;
}

export interface PvDeviceEvents {
  connected: () => void;
  /** Torn down; `reason` is null for an orderly close by the frontend. */
  disconnected: (reason: string | null) => void;
}

interface Connection {
  readonly gen: number;
  ringHandles: number[];
  channels: BoundChannel[];
  memory: GuestMapping | null;
  driverUp: boolean;
}

export class PvDevice extends EventEmitter<PvDeviceEvents> {
  private readonly xb: BackendDevice;
  private ops: Promise<void> = Promise.resolve();
  private conn: Connection | null = null;
  private gen = 0;

  /**
   * Throws if the backend directory lacks its frontend keys (see BackendDevice). `takeOver`: the
   * directory was left by a backend that died (a dom0 restart); start() then offers a fresh
   * handshake, and the frontend's old connection is never mapped (see BackendDevice).
   */
  constructor(private readonly ctx: BackendContext, readonly backendPath: string, private readonly driver: DeviceDriver,
    opts: { takeOver?: boolean } = {}) {
    super();
    this.xb = new BackendDevice(ctx.store, backendPath, opts);
    this.xb.on('connect', () => this.enqueue(() => this.connect()));
    this.xb.on('close', () => this.enqueue(() => this.teardown(null)));
  }

  get domid(): number {
    return this.xb.frontDomid;
  }

  get state(): XenbusStateValue {
    return this.xb.state;
  }

  /** Publish features, go InitWait and start following the frontend. */
  start(): this {
    this.xb.publish(this.driver.features);
    this.xb.switchState(XenbusState.InitWait);
    this.xb.start();
    return this;
  }

  /** Stop following the frontend and release everything (domain gone or device removed). */
  async destroy(): Promise<void> {
    this.xb.dispose();
    this.enqueue(() => this.teardown('device removed', false));
    await this.ops;
  }

  /** Lifecycle steps run one at a time: a close that arrives mid-connect waits for it. */
  private enqueue(step: () => Promise<void>): void {
    this.ops = this.ops.then(step).catch((err: Error) => this.ctx.log(`${this.backendPath}: ${err.message}`));
  }

  private async connect(): Promise<void> {
    const c: Connection = { gen: ++this.gen, ringHandles: [], channels: [], memory: null, driverUp: false };
    this.conn = c;
    const domid = this.xb.frontDomid;
    try {
      const read = (k: string): string | null => this.xb.readFrontend(k);
      const transport = this.driver.readTransport?.(read) ?? readRingTransport(read, this.driver.maxRingPageOrder);
      const memFd = await this.ctx.guestMemoryFd(domid);
      try {
        c.memory = mapGuestMemory(memFd);
      } finally {
        libc.close(memFd); // the mapping keeps the memory; the fd is not needed after mmap
      }
      const maps = await this.ctx.grants.map(transport.refs.map((ref) => ({ domid, ref, readonly: false })));
      c.ringHandles = maps.filter((m) => m.status === 0).map((m) => m.handle);
      maps.forEach((m, i) => {
        if (m.status !== 0) throw new Error(`ring-ref ${transport.refs[i]} does not map (GNTST ${m.status})`);
        if (m.offset % PAGE_SIZE !== 0 || m.offset + PAGE_SIZE > c.memory!.size) throw new Error(`ring page at bad offset ${m.offset}`);
      });
      for (const port of transport.ports ?? [transport.port]) c.channels.push(await this.ctx.channels.bind(domid, port));
      const link: FrontendLink = {
        domid, backendPath: this.backendPath, transport, ringOffsets: maps.map((m) => m.offset),
        channel: c.channels[0]!, channels: [...c.channels],
        memory: c.memory, readFrontend: (k) => this.xb.readFrontend(k),
        fail: (reason) => this.enqueue(async () => {
          if (this.conn?.gen === c.gen) await this.teardown(reason);
        }),
      };
      c.driverUp = true;
      const props = await this.driver.connect(link);
      this.xb.publish(props);
      this.xb.switchState(XenbusState.Connected);
      this.emit('connected');
    } catch (err) {
      await this.teardown(`connect failed: ${(err as Error).message}`);
    }
  }

  /** Undo whatever the current connection set up, then (unless being destroyed) go Closed. */
  private async teardown(reason: string | null, writeState = true): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (reason !== null) this.ctx.log(`${this.backendPath}: ${reason}`);
    if (c !== null) {
      if (c.driverUp) await this.driver.disconnect().catch((e: Error) => this.ctx.log(`${this.backendPath}: disconnect: ${e.message}`));
      if (c.ringHandles.length > 0) await this.ctx.grants.unmap(c.ringHandles).catch(() => undefined);
      for (const ch of c.channels) {
        await this.ctx.channels.unbind(ch.channel).catch(() => undefined);
        closeFds(ch);
      }
      c.memory?.unmap();
    }
    if (writeState) this.xb.switchState(XenbusState.Closed);
    if (c !== null) this.emit('disconnected', reason);
  }
}

function closeFds(ch: BoundChannel): void {
  // The fds came with the bind and are ours: the channel service does not close them.
  for (const fd of [ch.kickFd, ch.notifyFd]) if (fd >= 0) libc.close(fd);
}
