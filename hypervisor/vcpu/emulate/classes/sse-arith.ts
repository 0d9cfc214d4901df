// sse-arith.ts: ADD/SUB/MUL/DIV/MIN/MAX/SQRT in their PS, SS, PD and SD forms, on the soft-float core.
import type { InsnSpec, MandatoryPrefix } from '../insn.ts';
import { F32, F64, envFromMxcsr, type FloatFormat, type FpEnv, type FpResult } from '../softfloat/format.ts';
import { add, div, minMax, mul, sqrt } from '../softfloat/arith.ts';
import { requireSse } from './gates.ts';
import { finishFp, getLane, readRm, setLane } from './simd.ts';

type Binary = (a: bigint, b: bigint, f: FloatFormat, env: FpEnv) => FpResult;

/** The four forms of an opcode: packed single, scalar single, packed double, scalar double. */
const FORMS: ReadonlyArray<{ suffix: string; prefix: MandatoryPrefix; f: FloatFormat; scalar: boolean }> = [
  { suffix: 'ps', prefix: 'none', f: F32, scalar: false },
  { suffix: 'ss', prefix: 'F3', f: F32, scalar: true },
  { suffix: 'pd', prefix: '66', f: F64, scalar: false },
  { suffix: 'sd', prefix: 'F2', f: F64, scalar: true },
];

/**
 * `op xmm1, xmm2/m`: each lane of xmm1 becomes fn(xmm1, src); the scalar forms compute lane 0 only
 * and keep the rest of xmm1.
 */
function binaryForms(name: string, op: number, fn: Binary): InsnSpec[] {
  return FORMS.map(({ suffix, prefix, f, scalar }) => ({
    name: name + suffix, map: 1 as const, op, prefix, hasModrm: true,
    exec(ctx, insn) {
      requireSse(ctx);
      const bytes = f.bits / 8 as 4 | 8;
      const src = readRm(ctx, insn, scalar ? bytes : 16, 'simd');
      const dst = ctx.fpu.xmm(insn.reg);
      const env = envFromMxcsr(ctx.fpu.mxcsr);
      const out = dst.slice();
      const flags: number[] = [];
      for (let i = 0; i < (scalar ? 1 : 16 / bytes); i++) {
        const r = fn(getLane(dst, i, bytes), getLane(src, i, bytes), f, env);
        setLane(out, i, bytes, r.bits);
        flags.push(r.flags);
      }
      finishFp(ctx, flags, () => ctx.fpu.setXmm(insn.reg, out));
    },
  }));
}

/** SQRTPS/SS/PD/SD: the square root of the source lanes (scalar forms keep xmm1's upper lanes). */
function sqrtForms(): InsnSpec[] {
  return FORMS.map(({ suffix, prefix, f, scalar }) => ({
    name: `sqrt${suffix}`, map: 1 as const, op: 0x51, prefix, hasModrm: true,
    exec(ctx, insn) {
      requireSse(ctx);
      const bytes = f.bits / 8 as 4 | 8;
      const src = readRm(ctx, insn, scalar ? bytes : 16, 'simd');
      const out = ctx.fpu.xmm(insn.reg);
      const env = envFromMxcsr(ctx.fpu.mxcsr);
      const flags: number[] = [];
      for (let i = 0; i < (scalar ? 1 : 16 / bytes); i++) {
        const r = sqrt(getLane(src, i, bytes), f, env);
        setLane(out, i, bytes, r.bits);
        flags.push(r.flags);
      }
      finishFp(ctx, flags, () => ctx.fpu.setXmm(insn.reg, out));
    },
  }));
}

export const SSE_ARITH_INSNS: readonly InsnSpec[] = [
  ...binaryForms('add', 0x58, (a, b, f, env) => add(a, b, f, env)),
  ...binaryForms('mul', 0x59, mul),
  ...binaryForms('sub', 0x5c, (a, b, f, env) => add(a, b, f, env, true)),
  ...binaryForms('min', 0x5d, (a, b, f, env) => minMax(a, b, f, env, false)),
  ...binaryForms('div', 0x5e, div),
  ...binaryForms('max', 0x5f, (a, b, f, env) => minMax(a, b, f, env, true)),
  ...sqrtForms(),
];
