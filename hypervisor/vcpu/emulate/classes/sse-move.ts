// sse-move.ts: SSE/SSE2 data moves — MOVUPS/APS/UPD/APD, MOVSS/SD, MOVLPS/HPS/LPD/HPD, MOVHLPS/LHPS,
// MOVNTPS/PD/DQ, MOVDQA/DQU, MOVD/MOVQ, and the sign-mask extractions MOVMSKPS/PD and PMOVMSKB.
import type { EmuContext } from '../context.ts';
import type { Insn, InsnSpec, MandatoryPrefix } from '../insn.ts';
import { requireSse } from './gates.ts';
import { alignmentOf, getLane, readRm, setLane, type Alignment } from './simd.ts';

type Exec = (ctx: EmuContext, insn: Insn) => void;
const sse = (fn: Exec): Exec => (ctx, insn) => { requireSse(ctx); fn(ctx, insn); };

function spec(name: string, op: number, prefix: MandatoryPrefix, exec: Exec, form?: 'mem' | 'reg'): InsnSpec {
  return { name, map: 1, op, prefix, hasModrm: true, form, exec: sse(exec) };
}

/** Full 16-byte load into xmm1 and store from it. */
function move128(name: string, load: number, store: number, prefix: MandatoryPrefix, align: Alignment): InsnSpec[] {
  return [
    spec(name, load, prefix, (ctx, insn) => ctx.fpu.setXmm(insn.reg, readRm(ctx, insn, 16, align))),
    spec(name, store, prefix, (ctx, insn) => {
      const v = ctx.fpu.xmm(insn.reg);
      if (insn.mem === null) ctx.fpu.setXmm(insn.rm, v);
      else ctx.writeOperand(insn, v, alignmentOf(ctx, 16, align));
    }),
  ];
}

/** MOVSS/MOVSD: from memory the upper lanes are zeroed; between registers they are kept. */
function moveScalar(name: string, prefix: MandatoryPrefix, bytes: 4 | 8): InsnSpec[] {
  return [
    spec(name, 0x10, prefix, (ctx, insn) => {
      const src = readRm(ctx, insn, bytes, 'none');
      const out = insn.mem === null ? ctx.fpu.xmm(insn.reg) : new Uint8Array(16);
      out.set(src.subarray(0, bytes));
      ctx.fpu.setXmm(insn.reg, out);
    }),
    spec(name, 0x11, prefix, (ctx, insn) => {
      const low = ctx.fpu.xmm(insn.reg).subarray(0, bytes);
      if (insn.mem !== null) return ctx.writeOperand(insn, low.slice());
      const out = ctx.fpu.xmm(insn.rm);
      out.set(low);
      ctx.fpu.setXmm(insn.rm, out);
    }),
  ];
}

/** Load 8 bytes into half `half` (0 low, 1 high) of xmm1, keeping the other half. */
function loadHalf(ctx: EmuContext, insn: Insn, half: 0 | 1, src: Uint8Array): void {
  const out = ctx.fpu.xmm(insn.reg);
  out.set(src.subarray(0, 8), half * 8);
  ctx.fpu.setXmm(insn.reg, out);
}

const storeHalf = (half: 0 | 1): Exec => (ctx, insn) => ctx.writeOperand(insn, ctx.fpu.xmm(insn.reg).slice(half * 8, half * 8 + 8));

/** Bit i = the sign bit of lane i. */
function signMask(v: Uint8Array, bytes: 1 | 4 | 8): bigint {
  let m = 0n;
  for (let i = 0; i < 16 / bytes; i++) if ((v[i * bytes + bytes - 1]! & 0x80) !== 0) m |= 1n << BigInt(i);
  return m;
}

const moveMask = (bytes: 1 | 4 | 8): Exec => (ctx, insn) => ctx.regs.setGpr(insn.reg, 4, signMask(ctx.fpu.xmm(insn.rm), bytes));

