// sse-convert.ts: the SSE/SSE2 conversions between integers, binary32 and binary64 (CVT*, CVTT*).
import type { Insn, InsnSpec, MandatoryPrefix } from '../insn.ts';
import type { EmuContext } from '../context.ts';
import { F32, F64, envFromMxcsr, type FloatFormat, type FpEnv, type FpResult } from '../softfloat/format.ts';
import { floatToFloat, floatToInt, intToFloat } from '../softfloat/convert.ts';
import { requireSse } from './gates.ts';
import { finishFp, getLane, readRm, setLane, type Alignment } from './simd.ts';

type LaneFn = (x: bigint, env: FpEnv) => FpResult;

interface Shape {
  /** Source lanes, their byte size, and how many bytes a memory source is. */
  readonly inBytes: 4 | 8;
  readonly outBytes: 4 | 8;
  readonly lanes: number;
  readonly memBytes: 4 | 8 | 16;
  /** Scalar forms keep the destination's other lanes; packed forms zero what they do not write. */
  readonly scalar: boolean;
}

/** A conversion into an XMM register, lane by lane. */
function toXmm(name: string, op: number, prefix: MandatoryPrefix, shape: Shape, fn: LaneFn): InsnSpec {
  return {
    name, map: 1, op, prefix, hasModrm: true,
    exec(ctx, insn) {
      requireSse(ctx);
      const align: Alignment = shape.memBytes === 16 ? 'simd' : 'none';
      const src = readRm(ctx, insn, shape.memBytes, align);
      const env = envFromMxcsr(ctx.fpu.mxcsr);
      const out = shape.scalar ? ctx.fpu.xmm(insn.reg) : new Uint8Array(16);
      const flags: number[] = [];
      for (let i = 0; i < shape.lanes; i++) {
        const r = fn(getLane(src, i, shape.inBytes), env);
        setLane(out, i, shape.outBytes, r.bits);
        flags.push(r.flags);
      }
      finishFp(ctx, flags, () => ctx.fpu.setXmm(insn.reg, out));
    },
  };
}

const f2f = (from: FloatFormat, to: FloatFormat): LaneFn => (x, env) => floatToFloat(x, from, to, env);
const f2i = (f: FloatFormat, truncate: boolean): LaneFn => (x, env) => floatToInt(x, f, env, 32, truncate);
const i2f = (f: FloatFormat): LaneFn => (x, env) => intToFloat(BigInt.asIntN(32, x), f, env);

/** CVTSI2SS/SD: a 32-bit (or with REX.W 64-bit) integer from a register or memory. */
function fromInt(name: string, prefix: MandatoryPrefix, f: FloatFormat): InsnSpec {
  return {
    name, map: 1, op: 0x2a, prefix, hasModrm: true,
    exec(ctx, insn) {
      requireSse(ctx);
      const width = insn.opSize === 64 ? 64 : 32;
      const v = BigInt.asIntN(width, intOperand(ctx, insn, width / 8 as 4 | 8));
      const r = intToFloat(v, f, envFromMxcsr(ctx.fpu.mxcsr));
      const out = ctx.fpu.xmm(insn.reg);
      setLane(out, 0, f.bits / 8 as 4 | 8, r.bits);
      finishFp(ctx, [r.flags], () => ctx.fpu.setXmm(insn.reg, out));
    },
  };
}

function intOperand(ctx: EmuContext, insn: Insn, bytes: 4 | 8): bigint {
  if (insn.mem === null) return ctx.regs.gpr(insn.rm, bytes);
  return getLane(ctx.readOperand(insn, bytes), 0, bytes);
}

/** CVT(T)SS2SI / CVT(T)SD2SI: into a 32-bit (or with REX.W 64-bit) general register. */
function toInt(name: string, op: number, prefix: MandatoryPrefix, f: FloatFormat, truncate: boolean): InsnSpec {
  return {
    name, map: 1, op, prefix, hasModrm: true,
    exec(ctx, insn) {
      requireSse(ctx);
      const bytes = f.bits / 8 as 4 | 8;
      const src = readRm(ctx, insn, bytes, 'none');
      const width = insn.opSize === 64 ? 64 : 32;
      const r = floatToInt(getLane(src, 0, bytes), f, envFromMxcsr(ctx.fpu.mxcsr), width, truncate);
      finishFp(ctx, [r.flags], () => ctx.regs.setGpr(insn.reg, width / 8 as 4 | 8, r.bits));
    },
  };
}

const PACKED_4 = { lanes: 4, memBytes: 16, scalar: false } as const;

export const SSE_CONVERT_INSNS: readonly InsnSpec[] = [
  fromInt('cvtsi2ss', 'F3', F32),
  fromInt('cvtsi2sd', 'F2', F64),
  toInt('cvttss2si', 0x2c, 'F3', F32, true),
  toInt('cvtss2si', 0x2d, 'F3', F32, false),
  toInt('cvttsd2si', 0x2c, 'F2', F64, true),
  toInt('cvtsd2si', 0x2d, 'F2', F64, false),
  toXmm('cvtss2sd', 0x5a, 'F3', { inBytes: 4, outBytes: 8, lanes: 1, memBytes: 4, scalar: true }, f2f(F32, F64)),
  toXmm('cvtsd2ss', 0x5a, 'F2', { inBytes: 8, outBytes: 4, lanes: 1, memBytes: 8, scalar: true }, f2f(F64, F32)),
  toXmm('cvtps2pd', 0x5a, 'none', { inBytes: 4, outBytes: 8, lanes: 2, memBytes: 8, scalar: false }, f2f(F32, F64)),
  toXmm('cvtpd2ps', 0x5a, '66', { inBytes: 8, outBytes: 4, lanes: 2, memBytes: 16, scalar: false }, f2f(F64, F32)),
  toXmm('cvtdq2ps', 0x5b, 'none', { inBytes: 4, outBytes: 4, ...PACKED_4 }, i2f(F32)),
  toXmm('cvtps2dq', 0x5b, '66', { inBytes: 4, outBytes: 4, ...PACKED_4 }, f2i(F32, false)),
  toXmm('cvttps2dq', 0x5b, 'F3', { inBytes: 4, outBytes: 4, ...PACKED_4 }, f2i(F32, true)),
  toXmm('cvtdq2pd', 0xe6, 'F3', { inBytes: 4, outBytes: 8, lanes: 2, memBytes: 8, scalar: false }, i2f(F64)),
  toXmm('cvtpd2dq', 0xe6, 'F2', { inBytes: 8, outBytes: 4, lanes: 2, memBytes: 16, scalar: false }, f2i(F64, false)),
  toXmm('cvttpd2dq', 0xe6, '66', { inBytes: 8, outBytes: 4, lanes: 2, memBytes: 16, scalar: false }, f2i(F64, true)),
];
