// mxcsr.ts: LDMXCSR and STMXCSR — the SSE control/status register through the vCPU's XSAVE state.
import type { InsnSpec } from '../insn.ts';
import { gp } from '../errors.ts';
import { requireSse } from './gates.ts';

const u32 = (b: Uint8Array): number => (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
const bytes32 = (v: number): Uint8Array => new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);

export const MXCSR_INSNS: readonly InsnSpec[] = [
  {
    name: 'ldmxcsr', map: 1, op: 0xae, reg: 2, form: 'mem', prefix: 'none',
    exec(ctx, insn) {
      requireSse(ctx);
      const value = u32(ctx.readOperand(insn, 4));
      // Setting a reserved bit (outside MXCSR_MASK) is #GP(0), as on hardware.
      if ((value & ~ctx.fpu.mxcsrMask) !== 0) throw gp(0);
      ctx.fpu.mxcsr = value;
    },
  },
  {
    name: 'stmxcsr', map: 1, op: 0xae, reg: 3, form: 'mem', prefix: 'none',
    exec(ctx, insn) {
      requireSse(ctx);
      ctx.writeOperand(insn, bytes32(ctx.fpu.mxcsr));
    },
  },
];
