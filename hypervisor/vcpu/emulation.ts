// emulation.ts: the vCPU side of instruction emulation — KVM's emulation-failure exit in, the guest
// resumed past the instruction (or with an exception injected), or a one-line reason it cannot be.
import type { KvmVcpu } from '../kvm/vcpu.ts';
import type { KvmVm } from '../kvm/vm.ts';
import { KVM_CAP } from '../kvm/ioctls.ts';
import { VCPU_EVENTS } from '../kvm/run-layout.ts';
import type { PhysMemory } from '../memory/phys-memory.ts';
import type { EmuCpu } from './emulate/cpu-port.ts';
import { emulateInstruction } from './emulate/emulator.ts';
import { VEC } from './emulate/errors.ts';
import { CR0, cpuMode, describeMode } from './emulate/mode.ts';
import { explainTripleFault } from './emulate/diagnose.ts';

/** Exceptions that push an error code (in protected mode). */
const HAS_ERROR_CODE = new Set<number>([VEC.DF, VEC.TS, VEC.NP, VEC.SS, VEC.GP, VEC.PF, VEC.AC]);

export type EmulationResult = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly detail: string };

export class InstructionEmulator {
  private readonly cpu: EmuCpu;

  /**
   * `completes`: KVM hands instructions to pvkvm without queueing #UD first
   * (KVM_CAP_EXIT_ON_EMULATION_FAILURE is on), so they may be completed here.
   */
  constructor(private readonly vcpu: KvmVcpu, private readonly mem: PhysMemory, vm: KvmVm, private readonly completes: boolean) {
    // The XSAVE buffer size is per VM (KVM_CAP_XSAVE2); asked once, on first need.
    let xsaveSize: number | null = null;
    const xsave = (): number | null => {
      if (xsaveSize === null) xsaveSize = vm.checkExtension(KVM_CAP.XSAVE) > 0 ? Math.max(vm.checkExtension(KVM_CAP.XSAVE2), 4096) : 0;
      return xsaveSize > 0 ? xsaveSize : null;
    };
    this.cpu = {
      reg: (n) => vcpu.reg(n),
      setReg: (n, v) => vcpu.setReg(n, v),
      seg: (n) => vcpu.seg(n),
      setSeg: (n, s) => vcpu.setSeg(n, s),
      sreg: (n) => vcpu.sreg(n),
      dtable: (n) => vcpu.dtable(n),
      getXsave: () => {
        const size = xsave();
        return size === null ? null : vcpu.getXsave(size);
      },
      setXsave: (b) => vcpu.setXsave(b),
    };
  }

  /** Complete the instruction at RIP; `insn` are the bytes KVM reported (null if none). */
  handle(insn: Uint8Array | null): EmulationResult {
    if (!this.completes) {
      const bytes = insn === null ? 'unknown bytes' : [...insn].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      return {
        ok: false, detail: `KVM cannot emulate the instruction at rip (bytes ${bytes}) in ${describeMode(cpuMode(this.vcpu))}, ` +
          "and this host's KVM cannot hand it to pvkvm (no KVM_CAP_EXIT_ON_EMULATION_FAILURE)",
      };
    }
    const out = emulateInstruction(this.cpu, this.mem, insn);
    switch (out.kind) {
      case 'done':
        return { ok: true, name: out.name };
      case 'exception':
        this.inject(out.vector, out.errorCode, out.cr2);
        return { ok: true, name: `exception ${out.vector}` };
      case 'unsupported':
        return { ok: false, detail: out.detail };
    }
  }

  /** Why the guest triple-faulted, when the host rather than the guest is to blame (else null). */
  explainTripleFault(): string | null {
    return explainTripleFault(this.cpu, this.mem);
  }

  /**
   * Queue a fault for KVM to deliver through the guest's IDT on the next entry (KVM also turns a
   * fault during delivery into #DF or a triple fault). CR2 goes in first, for #PF.
   */
  private inject(vector: number, errorCode: number | null, cr2: bigint | null): void {
    const v = this.vcpu;
    if (cr2 !== null) v.setSreg('cr2', cr2);
    const ev = v.getVcpuEvents();
    const dv = new DataView(ev.buffer);
    // Real mode pushes no error codes.
    const withCode = (v.sreg('cr0') & CR0.PE) !== 0n && HAS_ERROR_CODE.has(vector);
    dv.setUint8(VCPU_EVENTS.exception_injected, 1);
    dv.setUint8(VCPU_EVENTS.exception_pending, 0);
    dv.setUint8(VCPU_EVENTS.exception_nr, vector);
    dv.setUint8(VCPU_EVENTS.exception_has_error_code, withCode ? 1 : 0);
    dv.setUint32(VCPU_EVENTS.exception_error_code, withCode ? (errorCode ?? 0) : 0, true);
    v.setVcpuEvents(ev);
  }
}
