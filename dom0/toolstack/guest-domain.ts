// guest-domain.ts: dom0's record of one guest — its console and xenstore rings wired to the
// console backend and xenstored through dom0 event channels, its merged console stream, and the
// teardown that releases everything it holds when the guest dies.
import { monotonicMs } from '../../host/clock.ts';
import { EventEmitter } from 'eventemitter3';
import type { CreateReplyMsg, DomainEndMsg, DomainInfoMsg } from '../../abi/privileged.ts';
import { libc } from '../../host/libc.ts';
import type { HvClient } from '../hv-client.ts';
import type { EventChannelListener } from '../evtchn/event-listener.ts';
import { GuestPages } from '../guest-pages.ts';
import { ConsoleBackend } from '../console/backend.ts';
import type { Xenstored } from '../xenstore/xenstored.ts';
import { writeDomainNodes, removeDomainNodes } from './xenstore-layout.ts';
import { vcpuCount, type DomainSettings } from '../../abi/domain-settings.ts';

const ONE = new BigUint64Array([1n]);
/** Console output kept for clients that attach later. */
const BACKLOG_BYTES = 64 * 1024;

interface BoundChannel { readonly channel: number; readonly watch: number; readonly notifyFd: number }

export interface GuestDomainEvents {
  output: (bytes: Uint8Array) => void;
  state: (state: string) => void;
  end: (end: DomainEndMsg) => void;
  'first-entry': (atEpochMs: number) => void;
}

export class GuestDomain extends EventEmitter<GuestDomainEvents> {
  state = 'paused';
  end: DomainEndMsg | null = null;
  firstEntryMs = 0;
  /** The balloon target (mem-set) and its ceiling (mem-max), in MiB; they start as the settings say. */
  targetMiB: number;
  maxMiB: number;
  /** `pvkvm pause`s not yet undone (Xen's pause count; the toolstack's own start-up pause is not one). */
  pauseCount = 0;
  private pages: GuestPages | null = null;
  private console: ConsoleBackend | null = null;
  private readonly channels: BoundChannel[] = [];
  private backlogChunks: Uint8Array[] = [];
  private backlogBytes = 0;
  private released = false;

  private constructor(
    // Not readonly: network-attach/-detach change the vifs, and a restart rebuilds from these.
    readonly domid: number, public settings: DomainSettings, readonly uuid: string,
    private readonly hv: HvClient, private readonly listener: EventChannelListener, private readonly xs: Xenstored,
  ) {
    super();
    this.targetMiB = settings.memoryMiB;
    this.maxMiB = settings.maxMemoryMiB ?? settings.memoryMiB;
  }

  get name(): string {
    return this.settings.name;
  }

  /**
   * Wire a freshly created (paused) domain: map its ring pages, bind its console and store
   * channels, write its xenstore home, introduce it to xenstored, start its console backend.
   */
  static async attach(
    hv: HvClient, listener: EventChannelListener, xs: Xenstored, settings: DomainSettings, created: CreateReplyMsg,
    logPath?: string, adopting = false,
  ): Promise<GuestDomain> {
    const info = created.info;
    // xl's `uuid` names the domain's /vm path; without one, the hypervisor's.
    const uuid = settings.uuid ?? formatUuid(info.uuid);
    const g = new GuestDomain(info.domid, settings, uuid, hv, listener, xs);
    if (adopting) g.readMemoryNodes();
    try {
      const mem = await hv.call({ op: 'map_memory', map_memory: { domid: info.domid } });
      if (mem.response.body !== 'memory') throw new Error('bad map_memory reply');
      g.pages = new GuestPages(mem.fds[0]!, mem.response.memory);
      const consolePage = g.pages.page(created.console_pfn);
      const storePage = g.pages.page(created.store_pfn);
      const consoleNotify = await g.bind(created.console_port, () => g.console?.onGuestEvent());
      g.console = new ConsoleBackend({ domid: info.domid, name: settings.name, page: consolePage, notify: consoleNotify, logPath });
      g.console.on('output', (bytes: Uint8Array) => {
        g.pvConsoleSeenAt ??= monotonicMs();
        g.output(bytes);
      });
      const storeNotify = await g.bind(created.store_port, () => xs.kick(info.domid));
      // A domain adopted after a dom0 restart keeps the nodes the saved store brought back.
      if (!adopting || xs.local.read(`/local/domain/${info.domid}/domid`) === null) writeDomainNodes(xs.local, {
        domid: info.domid, name: settings.name, uuid, memoryKiB: (settings.maxMemoryMiB ?? settings.memoryMiB) * 1024,
        targetKiB: settings.memoryMiB * 1024, vcpus: settings.vcpus, maxVcpus: vcpuCount(settings),
        consolePort: created.console_port, consolePfn: created.console_pfn,
        storePort: created.store_port, storePfn: created.store_pfn,
      });
      xs.introduceDomain(info.domid, { page: storePage, notify: storeNotify }, { adopted: adopting });
      // Anything the guest wrote to its console while no dom0 listened.
      if (adopting) g.console.onGuestEvent();
      return g;
    } catch (err) {
      await g.release();
      if (!adopting) await hv.call({ op: 'destroy', destroy: { domid: info.domid } }).catch(() => undefined);
      throw err;
    }
  }

