// mode.ts: the vCPU's execution mode — code size (16/32/64), CPL, real/virtual-8086 — from its registers.
import type { EmuCpu } from './cpu-port.ts';

export const CR0 = { PE: 1n, MP: 2n, EM: 4n, TS: 8n, NE: 1n << 5n, WP: 1n << 16n, PG: 1n << 31n } as const;
export const CR4 = {
  PSE: 1n << 4n, PAE: 1n << 5n, OSFXSR: 1n << 9n, OSXMMEXCPT: 1n << 10n, LA57: 1n << 12n,
  SMEP: 1n << 20n, SMAP: 1n << 21n,
} as const;
export const EFER = { LME: 1n << 8n, LMA: 1n << 10n, NXE: 1n << 11n } as const;
export const RFLAGS = {
  CF: 1n, PF: 4n, AF: 0x10n, ZF: 0x40n, SF: 0x80n, TF: 0x100n, IF: 0x200n, DF: 0x400n, OF: 0x800n,
  IOPL: 0x3000n, NT: 0x4000n, RF: 0x10000n, VM: 0x20000n, AC: 0x40000n, VIF: 0x80000n, VIP: 0x100000n,
  ID: 0x200000n,
} as const;

export interface CpuMode {
  /** Default operand/address size of the code being run. */
  readonly bits: 16 | 32 | 64;
  readonly cpl: number;
  /** CR0.PE clear. */
  readonly real: boolean;
  /** RFLAGS.VM set (protected mode only). */
  readonly v86: boolean;
  /** EFER.LMA: IA-32e mode (64-bit or compatibility code). */
  readonly long: boolean;
}

export function cpuMode(cpu: Pick<EmuCpu, 'reg' | 'sreg' | 'seg'>): CpuMode {
  const real = (cpu.sreg('cr0') & CR0.PE) === 0n;
  const long = (cpu.sreg('efer') & EFER.LMA) !== 0n;
  const v86 = !real && !long && (cpu.reg('rflags') & RFLAGS.VM) !== 0n;
  const cs = cpu.seg('cs');
  const bits = real || v86 ? 16 : long && cs.l === 1 ? 64 : cs.db === 1 ? 32 : 16;
  // KVM reports CPL as SS.DPL in protected mode.
  const cpl = real ? 0 : v86 ? 3 : cpu.seg('ss').dpl;
  return { bits, cpl, real, v86, long };
}

/** "64-bit, CPL 0"-style description for fault reports. */
export function describeMode(m: CpuMode): string {
  if (m.real) return '16-bit real mode';
  if (m.v86) return 'virtual-8086 mode, CPL 3';
  const kind = m.long && m.bits !== 64 ? ` compatibility (${m.bits}-bit)` : `${m.bits}-bit`;
  return `${kind.trim()} mode, CPL ${m.cpl}`;
}
