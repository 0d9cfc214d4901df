// snapshot.ts: reading a suspended domain's hypervisor state into a DomainSnapshot, and putting
// one back into a freshly built (paused) domain before its vCPUs first run.
//
// What is carried and what is not follows Xen's cooperative save: the guest suspended itself
// (SCHEDOP_shutdown(SHUTDOWN_suspend)) and every channel to dom0 is re-bound by dom0 after the
// restore (the same port numbers, so the guest's store and console ports stay valid; a PV
// device's port comes back unbound and its frontend reconnects). The guest's grant table comes
// back (its frames, where they were placed; the entries are in the saved memory) but not the
// pins backends held: a restored domain's first unpause scrubs them (scrubGrantPins). Channels
// to other guests, PIRQs, the FIFO ABI and grants the guest mapped from others are refused at
// save time with a one-line reason.
import { EVTCHNSTAT } from '../../abi/event-channel.ts';
import type { KvmVcpu } from '../kvm/vcpu.ts';
import type { KvmVm } from '../kvm/vm.ts';
import { VCPU_FLAG, type DomainShared } from '../state/shared-state.ts';
import type { DomainHandle } from '../state/domain-handle.ts';
import type { RegionTable } from '../memory/regions.ts';
import type { MemmapEntry } from '../boot/pvh-layout.ts';
import { SAVED_MSRS, SnapshotError, type DomainSnapshot, type VcpuSnapshot, type PortSnapshot } from './snapshot-codec.ts';
import { HVM_NR_PARAMS } from '../../abi/hvm.ts';
import { GTF } from '../../abi/grant-table.ts';
import { PAGE_SIZE } from '../memory/regions.ts';
import { ENTRIES_PER_FRAME, type GrantState } from '../state/grant-state.ts';

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
  if (sh.grants.mappedCount > 0) throw new SnapshotError('the guest has grants of another domain mapped, which save does not carry');
  if (sh.grants.version !== 1) throw new SnapshotError('the guest uses grant table v2, which save does not carry');
  const gs = sh.grants;
  const grants = {
    nrFrames: gs.nrFrames,
    frames: Array.from({ length: gs.allocatedFrames }, (_, i) => ({ home: gs.frameHome(i), current: gs.frameOffset(i), active: gs.frameActive(i), gfn: gs.frameGfn(i) })),
  };
  const ports = capturePorts(t.events);
  const extra = t.regions.list().filter((r) => r.kind === 'extra').map((r) => ({ gpa: r.gpa, size: r.size, fileOffset: r.fileOffset }));
  if (t.regions.list().some((r) => r.kind === 'foreign')) throw new SnapshotError('the guest has another domain\'s page mapped');
  return {
    ramBytes: t.ramBytes, memBytes: t.memBytes, nrVcpus: t.vcpus.length, memmap: [...t.memmap],
    params: Array.from({ length: HVM_NR_PARAMS }, (_, i) => sh.param(i)),
    sharedInfoGpa: sh.sharedInfoGpa, sharedInfoOffset: sh.sharedInfoOffset, hypercallPageGpa: sh.hypercallPageGpa,
    wordSize: sh.wordSize, vmAssist: sh.vmAssist, callbackGsi: sh.callbackGsi,
    poolUsed: t.regions.allocPoolPages(0, t.poolPages) ?? 0,
    extra, ports, grants,
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
  const gs = sh.grants;
  gs.lock();
  try {
    gs.ramPages = Math.floor(t.ramBytes / PAGE_SIZE);
    for (const f of s.grants.frames) {
      gs.addFrameStorage(f.home, f.active);
      const i = gs.allocatedFrames - 1;
      gs.setFrameOffset(i, f.current);
      gs.setFrameGfn(i, f.gfn);
    }
    gs.nrFrames = Math.max(s.grants.nrFrames, s.grants.frames.length);
  } finally {
    gs.unlock();
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

/**
 * A restored domain's grant entries as the saved memory has them still carry the pins of the
 * backends that served the old domain: zero the active-entry pages and clear GTF_reading and
 * GTF_writing in every entry, so the guest can end access and grant again. Run once the saved
 * memory is in, before the vCPUs first run (the first unpause).
 */
export function scrubGrantPins(gs: GrantState, bytes: Uint8Array): void {
  const flags = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const busy = GTF.values.reading | GTF.values.writing;
  gs.lock();
  try {
    for (let i = 0; i < gs.allocatedFrames; i++) {
      const active = gs.frameActive(i);
      bytes.fill(0, active, active + PAGE_SIZE);
      const base = gs.frameOffset(i);
      for (let e = 0; e < ENTRIES_PER_FRAME; e++) {
        const at = base + e * 8;
        const v = flags.getUint16(at, true);
        if ((v & busy) !== 0) flags.setUint16(at, v & ~busy, true);
      }
    }
  } finally {
    gs.unlock();
  }
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
