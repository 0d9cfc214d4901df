// diagnose.ts: explain a triple fault that the host, not the guest, caused — a 32-bit guest turning
// on paging without long mode, which kvm_pvm answers with #GP.
import type { PhysMemory } from '../../memory/phys-memory.ts';
import type { EmuCpu } from './cpu-port.ts';
import { EmuContext } from './context.ts';
import { decode } from './decoder.ts';
import { OpcodeTable } from './opcode-table.ts';
import { CR0, EFER } from './mode.ts';

/** MOV CRn, r32 (0F 22 /r): only decoded here, never executed. */
const MOV_TO_CR = new OpcodeTable([{ name: 'mov to CR', map: 1, op: 0x22, form: 'reg', exec: () => undefined }]);

/**
 * A sentence for the fault report when the vCPU stopped on `mov %reg, %cr0` setting PG outside
 * long mode (EFER.LME clear); null for any other triple fault.
 */
export function explainTripleFault(cpu: EmuCpu, phys: PhysMemory): string | null {
  try {
    const ctx = new EmuContext(cpu, phys);
    if (ctx.mode.real || ctx.mode.long || (cpu.sreg('cr0') & CR0.PG) !== 0n || (cpu.sreg('efer') & EFER.LME) !== 0n) return null;
    const insn = decode((i) => ctx.codeByte(i), ctx.mode, MOV_TO_CR);
    if ((insn.reg & 7) !== 0 || (ctx.regs.gpr(insn.rm, 4) & (1n << 31n)) === 0n) return null;
    return 'the guest turned on 32-bit paging without long mode (mov to CR0 with PG set, EFER.LME clear); ' +
      "this host's KVM (kvm_pvm) supports paging only in long mode and answers with #GP, so such guests cannot run here";
  } catch {
    return null; // nothing readable at RIP, or another instruction: not this case
  }
}
