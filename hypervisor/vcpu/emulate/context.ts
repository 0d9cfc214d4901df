// context.ts: one instruction's view of the vCPU — staged registers, memory, FPU state and segment
// loads — committed together only when the instruction completes.
import type { PhysMemory } from '../../memory/phys-memory.ts';
import type { EmuCpu, Segment, SegName } from './cpu-port.ts';
import type { Insn } from './insn.ts';
import { cpuMode, CR0, RFLAGS, type CpuMode } from './mode.ts';
import { RegFile } from './registers.ts';
import { GuestLinear, type AccessKind } from './memory.ts';
import { FpuState } from './fpu-state.ts';
import { operandAddress, type SegAccess } from './address.ts';
import { gp } from './errors.ts';

export class EmuContext {
  readonly mode: CpuMode;
  readonly regs: RegFile;
  readonly mem: GuestLinear;
  readonly fpu: FpuState;
  /** RIP of the instruction, and of the one after it (set once decoded). */
  readonly rip: bigint;
  nextRip = 0n;
  /** The instruction loaded RFLAGS as a whole (IRET): leave RF as loaded. */
  rflagsLoaded = false;
  private readonly segLoads = new Map<SegName, Segment>();

  constructor(readonly cpu: EmuCpu, phys: PhysMemory) {
    this.mode = cpuMode(cpu);
    this.regs = new RegFile(cpu);
    this.rip = this.regs.get('rip');
    this.mem = new GuestLinear(phys, {
      cr0: cpu.sreg('cr0'), cr3: cpu.sreg('cr3'), cr4: cpu.sreg('cr4'), efer: cpu.sreg('efer'),
      ac: (this.regs.get('rflags') & RFLAGS.AC) !== 0n,
    });
    this.fpu = new FpuState(cpu);
  }

  cr0(): bigint { return this.cpu.sreg('cr0'); }
  cr4(): bigint { return this.cpu.sreg('cr4'); }

  /** A segment register: a load staged by this instruction, else the vCPU's. */
  seg(name: SegName): Segment {
    return this.segLoads.get(name) ?? this.cpu.seg(name);
  }

  loadSeg(name: SegName, s: Segment): void {
    this.segLoads.set(name, s);
  }

  /** An explicit data access by the instruction: user mode when CPL is 3. */
  access(write: boolean): AccessKind {
    return { write, user: this.mode.cpl === 3 };
  }

  /** Linear address of the instruction's memory operand for a `size`-byte access. */
  operandLinear(insn: Insn, size: number, access: SegAccess): bigint {
    return operandAddress(this.mode, insn, this.regs, this.nextRip, (n) => this.seg(n), size, access);
  }

  /** Read the memory operand; `align` demands natural alignment (#GP(0) otherwise). */
  readOperand(insn: Insn, size: number, align = 0): Uint8Array {
    const la = this.operandLinear(insn, size, 'read');
    if (align > 0 && la % BigInt(align) !== 0n) throw gp(0);
    return this.mem.read(la, size, this.access(false));
  }

  writeOperand(insn: Insn, data: Uint8Array, align = 0): void {
    const la = this.operandLinear(insn, data.length, 'write');
    if (align > 0 && la % BigInt(align) !== 0n) throw gp(0);
    this.mem.write(la, data, { user: this.mode.cpl === 3 });
  }

  /** CR0.TS / CR0.EM as they gate x87 and SSE instructions. */
  get cr0Bits(): { ts: boolean; em: boolean; mp: boolean; ne: boolean } {
    const cr0 = this.cr0();
    return { ts: (cr0 & CR0.TS) !== 0n, em: (cr0 & CR0.EM) !== 0n, mp: (cr0 & CR0.MP) !== 0n, ne: (cr0 & CR0.NE) !== 0n };
  }

  /** IP arithmetic wraps at the code size. */
  wrapIp(ip: bigint): bigint {
    return BigInt.asUintN(this.mode.bits, ip);
  }

  /** Instruction byte `i` at CS:RIP, fetched with the CPU's paging checks. */
  codeByte(i: number): number {
    const ip = this.wrapIp(this.rip + BigInt(i));
    const linear = this.mode.bits === 64 ? ip : BigInt.asUintN(32, this.seg('cs').base + ip);
    return this.mem.read(linear, 1, { write: false, fetch: true, user: this.mode.cpl === 3 })[0]!;
  }

  /** Store everything the instruction did: memory first (it was checked already), then state. */
  commit(): void {
    this.mem.commit();
    this.fpu.commit();
    for (const [name, s] of this.segLoads) this.cpu.setSeg(name, s);
    this.regs.commit();
  }
}
