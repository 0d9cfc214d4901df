// domain.ts: one guest — its VM, memory, vCPU workers and lifecycle, driven from the main thread.
import { type Worker } from 'node:worker_threads';
import { spawnBundleWorker } from '../../host/bundle-worker.ts';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import type { KvmSystem } from '../kvm/system.ts';
import { KvmVcpu } from '../kvm/vcpu.ts';
import { libc, SIGUSR2 } from '../../host/libc.ts';
import { parseElf, loadElf } from '../boot/elf.ts';
import { writeBootInfo, validateRamSize, type BootModule, type MemmapEntry } from '../boot/pvh-layout.ts';
import { setPvhEntryState, setDefaultMemoryType } from '../boot/cpu-state.ts';
import { buildCpuid } from '../vcpu/xen-cpuid.ts';
import { tscScale } from '../time/tsc-scale.ts';
import { HVM_PARAM, SPECIAL_PFN } from '../../abi/hvm.ts';
import { SHUTDOWN } from '../../abi/sched.ts';
import { VcpuCtl, MAX_VCPUS, VCPU_FLAG, type DomainShared } from '../state/shared-state.ts';
import type { HypervisorShared } from '../state/global-state.ts';
import { PAGE_SIZE } from '../memory/regions.ts';
import { closeAllPorts } from '../events/teardown.ts';
import { releaseGrants } from '../grants/teardown.ts';
import { removeDomainRelays, flushDomainRelays } from '../events/relays.ts';
import { Domains, type DomainHandle } from '../state/domain-handle.ts';
import { allocUnboundForDom0, releaseDomainDom0Channels } from '../events/dom0-channels.ts';
import { createVm, releaseVm, type VmMemory } from './vm-setup.ts';
import { SPECIAL_BASE_GPA, SPECIAL_PAGES } from '../memory/memfd-layout.ts';
import { PvkvmError } from '../../host/errors.ts';
import type { FaultReport, VcpuStats, VcpuWorkerInit, WorkerToMain } from '../vcpu/messages.ts';
import { newExitStatsBuffer, readExitStats } from '../vcpu/exit-stats.ts';
import { newHypercallStatsBuffer, readHypercallStats } from '../hypercall/stats.ts';
import { EmulatedHost } from '../devices/emulated-host.ts';
import { KVM_CAP } from '../kvm/ioctls.ts';
import type { DomainSnapshot } from './snapshot-codec.ts';
import { captureSnapshot, applyDomainSnapshot, applyVcpuSnapshot, scrubGrantPins, type SnapshotTarget } from './snapshot.ts';

export interface DomainConfig {
  readonly name: string;
  /** Kernel image bytes and the name used in error messages. */
  readonly kernel: Uint8Array;
  readonly kernelName: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly cmdline: string;
  readonly modules: readonly BootModule[];
  /** Create the vCPUs paused (the toolstack unpauses once its backends are connected). */
  readonly startPaused?: boolean;
  /** Allocate console and xenstore event channels for dom0 (unbound, remote dom0) in the HVM params. */
  readonly dom0Rings?: boolean;
  /**
   * Emulated ATA disks on the primary IDE channel (0x1F0, IRQ 14): the first is the master, a
   * second the slave. PIO only; host I/O through the same code as blkback. Emulated devices are
   * served on vCPU 0's thread: a guest touching them from another vCPU stops with fault kind
   * `device-vcpu` (hypervisor/devices/domain-devices.ts).
   */
  readonly emulatedDisks?: readonly { path: string; readonly: boolean }[];
  /** A 16550A UART at 0x3F8 (IRQ 4): its output is this domain's 'uart' event, its input `consoleInput`. */
  readonly uartConsole?: boolean;
  /**
   * Emulated NE2000 NICs (ISA 0x300, IRQ 9; at most one): each frame goes over a SOCK_SEQPACKET
   * socketpair whose other end (`nicDom0Fds`) the toolstack attaches to dom0's switch.
   */
  readonly emulatedNics?: readonly { mac: readonly number[] }[];
  /**
   * Rebuild a saved domain instead of booting a kernel (`kernel` is ignored): the state is put
   * back before the vCPUs first run; dom0 writes the saved memory before it unpauses.
   */
  readonly restore?: DomainSnapshot;
}

