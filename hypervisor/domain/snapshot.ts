// snapshot.ts: reading a suspended domain's hypervisor state into a DomainSnapshot, and putting
// one back into a freshly built (paused) domain before its vCPUs first run.
//
// What is carried and what is not follows Xen's cooperative save: the guest suspended itself
// (SCHEDOP_shutdown(SHUTDOWN_suspend)), so no grant is mapped by a backend and every channel to
// dom0 is re-bound by dom0 after the restore (the same port numbers, so the guest's store and
// console ports stay valid). Channels to other guests, PIRQs, the FIFO ABI and live grant tables
// are refused at save time with a one-line reason.
import { EVTCHNSTAT } from '../../abi/event-channel.ts';
import type { KvmVcpu } from '../kvm/vcpu.ts';
import type { KvmVm } from '../kvm/vm.ts';
import { VCPU_FLAG, type DomainShared } from '../state/shared-state.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import type { RegionTable } from '../memory/regions.ts';
import type { MemmapEntry } from '../boot/pvh-layout.ts';
import { SAVED_MSRS, SnapshotError, type DomainSnapshot, type VcpuSnapshot, type PortSnapshot } from './snapshot-codec.ts';
import { HVM_NR_PARAMS } from '../../abi/hvm.ts';

const S = EVTCHNSTAT.values;

/** What capture and apply reach of a domain (all main-thread objects). */
export interface SnapshotTarget {
  readonly shared: DomainShared;
  readonly events: DomainHandle;
  readonly vm: KvmVm;
  readonly regions: RegionTable;
  readonly hostAddr: bigint;
  readonly ramBytes: number;
  readonly memBytes: number;
  readonly poolPages: number;
  readonly memmap: readonly MemmapEntry[];
  readonly vcpus: readonly KvmVcpu[];
  readonly xsaveSize: number;
}

/** The event-channel table as a restore can rebuild it, or a SnapshotError saying why not. */
function capturePorts(h: DomainHandle): PortSnapshot[] {
  if (h.shared.fifo.active) throw new SnapshotError('the guest uses the FIFO event-channel ABI, which save does not carry yet');
  const out: PortSnapshot[] = [];
  h.shared.lockEvents();
  try {
    for (let port = 1; port < h.ports.highWater; port++) {
      const p = h.ports.get(port);
      switch (p.state) {
        case S.closed:
          break;
        case S.unbound:
        case S.virq:
        case S.ipi:
          out.push({ port, ...p });
          break;
        case S.interdomain:
          // dom0's ends are re-bound after the restore (console, xenstore; backends reconnect).
          if (p.remoteDom !== 0) throw new SnapshotError(`port ${port} is bound to domain ${p.remoteDom}: close channels to other guests before saving`);
          out.push({ port, state: S.unbound, vcpu: p.vcpu, remoteDom: 0, remotePort: 0 });
          break;
        default:
          throw new SnapshotError(`port ${port} is bound to a physical IRQ, which save does not carry`);
      }
    }
  } finally {
    h.shared.unlockEvents();
  }
  return out;
}

function captureVcpu(t: SnapshotTarget, id: number, v: KvmVcpu): VcpuSnapshot {
  const msrs: [number, bigint][] = [];
  for (const index of SAVED_MSRS) {
    try {
      msrs.push([index, v.getMsr(index)]);
    } catch {
      // An MSR this host's KVM does not offer is one the guest cannot have set either.
    }
  }
  const registered = t.shared.registeredVcpuInfo(id);
  return {
    regs: v.getRegsBytes(), sregs: v.getSregs(), xsave: v.getXsave(t.xsaveSize), lapic: v.getLapic(), events: v.getVcpuEvents(),
    msrs, flags: t.shared.vcpuFlags(id) & (VCPU_FLAG.INITIALISED | VCPU_FLAG.UP),
    vcpuInfoOffset: registered ? t.shared.vcpuInfoOffset(id) : -1, upcallVector: t.shared.upcallVector(id),
    timerDeadline: Atomics.load(t.shared.timerDeadline, id), timerPeriod: Atomics.load(t.shared.timerPeriod, id),
  };
}

