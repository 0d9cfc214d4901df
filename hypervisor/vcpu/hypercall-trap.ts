// hypercall-trap.ts: decode a trapped hypercall from the vCPU registers and write the result back.
import type { KvmVcpu } from '../kvm/vcpu.ts';
import { GuestVirtual, GuestFault } from '../memory/guest-access.ts';
import { HYPERCALL_PAGE } from '../../abi/hypercalls.ts';
import type { HypercallTable } from '../hypercall/table.ts';
import type { DomainEnv, HypercallContext, VcpuArch } from '../hypercall/context.ts';
import { neg } from '../../abi/errno.ts';
import { sendFrom } from '../events/send.ts';

const RFLAGS_VM = 1 << 17;
const RFLAGS_IF = 1 << 9;
const M32 = 0xffffffffn;

/** Current calling convention: 64-bit only in long mode with a 64-bit code segment. */
export function currentMode(vcpu: KvmVcpu): 64 | 32 {
  return vcpu.inLongMode64() ? 64 : 32;
}

export function pagingState(vcpu: KvmVcpu) {
  return { cr0: vcpu.sreg('cr0'), cr3: vcpu.sreg('cr3'), cr4: vcpu.sreg('cr4'), efer: vcpu.sreg('efer') };
}

const LAPIC_LVT0 = 0x350;
const LVT_EXTINT = 0x700;

export class HypercallTrap {
  private readonly guest: GuestVirtual;
  private readonly arch: VcpuArch = {
    routePicToLapic: () => {
      const lapic = this.vcpu.getLapic();
      new DataView(lapic.buffer).setUint32(LAPIC_LVT0, LVT_EXTINT, true);
      this.vcpu.setLapic(lapic);
    },
    interruptsEnabled: () => (this.vcpu.reg32('rflags') & RFLAGS_IF) !== 0,
  };

  constructor(
    private readonly vcpu: KvmVcpu,
    private readonly vcpuId: number,
    private readonly dom: DomainEnv,
    private readonly table: HypercallTable,
    private readonly stopRequested: () => boolean,
  ) {
    this.guest = new GuestVirtual(dom.mem, () => pagingState(vcpu));
  }

  /** EVTCHNOP_send that reached user space through the fast-path stub: result in RDI. */
  slowSend(port: number): void {
    const v = this.vcpu;
    if (v.cpl() !== 0) {
      v.setReg('rdi', neg('EPERM'));
      return;
    }
    v.setReg('rdi', BigInt(sendFrom(this.dom.domains, this.dom.domains.self(), port)));
  }

  /** Handle the hypercall whose trap just exited; true when it yielded with a continuation. */
  handle(): boolean {
    const v = this.vcpu;
    const mode = currentMode(v);
    const nr = mode === 64 ? v.reg('rax') : v.reg('rax') & M32;
    // Xen refuses hypercalls from user mode and virtual-8086 mode.
    if (v.cpl() !== 0 || (v.reg32('rflags') & RFLAGS_VM) !== 0) {
      v.setReg('rax', mode === 64 ? neg('EPERM') : neg('EPERM') & M32);
      return false;
    }
    const args = mode === 64
      ? [v.reg('rdi'), v.reg('rsi'), v.reg('rdx'), v.reg('r10'), v.reg('r8')]
      : [v.reg('rbx') & M32, v.reg('rcx') & M32, v.reg('rdx') & M32, v.reg('rsi') & M32, v.reg('rdi') & M32];
    this.guest.invalidate();
    let continuation: { readonly rip: bigint; readonly args: readonly bigint[] } | null = null;
    const ctx: HypercallContext = {
      dom: this.dom, vcpuId: this.vcpuId, guest: this.guest, mode, depth: 0, stopRequested: this.stopRequested,
      arch: this.arch,
      createContinuation: (next) => {
        const rip = stubStart(v, this.guest, mode, nr);
        if (rip !== null) continuation = { rip, args: next };
        return rip !== null;
      },
    };
    const result = this.table.dispatch(ctx, nr, args);
    if (continuation === null) {
      v.setReg('rax', mode === 64 ? BigInt.asUintN(64, result) : result & M32);
      return false;
    }
    // The stub sets EAX again; the argument registers carry the progress.
    const c: { readonly rip: bigint; readonly args: readonly bigint[] } = continuation;
    const regs = mode === 64 ? ARG_REGS_64 : ARG_REGS_32;
    c.args.forEach((a, i) => v.setReg(regs[i]!, mode === 64 ? a : a & M32));
    v.setReg('rip', c.rip);
    return true;
  }
}

const ARG_REGS_64 = ['rdi', 'rsi', 'rdx', 'r10', 'r8'] as const;
const ARG_REGS_32 = ['rbx', 'rcx', 'rdx', 'rsi', 'rdi'] as const;
const MOV_EAX_IMM32 = 0xb8;
const OUT_IMM8_AL = 0xe6;
const MOV_LEN = 5;
const OUT_LEN = 2;

/**
 * RIP of the start of the stub that made hypercall `nr` (`mov eax, nr; out TRAP_PORT, al`), or
 * null if the bytes around RIP are not such a stub. Where the `out` ran in KVM's instruction
 * emulator (CPL-0 code on kvm_pvm hosts) RIP is already past it; where the hardware ran it
 * (kvm_intel/kvm_amd) RIP is still on it, and KVM skips it on the next entry only if RIP is
 * unchanged. Either way pointing RIP at the `mov` re-runs the stub, as Xen's
 * hypercall_create_continuation does by rewinding over the hypercall instruction.
 */
function stubStart(v: KvmVcpu, guest: GuestVirtual, mode: 64 | 32, nr: bigint): bigint | null {
  const rip = v.reg('rip');
  const linear = mode === 64 ? rip : (v.seg('cs').base + (rip & M32)) & M32;
  const window = MOV_LEN + OUT_LEN;
  if (linear < BigInt(window) || (rip & M32) < BigInt(window)) return null;
  let bytes: Uint8Array;
  try {
    // The stub's bytes from `window` before RIP to 2 past it: the `out` ends at RIP or starts there.
    bytes = guest.read(linear - BigInt(window), window + OUT_LEN);
  } catch (err) {
    if (err instanceof GuestFault) return null;
    throw err;
  }
  const isStubAt = (at: number): boolean =>
    bytes[at] === MOV_EAX_IMM32 && BigInt(new DataView(bytes.buffer).getUint32(at + 1, true)) === (nr & M32) &&
    bytes[at + MOV_LEN] === OUT_IMM8_AL && bytes[at + MOV_LEN + 1] === HYPERCALL_PAGE.values.TRAP_PORT;
  if (isStubAt(0)) return rip - BigInt(window); // emulated: RIP past the `out`
  if (isStubAt(OUT_LEN)) return rip - BigInt(MOV_LEN); // hardware: RIP on the `out`
  return null;
}
