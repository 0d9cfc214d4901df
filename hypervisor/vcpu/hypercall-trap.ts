// hypercall-trap.ts: decode a trapped hypercall from the vCPU registers and write the result back.
import type { KvmVcpu } from '../kvm/vcpu.ts';
import { GuestVirtual } from '../memory/guest-access.ts';
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

  /** Handle the hypercall whose trap just exited. */
  handle(): void {
    const v = this.vcpu;
    const mode = currentMode(v);
    const nr = mode === 64 ? v.reg('rax') : v.reg('rax') & M32;
    // Xen refuses hypercalls from user mode and virtual-8086 mode.
    if (v.cpl() !== 0 || (v.reg32('rflags') & RFLAGS_VM) !== 0) {
      v.setReg('rax', mode === 64 ? neg('EPERM') : neg('EPERM') & M32);
      return;
    }
    const args = mode === 64
      ? [v.reg('rdi'), v.reg('rsi'), v.reg('rdx'), v.reg('r10'), v.reg('r8')]
      : [v.reg('rbx') & M32, v.reg('rcx') & M32, v.reg('rdx') & M32, v.reg('rsi') & M32, v.reg('rdi') & M32];
    this.guest.invalidate();
    const ctx: HypercallContext = {
      dom: this.dom, vcpuId: this.vcpuId, guest: this.guest, mode, depth: 0, stopRequested: this.stopRequested,
      arch: this.arch,
    };
    const result = this.table.dispatch(ctx, nr, args);
    v.setReg('rax', mode === 64 ? BigInt.asUintN(64, result) : result & M32);
  }
}
