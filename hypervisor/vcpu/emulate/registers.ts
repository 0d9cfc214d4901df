// registers.ts: the general registers, RIP and RFLAGS as one instruction sees them — read once, written at commit.
import type { EmuCpu, RegName } from './cpu-port.ts';

/** x86 register numbers (ModRM/REX encoding) → kvm_regs names. */
export const GPR_NAMES: readonly RegName[] = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
];

export type OperandBytes = 1 | 2 | 4 | 8;

export class RegFile {
  private readonly values = new Map<RegName, bigint>();
  private readonly dirty = new Set<RegName>();

  constructor(private readonly cpu: EmuCpu) {}

  get(name: RegName): bigint {
    let v = this.values.get(name);
    if (v === undefined) {
      v = this.cpu.reg(name);
      this.values.set(name, v);
    }
    return v;
  }

  set(name: RegName, value: bigint): void {
    this.values.set(name, BigInt.asUintN(64, value));
    this.dirty.add(name);
  }

  /**
   * Register `index` (0–15) read at `size` bytes. Without a REX prefix, byte registers 4–7 are
   * AH, CH, DH, BH.
   */
  gpr(index: number, size: OperandBytes, rex = false): bigint {
    if (size === 1 && !rex && index >= 4 && index < 8) return (this.get(GPR_NAMES[index - 4]!) >> 8n) & 0xffn;
    return BigInt.asUintN(size * 8, this.get(GPR_NAMES[index]!));
  }

  /** Write at `size` bytes: 4-byte writes zero the upper half, 1- and 2-byte writes merge. */
  setGpr(index: number, size: OperandBytes, value: bigint, rex = false): void {
    if (size === 1 && !rex && index >= 4 && index < 8) {
      const name = GPR_NAMES[index - 4]!;
      this.set(name, (this.get(name) & ~0xff00n) | ((value & 0xffn) << 8n));
      return;
    }
    const name = GPR_NAMES[index]!;
    if (size >= 4) {
      this.set(name, BigInt.asUintN(size * 8, value));
      return;
    }
    const mask = (1n << BigInt(size * 8)) - 1n;
    this.set(name, (this.get(name) & ~mask) | (value & mask));
  }

  commit(): void {
    for (const name of this.dirty) this.cpu.setReg(name, this.values.get(name)!);
    this.dirty.clear();
  }
}
