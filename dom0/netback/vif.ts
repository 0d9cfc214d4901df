// vif.ts: one vif served to one guest — its xenstore device pair, its PV device (the SDK's
// lifecycle with a netif transport: tx-ring-ref, rx-ring-ref, one or two event channels), its
// TAP when bridged, and its attachment to the net worker while the frontend is connected.
import { readFileSync } from 'node:fs';
import type { BackendContext } from '../backend-sdk/context.ts';
import { PvDevice, type DeviceDriver, type FrontendLink } from '../backend-sdk/device.ts';
import { readNamedRings, TransportError, type RingTransport } from '../backend-sdk/transport.ts';
import { createDevicePair, removeDevicePair } from '../backend-sdk/xenbus/device-pair.ts';
import { backendPath } from '../backend-sdk/xenbus/paths.ts';
import { XENBUS_STATE } from '../../abi/io/xenbus.ts';
import { NETIF_XS_KEY } from '../../abi/io/netif.ts';
import type { VifSetting } from '../../abi/domain-settings.ts';
import type { VifCounters, VifStatus } from '../../abi/control.ts';
import { libc } from '../../host/libc.ts';
import { CNT, CNT_SLOTS } from './messages.ts';
import type { NetWorker } from './net-worker.ts';
import { parseMac } from './switch/mac-table.ts';

const K = NETIF_XS_KEY.values;
const BACK_DOMID = 0;
/** xl's default credit interval for `rate=` (50 ms). */
const DEFAULT_RATE_INTERVAL_US = 50_000;

/** What netback offers every frontend (io/netif.h feature keys). */
export const BACKEND_FEATURES: Readonly<Record<string, string>> = {
  [K.FEATURE_SG]: '1',
  [K.FEATURE_RX_COPY]: '1',
  [K.FEATURE_RX_FLIP]: '0',
  // No segmentation offload: we would have to segment for TAPs and non-GSO receivers.
  [K.FEATURE_GSO_TCPV4]: '0',
  [K.FEATURE_GSO_TCPV6]: '0',
  [K.FEATURE_RX_NOTIFY_BACK]: '1',
  // TX checksum offload is accepted: netback fills in IPv4 TCP/UDP checksums itself.
  [K.FEATURE_NO_CSUM_OFFLOAD]: '0',
  [K.FEATURE_IPV6_CSUM_OFFLOAD]: '0',
  [K.MULTI_QUEUE_MAX_QUEUES]: '1',
  // A pvkvm extension borrowed from blkif: a frontend that writes it too promises to reuse its
  // granted buffers and not end access while connected, so netback maps each once (docs/network.md).
  [K.FEATURE_PERSISTENT]: '1',
};

/** The TAP's TX drops (host → guest frames refused because its queue was full), from sysfs. */
function tapQueueDrops(name: string): number {
  try {
    const n = Number(readFileSync(`/sys/class/net/${name}/statistics/tx_dropped`, 'utf8').trim());
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0; // the TAP is already gone (the vif is closing)
  }
}

/** One frontend key that must read exactly '1'; a one-line reason otherwise. */
function requireOne(link: FrontendLink, key: string, why: string): void {
  if (link.readFrontend(key)?.trim() !== '1') throw new TransportError(`frontend has no ${key} = 1: ${why}`);
}

export class Vif implements DeviceDriver {
  readonly device: PvDevice;
  readonly counters = new Float64Array(new SharedArrayBuffer(CNT_SLOTS * 8));
  readonly key: string;
  readonly features: Readonly<Record<string, string>>;
  readonly maxRingPageOrder = 0;
  private attached: NetWorker | null = null;
  private link: FrontendLink | null = null;
  private closed = false;

  constructor(private readonly ctx: BackendContext, readonly domid: number, readonly devid: number, readonly setting: VifSetting,
    readonly tap: { name: string; fd: number } | null, private readonly worker: () => Promise<NetWorker>, takeOver = false) {
    this.key = `${domid}/${devid}`;
    const extra: Record<string, string> = {};
    if (setting.bridge !== undefined) extra[K.BRIDGE] = setting.bridge;
    if (setting.ip !== undefined) extra[K.IP] = setting.ip;
    // libxl's form: bytes per interval, interval in microseconds.
    if (setting.rateBytesPerSec !== undefined) {
      const us = setting.rateIntervalUs ?? DEFAULT_RATE_INTERVAL_US;
      extra[K.RATE] = `${Math.max(1, Math.round((setting.rateBytesPerSec * us) / 1e6))},${us}`;
    }
    this.features = { ...BACKEND_FEATURES, [K.MAC]: setting.mac, [K.HANDLE]: String(devid), ...extra };
    // Taken over (a dom0 restart): the pair the dead dom0 made stays, with the frontend's nodes.
    const back = takeOver ? backendPath({ type: 'vif', frontDomid: domid, backDomid: BACK_DOMID, devid }) : createDevicePair(ctx.store, {
      type: 'vif', frontDomid: domid, backDomid: BACK_DOMID, devid,
      frontKeys: { [K.HANDLE]: String(devid), [K.MAC]: setting.mac },
      // hotplug-status: what Xen's vif scripts write once the host side (TAP, bridge) is ready;
      // addVif has done that before the pair exists.
      backKeys: { [K.HANDLE]: String(devid), [K.MAC]: setting.mac, online: '1', 'hotplug-status': 'connected', ...extra },
    }).backend;
    this.device = new PvDevice(ctx, back, this, { takeOver });
  }