  /** An adopted domain's balloon target and ceiling, as the saved store has them (mem-set/mem-max may have moved them). */
  private readMemoryNodes(): void {
    const kib = (leaf: string): number | null => {
      const v = this.xs.local.read(`/local/domain/${this.domid}/memory/${leaf}`);
      return v !== null && /^\d{1,10}$/.test(v) ? Math.floor(Number(v) / 1024) : null;
    };
    const built = this.settings.maxMemoryMiB ?? this.settings.memoryMiB;
    this.maxMiB = Math.min(kib('static-max') ?? this.maxMiB, built);
    this.targetMiB = Math.min(kib('target') ?? this.targetMiB, this.maxMiB);
  }

  /** Bind dom0's end of a guest port; returns the function that signals the guest. */
  private async bind(port: number, onKick: () => void): Promise<() => void> {
    const r = await this.hv.call({ op: 'bind_interdomain', bind_interdomain: { domid: this.domid, remote_port: port } });
    if (r.response.body !== 'channel' || r.fds.length !== 2) throw new Error('bad bind reply');
    const [kickFd, notifyFd] = r.fds as [number, number];
    const watch = this.listener.watch(kickFd, onKick);
    this.channels.push({ channel: r.response.channel.channel, watch, notifyFd });
    return () => { if (!this.released) libc.write(notifyFd, ONE, 8); };
  }

  /**
   * When dom0 first read the guest's PV console (monotonicMs), or null: console_io written after
   * it goes only to the hypervisor log, so a guest that writes each line to both shows it once.
   */
  pvConsoleSeenAt: number | null = null;

  /**
   * The hypervisor console (console_io, port 0xE9): shown too until the PV console speaks, or
   * always when asked. Judged by when the guest wrote it (`atMs`, stamped on its vCPU thread), not
   * by when the event got here: the two consoles reach dom0 by different paths, and on a busy
   * host a line written before the first PV console output can arrive after it.
   */
  hypervisorConsole(bytes: Uint8Array, atMs?: number): void {
    const before = this.pvConsoleSeenAt === null || (atMs !== undefined && atMs > 0 && atMs < this.pvConsoleSeenAt);
    if (before || this.settings.showConsoleIo === true) this.output(bytes);
  }

  /** Output from the guest's console (PV ring or UART, and console_io as above), to clients and the backlog. */
  output(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.backlogChunks.push(bytes);
    this.backlogBytes += bytes.length;
    while (this.backlogBytes > BACKLOG_BYTES && this.backlogChunks.length > 1) {
      this.backlogBytes -= this.backlogChunks.shift()!.length;
    }
    this.emit('output', bytes);
  }

  backlog(): Uint8Array {
    return Buffer.concat(this.backlogChunks);
  }

  /** Terminal input for the guest's console: its PV ring, or the emulated UART in the hypervisor. */
  input(bytes: Uint8Array): void {
    if (this.settings.console === 'uart') {
      void this.hv.request({ op: 'console_input', console_input: { domid: this.domid, data: bytes } }).catch(() => undefined);
      return;
    }
    this.console?.write(bytes);
  }

  setState(state: string): void {
    this.state = state;
    this.emit('state', state);
  }

  /** The hypervisor reported the domain gone: drain the console one last time, then release. */
  async dead(end: DomainEndMsg): Promise<void> {
    this.console?.onGuestEvent();
    this.end = end;
    this.state = 'dead';
    await this.release();
    this.emit('end', end);
  }

  /** Release everything dom0 holds for this domain (idempotent). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const c of this.channels) {
      this.listener.unwatch(c.watch);
      libc.close(c.notifyFd);
      // The hypervisor frees its side with the domain; unbind explicitly if it still runs.
      await this.hv.call({ op: 'unbind', unbind: { channel: c.channel } }).catch(() => undefined);
    }
    this.channels.length = 0;
    if (this.xs.isIntroduced(this.domid)) this.xs.releaseDomain(this.domid);
    removeDomainNodes(this.xs.local, this.domid, this.uuid);
    await this.console?.close();
    this.console = null;
    this.pages?.unmap();
    this.pages = null;
  }

  info(hvInfo: DomainInfoMsg | null): Record<string, unknown> {
    return {
      domid: this.domid, name: this.name, state: hvInfo?.state ?? this.state, vcpus: this.settings.vcpus, pause_count: this.pauseCount,
      memory_mib: this.targetMiB, max_memory_mib: this.maxMiB, uuid: this.uuid, uptime_s: hvInfo?.uptime_s ?? 0,
      exits: Object.fromEntries((hvInfo?.exits ?? []).map((e) => [e.reason, e.count])),
      hypercalls: Object.fromEntries((hvInfo?.hypercalls ?? []).map((e) => [e.reason, e.count])),
      kernel: this.settings.kernel, modules: this.settings.modules, cmdline: this.settings.cmdline,
      on_poweroff: this.settings.onPoweroff, on_reboot: this.settings.onReboot, on_crash: this.settings.onCrash,
      on_watchdog: this.settings.onWatchdog ?? 'destroy',
    };
  }
}

function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex').padEnd(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
