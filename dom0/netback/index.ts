// index.ts: netback, the network backend (the dom0 half of Xen's netif split driver) — the
// toolstack's NetBackend. Every vif of every domain is served by one shared data-path worker
// that hosts the internal switch (docs/network.md).
import type { BackendContext } from '../backend-sdk/context.ts';
import { watchBackends } from '../backend-sdk/xenbus/watch-backends.ts';
import type { NetBackend } from '../toolstack/toolstack.ts';
import type { VifSetting } from '../../abi/domain-settings.ts';
import type { VifStatus } from '../../abi/control.ts';
import { XenbusState } from '../../abi/io/xenbus.ts';
import { libc } from '../../host/libc.ts';
import { openTap, attachToBridge, tapName } from '../../host/tap.ts';
import { NetWorker } from './net-worker.ts';
import { CNT, CNT_SLOTS } from './messages.ts';
import { Vif } from './vif.ts';

export interface NetbackOptions {
  /** The worker bundle (dist/netback-worker.js). */
  readonly workerUrl: URL;
  /** Largest payload a vif may send or receive (the frame limit is this + 14); default 1500. */
  readonly mtu?: number;
  /** How long removeVif waits for the frontend to close before removing the vif anyway. */
  readonly unplugTimeoutMs?: number;
}

export class Netback implements NetBackend {
  private readonly vifs = new Map<string, Vif>();
  private readonly nics = new Map<string, { domid: number; devid: number; fd: number; mac: string; counters: Float64Array }>();
  private readonly unwatch: () => void;
  private worker: Promise<NetWorker> | null = null;
  private current: NetWorker | null = null;
  private closed = false;

  constructor(private readonly ctx: BackendContext, private readonly opts: NetbackOptions) {
    // A device directory removed behind our back stops being served.
    this.unwatch = watchBackends(ctx.store, 0, 'vif', () => undefined, (domid, devid) => {
      const v = this.vifs.get(key(domid, devid));
      if (v !== undefined) void this.drop(v);
    });
  }

  /**
   * Create vif DOMID.DEVID's xenstore nodes (and TAP when bridged) and serve it. `takeOver`: the
   * nodes exist, left by a dom0 that died (its TAP went with it); serve them again from InitWait.
   */
  async addVif(domid: number, devid: number, vif: VifSetting, takeOver = false): Promise<void> {
    if (this.closed) throw new Error('netback is closed');
    const k = key(domid, devid);
    if (this.vifs.has(k)) throw new Error(`netback: domain ${domid} already has vif ${devid}`);
    let tap: { name: string; fd: number } | null = null;
    if (vif.bridge !== undefined) {
      const name = tapName(domid, devid);
      try {
        tap = { name, fd: openTap(name) };
        await attachToBridge(name, vif.bridge);
      } catch (err) {
        if (tap !== null) libc.close(tap.fd);
        throw new Error(`netback: vif ${domid}.${devid}: ${(err as Error).message}`);
      }
    }
    try {
      const v = new Vif(this.ctx, domid, devid, vif, tap, () => this.ensureWorker(), takeOver);
      this.vifs.set(k, v);
      v.start();
    } catch (err) {
      if (tap !== null) libc.close(tap.fd);
      throw new Error(`netback: vif ${domid}.${devid}: ${(err as Error).message}`);
    }
  }

