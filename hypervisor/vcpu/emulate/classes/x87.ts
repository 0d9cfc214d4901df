// x87.ts: the x87 control instructions and no-ops kernels run at start-up — FNOP, FWAIT, FNCLEX,
// FNINIT, FLDCW, FNSTCW, FNSTSW, and EMMS, which ends MMX use — on the FPU state in the XSAVE image.
import type { InsnSpec } from '../insn.ts';
import { nm, ud } from '../errors.ts';
import { deliverPendingX87, requireX87 } from './gates.ts';

/** FSW: exception flags (bits 0–5), stack fault (6), error summary (7), busy (15). */
const FSW_EXCEPTIONS = 0x3f, FSW_SF = 0x40, FSW_ES = 0x80, FSW_B = 0x8000;
const FCW_INIT = 0x037f;
/** FCW bits that hold what is written: the reserved ones read 0, except bit 6, which reads 1. */
const FCW_WRITABLE = 0x1f3f, FCW_ONES = 0x40;

/** ES and B summarise the unmasked exception flags after the control word changes. */
function summarise(fsw: number, fcw: number): number {
  const unmasked = fsw & FSW_EXCEPTIONS & ~fcw;
  return unmasked !== 0 ? fsw | FSW_ES | FSW_B : fsw & ~(FSW_ES | FSW_B);
}

const le16 = (v: number): Uint8Array => new Uint8Array([v & 0xff, (v >> 8) & 0xff]);

export const X87_INSNS: readonly InsnSpec[] = [
  {
    name: 'fnop', map: 0, op: 0xd9, modrm: 0xd0,
    exec(ctx) {
      requireX87(ctx);
      deliverPendingX87(ctx);
    },
  },
  {
    name: 'fwait', map: 0, op: 0x9b,
    exec(ctx) {
      const { ts, mp } = ctx.cr0Bits;
      if (ts && mp) throw nm();
      deliverPendingX87(ctx);
    },
  },
  {
    name: 'fnclex', map: 0, op: 0xdb, modrm: 0xe2,
    exec(ctx) {
      requireX87(ctx);
      ctx.fpu.fsw = ctx.fpu.fsw & ~(FSW_EXCEPTIONS | FSW_SF | FSW_ES | FSW_B);
    },
  },
  {
    name: 'fninit', map: 0, op: 0xdb, modrm: 0xe3,
    exec(ctx) {
      requireX87(ctx);
      ctx.fpu.fcw = FCW_INIT;
      ctx.fpu.fsw = 0;
      ctx.fpu.ftw = 0; // abridged tags: every register empty
      ctx.fpu.clearLastInstruction();
    },
  },
  {
    name: 'fldcw', map: 0, op: 0xd9, reg: 5, form: 'mem',
    exec(ctx, insn) {
      requireX87(ctx);
      deliverPendingX87(ctx);
      const b = ctx.readOperand(insn, 2);
      const fcw = ((b[0]! | (b[1]! << 8)) & FCW_WRITABLE) | FCW_ONES;
      ctx.fpu.fcw = fcw;
      ctx.fpu.fsw = summarise(ctx.fpu.fsw, fcw);
    },
  },
  {
    name: 'fnstcw', map: 0, op: 0xd9, reg: 7, form: 'mem',
    exec(ctx, insn) {
      requireX87(ctx);
      ctx.writeOperand(insn, le16(ctx.fpu.fcw));
    },
  },
  {
    name: 'fnstsw', map: 0, op: 0xdd, reg: 7, form: 'mem',
    exec(ctx, insn) {
      requireX87(ctx);
      ctx.writeOperand(insn, le16(ctx.fpu.fsw));
    },
  },
  {
    // EMMS: every x87 register tagged empty; an MMX instruction, so CR0.EM is #UD rather than #NM.
    name: 'emms', map: 1, op: 0x77, prefix: 'none',
    exec(ctx) {
      const { em, ts } = ctx.cr0Bits;
      if (em) throw ud();
      if (ts) throw nm();
      deliverPendingX87(ctx);
      ctx.fpu.ftw = 0;
    },
  },
  {
    name: 'fnstsw ax', map: 0, op: 0xdf, modrm: 0xe0,
    exec(ctx) {
      requireX87(ctx);
      ctx.regs.setGpr(0, 2, BigInt(ctx.fpu.fsw));
    },
  },
];
