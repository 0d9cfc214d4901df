// vector-op.ts: the common shape of two-operand 128-bit SSE instructions (xmm1 = f(xmm1, xmm2/m128)).
import type { InsnSpec, MandatoryPrefix } from '../insn.ts';
import { requireSse } from './gates.ts';
import { readRm } from './simd.ts';

/** `f` gets copies of xmm1 and the source and returns the new xmm1. */
export function vectorOp(
  name: string, op: number, prefix: MandatoryPrefix, f: (dst: Uint8Array, src: Uint8Array, imm: number) => Uint8Array,
  imm?: 1,
): InsnSpec {
  return {
    name, map: 1, op, prefix, hasModrm: true, imm,
    exec(ctx, insn) {
      requireSse(ctx);
      const src = readRm(ctx, insn, 16, 'simd');
      ctx.fpu.setXmm(insn.reg, f(ctx.fpu.xmm(insn.reg), src, insn.imm));
    },
  };
}

/** Apply `fn` lane by lane (lane width `bytes`, values unsigned), masking results to the lane. */
export function lanewise(bytes: 1 | 2 | 4 | 8, fn: (a: bigint, b: bigint) => bigint) {
  return (dst: Uint8Array, src: Uint8Array): Uint8Array => {
    const out = new Uint8Array(16);
    const bits = BigInt(bytes * 8);
    for (let i = 0; i < 16 / bytes; i++) {
      let a = 0n, b = 0n;
      for (let k = bytes - 1; k >= 0; k--) {
        a = (a << 8n) | BigInt(dst[i * bytes + k]!);
        b = (b << 8n) | BigInt(src[i * bytes + k]!);
      }
      const r = BigInt.asUintN(Number(bits), fn(a, b));
      for (let k = 0; k < bytes; k++) out[i * bytes + k] = Number((r >> BigInt(8 * k)) & 0xffn);
    }
    return out;
  };
}

/** A lane's value as signed. */
export const signed = (x: bigint, bytes: number): bigint => BigInt.asIntN(bytes * 8, x);
