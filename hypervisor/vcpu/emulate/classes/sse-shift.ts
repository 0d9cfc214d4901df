// sse-shift.ts: SSE2 shifts — PSLL/PSRL/PSRA by an XMM/memory count or an immediate, PSLLDQ/PSRLDQ.
import type { InsnSpec } from '../insn.ts';
import { requireSse } from './gates.ts';
import { lanewise, signed, vectorOp } from './vector-op.ts';

type Width = 2 | 4 | 8;
type Kind = 'sll' | 'srl' | 'sra';

/** Shift every lane by `count`; a count past the lane width empties it (or fills it with the sign). */
function shiftLanes(v: Uint8Array, bytes: Width, kind: Kind, count: bigint): Uint8Array {
  const bits = BigInt(bytes * 8);
  return lanewise(bytes, (a) => {
    if (kind === 'sra') return signed(a, bytes) >> (count >= bits ? bits - 1n : count);
    if (count >= bits) return 0n;
    return kind === 'sll' ? a << count : a >> count;
  })(v, v);
}

/** The count of the register/memory forms: the low 64 bits of the source. */
const countOf = (src: Uint8Array): bigint => new DataView(src.buffer, src.byteOffset, 16).getBigUint64(0, true);

function byCount(name: string, op: number, bytes: Width, kind: Kind): InsnSpec {
  return vectorOp(name, op, '66', (dst, src) => shiftLanes(dst, bytes, kind, countOf(src)));
}

/** The immediate forms (66 0F 71/72/73 /n ib) shift the r/m register itself. */
function byImmediate(name: string, op: number, reg: number, fn: (v: Uint8Array, imm: number) => Uint8Array): InsnSpec {
  return {
    name, map: 1, op, prefix: '66', reg, form: 'reg', imm: 1,
    exec(ctx, insn) {
      requireSse(ctx);
      ctx.fpu.setXmm(insn.rm, fn(ctx.fpu.xmm(insn.rm), insn.imm));
    },
  };
}

/** PSLLDQ/PSRLDQ: whole-register byte shifts. */
function byteShift(v: Uint8Array, n: number, left: boolean): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const from = left ? i - n : i + n;
    if (from >= 0 && from < 16) out[i] = v[from]!;
  }
  return out;
}

export const SSE_SHIFT_INSNS: readonly InsnSpec[] = [
  byCount('psrlw', 0xd1, 2, 'srl'),
  byCount('psrld', 0xd2, 4, 'srl'),
  byCount('psrlq', 0xd3, 8, 'srl'),
  byCount('psraw', 0xe1, 2, 'sra'),
  byCount('psrad', 0xe2, 4, 'sra'),
  byCount('psllw', 0xf1, 2, 'sll'),
  byCount('pslld', 0xf2, 4, 'sll'),
  byCount('psllq', 0xf3, 8, 'sll'),
  byImmediate('psrlw', 0x71, 2, (v, n) => shiftLanes(v, 2, 'srl', BigInt(n))),
  byImmediate('psraw', 0x71, 4, (v, n) => shiftLanes(v, 2, 'sra', BigInt(n))),
  byImmediate('psllw', 0x71, 6, (v, n) => shiftLanes(v, 2, 'sll', BigInt(n))),
  byImmediate('psrld', 0x72, 2, (v, n) => shiftLanes(v, 4, 'srl', BigInt(n))),
  byImmediate('psrad', 0x72, 4, (v, n) => shiftLanes(v, 4, 'sra', BigInt(n))),
  byImmediate('pslld', 0x72, 6, (v, n) => shiftLanes(v, 4, 'sll', BigInt(n))),
  byImmediate('psrlq', 0x73, 2, (v, n) => shiftLanes(v, 8, 'srl', BigInt(n))),
  byImmediate('psrldq', 0x73, 3, (v, n) => byteShift(v, n, false)),
  byImmediate('psllq', 0x73, 6, (v, n) => shiftLanes(v, 8, 'sll', BigInt(n))),
  byImmediate('pslldq', 0x73, 7, (v, n) => byteShift(v, n, true)),
];
