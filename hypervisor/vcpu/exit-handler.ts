// exit-handler.ts: what a vCPU does with each KVM exit — hypercalls, MSRs, ports, MMIO, faults.
import type { KvmVcpu, VcpuExit } from '../kvm/vcpu.ts';
import { HYPERCALL_PAGE, DEBUGCONS } from '../../abi/hypercalls.ts';
import { PVKVM_MSR } from '../../abi/cpuid.ts';
import { KVM_EXIT } from '../kvm/ioctls.ts';
import { buildHypercallPage } from '../hypercall/page.ts';
import type { HypercallTrap } from './hypercall-trap.ts';
import { currentMode } from './hypercall-trap.ts';
import type { WorkerDomainEnv } from './domain-env.ts';
import type { FaultReport } from './messages.ts';
import type { ExitCounter } from './exit-stats.ts';
import type { DomainDevices } from '../devices/domain-devices.ts';
import { KVM_INTERNAL_ERROR } from '../kvm/ioctls.ts';
import type { InstructionEmulator } from './emulation.ts';

/** Outcome of one exit: keep running, or stop this vCPU (and report a fault, if any). */
export type ExitOutcome = { readonly stop: false } | { readonly stop: true; readonly fault?: FaultReport };

const CONTINUE: ExitOutcome = { stop: false };
const KVM_SYSTEM_EVENT = { SHUTDOWN: 1, RESET: 2, CRASH: 3 } as const;
const DEBUGCON_FLUSH_AT = 1024;

export class ExitHandler {
  private readonly counts: Record<string, number> = {};
  /** Hypercall traps, counted apart so the hot path touches no string-keyed object. */
  private hypercallTraps = 0;
  private debugcon: number[] = [];

  constructor(
    private readonly vcpu: KvmVcpu,
    private readonly vcpuId: number,
    private readonly env: WorkerDomainEnv,
    private readonly trap: HypercallTrap,
    private readonly live: ExitCounter | null = null,
    /** Emulated devices (null for a pure PV domain: every other port floats). */
    private readonly devices: DomainDevices | null = null,
    /** Completes instructions KVM's emulator lacks, and explains host-made faults. */
    private readonly emulator: InstructionEmulator | null = null,
  ) {}

  /** Exits by kind; hypercall traps are reported as `hypercall`. */
  get exitCounts(): Record<string, number> {
    return this.hypercallTraps > 0 ? { ...this.counts, hypercall: this.hypercallTraps } : { ...this.counts };
  }

  /** The hot path: the current exit is an `out` to the hypercall trap port. */
  hypercall(): void {
    this.hypercallTraps++;
    this.live?.hypercall();
    if (this.trap.handle()) {
      // Re-issued when the vCPU next runs (a long memory_op yielding): counted apart.
      this.counts.continuation = (this.counts.continuation ?? 0) + 1;
      this.live?.count('continuation');
    }
  }

  /** True when the last exit (by raw reason) is a hypercall trap; reads kvm_run in place. */
  isHypercallTrap(reason: number): boolean {
    return reason === KVM_EXIT.IO && this.vcpu.ioPort() === HYPERCALL_PAGE.values.TRAP_PORT && this.vcpu.ioIsOut();
  }

  handle(exit: VcpuExit): ExitOutcome {
    this.counts[exit.kind] = (this.counts[exit.kind] ?? 0) + 1;
    this.live?.count(exit.kind);
    switch (exit.kind) {
      case 'io':
        return this.io(exit);
      case 'mmio':
        return this.mmio(exit);
      case 'wrmsr':
        this.vcpu.completeMsr(!this.wrmsr(exit.index, exit.data));
        return CONTINUE;
      case 'rdmsr':
        // The hypercall-page MSR reads as 0; anything else filtered is not ours: #GP.
        this.vcpu.completeMsr(exit.index !== PVKVM_MSR.values.HYPERCALL_PAGE, 0n);
        return CONTINUE;
      case 'intr':
      case 'hlt':
        return CONTINUE;
      case 'system-event':
        return this.systemEvent(exit.type);
      case 'shutdown':
        return this.fault('triple-fault', this.emulator?.explainTripleFault() ?? 'the guest triple-faulted');
      case 'internal-error':
        if (exit.suberror === KVM_INTERNAL_ERROR.EMULATION) return this.emulationFailure(exit.insn);
        return this.fault('internal-error', `KVM internal error, suberror ${exit.suberror} [${exit.data.map((d) => d.toString(16)).join(' ')}]`);
      case 'fail-entry':
        return this.fault('fail-entry', `VM entry failed, hardware reason 0x${exit.reason.toString(16)}`);
      case 'memory-fault':
        return this.memoryFault(exit.gpa);
      case 'other':
        return this.fault('unhandled-exit', `unhandled KVM exit reason ${exit.reason}`);
    }
  }