/** 'suspended': the guest asked to be saved (SHUTDOWN_suspend) and every vCPU is parked. */
export type DomainState = 'running' | 'paused' | 'suspending' | 'suspended' | 'shutdown' | 'dying' | 'dead';

/** How a domain ended. */
export type DomainEnd =
  | { readonly kind: 'shutdown'; readonly reason: number }
  | { readonly kind: 'fault'; readonly fault: FaultReport }
  | { readonly kind: 'destroyed'; readonly why: string };

export interface DomainEvents {
  /** The hypervisor console: console_io writes and the debug port 0xE9 (Xen's `xl dmesg`). */
  console: (text: string, atMs: number) => void;
  /** What the guest wrote to its emulated 16550 UART: the guest's own console. */
  uart: (text: string) => void;
  state: (state: DomainState) => void;
  /** Wall-clock time (epoch ms) at which the boot vCPU first entered the guest. */
  'first-entry': (atEpochMs: number) => void;
  'remote-shutdown': (domid: number, reason: number) => void;
  dead: (end: DomainEnd) => void;
}

interface VcpuHandle {
  readonly id: number;
  readonly fd: number;
  readonly worker: Worker;
  /** Resolves when the worker thread has ended. */
  readonly exited: Promise<void>;
  /** The main thread's vCPU handle (its kvm_run mapping is used only for immediate_exit). */
  readonly setup: KvmVcpu;
  /** The main thread's own view of kvm_run, used only to set immediate_exit. */
  readonly run: Uint8Array;
  tid: bigint | null;
  stopped: boolean;
  /** Parked after SHUTDOWN_suspend (its KVM state is consistent). */
  parked: boolean;
  stats?: VcpuStats;
}

const WORKER_URL = new URL('./vcpu-worker.js', import.meta.url);

export class Domain extends EventEmitter<DomainEvents> {
  readonly shared: DomainShared;
  readonly uuid = randomBytes(16);
  readonly startedAt = Date.now();
  /** Live exit counters, written by the vCPU threads. */
  readonly exitStatsSab = newExitStatsBuffer();
  /** Live per-hypercall counters, written by the vCPU threads. */
  readonly hypercallStatsSab = newHypercallStatsBuffer();
  readonly memmap: readonly MemmapEntry[];
  private readonly mem: VmMemory;
  /** Disk images and UART console streams of the emulated devices (which run on vCPU 0's thread). */
  private readonly emulated: EmulatedHost;
  /** This domain's event-channel handle on the main thread (dom0 bindings). */
  readonly events: DomainHandle;
  private readonly vcpus: VcpuHandle[] = [];
  private stateValue: DomainState = 'running';
  private end: DomainEnd | null = null;
  private kickTimer: NodeJS.Timeout | null = null;