/** Read everything but memory; the vCPUs must be parked (not in KVM_RUN). */
export function captureSnapshot(t: SnapshotTarget): DomainSnapshot {
  const sh = t.shared;
  if (sh.grants.allocatedFrames > 0 || sh.grants.mappedCount > 0) {
    throw new SnapshotError('the guest has a grant table in use, which save does not carry yet');
  }
  const ports = capturePorts(t.events);
  const extra = t.regions.list().filter((r) => r.kind === 'extra').map((r) => ({ gpa: r.gpa, size: r.size, fileOffset: r.fileOffset }));
  if (t.regions.list().some((r) => r.kind === 'foreign')) throw new SnapshotError('the guest has another domain\'s page mapped');
  return {
    ramBytes: t.ramBytes, memBytes: t.memBytes, nrVcpus: t.vcpus.length, memmap: [...t.memmap],
    params: Array.from({ length: HVM_NR_PARAMS }, (_, i) => sh.param(i)),
    sharedInfoGpa: sh.sharedInfoGpa, sharedInfoOffset: sh.sharedInfoOffset, hypercallPageGpa: sh.hypercallPageGpa,
    wordSize: sh.wordSize, vmAssist: sh.vmAssist, callbackGsi: sh.callbackGsi,
    poolUsed: t.regions.allocPoolPages(0, t.poolPages) ?? 0,
    extra, ports,
    irqchips: [0, 1, 2].map((chip) => t.vm.getIrqchip(chip)),
    vcpus: t.vcpus.map((v, id) => captureVcpu(t, id, v)),
  };
}

/** Domain-wide state into a new domain (main thread, vCPUs not yet running). */
export function applyDomainSnapshot(t: SnapshotTarget, s: DomainSnapshot): void {
  const sh = t.shared;
  s.params.forEach((v, i) => sh.setParam(i, v));
  sh.sharedInfoOffset = s.sharedInfoOffset;
  sh.sharedInfoGpa = s.sharedInfoGpa;
  sh.hypercallPageGpa = s.hypercallPageGpa;
  sh.wordSize = s.wordSize;
  sh.vmAssist = s.vmAssist;
  sh.callbackGsi = s.callbackGsi;
  // The new domain took one pool page (shared_info's first home); take the rest the old one used.
  const taken = t.regions.allocPoolPages(0, t.poolPages) ?? 0;
  if (s.poolUsed > taken && t.regions.allocPoolPages(s.poolUsed - taken, t.poolPages) === null) throw new SnapshotError('poolUsed exceeds the pool');
  for (const r of s.extra) {
    if (t.regions.find(r.gpa, r.size) !== null) throw new SnapshotError(`extra page at 0x${r.gpa.toString(16)} overlaps the guest's memory`);
    const slot = t.regions.addWithFreeSlot({ ...r, kind: 'extra' });
    if (slot === null) throw new SnapshotError('too many extra pages');
    t.vm.setUserMemoryRegion(slot, r.gpa, r.size, t.hostAddr + BigInt(r.fileOffset));
  }
  const h = t.events;
  sh.lockEvents();
  try {
    h.ports.reset();
    for (const p of s.ports) {
      h.ports.set(p.port, { state: p.state, vcpu: p.vcpu, remoteDom: p.remoteDom, remotePort: p.remotePort });
      if (p.state === S.virq) h.ports.setVirqPort(p.vcpu, p.remotePort, p.port);
    }
  } finally {
    sh.unlockEvents();
  }
  for (const chip of s.irqchips) t.vm.setIrqchip(chip);
  s.vcpus.forEach((v, id) => {
    if (v.vcpuInfoOffset >= 0) sh.setVcpuInfoOffset(id, v.vcpuInfoOffset);
    sh.setUpcallVector(id, v.upcallVector);
    Atomics.store(sh.timerDeadline, id, v.timerDeadline);
    Atomics.store(sh.timerPeriod, id, v.timerPeriod);
    // A periodic timer restarts one period from now (the downtime is not replayed).
    Atomics.store(sh.periodicNext, id, v.timerPeriod === 0n ? 0n : process.hrtime.bigint() + v.timerPeriod);
  });
}

/** One vCPU's registers, FPU, LAPIC, pending events and MSRs (main thread, before it first runs). */
export function applyVcpuSnapshot(v: KvmVcpu, s: VcpuSnapshot, xsaveSize: number): void {
  // KVM reads as many XSAVE bytes as this host's KVM_CAP_XSAVE2 says, whatever the file held.
  const xsave = new Uint8Array(Math.max(xsaveSize, s.xsave.length, 4096));
  xsave.set(s.xsave);
  try {
    v.setSregs(s.sregs);
    v.setRegsBytes(s.regs);
    v.setXsave(xsave);
    v.setLapic(s.lapic);
    v.setVcpuEvents(s.events);
    for (const [index, value] of s.msrs) v.setMsr(index, value);
    v.setRunnable();
  } catch (err) {
    throw new SnapshotError(`KVM refused the saved vCPU state (${err instanceof Error ? err.message : String(err)})`);
  }
}