  private io(exit: Extract<VcpuExit, { kind: 'io' }>): ExitOutcome {
    const { port, out, size, count, dataOffset } = exit;
    if (port === HYPERCALL_PAGE.values.TRAP_PORT && out) {
      this.hypercall();
      return CONTINUE;
    }
    if (port === HYPERCALL_PAGE.values.SEND_PORT && out && size === 4) {
      // A send on a port without an ioeventfd relay: do it here; the stub returns RDI.
      this.trap.slowSend(this.vcpu.ioData(dataOffset, 4));
      return CONTINUE;
    }
    if (port === DEBUGCONS.values.IOPORT) {
      if (out) {
        for (let i = 0; i < count; i++) this.debugconByte(this.vcpu.ioData(dataOffset + i * size, 1));
      } else {
        // Reading the port returns 0xE9 so guests can detect the debug console (Bochs/QEMU).
        for (let i = 0; i < count; i++) this.vcpu.setIoData(dataOffset + i * size, size, 0xe9);
      }
      return CONTINUE;
    }
    const claimed = this.devices?.ports.find(port);
    if (claimed !== undefined) {
      const dev = claimed.device;
      if (dev === null) return this.elsewhere(claimed.name, `port 0x${port.toString(16)}`);
      // String I/O (rep ins/outs) arrives as one exit with `count` elements in the data area.
      for (let i = 0; i < count; i++) {
        const at = dataOffset + i * size;
        if (out) dev.write(port, size, this.vcpu.ioData(at, size));
        else this.vcpu.setIoData(at, size, dev.read(port, size));
      }
      return CONTINUE;
    }
    // Unclaimed ports: reads float high, writes vanish.
    if (!out) for (let i = 0; i < count; i++) this.vcpu.setIoData(dataOffset + i * size, size, 0xffffffff);
    return CONTINUE;
  }

  private mmio(exit: Extract<VcpuExit, { kind: 'mmio' }>): ExitOutcome {
    const data = this.vcpu.mmioData().subarray(0, Math.min(exit.len, 8));
    const gpa = Number(exit.gpa);
    const claimed = this.devices?.mmio.find(gpa);
    if (claimed !== undefined) {
      if (claimed.device === null) return this.elsewhere(claimed.name, `MMIO 0x${gpa.toString(16)}`);
      if (exit.write) claimed.device.write(gpa, data);
      else claimed.device.read(gpa, data);
      return CONTINUE;
    }
    // Nothing is mapped there: reads see all-ones, writes are dropped.
    if (!exit.write) data.fill(0xff);
    return CONTINUE;
  }

  /**
   * KVM could not map what the guest touched. A frame the guest gave back is unmapped on purpose
   * (Xen removes its p2m entry): end the domain saying so, as there is no data to give it.
   */
  private memoryFault(gpa: bigint | null): ExitOutcome {
    if (gpa === null) {
      // This host's kvm_pvm returns EFAULT without kvm_run.memory_fault: the frame is not known.
      // The only guest RAM the host leaves unmapped is what the guest gave back.
      const runs = this.env.balloon.unmapped.count;
      const why = runs > 0 ? `; it gave frames back (XENMEM_decrease_reservation) and can no longer reach them, ${runs} run(s)` : '';
      return this.fault(runs > 0 ? 'ballooned-frame' : 'memory-fault', `the guest touched memory the host could not map (KVM_RUN: EFAULT)${why}`);
    }
    const pfn = Number(gpa >> 12n);
    const where = `gpa 0x${gpa.toString(16)}`;
    if (pfn < this.env.balloon.ramPages && this.env.balloon.isReleased(pfn)) {
      return this.fault('ballooned-frame', `the guest touched frame 0x${pfn.toString(16)} (${where}) after giving it back (XENMEM_decrease_reservation)`);
    }
    return this.fault('memory-fault', `the guest touched ${where}, which the host could not map`);
  }

  /** Emulated devices live on vCPU 0's thread (domain-devices.ts): elsewhere, stop clearly. */
  private elsewhere(device: string, where: string): ExitOutcome {
    return this.fault('device-vcpu', `${device} (${where}) accessed from vCPU ${this.vcpuId}; emulated devices are served on vCPU 0 only`);
  }

  private debugconByte(b: number): void {
    this.debugcon.push(b);
    if (b === 0x0a || this.debugcon.length >= DEBUGCON_FLUSH_AT) this.flushDebugcon();
  }

  flushDebugcon(): void {
    if (this.debugcon.length === 0) return;
    this.env.console(Buffer.from(this.debugcon).toString('utf8'));
    this.debugcon = [];
  }

  /** Hypercall-page MSR: bits 11:0 select the page (only 0 exists); the target must be RAM. */
  private wrmsr(index: number, value: bigint): boolean {
    if (index !== PVKVM_MSR.values.HYPERCALL_PAGE) return false;
    if ((value & 0xfffn) !== 0n) return false;
    const gpa = Number(value & ~0xfffn);
    if (!Number.isSafeInteger(gpa) || !this.env.mem.isRam(gpa, 4096)) return false;
    // The stubs match the mode the page is installed from (64-bit pages get the send fast path).
    const mode = currentMode(this.vcpu);
    this.env.mem.slice(gpa, 4096).set(buildHypercallPage(mode));
    this.env.shared.hypercallPageGpa = gpa;
    // Writing this MSR latches the shared_info layout from the current mode, as in Xen.
    this.env.shared.wordSize = mode;
    return true;
  }

  /** KVM's emulator gave up on an instruction: complete it here, or end the domain saying which. */
  private emulationFailure(insn: Uint8Array | null): ExitOutcome {
    if (this.emulator === null) return this.fault('emulation', 'KVM cannot emulate the instruction at rip');
    const r = this.emulator.handle(insn);
    if (!r.ok) return this.fault('emulation', r.detail);
    this.counts.emulated = (this.counts.emulated ?? 0) + 1;
    return CONTINUE;
  }

  private systemEvent(type: number): ExitOutcome {
    const reason = type === KVM_SYSTEM_EVENT.RESET ? 1 : type === KVM_SYSTEM_EVENT.CRASH ? 3 : 0;
    const effective = this.env.shared.beginShutdown(reason);
    if (effective !== null) this.env.shutdown(effective);
    return { stop: true };
  }

  private fault(kind: string, detail: string): ExitOutcome {
    return {
      stop: true,
      fault: { vcpuId: this.vcpuId, kind, detail, rip: `0x${this.vcpu.reg('rip').toString(16)}` },
    };
  }
}
