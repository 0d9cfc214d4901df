// toolstack.ts: dom0's toolstack service — creates domains from settings, tracks them by name and
// id, turns hypervisor lifecycle events into on_poweroff/on_reboot/on_crash actions, and asks
// guests to shut down through xenstore.
import { readFile, stat, writeFile, rm, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { libc } from '../../host/libc.ts';
import { basename, join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import type { DomainEndMsg, DomainInfoMsg, Event } from '../../abi/privileged.ts';
import { HVM_PARAM } from '../../abi/hvm.ts';
import type { HvClient } from '../hv-client.ts';
import type { EventChannelListener } from '../evtchn/event-listener.ts';
import type { Xenstored } from '../xenstore/xenstored.ts';
import { HypervisorLog } from './hypervisor-log.ts';
import { GUEST_LIMITS } from '../../abi/guest-limits.ts';
import { GuestDomain } from './guest-domain.ts';
import { settingsProblem, vifDevid, vcpuCount, type DiskSetting, type DomainSettings, type OnAction, type VifSetting } from '../../abi/domain-settings.ts';
import { completeVif, explicitDevids, vifStatuses, type VifRequest } from './vifs.ts';
import type { VifStatus } from '../../abi/control.ts';
import { vcpuThreads, threadCpuSeconds, pinThread, threadAffinity, MAX_HOST_CPUS } from './vcpu-threads.ts';
import { setAvailability, availableVcpus } from './vcpu-set.ts';
import { vdevToDevid } from '../blkback/vdev.ts';
import { saveDomain, openSave, writeSubtree, type OpenedSave } from './save-restore.ts';
import { leftDevices } from './left-devices.ts';
import type { BlkCounters } from '../blkback/stats.ts';
import type { TopRow } from '../../abi/control.ts';

/**
 * A domain that ends within this long of its previous automatic restart is not restarted again:
 * xl's guard against restart loops ("domain restarted too fast"). The first restart is always done.
 */
export const RESTART_GUARD_MS = 10_000;

/** A toolstack request that cannot be done: one line for the user. */
export class ToolstackError extends Error {}

/** One row of vcpu-list (and vcpu-pin's answer). */
export interface VcpuRow {
  readonly vcpu: number;
  /** Up in the hypervisor (not VCPUOP_down'd, and brought up once). */
  readonly online: boolean;
  readonly cpus: number[];
  readonly cpu_time_s: number;
}

const MAX_IMAGE_BYTES = 3 * 1024 * 1024 * 1024;
/** SHUTDOWN_* reasons (docs/xen-abi.md §7.1). */
const REASON = { poweroff: 0, reboot: 1, suspend: 2, crash: 3, watchdog: 4, soft_reset: 5 } as const;

async function readImage(path: string, what: string): Promise<Uint8Array> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ToolstackError(`${path}: ${what} is not a regular file`);
    if (st.size > MAX_IMAGE_BYTES) throw new ToolstackError(`${path}: ${what} is too large`);
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if (err instanceof ToolstackError) throw err;
    throw new ToolstackError(`${path}: cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * A disk image whose size is not a whole number of 512-byte sectors would silently lose its tail
 * (blkfront sees size / 512 sectors): refuse it, saying how to pad it.
 */
async function checkDiskImage(disk: DiskSetting): Promise<void> {
  let st;
  try {
    st = await stat(disk.target);
  } catch (err) {
    throw new ToolstackError(`disk ${disk.vdev}: cannot open ${disk.target} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!st.isFile()) return; // a block device's size is a multiple of its sector size
  if (st.size < 512) throw new ToolstackError(`disk ${disk.vdev}: ${disk.target} is ${st.size} bytes, less than one 512-byte sector`);
  if (st.size % 512 !== 0) {
    throw new ToolstackError(`disk ${disk.vdev}: ${disk.target} is ${st.size} bytes, not a multiple of 512 ` +
      `(the last ${st.size % 512} bytes would be lost); pad it with 'truncate -s %512 ${disk.target}'`);
  }
}

/** A backend's refusal, with the hint a permission problem on a writable disk needs. */
function diskError(disk: DiskSetting, err: unknown): ToolstackError {
  const msg = err instanceof Error ? err.message : String(err);
  if (disk.access === 'rw' && /\b(EPERM|EROFS|EACCES)\b/.test(msg)) {
    return new ToolstackError(`${msg}; to attach it read-only, add ',ro' (or access=ro) to the disk spec`);
  }
  return err instanceof ToolstackError ? err : new ToolstackError(msg);
}

/** The disk backend as the toolstack drives it (blkback; absent in tests without disks). */
export interface DiskBackend {
  /**
   * Create the device's xenstore nodes and serve it; rejects with a one-line error. `takeOver`:
   * the nodes exist, left by a dom0 that died; serve them again (the frontend reconnects).
   */
  addDisk(domid: number, disk: DiskSetting, takeOver?: boolean): Promise<void>;
  /** Stop serving every disk of a domain and release what it held. */
  removeDomain(domid: number): Promise<void>;
  /** Hot-unplug one disk: ask the frontend to close, wait a bounded time, remove it (block-detach). */
  removeDisk?(domid: number, devid: number): Promise<void>;
  /** The I/O counters of a domain's disks being served (`pvkvm top`). */
  stats?(domid: number): { devid: number; counters: BlkCounters }[];
}

/** The network backend as the toolstack drives it (netback; absent in tests without vifs). */
export interface NetBackend {
  /**
   * Create vif DOMID.DEVID's xenstore nodes (backend and frontend) and serve it; rejects with a
   * one-line error. `takeOver`: as for DiskBackend.addDisk.
   */
  addVif(domid: number, devid: number, vif: VifSetting, takeOver?: boolean): Promise<void>;
  /** Put an emulated NIC's wire (`fd`, dom0's end, now the backend's) on the internal switch. */
  addEmulatedNic?(domid: number, devid: number, vif: VifSetting, fd: number): Promise<void>;
  /** Hot-unplug one vif: ask the frontend to close, then remove it. */
  removeVif(domid: number, devid: number): Promise<void>;
  /** Stop serving every vif of a domain and release what it held. */
  removeDomain(domid: number): Promise<void>;
  /** The vifs being served, with their counters. */
  list(domid?: number): VifStatus[];
}

export interface ToolstackEvents {
  created: (g: GuestDomain) => void;
  end: (g: GuestDomain, end: DomainEndMsg) => void;
}

export class Toolstack extends EventEmitter<ToolstackEvents> {
  private readonly byDomid = new Map<number, GuestDomain>();
  /** The hypervisor console of every domain (`pvkvm dmesg`). */
  readonly log = new HypervisorLog();
  /** Names being created (so two concurrent creates cannot take the same name). */
  private readonly reserved = new Set<string>();
  /** Per domain, the tail of its chain of vif and disk hot-plug operations (run one at a time). */
  private readonly vifQueue = new Map<number, Promise<unknown>>();
  /** When each domain (by name) was last restarted by on_* = restart, for RESTART_GUARD_MS. */
  private readonly restartedAt = new Map<string, number>();

  constructor(
    private readonly hv: HvClient, private readonly xs: Xenstored, private readonly listener: EventChannelListener,
    private readonly opts: {
      logDir?: string; stateDir?: string; log: (line: string) => void; disks?: DiskBackend; net?: NetBackend;
      /** The hypervisor daemon's pid file: its vCPU threads give CPU time and take CPU affinity. */
      hypervisorPidFile?: string;
    },
  ) {
    super();
    hv.on('event', (ev) => this.onEvent(ev));
  }

  domains(): GuestDomain[] {
    return [...this.byDomid.values()];
  }

  /** A domain by name or decimal id. */
  find(ref: string): GuestDomain {
    if (/^\d+$/.test(ref)) {
      const g = this.byDomid.get(Number(ref));
      if (g !== undefined) return g;
    }
    for (const g of this.byDomid.values()) if (g.name === ref) return g;
    throw new ToolstackError(`no domain '${ref}'`);
  }

  /** xl save: the guest suspends, its state goes to `path`; the domain is destroyed unless `keep`. */
  async save(ref: string, path: string, keep: boolean): Promise<{ domid: number; pages: number }> {
    const g = this.find(ref);
    const r = await saveDomain(this.hv, this.xs, g, path, keep).catch((err: unknown) => {
      throw new ToolstackError(err instanceof Error ? err.message : String(err));
    });
    if (!keep) await this.waitEnd(g);
    return { domid: g.domid, pages: r.pages };
  }

  /** xl restore: a new domain, same name, from a save file; it resumes where it suspended. */
  async restore(path: string): Promise<GuestDomain> {
    let saved: OpenedSave;
    try {
      saved = openSave(path);
    } catch (err) {
      throw new ToolstackError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      return await this.create(saved.settings, saved);
    } finally {
      saved.close();
    }
  }

  async create(settings: DomainSettings, restoring?: OpenedSave): Promise<GuestDomain> {
    if (this.reserved.has(settings.name) || this.domains().some((g) => g.name === settings.name)) {
      throw new ToolstackError(`a domain named '${settings.name}' already exists`);
    }
    if (settings.uuid !== undefined && this.domains().some((g) => g.uuid === settings.uuid)) {
      throw new ToolstackError(`a domain with uuid ${settings.uuid} already exists`);
    }
    this.reserved.add(settings.name);
    try {
      // A restore boots no kernel: the saved memory holds it.
      const kernel = restoring ? new Uint8Array(0) : await readImage(settings.kernel, 'kernel');
      const modules = restoring ? [] : await Promise.all(settings.modules.map(async (p) => ({ name: basename(p), data: await readImage(p, 'module') })));
      const r = await this.hv.request({ op: 'create', create: {
        name: settings.name, kernel, kernel_name: basename(settings.kernel),
        // Built with maxmem; the guest's balloon driver gives back down to memory/target.
        memory_mib: settings.maxMemoryMiB ?? settings.memoryMiB,
        vcpus: vcpuCount(settings), cmdline: settings.cmdline, modules, start_paused: true, dom0_rings: true,
        emulated_disks: (settings.emulatedDisks ?? []).map((d) => ({ path: d.target, readonly: d.access === 'ro' })),
        uart_console: settings.console === 'uart',
        emulated_nics: (settings.vifs ?? []).filter((v) => v.model === 'ne2k_isa').map((v) => ({ mac: Uint8Array.from(v.mac.split(':').map((h) => parseInt(h, 16))) })),
        restore_state: restoring?.hvState,
      } });
      // dom0's ends of the emulated NICs' wires, in vif order: ours until netback takes each one,
      // and closed below if creation fails before it does (or the reply carries more than asked).
      const nicFds = [...r.fds];
      try {
        if (r.response.errno !== 0) throw new ToolstackError(r.response.error);
        if (r.response.body !== 'created') throw new ToolstackError('unexpected reply to create');
        const created = r.response.created;
        if (restoring) await this.loadSavedMemory(created.info.domid, restoring);
        const logPath = this.opts.logDir ? join(this.opts.logDir, `console-${settings.name}.log`) : undefined;
        const g = await GuestDomain.attach(this.hv, this.listener, this.xs, settings, created, logPath);
        this.byDomid.set(g.domid, g);
        try {
          if (restoring) writeSubtree(this.xs, g.domid, restoring.xenstore);
          // Backends are in place before the guest runs, as xl does it.
          for (const disk of settings.disks ?? []) {
            if (this.opts.disks === undefined) throw new ToolstackError('this dom0 has no disk backend');
            await checkDiskImage(disk);
            await this.opts.disks.addDisk(g.domid, disk).catch((err: unknown) => { throw diskError(disk, err); });
          }
          const vifs = settings.vifs ?? [];
          if (vifs.length > 0 && this.opts.net === undefined) throw new ToolstackError('this dom0 has no network backend');
          for (const [i, vif] of vifs.entries()) {
            if (vif.model !== 'ne2k_isa') await this.opts.net!.addVif(g.domid, vifDevid(vif, i), vif);
            else if (this.opts.net!.addEmulatedNic === undefined) throw new ToolstackError('this dom0\'s network backend has no emulated-NIC ports');
            else await this.opts.net!.addEmulatedNic(g.domid, vifDevid(vif, i), vif, nicFds.shift()!);
          }
        } catch (err) {
          const ended = this.waitEnd(g);
          await this.hv.call({ op: 'destroy', destroy: { domid: g.domid } }).catch(() => undefined);
          await ended;
          throw err instanceof ToolstackError ? err : new ToolstackError(err instanceof Error ? err.message : String(err));
        }
        await this.saveSettings(g);
        this.emit('created', g);
        await this.hv.call({ op: 'unpause', unpause: { domid: g.domid } });
        g.setState('running');
        if (settings.cpuAffinity !== undefined) this.applyAffinity(g, settings.cpuAffinity);
        this.opts.log(`created domain ${g.domid} (${g.name})`);
        return g;
      } finally {
        for (const fd of nicFds.splice(0)) libc.close(fd);
      }
    } finally {
      this.reserved.delete(settings.name);
    }
  }

  /** Before dom0 attaches to a restored domain's rings: its memory as saved (it is still paused). */
  private async loadSavedMemory(domid: number, saved: OpenedSave): Promise<void> {
    try {
      const mem = await this.hv.call({ op: 'map_memory', map_memory: { domid } });
      if (mem.response.body !== 'memory') throw new ToolstackError('bad map_memory reply');
      try {
        saved.loadMemory(mem.fds[0]!, mem.response.memory.mem_bytes);
      } finally {
        libc.close(mem.fds[0]!);
      }
    } catch (err) {
      await this.hv.call({ op: 'destroy', destroy: { domid } }).catch(() => undefined);
      throw err instanceof ToolstackError ? err : new ToolstackError(err instanceof Error ? err.message : String(err));
    }
  }

  /** The hypervisor daemon's pid, or null when it cannot be found. */
  private hypervisorPid(): number | null {
    if (this.opts.hypervisorPidFile === undefined) return null;
    try {
      const pid = Number(readFileSync(this.opts.hypervisorPidFile, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  private threadsOf(g: GuestDomain): { vcpu: number; tid: number }[] {
    const pid = this.hypervisorPid();
    return pid === null ? [] : vcpuThreads(pid, g.domid);
  }

  /** xl's cpus: entry i pins vCPU i (one entry pins them all); a failure is logged, not fatal, as in xl. */
  private applyAffinity(g: GuestDomain, affinity: readonly (readonly number[])[], tries = 100): void {
    const threads = this.threadsOf(g);
    // The hypervisor names each vCPU thread when it starts running it: wait for all of them.
    if (threads.length < vcpuCount(g.settings) && g.end === null) {
      if (tries > 0) {
        setTimeout(() => this.applyAffinity(g, affinity, tries - 1), 20).unref();
        return;
      }
      this.opts.log(`domain ${g.domid}: cannot pin every vCPU (${threads.length} of ${vcpuCount(g.settings)} vCPU threads found)`);
    }
    for (const t of threads) {
      const cpus = affinity.length === 1 ? affinity[0] : affinity[t.vcpu];
      if (cpus === undefined) continue;
      try {
        pinThread(t.tid, cpus);
      } catch (err) {
        this.opts.log(`domain ${g.domid}: pinning vCPU ${t.vcpu}: ${(err as Error).message}`);
      }
    }
  }

  /** xl vcpu-pin: hard affinity of one vCPU (or all) from now on; not kept across a restart, as in xl. */
  async vcpuPin(ref: string, vcpu: number | 'all', cpus: readonly number[]): Promise<VcpuRow[]> {
    const g = this.find(ref);
    if (cpus.length === 0 || cpus.some((c) => !Number.isInteger(c) || c < 0 || c >= MAX_HOST_CPUS)) {
      throw new ToolstackError(`cpus must be a non-empty list of CPU numbers 0..${MAX_HOST_CPUS - 1}`);
    }
    if (vcpu !== 'all' && (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= vcpuCount(g.settings))) {
      throw new ToolstackError(`${g.name} has vCPUs 0..${vcpuCount(g.settings) - 1}`);
    }
    const threads = this.threadsOf(g).filter((t) => vcpu === 'all' || t.vcpu === vcpu);
    if (threads.length === 0) throw new ToolstackError(`no vCPU threads of ${g.name} found in the hypervisor daemon`);
    for (const t of threads) {
      try {
        pinThread(t.tid, cpus);
      } catch (err) {
        throw new ToolstackError(`vCPU ${t.vcpu}: ${(err as Error).message}`);
      }
    }
    return this.vcpus(g);
  }

  /**
   * Each vCPU: whether it is up (the hypervisor's word: VCPUOP_up'd and not VCPUOP_down'd), its
   * thread's CPU time and current hard affinity (xl vcpu-list's State, Time(s), CPU Affinity).
   */
  async vcpus(g: GuestDomain): Promise<VcpuRow[]> {
    const pid = this.hypervisorPid();
    const online = (await this.hvInfo(g))?.online_vcpus ?? [];
    return this.threadsOf(g).map((t) => ({
      vcpu: t.vcpu, online: online.includes(t.vcpu), cpus: threadAffinity(t.tid), cpu_time_s: pid === null ? 0 : threadCpuSeconds(pid, t.tid),
    }));
  }

  /** The hypervisor's DomainInfo of a domain, or null if it has none (it is gone). */
  private async hvInfo(g: GuestDomain): Promise<DomainInfoMsg | null> {
    const r = await this.hv.request({ op: 'info', info: { domid: g.domid } });
    return r.response.body === 'info' ? r.response.info : null;
  }

  /**
   * xl vcpu-set: make vCPUs 0..n-1 available to the guest and the rest unavailable (xenstore
   * cpu/N/availability). The guest brings them up or down itself (VCPUOP_up/down), as a PVH
   * guest does under Xen; `vcpu-list` shows when it has.
   */
  vcpuSet(ref: string, n: number): { vcpus: number; max_vcpus: number } {
    const g = this.find(ref);
    const max = vcpuCount(g.settings);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new ToolstackError(`${g.name} can have 1..${max} vCPUs online (its maxvcpus is ${max}), not ${String(n).slice(0, 12)}`);
    }
    if (g.end !== null) throw new ToolstackError(`${g.name} has ended`);
    setAvailability(this.xs.local, g.domid, n, max);
    this.opts.log(`domain ${g.domid}: ${n} of ${max} vCPUs available`);
    return { vcpus: n, max_vcpus: max };
  }

  /** vCPU numbers: how many the toolstack made available, how many exist, which are up. */
  private vcpuSummary(g: GuestDomain, h: DomainInfoMsg | null): { vcpus: number; max_vcpus: number; online_vcpus: number[] } {
    const max = vcpuCount(g.settings);
    return { vcpus: availableVcpus(this.xs.local, g.domid, max), max_vcpus: max, online_vcpus: h?.online_vcpus ?? [] };
  }

  /** CPU seconds a domain's vCPUs have used (xl list's Time(s)). */
  private cpuSeconds(g: GuestDomain): number {
    const pid = this.hypervisorPid();
    return pid === null ? 0 : this.threadsOf(g).reduce((sum, t) => sum + threadCpuSeconds(pid, t.tid), 0);
  }

  /** Remember how a domain was built, for a dom0 that restarts while it runs. */
  private async saveSettings(g: GuestDomain): Promise<void> {
    if (!this.opts.stateDir) return;
    await mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
    await writeFile(join(this.opts.stateDir, `${g.domid}.json`), JSON.stringify(g.settings), { mode: 0o600 });
  }

  private async loadSettings(info: DomainInfoMsg): Promise<DomainSettings> {
    try {
      const s = JSON.parse(await readFile(join(this.opts.stateDir ?? '/nonexistent', `${info.domid}.json`), 'utf8')) as DomainSettings;
      if (settingsProblem(s) === null && s.name === info.name) return s;
    } catch {
      // No record (created by another toolstack): rebuild what the hypervisor knows.
    }
    return {
      name: info.name, kernel: '', cmdline: '', memoryMiB: Math.round(info.memory_bytes / 1048576), vcpus: info.vcpus, modules: [],
      onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy',
    };
  }

  /**
   * A restarted dom0 takes over the domains the hypervisor kept running: rebind their console
   * and store channels, remap their rings, reintroduce them to xenstored (whose tree was saved),
   * and drop store nodes of domains that died meanwhile.
   */
  async adopt(domains: readonly DomainInfoMsg[]): Promise<void> {
    const param = async (domid: number, index: number): Promise<number> => {
      const r = await this.hv.call({ op: 'get_param', get_param: { domid, index } });
      return r.response.body === 'param' ? r.response.param.value : 0;
    };
    const P = HVM_PARAM.values;
    for (const info of domains) {
      if (info.state === 'dying' || info.state === 'shutdown') continue;
      try {
        const settings = await this.loadSettings(info);
        const created = {
          info, console_port: await param(info.domid, P.CONSOLE_EVTCHN), store_port: await param(info.domid, P.STORE_EVTCHN),
          console_pfn: await param(info.domid, P.CONSOLE_PFN), store_pfn: await param(info.domid, P.STORE_PFN),
        };
        const logPath = this.opts.logDir ? join(this.opts.logDir, `console-${settings.name}.log`) : undefined;
        const g = await GuestDomain.attach(this.hv, this.listener, this.xs, settings, created, logPath, true);
        g.setState(info.state);
        // The hypervisor keeps no count: a domain found paused needs one unpause.
        if (info.state === 'paused') g.pauseCount = 1;
        this.byDomid.set(g.domid, g);
        await this.takeOverDevices(g);
        this.opts.log(`adopted domain ${g.domid} (${g.name})`);
      } catch (err) {
        this.opts.log(`cannot adopt domain ${info.domid} (${info.name}): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const id of this.xs.local.directory('/local/domain') ?? []) {
      if (id !== '0' && !this.byDomid.has(Number(id))) this.xs.local.rm(`/local/domain/${id}`);
    }
  }

  /**
   * Serve again the disks and vifs the dead dom0 served an adopted domain, as its backend
   * directories in the restored store describe them: each backend starts at InitWait and the
   * frontend reconnects. The settings record follows what is served.
   */
  private async takeOverDevices(g: GuestDomain): Promise<void> {
    const left = leftDevices(this.xs.local, g.domid, g.settings);
    for (const why of left.skipped) this.opts.log(`domain ${g.domid}: not serving ${why}`);
    const disks: DiskSetting[] = [];
    for (const disk of left.disks) {
      try {
        if (this.opts.disks === undefined) throw new Error('this dom0 has no disk backend');
        await this.opts.disks.addDisk(g.domid, disk, true);
        disks.push(disk);
      } catch (err) {
        this.opts.log(`domain ${g.domid}: cannot serve disk ${disk.vdev} again: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const vifs: VifSetting[] = [];
    for (const { devid, vif } of left.vifs) {
      try {
        if (this.opts.net === undefined) throw new Error('this dom0 has no network backend');
        await this.opts.net.addVif(g.domid, devid, vif, true);
        vifs.push({ ...vif, devid });
      } catch (err) {
        this.opts.log(`domain ${g.domid}: cannot serve vif ${devid} again: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    // Emulated NICs live in the hypervisor and are not served again here: they keep their place in the record.
    const nics = explicitDevids(g.settings.vifs ?? []).filter((v) => v.model === 'ne2k_isa');
    if (left.disks.length + left.vifs.length > 0) {
      g.settings = { ...g.settings, disks, vifs: [...nics, ...vifs] };
      await this.saveSettings(g);
      this.opts.log(`domain ${g.domid}: serving ${disks.length} disk(s) and ${vifs.length} vif(s) again`);
    }
  }

  async destroy(ref: string): Promise<void> {
    const g = this.find(ref);
    this.restartedAt.delete(g.name);
    await this.hv.call({ op: 'destroy', destroy: { domid: g.domid } });
  }

  /**
   * Pauses nest, as Xen's pause count: the first pauses the vCPUs, each needs its unpause.
   * Answers the count now.
   */
  async pause(ref: string): Promise<number> {
    const g = this.find(ref);
    if (g.pauseCount === 0) await this.hv.call({ op: 'pause', pause: { domid: g.domid } });
    return ++g.pauseCount;
  }

  /**
   * Set the domain's balloon target (xl mem-set): memory/target in xenstore, in KiB, which a
   * balloon driver in the guest follows, up to the domain's maximum (mem-max, else maxmem).
   */
  memSet(ref: string, mib: number): { target_kib: number } {
    const g = this.find(ref);
    if (!Number.isInteger(mib) || mib < GUEST_LIMITS.minRamMiB || mib > g.maxMiB) {
      throw new ToolstackError(`memory must be between ${GUEST_LIMITS.minRamMiB} and ${g.maxMiB} MiB for ${g.name}`);
    }
    this.xs.local.write(`/local/domain/${g.domid}/memory/target`, String(mib * 1024));
    g.targetMiB = mib;
    return { target_kib: mib * 1024 };
  }

  /**
   * xl mem-max: the most mem-set may give the domain, written as memory/static-max. It can only
   * stay within the RAM the domain was built with (maxmem): the hypervisor's limit on populated
   * frames is fixed at creation, so this is a toolstack limit, and not below the current target.
   */
  memMax(ref: string, mib: number): { static_max_kib: number } {
    const g = this.find(ref);
    const built = g.settings.maxMemoryMiB ?? g.settings.memoryMiB;
    if (!Number.isInteger(mib) || mib < g.targetMiB || mib > built) {
      throw new ToolstackError(`maximum memory must be between ${g.targetMiB} (the current target) and ${built} MiB (what ${g.name} was built with)`);
    }
    this.xs.local.write(`/local/domain/${g.domid}/memory/static-max`, String(mib * 1024));
    g.maxMiB = mib;
    return { static_max_kib: mib * 1024 };
  }

  /** Undo one pause; the vCPUs run again when the last is undone. Answers the count left. */
  async unpause(ref: string): Promise<number> {
    const g = this.find(ref);
    if (g.pauseCount === 0) throw new ToolstackError(`domain ${g.domid} (${g.name}) is not paused`);
    if (g.pauseCount === 1) await this.hv.call({ op: 'unpause', unpause: { domid: g.domid } });
    return --g.pauseCount;
  }

  /**
   * Ask the guest to shut down through `control/shutdown` (the PV protocol); destroy it if it is
   * still there after `timeoutMs`. Resolves with how it ended.
   */
  shutdown(ref: string, mode: 'poweroff' | 'reboot', timeoutMs: number): Promise<DomainEndMsg> {
    const g = this.find(ref);
    const ended = this.waitEnd(g);
    this.xs.local.write(`/local/domain/${g.domid}/control/shutdown`, mode);
    const timer = setTimeout(() => {
      this.opts.log(`domain ${g.domid} did not shut down within ${timeoutMs} ms: destroying it`);
      void this.hv.call({ op: 'destroy', destroy: { domid: g.domid } }).catch(() => undefined);
    }, timeoutMs);
    return ended.finally(() => clearTimeout(timer));
  }

  /** Resolves with the domain's end (at once if it already ended). */
  waitEnd(g: GuestDomain): Promise<DomainEndMsg> {
    if (g.end !== null) return Promise.resolve(g.end);
    return new Promise((resolve) => g.once('end', resolve));
  }

  async info(ref: string): Promise<Record<string, unknown>> {
    const g = this.find(ref);
    const h = await this.hvInfo(g);
    return { ...g.info(h), ...this.vcpuSummary(g, h), vifs: this.vifs(g) };
  }

  /** A domain's vifs with the backend's state and counters (network-list, info). */
  vifs(g: GuestDomain): VifStatus[] {
    return vifStatuses(g.domid, g.settings.vifs ?? [], this.opts.net?.list(g.domid) ?? []);
  }

  /** Run a vif hot-plug operation after the domain's previous one (they read and write its vif list). */
  private serialVifOp<T>(g: GuestDomain, op: () => Promise<T>): Promise<T> {
    const run = (this.vifQueue.get(g.domid) ?? Promise.resolve()).then(op, op);
    const tail = run.catch(() => undefined);
    this.vifQueue.set(g.domid, tail);
    void tail.then(() => { if (this.vifQueue.get(g.domid) === tail) this.vifQueue.delete(g.domid); });
    return run;
  }

  /**
   * xl network-attach: plug a vif into a running domain (next free devid, a stable MAC unless
   * given) and keep it in the domain's settings, so a restart brings it back.
   */
  async attachVif(ref: string, req: VifRequest): Promise<VifSetting> {
    const g = this.find(ref);
    const net = this.opts.net;
    if (net === undefined) throw new ToolstackError('this dom0 has no network backend');
    // The NE2000 is an ISA card at fixed resources: ISA has no hot-plug, so it is boot-time only.
    if (req.model === 'ne2k_isa') throw new ToolstackError('model=ne2k_isa cannot be hot-plugged: the NE2000 is an ISA card (no ISA hot-plug); put it in the domain config\'s vif list');
    return this.serialVifOp(g, async () => {
      if (g.end !== null) throw new ToolstackError(`domain ${g.domid} (${g.name}) has ended`);
      const current = explicitDevids(g.settings.vifs ?? []);
      const vif = completeVif(g.name, current, req);
      if (typeof vif === 'string') throw new ToolstackError(vif);
      await net.addVif(g.domid, vif.devid!, vif);
      g.settings = { ...g.settings, vifs: [...current, vif] };
      if (g.end === null) await this.saveSettings(g); // a dead domain's record is already gone
      this.opts.log(`domain ${g.domid}: attached vif ${vif.devid} (${vif.mac})`);
      return vif;
    });
  }

  /** xl network-detach: unplug the vif with this devid or MAC and drop it from the settings. */
  async detachVif(ref: string, which: { devid: number } | { mac: string }): Promise<VifSetting> {
    const g = this.find(ref);
    const net = this.opts.net;
    if (net === undefined) throw new ToolstackError('this dom0 has no network backend');
    return this.serialVifOp(g, async () => {
      const current = explicitDevids(g.settings.vifs ?? []);
      const vif = current.find((v) => ('devid' in which ? v.devid === which.devid : v.mac === which.mac));
      if (vif === undefined) {
        throw new ToolstackError(`domain ${g.name} has no vif ${'devid' in which ? `with devid ${which.devid}` : `with mac ${which.mac}`}`);
      }
      if (vif.model === 'ne2k_isa') throw new ToolstackError(`vif ${vif.devid} of ${g.name} is an emulated NE2000 (model=ne2k_isa): an ISA card cannot be unplugged; it goes with the domain`);
      // A vif the backend does not serve (one a restarted dom0 could not take over) only leaves the settings.
      if (net.list(g.domid).some((s) => s.devid === vif.devid)) await net.removeVif(g.domid, vif.devid!);
      g.settings = { ...g.settings, vifs: current.filter((v) => v !== vif) };
      if (g.end === null) await this.saveSettings(g);
      this.opts.log(`domain ${g.domid}: detached vif ${vif.devid} (${vif.mac})`);
      return vif;
    });
  }

  /**
   * xl block-attach: plug a disk into a running domain through xenbus (blkback creates the device
   * pair, as at create) and keep it in the domain's settings, so a restart brings it back.
   */
  async attachDisk(ref: string, disk: DiskSetting): Promise<DiskSetting> {
    const g = this.find(ref);
    const disks = this.opts.disks;
    if (disks === undefined) throw new ToolstackError('this dom0 has no disk backend');
    return this.serialVifOp(g, async () => {
      if (g.end !== null) throw new ToolstackError(`domain ${g.domid} (${g.name}) has ended`);
      const current = g.settings.disks ?? [];
      const devid = vdevToDevid(disk.vdev);
      if (current.some((d) => d.vdev === disk.vdev || vdevToDevid(d.vdev) === devid)) {
        throw new ToolstackError(`domain ${g.name} already has a disk ${disk.vdev}`);
      }
      if (current.length >= 16) throw new ToolstackError(`domain ${g.name} has 16 disks already`);
      await checkDiskImage(disk);
      await disks.addDisk(g.domid, disk).catch((err: unknown) => { throw diskError(disk, err); });
      g.settings = { ...g.settings, disks: [...current, disk] };
      if (g.end === null) await this.saveSettings(g);
      this.opts.log(`domain ${g.domid}: attached disk ${disk.vdev} (${disk.target})`);
      return disk;
    });
  }

  /** xl block-detach: unplug the disk with this vdev name or devid and drop it from the settings. */
  async detachDisk(ref: string, which: string): Promise<DiskSetting> {
    const g = this.find(ref);
    const disks = this.opts.disks;
    if (disks?.removeDisk === undefined) throw new ToolstackError('this dom0\'s disk backend cannot hot-unplug');
    return this.serialVifOp(g, async () => {
      const current = g.settings.disks ?? [];
      const disk = current.find((d) => d.vdev === which || String(vdevToDevid(d.vdev)) === which);
      if (disk === undefined) throw new ToolstackError(`domain ${g.name} has no disk ${which.slice(0, 32)}`);
      const devid = vdevToDevid(disk.vdev);
      // A disk the backend does not serve (one a restarted dom0 could not take over) only leaves the settings.
      if ((disks.stats?.(g.domid) ?? []).some((d) => d.devid === devid)) await disks.removeDisk!(g.domid, devid);
      g.settings = { ...g.settings, disks: current.filter((d) => d !== disk) };
      if (g.end === null) await this.saveSettings(g);
      this.opts.log(`domain ${g.domid}: detached disk ${disk.vdev}`);
      return disk;
    });
  }

  /** The domains, with the CPU time of their vCPU threads; `dom0`: Domain-0 first, as xl lists it. */
  async list(opts: { dom0?: boolean } = {}): Promise<Record<string, unknown>[]> {
    const r = await this.hv.call({ op: 'list', list: { domid: 0 } });
    const hvInfo = r.response.body === 'list' ? r.response.list.domains : [];
    const guests = this.domains().map((g) => {
      const h = hvInfo.find((d) => d.domid === g.domid) ?? null;
      return { ...g.info(h), ...this.vcpuSummary(g, h), cpu_time_s: this.cpuSeconds(g) };
    });
    if (opts.dom0 !== true) return guests;
    const dom0 = {
      domid: 0, name: 'Domain-0', state: 'running', vcpus: 1, max_vcpus: 1, online_vcpus: [0], memory_mib: Math.round(process.memoryUsage.rss() / 1048576),
      uptime_s: process.uptime(), cpu_time_s: threadCpuSeconds(process.pid),
    };
    return [dom0, ...guests];
  }

  /**
   * One sample for `pvkvm top`: per domain (Domain-0 first) the counters that only grow — CPU
   * seconds, exits, block requests and sectors, network packets and bytes — and the sample's time;
   * the CLI turns two samples into rates.
   */
  async top(): Promise<{ at_ms: number; domains: TopRow[] }> {
    const r = await this.hv.call({ op: 'list', list: { domid: 0 } });
    const hvInfo = r.response.body === 'list' ? r.response.list.domains : [];
    const at_ms = performance.now();
    const zeroNet = { txPackets: 0, txBytes: 0, rxPackets: 0, rxBytes: 0, txDropped: 0, rxDropped: 0 };
    const rows: TopRow[] = [{
      domid: 0, name: 'Domain-0', state: 'running', cpu_time_s: threadCpuSeconds(process.pid), memory_mib: Math.round(process.memoryUsage.rss() / 1048576),
      max_memory_mib: 0, vcpus: 1, exits: 0, vbds: 0, vbd: { rdReq: 0, wrReq: 0, rdSect: 0, wrSect: 0, errors: 0 }, vifs: 0, net: zeroNet,
    }];
    for (const g of this.domains()) {
      const h = hvInfo.find((d) => d.domid === g.domid);
      // 'continuation' counts hypercall traps again: not an exit of its own.
      const exits = (h?.exits ?? []).reduce((n, e) => n + (e.reason === 'continuation' ? 0 : e.count), 0);
      const disks = this.opts.disks?.stats?.(g.domid) ?? [];
      const vbd = { rdReq: 0, wrReq: 0, rdSect: 0, wrSect: 0, errors: 0 };
      for (const d of disks) for (const k of Object.keys(vbd) as (keyof BlkCounters)[]) vbd[k] += d.counters[k];
      const vifs = this.opts.net?.list(g.domid) ?? [];
      const net = { ...zeroNet };
      for (const v of vifs) for (const k of Object.keys(net) as (keyof typeof net)[]) net[k] += v.counters[k];
      rows.push({
        domid: g.domid, name: g.name, state: h?.state ?? g.state, cpu_time_s: this.cpuSeconds(g), memory_mib: g.targetMiB,
        max_memory_mib: g.maxMiB, vcpus: h?.online_vcpus.length ?? g.settings.vcpus, exits, vbds: disks.length, vbd, vifs: vifs.length, net,
      });
    }
    return { at_ms, domains: rows };
  }

  /**
   * xl block-list: each disk with its backend's state and the frontend's ring, as xenstore has
   * them (the guest wrote the frontend's nodes: they are shown, cut short, never trusted).
   */
  blockList(ref: string): Record<string, unknown>[] {
    const g = this.find(ref);
    const STATES = ['Unknown', 'Initialising', 'InitWait', 'Initialised', 'Connected', 'Closing', 'Closed', 'Reconfiguring', 'Reconfigured'];
    const read = (path: string): string | null => {
      const v = this.xs.local.read(path);
      return v === null ? null : v.slice(0, 32);
    };
    return (g.settings.disks ?? []).map((d) => {
      const devid = vdevToDevid(d.vdev);
      const be = `/local/domain/0/backend/vbd/${g.domid}/${devid}`;
      const fe = `/local/domain/${g.domid}/device/vbd/${devid}`;
      const state = Number(read(`${be}/state`) ?? -1);
      return {
        domid: g.domid, vdev: d.vdev, devid, target: d.target, access: d.access,
        state: STATES[state] ?? 'NotServed', 'event-channel': read(`${fe}/event-channel`) ?? '-', 'ring-ref': read(`${fe}/ring-ref`) ?? '-',
        backend: be,
      };
    });
  }

  /** Destroy every domain (daemon shutdown) and wait until they are gone. */
  async destroyAll(): Promise<void> {
    await Promise.all(this.domains().map(async (g) => {
      const ended = this.waitEnd(g);
      await this.hv.call({ op: 'destroy', destroy: { domid: g.domid } }).catch(() => undefined);
      await ended;
    }));
  }

  private onEvent(ev: Event): void {
    const g = this.byDomid.get(ev.domid);
    if (g === undefined) return;
    switch (ev.what) {
      case 'state':
        g.setState(ev.state);
        break;
      case 'console_io':
        this.log.append(ev.domid, Buffer.from(ev.console_io).toString('utf8'));
        g.hypervisorConsole(ev.console_io, ev.at_ms);
        break;
      case 'uart_output':
        g.output(ev.uart_output);
        break;
      case 'first_entry_ms':
        g.firstEntryMs = ev.first_entry_ms;
        g.emit('first-entry', ev.first_entry_ms);
        break;
      case 'dead':
        void this.onDead(g, ev.dead);
        break;
    }
  }

  private async onDead(g: GuestDomain, end: DomainEndMsg): Promise<void> {
    this.byDomid.delete(g.domid);
    this.log.flush(g.domid);
    await this.opts.disks?.removeDomain(g.domid).catch((err: unknown) => {
      this.opts.log(`releasing the disks of domain ${g.domid}: ${err instanceof Error ? err.message : String(err)}`);
    });
    await this.opts.net?.removeDomain(g.domid).catch((err: unknown) => {
      this.opts.log(`releasing the vifs of domain ${g.domid}: ${err instanceof Error ? err.message : String(err)}`);
    });
    await g.dead(end);
    if (this.opts.stateDir) await rm(join(this.opts.stateDir, `${g.domid}.json`), { force: true });
    this.opts.log(`domain ${g.domid} (${g.name}) ended: ${end.kind}${end.kind === 'shutdown' ? ` reason ${end.reason}` : ''}`);
    this.emit('end', g, end);
    const action = this.actionFor(g.settings, end);
    if (action !== 'restart' && action !== 'rename-restart' && action !== 'coredump-restart') {
      this.restartedAt.delete(g.name);
      return;
    }
    const last = this.restartedAt.get(g.name);
    const now = Date.now();
    if (last !== undefined && now - last < RESTART_GUARD_MS) {
      this.restartedAt.delete(g.name);
      const msg = `domain ${g.name} restarted too fast (it ended ${((now - last) / 1000).toFixed(1)} s after its last restart, ` +
        `under ${RESTART_GUARD_MS / 1000} s): not restarting it`;
      this.opts.log(msg);
      this.log.append(0, `${msg}\n`);
      return;
    }
    this.restartedAt.set(g.name, now);
    this.create(g.settings).catch((err: unknown) => {
      this.opts.log(`restarting ${g.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** on_poweroff / on_reboot / on_crash for how the domain ended (destroyed ones stay dead). */
  private actionFor(s: DomainSettings, end: DomainEndMsg): OnAction {
    if (end.kind === 'destroyed') return 'destroy';
    if (end.kind === 'fault') return s.onCrash;
    switch (end.reason) {
      case REASON.poweroff: return s.onPoweroff;
      case REASON.reboot: return s.onReboot;
      case REASON.crash: return s.onCrash;
      case REASON.watchdog: return s.onWatchdog ?? 'destroy';
      default: return 'destroy';
    }
  }
}
