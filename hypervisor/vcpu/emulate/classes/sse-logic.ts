// sse-logic.ts: bitwise AND/ANDN/OR/XOR in their PS, PD and integer (PAND, PANDN, POR, PXOR) forms.
import type { InsnSpec, MandatoryPrefix } from '../insn.ts';
import { vectorOp } from './vector-op.ts';

type ByteOp = (a: number, b: number) => number;

const bytewise = (fn: ByteOp) => (dst: Uint8Array, src: Uint8Array): Uint8Array => dst.map((a, i) => fn(a, src[i]!) & 0xff);

const OPS: ReadonlyArray<{ fp: string; int: string; fpOp: number; intOp: number; fn: ByteOp }> = [
  { fp: 'and', int: 'pand', fpOp: 0x54, intOp: 0xdb, fn: (a, b) => a & b },
  { fp: 'andn', int: 'pandn', fpOp: 0x55, intOp: 0xdf, fn: (a, b) => ~a & b },
  { fp: 'or', int: 'por', fpOp: 0x56, intOp: 0xeb, fn: (a, b) => a | b },
  { fp: 'xor', int: 'pxor', fpOp: 0x57, intOp: 0xef, fn: (a, b) => a ^ b },
];

const PREFIXES: ReadonlyArray<[string, MandatoryPrefix]> = [['ps', 'none'], ['pd', '66']];

export const SSE_LOGIC_INSNS: readonly InsnSpec[] = OPS.flatMap(({ fp, int, fpOp, intOp, fn }) => [
  ...PREFIXES.map(([suffix, prefix]) => vectorOp(fp + suffix, fpOp, prefix, bytewise(fn))),
  vectorOp(int, intOp, '66', bytewise(fn)),
]);
