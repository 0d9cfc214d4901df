// sse-compare.ts: CMPPS/CMPSS/CMPPD/CMPSD (predicates 0–7) and COMISS/UCOMISS/COMISD/UCOMISD.
import type { InsnSpec, MandatoryPrefix } from '../insn.ts';
import { RFLAGS } from '../mode.ts';
import { F32, F64, envFromMxcsr, type FloatFormat } from '../softfloat/format.ts';
import { compare, comparePredicate } from '../softfloat/compare.ts';
import { requireSse } from './gates.ts';
import { finishFp, getLane, readRm, setLane } from './simd.ts';

const CMP_FORMS: ReadonlyArray<{ name: string; prefix: MandatoryPrefix; f: FloatFormat; scalar: boolean }> = [
  { name: 'cmpps', prefix: 'none', f: F32, scalar: false },
  { name: 'cmpss', prefix: 'F3', f: F32, scalar: true },
  { name: 'cmppd', prefix: '66', f: F64, scalar: false },
  { name: 'cmpsd', prefix: 'F2', f: F64, scalar: true },
];

const cmpForms: InsnSpec[] = CMP_FORMS.map(({ name, prefix, f, scalar }) => ({
  name, map: 1, op: 0xc2, prefix, hasModrm: true, imm: 1,
  exec(ctx, insn) {
    requireSse(ctx);
    const bytes = f.bits / 8 as 4 | 8;
    const src = readRm(ctx, insn, scalar ? bytes : 16, 'simd');
    const dst = ctx.fpu.xmm(insn.reg);
    const env = envFromMxcsr(ctx.fpu.mxcsr);
    const out = dst.slice();
    const ones = (1n << BigInt(f.bits)) - 1n;
    const flags: number[] = [];
    for (let i = 0; i < (scalar ? 1 : 16 / bytes); i++) {
      const r = comparePredicate(getLane(dst, i, bytes), getLane(src, i, bytes), f, env, insn.imm);
      setLane(out, i, bytes, r.result ? ones : 0n);
      flags.push(r.flags);
    }
    finishFp(ctx, flags, () => ctx.fpu.setXmm(insn.reg, out));
  },
}));

const ZF_PF_CF = RFLAGS.ZF | RFLAGS.PF | RFLAGS.CF;
const RESULT_FLAGS = { un: ZF_PF_CF, lt: RFLAGS.CF, eq: RFLAGS.ZF, gt: 0n } as const;

/** COMIS* signal on any NaN, UCOMIS* only on an SNaN; ZF/PF/CF report the order, OF/SF/AF clear. */
function comis(name: string, op: number, prefix: MandatoryPrefix, f: FloatFormat, signaling: boolean): InsnSpec {
  return {
    name, map: 1, op, prefix, hasModrm: true,
    exec(ctx, insn) {
      requireSse(ctx);
      const bytes = f.bits / 8 as 4 | 8;
      const src = readRm(ctx, insn, bytes, 'none');
      const a = getLane(ctx.fpu.xmm(insn.reg), 0, bytes);
      const { rel, flags } = compare(a, getLane(src, 0, bytes), f, envFromMxcsr(ctx.fpu.mxcsr), signaling);
      finishFp(ctx, [flags], () => {
        const cleared = ctx.regs.get('rflags') & ~(ZF_PF_CF | RFLAGS.OF | RFLAGS.SF | RFLAGS.AF);
        ctx.regs.set('rflags', cleared | RESULT_FLAGS[rel]);
      });
    },
  };
}

export const SSE_COMPARE_INSNS: readonly InsnSpec[] = [
  ...cmpForms,
  comis('ucomiss', 0x2e, 'none', F32, false),
  comis('comiss', 0x2f, 'none', F32, true),
  comis('ucomisd', 0x2e, '66', F64, false),
  comis('comisd', 0x2f, '66', F64, true),
];
