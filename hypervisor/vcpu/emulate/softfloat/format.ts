// format.ts: IEEE binary32/binary64 encodings — classify, unpack to an exact value, pack special
// values — and the MXCSR environment (rounding, FTZ, DAZ) and exception flags every operation uses.

export interface FloatFormat {
  readonly bits: 32 | 64;
  readonly fracBits: number;
  readonly expBits: number;
  readonly bias: number;
}

export const F32: FloatFormat = { bits: 32, fracBits: 23, expBits: 8, bias: 127 };
export const F64: FloatFormat = { bits: 64, fracBits: 52, expBits: 11, bias: 1023 };

/** MXCSR exception flags (bits 0–5); the masks are the same bits shifted left by 7. */
export const FLAG = { IE: 1, DE: 2, ZE: 4, OE: 8, UE: 16, PE: 32 } as const;
/** Flags detected before computing (they suppress the others when unmasked). */
export const PRE_FLAGS = FLAG.IE | FLAG.DE | FLAG.ZE;

/** MXCSR.RC: 0 nearest-even, 1 toward −∞, 2 toward +∞, 3 toward zero. */
export const RC = { NEAREST: 0, DOWN: 1, UP: 2, ZERO: 3 } as const;

export interface FpEnv {
  readonly rc: number;
  /** Flush tiny results to zero (takes effect only with underflow masked). */
  readonly ftz: boolean;
  /** Treat denormal inputs as zero (without raising DE). */
  readonly daz: boolean;
  readonly overflowMasked: boolean;
  readonly underflowMasked: boolean;
}

export function envFromMxcsr(mxcsr: number): FpEnv {
  return {
    rc: (mxcsr >> 13) & 3, ftz: (mxcsr & 0x8000) !== 0, daz: (mxcsr & 0x40) !== 0,
    overflowMasked: (mxcsr & 0x400) !== 0, underflowMasked: (mxcsr & 0x800) !== 0,
  };
}

export interface FpResult {
  readonly bits: bigint;
  readonly flags: number;
}

export type FloatClass = 'zero' | 'denormal' | 'normal' | 'inf' | 'qnan' | 'snan';

/** A finite value is (−1)^sign · mant · 2^exp exactly; mant is 0 for zeros. */
export interface Unpacked {
  readonly cls: FloatClass;
  readonly sign: 0 | 1;
  readonly mant: bigint;
  readonly exp: number;
}

const fracMask = (f: FloatFormat): bigint => (1n << BigInt(f.fracBits)) - 1n;
const expMax = (f: FloatFormat): number => (1 << f.expBits) - 1;
export const signBit = (f: FloatFormat): bigint => 1n << BigInt(f.bits - 1);
export const quietBit = (f: FloatFormat): bigint => 1n << BigInt(f.fracBits - 1);

export function unpack(bits: bigint, f: FloatFormat): Unpacked {
  const sign = (bits & signBit(f)) !== 0n ? 1 : 0;
  const e = Number((bits >> BigInt(f.fracBits)) & BigInt(expMax(f)));
  const frac = bits & fracMask(f);
  if (e === expMax(f)) {
    if (frac === 0n) return { cls: 'inf', sign, mant: 0n, exp: 0 };
    return { cls: (frac & quietBit(f)) !== 0n ? 'qnan' : 'snan', sign, mant: frac, exp: 0 };
  }
  if (e === 0) {
    if (frac === 0n) return { cls: 'zero', sign, mant: 0n, exp: 0 };
    return { cls: 'denormal', sign, mant: frac, exp: 1 - f.bias - f.fracBits };
  }
  return { cls: 'normal', sign, mant: frac | (1n << BigInt(f.fracBits)), exp: e - f.bias - f.fracBits };
}

export const isNaN = (u: Unpacked): boolean => u.cls === 'qnan' || u.cls === 'snan';

/** An input operand: denormals become zeros under DAZ, and otherwise raise DE. */
export function input(bits: bigint, f: FloatFormat, env: FpEnv): { u: Unpacked; flags: number } {
  const u = unpack(bits, f);
  if (u.cls !== 'denormal') return { u, flags: 0 };
  if (env.daz) return { u: { cls: 'zero', sign: u.sign, mant: 0n, exp: 0 }, flags: 0 };
  return { u, flags: FLAG.DE };
}

export const packZero = (sign: number, f: FloatFormat): bigint => (sign === 1 ? signBit(f) : 0n);
export const packInf = (sign: number, f: FloatFormat): bigint =>
  packZero(sign, f) | (BigInt(expMax(f)) << BigInt(f.fracBits));
/** The largest finite magnitude. */
export const packMax = (sign: number, f: FloatFormat): bigint =>
  packZero(sign, f) | (BigInt(expMax(f) - 1) << BigInt(f.fracBits)) | fracMask(f);
/** The "real indefinite" QNaN that invalid operations without a NaN operand return. */
export const defaultNaN = (f: FloatFormat): bigint => packInf(1, f) | quietBit(f);
export const quiet = (bits: bigint, f: FloatFormat): bigint => bits | quietBit(f);

/** SSE's NaN rule: the first source if it is a NaN, else the second, quieted; IE for any SNaN. */
export function propagateNaN(a: bigint, ua: Unpacked, b: bigint, ub: Unpacked, f: FloatFormat): FpResult {
  const flags = ua.cls === 'snan' || ub.cls === 'snan' ? FLAG.IE : 0;
  return { bits: quiet(isNaN(ua) ? a : b, f), flags };
}

export function bitLength(m: bigint): number {
  let n = 0;
  while (m >= 1n << 64n) { m >>= 64n; n += 64; }
  while (m > 0n) { m >>= 1n; n++; }
  return n;
}