  /** Build the VM, load the kernel and start the boot vCPU. Throws ImageError for bad images. */
  constructor(
    sys: KvmSystem, private readonly hv: HypervisorShared, readonly domid: number, readonly config: DomainConfig,
    workerUrl: URL = WORKER_URL,
  ) {
    super();
    const ramBytes = validateRamSize(config.memoryMiB);
    if (!Number.isInteger(config.vcpus) || config.vcpus < 1 || config.vcpus > MAX_VCPUS) {
      throw new RangeError(`vcpus must be between 1 and ${MAX_VCPUS} (got ${config.vcpus})`);
    }
    const restore = config.restore;
    if (restore !== undefined && restore.nrVcpus !== config.vcpus) throw new RangeError(`the saved domain has ${restore.nrVcpus} vCPUs, not ${config.vcpus}`);
    const image = restore === undefined ? parseElf(config.kernel, config.kernelName) : null;
    this.emulated = new EmulatedHost(config.emulatedDisks, config.uartConsole === true, config.emulatedNics);
    // Start the vCPU threads now: their start-up (loading the bundle and koffi) overlaps the VM
    // set-up below, which shortens process start → first guest instruction.
    const workers = Array.from({ length: config.vcpus }, () => spawnBundleWorker(workerUrl));
    const stopWorkers = (): void => { for (const w of workers) void w.terminate(); };
    try {
      this.mem = createVm(sys, config.name, ramBytes);
    } catch (err) {
      stopWorkers();
      this.emulated.close();
      throw err;
    }
    this.shared = hv.domain(hv.claim(domid));
    try {
      const ram = this.mem.bytes.subarray(0, ramBytes);
      const special = { consolePfn: SPECIAL_PFN.values.CONSOLE, xenstorePfn: SPECIAL_PFN.values.XENSTORE };
      let bootVcpu: { entry: number; startInfoGpa: number } | null = null;
      if (image !== null) {
        const loaded = loadElf(image, ram);
        const boot = writeBootInfo(ram, {
          ramBytes, imageEnd: loaded.imageEnd, cmdline: config.cmdline, modules: config.modules, specialPages: special,
        });
        this.memmap = boot.memmap;
        bootVcpu = { entry: loaded.entry, startInfoGpa: boot.startInfoGpa };
      } else {
        this.memmap = restore!.memmap;
      }
      this.shared.setParam(HVM_PARAM.values.CONSOLE_PFN, BigInt(special.consolePfn));
      this.shared.setParam(HVM_PARAM.values.STORE_PFN, BigInt(special.xenstorePfn));
      if (config.startPaused === true) {
        this.stateValue = 'paused';
        for (let id = 0; id < config.vcpus; id++) this.shared.setVcpuCtl(id, VcpuCtl.Pause);
      }
      // shared_info exists from the start (events may be raised before the guest maps it): it
      // lives in a pool page until XENMAPSPACE_shared_info places it in the guest's space.
      const pool = this.mem.regions.allocPoolPages(1, this.mem.poolPages)!;
      this.shared.publish({
        vmFd: this.mem.vm.fd, memBase: this.mem.hostAddr, memBytes: this.mem.memBytes, nrVcpus: config.vcpus,
        sharedInfoOffset: this.mem.poolOffset + pool * PAGE_SIZE,
      });
      this.events = new Domains(hv, domid, this.mem.bytes).self();
      if (restore !== undefined) {
        // Ports, params (the store and console ones included) and placements come from the save.
        applyDomainSnapshot(this.snapshotTarget([]), restore);
        this.scrubGrantsOnUnpause = true;
        this.hv.timersChanged();
      } else if (config.dom0Rings === true) {
        // As the Xen toolstack: both rings' ports exist before the guest runs, unbound with
        // dom0 as remote; dom0's console backend and xenstored bind them.
        this.shared.setParam(HVM_PARAM.values.CONSOLE_EVTCHN, BigInt(allocUnboundForDom0(this.events)));
        this.shared.setParam(HVM_PARAM.values.STORE_EVTCHN, BigInt(allocUnboundForDom0(this.events)));
      }
      if (restore !== undefined) {
        restore.vcpus.forEach((v, id) => this.shared.setVcpuFlags(id, v.flags | VCPU_FLAG.RESAMPLE_CLOCK));
      } else {
        // Only the boot vCPU runs at first; the others wait for VCPUOP_initialise + VCPUOP_up.
        this.shared.setVcpuFlags(0, VCPU_FLAG.INITIALISED | VCPU_FLAG.UP);
      }
      // A frame for a halted guest must not wait for its next exit: kick vCPU 0, as console input does.
      this.emulated.nicWake?.start(new URL('./nic-wake-thread.js', workerUrl), `nic-wake-d${domid}`, () => {
        const boot = this.vcpus[0];
        if (boot !== undefined) this.kick(boot);
      });
      workers.forEach((w, id) => this.startVcpu(sys, id, w, id === 0 ? bootVcpu : null));
    } catch (err) {
      stopWorkers();
      this.emulated.close();
      this.shared.retire();
      hv.free(domid);
      releaseVm(this.mem);
      throw err;
    }
  }

  get state(): DomainState {
    return this.stateValue;
  }

  get name(): string {
    return this.config.name;
  }

  get ramBytes(): number {
    return this.mem.ramBytes;
  }

