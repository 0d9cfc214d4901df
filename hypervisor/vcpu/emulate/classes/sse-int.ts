// sse-int.ts: SSE2 integer arithmetic and comparisons — PADD/PSUB (plain and saturating), PCMPEQ/PCMPGT,
// PMULLW/PMULHW/PMULHUW/PMULUDQ, PMIN/PMAX, PAVG.
import type { InsnSpec } from '../insn.ts';
import { lanewise, signed, vectorOp } from './vector-op.ts';

type Width = 1 | 2 | 4 | 8;

const ones = (bytes: Width): bigint => (1n << BigInt(bytes * 8)) - 1n;
const clamp = (v: bigint, lo: bigint, hi: bigint): bigint => (v < lo ? lo : v > hi ? hi : v);
const sMin = (b: Width): bigint => -(1n << BigInt(b * 8 - 1));
const sMax = (b: Width): bigint => (1n << BigInt(b * 8 - 1)) - 1n;

function op(name: string, code: number, bytes: Width, fn: (a: bigint, b: bigint) => bigint): InsnSpec {
  return vectorOp(name, code, '66', lanewise(bytes, fn));
}

/** PMULUDQ: the unsigned product of the even 32-bit lanes, as two 64-bit lanes. */
function pmuludq(dst: Uint8Array, src: Uint8Array): Uint8Array {
  const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, 16);
  const out = new Uint8Array(16);
  const o = dv(out), d = dv(dst), s = dv(src);
  for (const i of [0, 1]) o.setBigUint64(i * 8, BigInt(d.getUint32(i * 8, true)) * BigInt(s.getUint32(i * 8, true)), true);
  return out;
}

export const SSE_INT_INSNS: readonly InsnSpec[] = [
  op('paddb', 0xfc, 1, (a, b) => a + b),
  op('paddw', 0xfd, 2, (a, b) => a + b),
  op('paddd', 0xfe, 4, (a, b) => a + b),
  op('paddq', 0xd4, 8, (a, b) => a + b),
  op('psubb', 0xf8, 1, (a, b) => a - b),
  op('psubw', 0xf9, 2, (a, b) => a - b),
  op('psubd', 0xfa, 4, (a, b) => a - b),
  op('psubq', 0xfb, 8, (a, b) => a - b),
  op('paddsb', 0xec, 1, (a, b) => clamp(signed(a, 1) + signed(b, 1), sMin(1), sMax(1))),
  op('paddsw', 0xed, 2, (a, b) => clamp(signed(a, 2) + signed(b, 2), sMin(2), sMax(2))),
  op('paddusb', 0xdc, 1, (a, b) => clamp(a + b, 0n, ones(1))),
  op('paddusw', 0xdd, 2, (a, b) => clamp(a + b, 0n, ones(2))),
  op('psubsb', 0xe8, 1, (a, b) => clamp(signed(a, 1) - signed(b, 1), sMin(1), sMax(1))),
  op('psubsw', 0xe9, 2, (a, b) => clamp(signed(a, 2) - signed(b, 2), sMin(2), sMax(2))),
  op('psubusb', 0xd8, 1, (a, b) => clamp(a - b, 0n, ones(1))),
  op('psubusw', 0xd9, 2, (a, b) => clamp(a - b, 0n, ones(2))),
  op('pcmpeqb', 0x74, 1, (a, b) => (a === b ? ones(1) : 0n)),
  op('pcmpeqw', 0x75, 2, (a, b) => (a === b ? ones(2) : 0n)),
  op('pcmpeqd', 0x76, 4, (a, b) => (a === b ? ones(4) : 0n)),
  op('pcmpgtb', 0x64, 1, (a, b) => (signed(a, 1) > signed(b, 1) ? ones(1) : 0n)),
  op('pcmpgtw', 0x65, 2, (a, b) => (signed(a, 2) > signed(b, 2) ? ones(2) : 0n)),
  op('pcmpgtd', 0x66, 4, (a, b) => (signed(a, 4) > signed(b, 4) ? ones(4) : 0n)),
  op('pmullw', 0xd5, 2, (a, b) => a * b),
  op('pmulhw', 0xe5, 2, (a, b) => (signed(a, 2) * signed(b, 2)) >> 16n),
  op('pmulhuw', 0xe4, 2, (a, b) => (a * b) >> 16n),
  vectorOp('pmuludq', 0xf4, '66', pmuludq),
  op('pminub', 0xda, 1, (a, b) => (a < b ? a : b)),
  op('pmaxub', 0xde, 1, (a, b) => (a > b ? a : b)),
  op('pminsw', 0xea, 2, (a, b) => (signed(a, 2) < signed(b, 2) ? a : b)),
  op('pmaxsw', 0xee, 2, (a, b) => (signed(a, 2) > signed(b, 2) ? a : b)),
  op('pavgb', 0xe0, 1, (a, b) => (a + b + 1n) >> 1n),
  op('pavgw', 0xe3, 2, (a, b) => (a + b + 1n) >> 1n),
];