  readTransport(read: (key: string) => string | null): RingTransport {
    return readNamedRings(read, {
      ringKeys: [K.TX_RING_REF, K.RX_RING_REF],
      channelKeys: [[K.EVENT_CHANNEL], [K.EVENT_CHANNEL_TX, K.EVENT_CHANNEL_RX]],
    });
  }

  async connect(link: FrontendLink): Promise<Readonly<Record<string, string>>> {
    requireOne(link, K.REQUEST_RX_COPY, 'only copying receive is supported (no page flipping)');
    // Linux netback refuses frontends without it too: we rely on RX kicks when buffers are posted.
    requireOne(link, K.FEATURE_RX_NOTIFY_BACK, 'netback needs a kick when RX buffers are posted');
    const w = await this.worker();
    const [tx, rx] = link.channels.length === 2 ? link.channels : [link.channel, link.channel];
    await w.attach({
      key: this.key, domid: this.domid, mac: parseMac(this.setting.mac),
      memBase: link.memory.base, memSize: link.memory.size,
      txRingOffset: link.ringOffsets[0]!, rxRingOffset: link.ringOffsets[1]!,
      kickFds: link.channels.map((c) => c.kickFd), txNotifyFd: tx!.notifyFd, rxNotifyFd: rx!.notifyFd,
      sg: link.readFrontend(K.FEATURE_SG)?.trim() === '1',
      persistent: link.readFrontend(K.FEATURE_PERSISTENT)?.trim() === '1',
      tapFd: this.tap?.fd ?? null, rateBytesPerSec: this.setting.rateBytesPerSec ?? null,
      rateIntervalUs: this.setting.rateIntervalUs ?? DEFAULT_RATE_INTERVAL_US,
      counters: this.counters.buffer as SharedArrayBuffer,
    });
    this.attached = w;
    this.link = link;
    return {};
  }

  async disconnect(): Promise<void> {
    const w = this.attached;
    this.attached = null;
    this.link = null;
    if (w?.alive) await w.detach(this.key).catch((err: Error) => this.ctx.log(`netback vif ${this.key}: detach: ${err.message}`));
  }

  /** The data path gave up on this vif: the device goes Closing → Closed. */
  fail(reason: string): void {
    this.link?.fail(reason);
  }

  /** The worker died under us: forget the attachment (nothing to detach) and close the device. */
  lost(reason: string): void {
    this.attached = null;
    this.link?.fail(reason);
  }

  start(): void {
    this.device.start();
  }

  status(): VifStatus {
    const c = this.counters;
    const counters: VifCounters = {
      txPackets: c[CNT.txPackets]!, txBytes: c[CNT.txBytes]!, txDropped: c[CNT.txDropped]!, txErrors: c[CNT.txErrors]!,
      // Frames the host's kernel dropped in front of the TAP (its queue full) never reached us:
      // counted too, so a guest's loss shows in one place.
      rxPackets: c[CNT.rxPackets]!, rxBytes: c[CNT.rxBytes]!, rxDropped: c[CNT.rxDropped]! + (this.tap === null ? 0 : tapQueueDrops(this.tap.name)),
    };
    return {
      domid: this.domid, devid: this.devid, mac: this.setting.mac, bridge: this.setting.bridge ?? null,
      tap: this.tap?.name ?? null, state: stateName(this.device.state), counters,
    };
  }

  /**
   * Stop serving, release grants and channels, close the TAP, remove both xenstore directories —
   * unless `keepNodes` (dom0 stopping with its guests left running): the next dom0 takes them over.
   */
  async close(keepNodes = false): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.device.destroy();
    if (this.tap !== null) libc.close(this.tap.fd);
    if (keepNodes) return;
    try {
      removeDevicePair(this.ctx.store, { type: 'vif', frontDomid: this.domid, backDomid: BACK_DOMID, devid: this.devid });
    } catch (err) {
      this.ctx.log(`netback: removing vif ${this.key}: ${(err as Error).message}`);
    }
  }
}

function stateName(v: number): string {
  for (const [k, n] of Object.entries(XENBUS_STATE.values)) if (n === v) return k;
  return String(v);
}