  /** The guest memory file and where the special pages (console, xenstore rings) sit in it. */
  memoryLayout(): { memFd: number; memBytes: number; ramBytes: number; specialGpa: number; specialOffset: number; specialPages: number } {
    return {
      memFd: this.mem.memFd, memBytes: this.mem.memBytes, ramBytes: this.mem.ramBytes,
      specialGpa: SPECIAL_BASE_GPA, specialOffset: this.mem.ramBytes, specialPages: SPECIAL_PAGES,
    };
  }

  /** The vCPUs that are up now (VCPU_FLAG.UP, read live from shared state). */
  onlineVcpus(): number[] {
    return Array.from({ length: this.config.vcpus }, (_, id) => id).filter((id) => (this.shared.vcpuFlags(id) & VCPU_FLAG.UP) !== 0);
  }

  /** Exits by kind so far, summed over vCPUs (live). */
  liveExits(): Record<string, number> {
    return readExitStats(this.exitStatsSab);
  }

  /** Calls per hypercall name, all vCPUs, read live. */
  liveHypercalls(): Record<string, number> {
    return readHypercallStats(this.hypercallStatsSab);
  }

  /** Per-vCPU exit and hypercall counts, available once the domain is dead. */
  stats(): VcpuStats[] {
    return this.vcpus.flatMap((v) => (v.stats ? [v.stats] : []));
  }

  /** Create vCPU `id` and hand it to its worker; the boot vCPU also gets the PVH entry state. */
  private startVcpu(sys: KvmSystem, id: number, worker: Worker, boot: { entry: number; startInfoGpa: number } | null): void {
    const fd = this.mem.vm.createVcpuFd(id);
    const mmapSize = sys.vcpuMmapSize();
    const setup = new KvmVcpu(fd, mmapSize);
    const khz = Math.max(setup.tscKhz(), 1);
    const { mul, shift } = tscScale(khz);
    setup.setCpuid(buildCpuid(sys.supportedCpuid(), { vcpuId: id, domid: this.domid, tscKhz: khz, tscMul: mul, tscShift: shift }));
    setDefaultMemoryType(setup);
    if (boot !== null) setPvhEntryState(setup, boot.entry, boot.startInfoGpa);
    const saved = this.config.restore?.vcpus[id];
    if (saved !== undefined) applyVcpuSnapshot(setup, saved, this.xsaveSize());
    const init: VcpuWorkerInit = {
      domid: this.domid, name: this.config.name, uuid: new Uint8Array(this.uuid), privileged: false,
      vcpuId: id, nrVcpus: this.config.vcpus, vcpuFd: fd, vmFd: this.mem.vm.fd, vcpuMmapSize: mmapSize,
      memFd: this.mem.memFd, memBytes: this.mem.memBytes, memHostAddr: this.mem.hostAddr, kvmRamAddr: this.mem.kvmRam.addr,
      ramBytes: this.mem.ramBytes, poolOffset: this.mem.poolOffset, poolPages: this.mem.poolPages,
      hvSab: this.hv.sab, regionsSab: this.mem.regions.sab, balloonSab: this.mem.balloon.sab, exitStatsSab: this.exitStatsSab,
      hypercallStatsSab: this.hypercallStatsSab,
      memmap: this.memmap, devices: this.emulated.init, emulationExits: this.mem.emulationExits,
    };
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const handle: VcpuHandle = { id, fd, worker, exited, setup, run: setup.run, tid: null, stopped: false, parked: false };
    this.vcpus.push(handle);
    worker.on('message', (m: WorkerToMain) => this.onWorkerMessage(handle, m));
    worker.on('error', (err) => this.onWorkerGone(handle, `vCPU ${id} worker crashed: ${err.message}`));
    worker.on('exit', () => this.onWorkerGone(handle, `vCPU ${id} worker exited`));
    worker.postMessage(init);
  }

