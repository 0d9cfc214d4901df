// hypervisor.ts: the hypervisor process core — the KVM handle, the domain table, watchdogs.
import { type Worker } from 'node:worker_threads';
import { spawnBundleWorker } from '../../host/bundle-worker.ts';
import { EventEmitter } from 'eventemitter3';
import { KvmSystem } from '../kvm/system.ts';
import { libc, EFD_CLOEXEC, EFD_NONBLOCK } from '../../host/libc.ts';
import { requireCapabilities, type CapabilityReport } from '../kvm/capabilities.ts';
import { SHUTDOWN } from '../../abi/sched.ts';
import { PvkvmError } from '../../host/errors.ts';
import { Domain, type DomainConfig } from './domain.ts';
import { HypervisorShared } from '../state/global-state.ts';
import { Dom0GrantMaps } from '../grants/dom0-maps.ts';

const WATCHDOG_POLL_MS = 100;
/** Domain ids 1..0x7FEF are for guests; 0 is dom0 and 0x7FF0+ are reserved (DOMID_SELF…). */
const MAX_DOMID = 0x7fef;

let kickHandlerInstalled = false;

/**
 * vCPU kicks are SIGUSR2 sent to a worker thread: a handler must exist so the signal interrupts
 * KVM_RUN (EINTR) instead of killing the process. It stays for the life of the process, since a
 * kick may still be in flight when the last domain goes away.
 */
function installKickHandler(): void {
  if (kickHandlerInstalled) return;
  kickHandlerInstalled = true;
  process.on('SIGUSR2', () => {});
}

export interface HypervisorEvents {
  /** A domain was created (before its vCPUs run, unless it starts paused). */
  domain: (d: Domain) => void;
}

export class Hypervisor extends EventEmitter<HypervisorEvents> {
  readonly sys: KvmSystem;
  readonly caps: CapabilityReport;
  readonly shared = new HypervisorShared();
  /** Grant mappings held by dom0 backends (main thread). */
  readonly dom0Grants = new Dom0GrantMaps(this.shared);
  private readonly domains = new Map<number, Domain>();
  private nextDomid = 1;
  private watchdogTimer: NodeJS.Timeout | null = null;

  private timerWorker: Worker | null = null;
  private wakeFd = -1;

  constructor(private readonly workerUrl?: URL) {
    super();
    this.sys = KvmSystem.open();
    try {
      this.caps = requireCapabilities(this.sys);
    } catch (err) {
      this.sys.close();
      throw err;
    }
    installKickHandler();
  }

  createDomain(config: DomainConfig): Domain {
    for (const d of this.domains.values()) {
      if (d.name === config.name) throw new PvkvmError(`a domain named '${config.name}' already exists`);
    }
    const domid = this.allocDomid();
    this.startTimers();
    const dom = new Domain(this.sys, this.shared, domid, config, this.workerUrl);
    this.domains.set(domid, dom);
    dom.on('dead', () => {
      this.dom0Grants.forgetGranter(domid);
      this.domains.delete(domid);
      this.updateWatchdogPoll();
    });
    dom.on('remote-shutdown', (target, reason) => this.domains.get(target)?.shutdown(reason));
    this.updateWatchdogPoll();
    this.emit('domain', dom);
    return dom;
  }

  domain(domid: number): Domain | undefined {
    return this.domains.get(domid);
  }

  list(): Domain[] {
    return [...this.domains.values()];
  }

  /** Destroy every domain and release /dev/kvm once they are gone. */
  async close(): Promise<void> {
    const dying = this.list().map((d) => new Promise<void>((resolve) => {
      d.once('dead', () => resolve());
      d.destroy('hypervisor shutting down');
    }));
    await Promise.all(dying);
    if (this.watchdogTimer !== null) clearInterval(this.watchdogTimer);
    if (this.timerWorker !== null) {
      this.shared.stopTimers();
      await this.timerWorker.terminate();
      this.shared.setWakeFd(-1);
      libc.close(this.wakeFd);
    }
    this.sys.close();
  }

  /** The timer thread fires vCPU timers (VIRQ_TIMER) for every domain. */
  private startTimers(): void {
    if (this.timerWorker !== null) return;
    const url = new URL('./timer-thread.js', this.workerUrl ?? new URL('./vcpu-worker.js', import.meta.url));
    this.wakeFd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    this.shared.setWakeFd(this.wakeFd);
    this.timerWorker = spawnBundleWorker(url, { workerData: { hvSab: this.shared.sab } });
    this.timerWorker.unref();
  }

  /** The id the next createDomain() will use (for wiring test domains to each other). */
  peekDomid(): number {
    let id = this.nextDomid;
    for (let i = 0; i < MAX_DOMID && this.domains.has(id); i++) id = id >= MAX_DOMID ? 1 : id + 1;
    return id;
  }

  private allocDomid(): number {
    for (let i = 0; i < MAX_DOMID; i++) {
      const id = this.nextDomid;
      this.nextDomid = id >= MAX_DOMID ? 1 : id + 1;
      if (!this.domains.has(id)) return id;
    }
    throw new Error('no free domain ids');
  }

  /** SCHEDOP_watchdog deadlines are written by vCPUs into shared memory and polled here. */
  private updateWatchdogPoll(): void {
    if (this.domains.size > 0 && this.watchdogTimer === null) {
      this.watchdogTimer = setInterval(() => {
        const now = Date.now();
        for (const d of this.domains.values()) {
          if (d.shared.expiredWatchdog(now) >= 0) d.shutdown(SHUTDOWN.values.watchdog);
        }
      }, WATCHDOG_POLL_MS);
      this.watchdogTimer.unref();
    } else if (this.domains.size === 0 && this.watchdogTimer !== null) {
      clearInterval(this.watchdogTimer);
      this.watchdogTimer = null;
    }
  }
}
