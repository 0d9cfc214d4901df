// simd.ts: what SSE instructions share — XMM and memory operands with the alignment rule, lanes,
// and how a floating-point result is finished (MXCSR flags, then #XM/#UD or the write).
import type { EmuContext } from '../context.ts';
import type { Insn } from '../insn.ts';
import { CR4 } from '../mode.ts';
import { GuestException, VEC } from '../errors.ts';
import { PRE_FLAGS } from '../softfloat/format.ts';

/** AMD's misaligned-SSE mode bit: packed arithmetic may then take unaligned memory operands. */
const MXCSR_MM = 1 << 17;

/**
 * 'always': 16-byte operands must be aligned (MOVAPS, MOVDQA, MOVNTPS). 'simd': the same for other
 * 128-bit legacy-SSE memory operands, unless MXCSR.MM allows otherwise. 'none': no rule.
 */
export type Alignment = 'always' | 'simd' | 'none';

/** The r/m operand: the XMM register, or `size` bytes of memory (a 16-byte copy either way for registers). */
export function readRm(ctx: EmuContext, insn: Insn, size: number, align: Alignment): Uint8Array {
  if (insn.mem === null) return ctx.fpu.xmm(insn.rm);
  return ctx.readOperand(insn, size, alignmentOf(ctx, size, align));
}

export function alignmentOf(ctx: EmuContext, size: number, align: Alignment): number {
  if (size !== 16 || align === 'none') return 0;
  if (align === 'simd' && (ctx.fpu.mxcsr & MXCSR_MM) !== 0) return 0;
  return 16;
}

/** Lane accessors over 16-byte (or shorter) little-endian vectors. */
export function getLane(v: Uint8Array, i: number, bytes: 1 | 2 | 4 | 8): bigint {
  let x = 0n;
  for (let k = bytes - 1; k >= 0; k--) x = (x << 8n) | BigInt(v[i * bytes + k]!);
  return x;
}

export function setLane(v: Uint8Array, i: number, bytes: 1 | 2 | 4 | 8, x: bigint): void {
  for (let k = 0; k < bytes; k++) v[i * bytes + k] = Number((x >> BigInt(8 * k)) & 0xffn);
}

/** Bytes of a bigint, little-endian. */
export function leBytes(x: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let k = 0; k < bytes; k++) out[k] = Number((x >> BigInt(8 * k)) & 0xffn);
  return out;
}

/** An unmasked SIMD floating-point exception: #XM with CR4.OSXMMEXCPT, else #UD; MXCSR keeps its flags. */
function simdFault(ctx: EmuContext): GuestException {
  return new GuestException((ctx.cr4() & CR4.OSXMMEXCPT) !== 0n ? VEC.XM : VEC.UD, null, null, true);
}

/**
 * Finish a floating-point instruction whose lanes raised `laneFlags`: an unmasked pre-computation
 * exception (IE, DE, ZE) is reported alone; else all flags are recorded and an unmasked one faults.
 * Only without a fault does `write` store the result.
 */
export function finishFp(ctx: EmuContext, laneFlags: readonly number[], write: () => void): void {
  const mxcsr = ctx.fpu.mxcsr;
  const masked = (mxcsr >> 7) & 0x3f;
  let flags = 0;
  for (const f of laneFlags) flags |= f;
  const pre = flags & PRE_FLAGS;
  if ((pre & ~masked) !== 0) {
    ctx.fpu.mxcsr = mxcsr | pre;
    throw simdFault(ctx);
  }
  if ((flags | mxcsr) !== mxcsr) ctx.fpu.mxcsr = mxcsr | flags;
  if ((flags & ~masked) !== 0) throw simdFault(ctx);
  write();
}
