// domain-env.ts: the worker-side DomainEnv — domain services backed by shared state and messages.
import { monotonicMs } from '../../host/clock.ts';
import { KvmVm } from '../kvm/vm.ts';
import { PhysMemory } from '../memory/phys-memory.ts';
import { RegionTable, PAGE_SIZE } from '../memory/regions.ts';
import { BalloonMap } from '../memory/balloon.ts';
import { discardFileRange } from '../../host/block-io.ts';
import { libc, PROT_NONE, PROT_READ, PROT_WRITE } from '../../host/libc.ts';
import type { DomainShared } from '../state/shared-state.ts';
import { HypervisorShared } from '../state/global-state.ts';
import { Domains } from '../state/domain-handle.ts';
import type { DomainEnv } from '../hypercall/context.ts';
import type { MemmapEntry } from '../boot/pvh-layout.ts';
import type { VcpuWorkerInit, WorkerToMain } from './messages.ts';

export class WorkerDomainEnv implements DomainEnv {
  readonly domid: number;
  readonly name: string;
  readonly uuid: Uint8Array;
  readonly privileged: boolean;
  readonly ramBytes: number;
  readonly nrVcpus: number;
  readonly shared: DomainShared;
  readonly mem: PhysMemory;
  readonly memmap: readonly MemmapEntry[];
  readonly domains: Domains;
  readonly balloon: BalloonMap;
  readonly maxPages: number;
  private readonly regions: RegionTable;
  private readonly vm: KvmVm;

  constructor(private readonly init: VcpuWorkerInit, bytes: Uint8Array, private readonly post: (m: WorkerToMain) => void) {
    this.domid = init.domid;
    this.name = init.name;
    this.uuid = init.uuid;
    this.privileged = init.privileged;
    this.ramBytes = init.ramBytes;
    this.nrVcpus = init.nrVcpus;
    const hv = new HypervisorShared(init.hvSab);
    this.shared = hv.domain(hv.slot(init.domid));
    this.domains = new Domains(hv, init.domid, bytes);
    this.regions = new RegionTable(init.regionsSab);
    this.mem = new PhysMemory(bytes, this.regions);
    this.memmap = init.memmap;
    this.balloon = new BalloonMap(init.ramBytes / PAGE_SIZE, init.balloonSab);
    // No maxmem yet: a domain may hold as many frames as it was booted with.
    this.maxPages = this.balloon.ramPages;
    this.vm = new KvmVm(init.vmFd);
  }

  discardFrames(pfn: number, count: number): boolean {
    // RAM is the first part of the guest memory file: frame n is at byte n * 4096.
    return discardFileRange(this.init.memFd, pfn * PAGE_SIZE, count * PAGE_SIZE) === 0;
  }

  /** Protect or open frames [first, end) in KVM's mapping of RAM (released frames fault for the guest). */
  setFrameAccess = (first: number, end: number, accessible: boolean): boolean => {
    const addr = this.init.kvmRamAddr + BigInt(first * PAGE_SIZE);
    return libc.mprotect(addr, (end - first) * PAGE_SIZE, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) === 0;
  };

  maxGpfn(): number {
    const list = this.regions.list();
    const last = list[list.length - 1];
    return last === undefined ? 0 : Math.floor((last.gpa + last.size) / PAGE_SIZE) - 1;
  }

  console(text: string): void {
    this.post({ type: 'console', text, atMs: monotonicMs() });
  }

  shutdown(reason: number): void {
    this.post({ type: 'shutdown', reason });
  }

  remoteShutdown(domid: number, reason: number): void {
    this.post({ type: 'remote-shutdown', domid, reason });
  }

  backSpecialPage(gpfn: number): boolean {
    const gpa = gpfn * PAGE_SIZE;
    if (!Number.isSafeInteger(gpa) || gpa >= 2 ** 46) return false;
    if (this.mem.offsetOf(gpa, PAGE_SIZE) >= 0) return true;
    const idx = this.regions.allocPoolPages(1, this.init.poolPages);
    if (idx === null) return false;
    const fileOffset = this.init.poolOffset + idx * PAGE_SIZE;
    // The slot number is picked under the region lock: another vCPU may be adding a grant mapping.
    const slot = this.regions.addWithFreeSlot({ gpa, size: PAGE_SIZE, fileOffset, kind: 'extra' });
    if (slot === null) return false;
    this.mem.bytes.fill(0, fileOffset, fileOffset + PAGE_SIZE);
    this.vm.setUserMemoryRegion(slot, gpa, PAGE_SIZE, this.init.memHostAddr + BigInt(fileOffset));
    return true;
  }

  kickVcpu(vcpu: number): void {
    this.post({ type: 'kick', vcpuId: vcpu });
  }

  now(): bigint {
    return process.hrtime.bigint();
  }
}