export const SSE_MOVE_INSNS: readonly InsnSpec[] = [
  ...move128('movups', 0x10, 0x11, 'none', 'none'),
  ...move128('movupd', 0x10, 0x11, '66', 'none'),
  ...move128('movaps', 0x28, 0x29, 'none', 'always'),
  ...move128('movapd', 0x28, 0x29, '66', 'always'),
  ...move128('movdqa', 0x6f, 0x7f, '66', 'always'),
  ...move128('movdqu', 0x6f, 0x7f, 'F3', 'none'),
  ...moveScalar('movss', 'F3', 4),
  ...moveScalar('movsd', 'F2', 8),
  spec('movlps', 0x12, 'none', (ctx, insn) => loadHalf(ctx, insn, 0, ctx.readOperand(insn, 8)), 'mem'),
  spec('movhlps', 0x12, 'none', (ctx, insn) => loadHalf(ctx, insn, 0, ctx.fpu.xmm(insn.rm).subarray(8)), 'reg'),
  spec('movlpd', 0x12, '66', (ctx, insn) => loadHalf(ctx, insn, 0, ctx.readOperand(insn, 8)), 'mem'),
  spec('movlps', 0x13, 'none', storeHalf(0), 'mem'),
  spec('movlpd', 0x13, '66', storeHalf(0), 'mem'),
  spec('movhps', 0x16, 'none', (ctx, insn) => loadHalf(ctx, insn, 1, ctx.readOperand(insn, 8)), 'mem'),
  spec('movlhps', 0x16, 'none', (ctx, insn) => loadHalf(ctx, insn, 1, ctx.fpu.xmm(insn.rm)), 'reg'),
  spec('movhpd', 0x16, '66', (ctx, insn) => loadHalf(ctx, insn, 1, ctx.readOperand(insn, 8)), 'mem'),
  spec('movhps', 0x17, 'none', storeHalf(1), 'mem'),
  spec('movhpd', 0x17, '66', storeHalf(1), 'mem'),
  spec('movntps', 0x2b, 'none', (ctx, insn) => ctx.writeOperand(insn, ctx.fpu.xmm(insn.reg), 16), 'mem'),
  spec('movntpd', 0x2b, '66', (ctx, insn) => ctx.writeOperand(insn, ctx.fpu.xmm(insn.reg), 16), 'mem'),
  spec('movntdq', 0xe7, '66', (ctx, insn) => ctx.writeOperand(insn, ctx.fpu.xmm(insn.reg), 16), 'mem'),
  // MOVD/MOVQ between general registers (or memory) and XMM: REX.W selects 64 bits.
  spec('movd', 0x6e, '66', (ctx, insn) => {
    const bytes = insn.opSize === 64 ? 8 : 4;
    const v = insn.mem === null ? ctx.regs.gpr(insn.rm, bytes) : getLane(ctx.readOperand(insn, bytes), 0, bytes);
    const out = new Uint8Array(16);
    setLane(out, 0, bytes, v);
    ctx.fpu.setXmm(insn.reg, out);
  }),
  spec('movd', 0x7e, '66', (ctx, insn) => {
    const bytes = insn.opSize === 64 ? 8 : 4;
    const v = getLane(ctx.fpu.xmm(insn.reg), 0, bytes);
    if (insn.mem === null) ctx.regs.setGpr(insn.rm, bytes, v);
    else ctx.writeOperand(insn, ctx.fpu.xmm(insn.reg).slice(0, bytes));
  }),
  spec('movq', 0x7e, 'F3', (ctx, insn) => {
    const out = new Uint8Array(16);
    out.set(readRm(ctx, insn, 8, 'none').subarray(0, 8));
    ctx.fpu.setXmm(insn.reg, out);
  }),
  spec('movq', 0xd6, '66', (ctx, insn) => {
    const low = ctx.fpu.xmm(insn.reg).slice(0, 8);
    if (insn.mem !== null) return ctx.writeOperand(insn, low);
    const out = new Uint8Array(16);
    out.set(low);
    ctx.fpu.setXmm(insn.rm, out);
  }),
  spec('movmskps', 0x50, 'none', moveMask(4), 'reg'),
  spec('movmskpd', 0x50, '66', moveMask(8), 'reg'),
  spec('pmovmskb', 0xd7, '66', moveMask(1), 'reg'),
];