  /** Hot-unplug: ask the frontend to close (backend Closing), wait a while for it, then remove. */
  async removeVif(domid: number, devid: number): Promise<void> {
    const v = this.vifs.get(key(domid, devid));
    if (v === undefined) throw new Error(`netback: domain ${domid} has no vif ${devid}`);
    const be = v.device.backendPath;
    const fe = this.ctx.store.read(`${be}/frontend`);
    this.ctx.store.write(`${be}/online`, '0');
    if (v.device.state === XenbusState.Connected) this.ctx.store.write(`${be}/state`, String(XenbusState.Closing));
    const deadline = Date.now() + (this.opts.unplugTimeoutMs ?? 5000);
    while (fe !== null && Date.now() < deadline) {
      const s = Number(this.ctx.store.read(`${fe}/state`) ?? XenbusState.Closed);
      if (s === XenbusState.Closing || s === XenbusState.Closed || s === XenbusState.Initialising || s === XenbusState.InitWait) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.drop(v);
  }

  /**
   * Put an emulated NIC (the hypervisor's NE2000; `fd` is dom0's end of its frame socketpair) on
   * the internal switch as port DOMID/DEVID: same switch, MAC enforcement and counters as a vif.
   * Netback owns `fd` from here on (closed when the domain's NICs are removed).
   */
  async addEmulatedNic(domid: number, devid: number, vif: VifSetting, fd: number): Promise<void> {
    const k = key(domid, devid);
    try {
      if (this.closed) throw new Error('netback is closed');
      if (vif.bridge !== undefined) throw new Error('an emulated NIC joins the internal switch only (no bridge= yet)');
      if (this.vifs.has(k) || this.nics.has(k)) throw new Error(`domain ${domid} already has vif ${devid}`);
      const w = await this.ensureWorker();
      const counters = new SharedArrayBuffer(CNT_SLOTS * 8);
      await w.attachNic({ key: k, domid, mac: vif.mac.split(':').map((h) => parseInt(h, 16)), fd, counters });
      this.nics.set(k, { domid, devid, fd, mac: vif.mac, counters: new Float64Array(counters) });
    } catch (err) {
      libc.close(fd);
      throw new Error(`netback: emulated NIC ${domid}.${devid}: ${(err as Error).message}`);
    }
  }

  private async dropNic(k: string): Promise<void> {
    const n = this.nics.get(k);
    if (n === undefined) return;
    this.nics.delete(k);
    await this.current?.detach(k).catch(() => undefined);
    libc.close(n.fd);
  }

  async removeDomain(domid: number): Promise<void> {
    await Promise.all([...this.nics.entries()].filter(([, n]) => n.domid === domid).map(([k]) => this.dropNic(k)));
    await Promise.all([...this.vifs.values()].filter((v) => v.domid === domid).map((v) => this.drop(v)));
  }

  /** Vifs and emulated NICs (model 'ne2k_isa'; 'Connected' while their wire is a switch port). */
  list(domid?: number): VifStatus[] {
    const vifs = [...this.vifs.values()].filter((v) => domid === undefined || v.domid === domid).map((v) => v.status());
    const nics = [...this.nics.values()].filter((n) => domid === undefined || n.domid === domid).map((n): VifStatus => {
      const c = n.counters;
      return {
        domid: n.domid, devid: n.devid, mac: n.mac, bridge: null, tap: null, state: 'Connected', model: 'ne2k_isa',
        counters: {
          txPackets: c[CNT.txPackets]!, txBytes: c[CNT.txBytes]!, txDropped: c[CNT.txDropped]!, txErrors: c[CNT.txErrors]!,
          rxPackets: c[CNT.rxPackets]!, rxBytes: c[CNT.rxBytes]!, rxDropped: c[CNT.rxDropped]!,
        },
      };
    });
    return [...vifs, ...nics];
  }

  /** Grant handles the data path holds right now (leak checks). */
  get heldGrants(): number {
    return this.current?.heldGrants ?? 0;
  }

  /** Stop serving everything; `keepNodes`: leave the vifs' device pairs for the next dom0 (guests keep running). */
  async close(keepNodes = false): Promise<void> {
    this.closed = true;
    this.unwatch();
    await Promise.all([...this.nics.keys()].map((k) => this.dropNic(k)));
    await Promise.all([...this.vifs.values()].map((v) => this.drop(v, keepNodes)));
    const w = this.worker;
    this.worker = null;
    if (w !== null) await (await w.catch(() => null))?.stop();
  }

  private async drop(v: Vif, keepNodes = false): Promise<void> {
    if (this.vifs.get(key(v.domid, v.devid)) === v) this.vifs.delete(key(v.domid, v.devid));
    await v.close(keepNodes);
  }

  /** The worker starts with the first connected vif and is restarted if it ever died. */
  private async ensureWorker(): Promise<NetWorker> {
    if (this.worker !== null) {
      const w = await this.worker.catch(() => null);
      if (w?.alive) return w;
    }
    const p = NetWorker.start({ workerUrl: this.opts.workerUrl, grants: this.ctx.grants, log: this.ctx.log, mtu: this.opts.mtu ?? 1500 });
    this.worker = p;
    const w = await p;
    this.current = w;
    w.on('fault', (k, reason) => this.vifs.get(k)?.fail(reason));
    w.on('crashed', (reason) => {
      this.ctx.log(reason);
      for (const v of this.vifs.values()) v.lost(reason);
      // Release the grants it held and its fds; the next connect starts a new worker.
      void w.stop();
    });
    return w;
  }
}

function key(domid: number, devid: number): string {
  return `${domid}/${devid}`;
}