  private onWorkerMessage(v: VcpuHandle, m: WorkerToMain): void {
    switch (m.type) {
      case 'ready':
        v.tid = m.tid;
        // A stop requested before the worker published its thread id still needs its kick.
        if (this.stateValue === 'dying' || this.stateValue === 'paused') this.kick(v);
        break;
      case 'console':
        this.emit('console', m.text, m.atMs);
        break;
      case 'uart-output':
        this.drainUart();
        break;
      case 'first-entry':
        this.emit('first-entry', m.atEpochMs);
        break;
      case 'shutdown':
        if (m.reason === SHUTDOWN.values.suspend) this.beginSuspend();
        else this.finish({ kind: 'shutdown', reason: m.reason });
        break;
      case 'suspended':
        v.parked = true;
        if (this.stateValue === 'suspending' && this.vcpus.every((x) => x.parked || x.stopped)) this.setState('suspended');
        break;
      case 'kick':
        // Another vCPU downed this one (VCPUOP_down): only this thread can kick it reliably.
        if (m.vcpuId >= 0 && m.vcpuId < this.vcpus.length) this.kick(this.vcpus[m.vcpuId]!);
        break;
      case 'remote-shutdown':
        this.emit('remote-shutdown', m.domid, m.reason);
        break;
      case 'fault':
        this.finish({ kind: 'fault', fault: m.fault });
        break;
      case 'stopped':
        this.drainUart();
        v.stats = m.stats;
        this.onWorkerGone(v, `vCPU ${v.id} stopped`);
        // No kick can target this thread any more: let it end.
        this.shared.releaseVcpu(v.id);
        break;
    }
  }

  private onWorkerGone(v: VcpuHandle, why: string): void {
    if (v.stopped) return;
    v.stopped = true;
    // A vCPU that stops on its own (not asked to) ends the domain.
    if (this.end === null) this.finish({ kind: 'destroyed', why });
    if (this.vcpus.every((x) => x.stopped)) this.release();
  }

  /**
   * Feed bytes to the emulated UART's receiver (domains with `uartConsole`). They wait in a 4 KiB
   * queue and enter the UART as its receiver has room (as QEMU's chardevs do), so typed or
   * pasted input is not lost to overruns; returns how many bytes were queued (0 without a UART).
   */
  /** dom0's ends of the emulated NICs' wires (owned by the domain: closed when it is released). */
  get nicDom0Fds(): readonly number[] {
    return this.emulated.nicDom0Fds;
  }

  consoleInput(bytes: Uint8Array): number {
    const n = this.emulated.pushInput(bytes);
    // The devices live on vCPU 0's thread: kick it out of KVM_RUN (it may be halted) to take them.
    const boot = this.vcpus[0];
    if (n > 0 && boot !== undefined) this.kick(boot);
    return n;
  }

  private drainUart(): void {
    const text = this.emulated.drainOutput();
    if (text.length > 0) this.emit('uart', text);
  }

  private xsaveSize(): number {
    return Math.max(this.mem.vm.checkExtension(KVM_CAP.XSAVE2), 4096);
  }

  /** Everything capture and apply reach, on the main thread's vCPU handles. */
  private snapshotTarget(vcpus: readonly KvmVcpu[]): SnapshotTarget {
    return {
      shared: this.shared, events: this.events, vm: this.mem.vm, regions: this.mem.regions, hostAddr: this.mem.hostAddr,
      ramBytes: this.mem.ramBytes, memBytes: this.mem.memBytes, poolPages: this.mem.poolPages, memmap: this.memmap,
      vcpus, xsaveSize: this.xsaveSize(),
    };
  }

  /** A restored domain whose saved grant entries still carry pins (cleared at the first unpause). */
  private scrubGrantsOnUnpause = false;

  /** Set by dom0 before it asks for a suspend (a save); without it a suspend ends the domain. */
  private suspendExpected = false;

  expectSuspend(): void {
    this.suspendExpected = true;
  }

  /** The guest asked to be saved: park every vCPU ('suspending', then 'suspended'). */
  private beginSuspend(): void {
    if (!this.suspendExpected) {
      this.finish({ kind: 'shutdown', reason: SHUTDOWN.values.suspend });
      return;
    }
    this.suspendExpected = false;
    if (this.stateValue !== 'running' && this.stateValue !== 'paused') return;
    this.setState('suspending');
    for (const v of this.vcpus) {
      this.shared.wakeVcpu(v.id);
      this.kick(v);
    }
  }

  /** The hypervisor state of a suspended domain (memory excluded: dom0 reads it from the memfd). */
  captureSnapshot(): DomainSnapshot {
    if (this.stateValue !== 'suspended') throw new PvkvmError(`domain ${this.domid} is ${this.stateValue}, not suspended`);
    return captureSnapshot(this.snapshotTarget(this.vcpus.map((v) => v.setup)));
  }

