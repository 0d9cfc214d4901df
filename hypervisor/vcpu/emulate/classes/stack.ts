// stack.ts: pushes and pops through SS as interrupt delivery and IRET do them — each checked, all
// written only when the instruction commits.
import type { Segment } from '../cpu-port.ts';
import type { EmuContext } from '../context.ts';
import { segmentedAddress } from '../address.ts';

export class Stack {
  /** The stack pointer as the stack's address size sees it. */
  sp: bigint;

  constructor(
    private readonly ctx: EmuContext,
    private readonly ss: Segment,
    start: bigint,
    /** 64 in IA-32e interrupt delivery and 64-bit code, else SS.B: 32 or 16. */
    readonly width: 16 | 32 | 64,
    /** CPL of the accesses (the new CPL on a privilege change). */
    private readonly cpl: number,
  ) {
    this.sp = BigInt.asUintN(width, start);
  }

  private address(offset: bigint, size: number, write: boolean): bigint {
    const mode = this.width === 64 ? { ...this.ctx.mode, bits: 64 as const } : { ...this.ctx.mode, bits: 32 as const };
    return segmentedAddress(mode, 'ss', this.ss, offset, size, write ? 'write' : 'read');
  }

  push(value: bigint, size: 2 | 4 | 8): void {
    this.sp = BigInt.asUintN(this.width, this.sp - BigInt(size));
    const la = this.address(this.sp, size, true);
    const b = new Uint8Array(size);
    for (let i = 0; i < size; i++) b[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    this.ctx.mem.write(la, b, { user: this.cpl === 3 });
  }

  pop(size: 2 | 4 | 8): bigint {
    const la = this.address(this.sp, size, false);
    const b = this.ctx.mem.read(la, size, { write: false, user: this.cpl === 3 });
    this.sp = BigInt.asUintN(this.width, this.sp + BigInt(size));
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }
}

/** The stack width SS gives legacy code: 32-bit with SS.B set, else 16-bit. */
export const legacyStackWidth = (ss: Segment): 16 | 32 => (ss.db === 1 ? 32 : 16);

/** Write the new stack pointer back at its width (16-bit stacks keep RSP's upper bits). */
export function storeSp(ctx: EmuContext, sp: bigint, width: 16 | 32 | 64): void {
  ctx.regs.setGpr(4, width === 16 ? 2 : width === 32 ? 4 : 8, sp);
}
