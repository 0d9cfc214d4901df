// sse-shuffle.ts: SSE/SSE2 lane rearrangements — SHUFPS/PD, PSHUFD/LW/HW, UNPCK(L/H)PS/PD,
// PUNPCK(L/H)BW/WD/DQ/QDQ, and the saturating packs PACKSSWB/PACKSSDW/PACKUSWB.
import type { InsnSpec, MandatoryPrefix } from '../insn.ts';
import { getLane, setLane } from './simd.ts';
import { signed, vectorOp } from './vector-op.ts';

type Width = 1 | 2 | 4 | 8;

/** Interleave the low (or high) halves: dst0 src0 dst1 src1 … */
function unpack(bytes: Width, high: boolean) {
  return (dst: Uint8Array, src: Uint8Array): Uint8Array => {
    const out = new Uint8Array(16);
    const half = 8 / bytes;
    for (let i = 0; i < half; i++) {
      const from = high ? i + half : i;
      setLane(out, 2 * i, bytes, getLane(dst, from, bytes));
      setLane(out, 2 * i + 1, bytes, getLane(src, from, bytes));
    }
    return out;
  };
}

function shufps(dst: Uint8Array, src: Uint8Array, imm: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) setLane(out, i, 4, getLane(i < 2 ? dst : src, (imm >> (2 * i)) & 3, 4));
  return out;
}

function shufpd(dst: Uint8Array, src: Uint8Array, imm: number): Uint8Array {
  const out = new Uint8Array(16);
  setLane(out, 0, 8, getLane(dst, imm & 1, 8));
  setLane(out, 1, 8, getLane(src, (imm >> 1) & 1, 8));
  return out;
}

/** PSHUFD; PSHUFLW/PSHUFHW shuffle four words of one half and copy the other half. */
function pshuf(bytes: 4 | 2, firstLane: number) {
  return (_dst: Uint8Array, src: Uint8Array, imm: number): Uint8Array => {
    const out = src.slice();
    for (let i = 0; i < 4; i++) setLane(out, firstLane + i, bytes, getLane(src, firstLane + ((imm >> (2 * i)) & 3), bytes));
    return out;
  };
}

/** Narrow dst's lanes then src's, saturating to the signed or unsigned range of the half width. */
function pack(bytes: 2 | 4, unsignedOut: boolean) {
  const outBytes = (bytes / 2) as 1 | 2;
  const bits = BigInt(outBytes * 8);
  const lo = unsignedOut ? 0n : -(1n << (bits - 1n));
  const hi = unsignedOut ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
  return (dst: Uint8Array, src: Uint8Array): Uint8Array => {
    const out = new Uint8Array(16);
    const n = 16 / bytes;
    [dst, src].forEach((v, half) => {
      for (let i = 0; i < n; i++) {
        const x = signed(getLane(v, i, bytes), bytes);
        setLane(out, half * n + i, outBytes, BigInt.asUintN(Number(bits), x < lo ? lo : x > hi ? hi : x));
      }
    });
    return out;
  };
}

const u = (name: string, op: number, prefix: MandatoryPrefix, bytes: Width, high: boolean): InsnSpec =>
  vectorOp(name, op, prefix, unpack(bytes, high));

export const SSE_SHUFFLE_INSNS: readonly InsnSpec[] = [
  vectorOp('shufps', 0xc6, 'none', shufps, 1),
  vectorOp('shufpd', 0xc6, '66', shufpd, 1),
  vectorOp('pshufd', 0x70, '66', pshuf(4, 0), 1),
  vectorOp('pshuflw', 0x70, 'F2', pshuf(2, 0), 1),
  vectorOp('pshufhw', 0x70, 'F3', pshuf(2, 4), 1),
  u('unpcklps', 0x14, 'none', 4, false),
  u('unpckhps', 0x15, 'none', 4, true),
  u('unpcklpd', 0x14, '66', 8, false),
  u('unpckhpd', 0x15, '66', 8, true),
  u('punpcklbw', 0x60, '66', 1, false),
  u('punpcklwd', 0x61, '66', 2, false),
  u('punpckldq', 0x62, '66', 4, false),
  u('punpcklqdq', 0x6c, '66', 8, false),
  u('punpckhbw', 0x68, '66', 1, true),
  u('punpckhwd', 0x69, '66', 2, true),
  u('punpckhdq', 0x6a, '66', 4, true),
  u('punpckhqdq', 0x6d, '66', 8, true),
  vectorOp('packsswb', 0x63, '66', pack(2, false)),
  vectorOp('packssdw', 0x6b, '66', pack(4, false)),
  vectorOp('packuswb', 0x67, '66', pack(2, true)),
];