  /** A save that keeps the domain (`save -c`): it runs on and its suspend hypercall returns 1. */
  cancelSuspend(): void {
    if (this.stateValue !== 'suspended' && this.stateValue !== 'suspending') return;
    for (const v of this.vcpus) v.parked = false;
    this.shared.cancelSuspend();
    this.setState('running');
    for (const v of this.vcpus) this.shared.wakeVcpu(v.id);
  }

  /** Pause every vCPU (they leave KVM_RUN and wait). */
  pause(): void {
    if (this.stateValue !== 'running') return;
    this.setState('paused');
    for (const v of this.vcpus) {
      this.shared.setVcpuCtl(v.id, VcpuCtl.Pause);
      this.kick(v);
    }
  }

  unpause(): void {
    if (this.stateValue !== 'paused') return;
    if (this.scrubGrantsOnUnpause) {
      // dom0 has written the saved memory by now: drop the old backends' pins from it.
      this.scrubGrantsOnUnpause = false;
      scrubGrantPins(this.shared.grants, this.mem.bytes);
    }
    this.setState('running');
    for (const v of this.vcpus) this.shared.setVcpuCtl(v.id, VcpuCtl.Run);
  }

  /** Request a guest shutdown from outside (no guest cooperation yet: acts like a hard stop). */
  shutdown(reason: number = SHUTDOWN.values.poweroff): void {
    const effective = this.shared.beginShutdown(reason);
    if (effective !== null) this.finish({ kind: 'shutdown', reason: effective });
  }

  /** Stop all vCPUs and release every resource; idempotent. */
  destroy(why = 'destroyed'): void {
    this.finish({ kind: 'destroyed', why });
  }

  /** Record how the domain ended (first cause wins) and stop its vCPUs. */
  private finish(end: DomainEnd): void {
    if (this.end === null) {
      this.end = end;
      this.setState(end.kind === 'shutdown' ? 'shutdown' : 'dying');
    }
    for (const v of this.vcpus) {
      this.shared.setVcpuCtl(v.id, VcpuCtl.Stop);
      this.kick(v);
    }
    // Keep kicking until every worker has left KVM_RUN: a signal can land just before entry.
    if (this.kickTimer === null && !this.vcpus.every((v) => v.stopped)) {
      this.kickTimer = setInterval(() => {
        for (const v of this.vcpus) if (!v.stopped) this.kick(v);
      }, 20);
    }
    if (this.vcpus.every((v) => v.stopped)) this.release();
  }

  /** Force a vCPU out of KVM_RUN: immediate_exit for the next entry, a signal for the current one. */
  private kick(v: VcpuHandle): void {
    if (v.stopped) return;
    v.run[1] = 1; // kvm_run.immediate_exit
    if (v.tid !== null) libc.pthreadKill(v.tid, SIGUSR2);
  }

  private released = false;

  private release(): void {
    if (this.released) return;
    this.released = true;
    if (this.kickTimer !== null) clearInterval(this.kickTimer);
    // Nobody may reach this domain once it starts dying: wait out deliveries already inside,
    // turn peers' channels to it back into unbound ports, then free memory and fds. Sends it made
    // just before dying are delivered first.
    flushDomainRelays(new Domains(this.hv, -1, new Uint8Array(0)), this.domid);
    this.shared.retire();
    removeDomainRelays(this.hv, this.domid);
    closeAllPorts(this.hv, this.domid);
    releaseDomainDom0Channels(this.hv, this.domid);
    releaseGrants(this.hv, this.domid);
    this.hv.free(this.domid);
    for (const v of this.vcpus) {
      v.setup.unmapRun();
      libc.close(v.fd);
    }
    releaseVm(this.mem);
    this.emulated.close();
    // 'dead' means every resource is gone, threads included (each unmaps its own views first).
    void Promise.all(this.vcpus.map((v) => v.exited)).then(() => {
      this.setState('dead');
      this.emit('dead', this.end ?? { kind: 'destroyed', why: 'released' });
    });
  }

  private setState(s: DomainState): void {
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.emit('state', s);
  }
}
