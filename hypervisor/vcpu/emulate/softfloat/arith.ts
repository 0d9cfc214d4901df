// arith.ts: SSE add, subtract, multiply, divide, square root, minimum and maximum on binary32/64,
// computed exactly and rounded once, with x86's NaN and exception-flag rules.
import {
  FLAG, RC, bitLength, defaultNaN, input, isNaN, packInf, packZero, propagateNaN, quiet,
  type FloatFormat, type FpEnv, type FpResult, type Unpacked,
} from './format.ts';
import { roundPack } from './round.ts';

interface Operands {
  readonly ua: Unpacked;
  readonly ub: Unpacked;
  /** DE from either input. */
  readonly flags: number;
}

function operands(a: bigint, b: bigint, f: FloatFormat, env: FpEnv): Operands | FpResult {
  const ia = input(a, f, env), ib = input(b, f, env);
  if (isNaN(ia.u) || isNaN(ib.u)) return propagateNaN(a, ia.u, b, ib.u, f);
  return { ua: ia.u, ub: ib.u, flags: ia.flags | ib.flags };
}

const isResult = (x: Operands | FpResult): x is FpResult => 'bits' in x;
const withFlags = (r: FpResult, flags: number): FpResult => ({ bits: r.bits, flags: r.flags | flags });

/** a + b, or a − b when `subtract`. */
export function add(a: bigint, b: bigint, f: FloatFormat, env: FpEnv, subtract = false): FpResult {
  const o = operands(a, b, f, env);
  if (isResult(o)) return o;
  const { ua, flags } = o;
  const ub = subtract ? { ...o.ub, sign: (o.ub.sign ^ 1) as 0 | 1 } : o.ub;
  if (ua.cls === 'inf' || ub.cls === 'inf') {
    if (ua.cls === 'inf' && ub.cls === 'inf' && ua.sign !== ub.sign) return { bits: defaultNaN(f), flags: flags | FLAG.IE };
    return { bits: packInf(ua.cls === 'inf' ? ua.sign : ub.sign, f), flags };
  }
  const e = Math.min(ua.mant === 0n ? Infinity : ua.exp, ub.mant === 0n ? Infinity : ub.exp);
  const scaled = (u: Unpacked): bigint => (u.mant === 0n ? 0n : (u.sign === 1 ? -u.mant : u.mant) << BigInt(u.exp - e));
  const sum = scaled(ua) + scaled(ub);
  if (sum === 0n) {
    // Exact zero: the operands' sign if they agree (−0 + −0), else +0 (−0 rounding down).
    const sign = ua.mant === 0n && ub.mant === 0n && ua.sign === ub.sign ? ua.sign : env.rc === RC.DOWN ? 1 : 0;
    return { bits: packZero(sign, f), flags };
  }
  return withFlags(roundPack(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, f, env), flags);
}

export function mul(a: bigint, b: bigint, f: FloatFormat, env: FpEnv): FpResult {
  const o = operands(a, b, f, env);
  if (isResult(o)) return o;
  const { ua, ub, flags } = o;
  const sign = (ua.sign ^ ub.sign) as 0 | 1;
  if (ua.cls === 'inf' || ub.cls === 'inf') {
    if (ua.cls === 'zero' || ub.cls === 'zero') return { bits: defaultNaN(f), flags: flags | FLAG.IE };
    return { bits: packInf(sign, f), flags };
  }
  if (ua.cls === 'zero' || ub.cls === 'zero') return { bits: packZero(sign, f), flags };
  return withFlags(roundPack(sign, ua.mant * ub.mant, ua.exp + ub.exp, f, env), flags);
}

export function div(a: bigint, b: bigint, f: FloatFormat, env: FpEnv): FpResult {
  const o = operands(a, b, f, env);
  if (isResult(o)) return o;
  const { ua, ub, flags } = o;
  const sign = (ua.sign ^ ub.sign) as 0 | 1;
  const aZero = ua.cls === 'zero', bZero = ub.cls === 'zero';
  if ((ua.cls === 'inf' && ub.cls === 'inf') || (aZero && bZero)) return { bits: defaultNaN(f), flags: flags | FLAG.IE };
  if (ua.cls === 'inf') return { bits: packInf(sign, f), flags };
  if (ub.cls === 'inf' || aZero) return { bits: packZero(sign, f), flags };
  // Division by zero outranks a denormal dividend: ZE alone.
  if (bZero) return { bits: packInf(sign, f), flags: FLAG.ZE };
  // Enough quotient bits for rounding, plus a sticky bit for a non-zero remainder.
  const k = f.fracBits + 4 + Math.max(0, bitLength(ub.mant) - bitLength(ua.mant));
  const num = ua.mant << BigInt(k);
  const q = num / ub.mant;
  const sticky = num - q * ub.mant !== 0n ? 1n : 0n;
  return withFlags(roundPack(sign, (q << 1n) | sticky, ua.exp - ub.exp - k - 1, f, env), flags);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: bigint, f: FloatFormat, env: FpEnv): FpResult {
  const { u, flags } = input(a, f, env);
  if (isNaN(u)) return { bits: quiet(a, f), flags: u.cls === 'snan' ? FLAG.IE : 0 };
  if (u.cls === 'zero') return { bits: packZero(u.sign, f), flags };
  // A negative operand is invalid, which outranks its being denormal.
  if (u.sign === 1) return { bits: defaultNaN(f), flags: FLAG.IE };
  if (u.cls === 'inf') return { bits: packInf(0, f), flags };
  let m = u.mant, e = u.exp;
  if ((e & 1) !== 0) { m <<= 1n; e -= 1; }
  const k = Math.max(0, f.fracBits + 4 - (bitLength(m) >> 1)) + 1;
  const n = m << BigInt(2 * k);
  const s = isqrt(n);
  const sticky = s * s !== n ? 1n : 0n;
  return withFlags(roundPack(0, (s << 1n) | sticky, e / 2 - k - 1, f, env), flags);
}

/** Exact comparison of two finite (non-NaN, non-inf) values: −1, 0, 1. */
export function compareFinite(a: Unpacked, b: Unpacked): number {
  const e = Math.min(a.exp, b.exp);
  const va = (a.sign === 1 ? -a.mant : a.mant) << BigInt(a.exp - e);
  const vb = (b.sign === 1 ? -b.mant : b.mant) << BigInt(b.exp - e);
  return va < vb ? -1 : va > vb ? 1 : 0;
}

/** Order of two non-NaN values, infinities included. */
export function order(a: Unpacked, b: Unpacked): number {
  const rank = (u: Unpacked): number => (u.cls === 'inf' ? (u.sign === 1 ? -1 : 1) : 0);
  const ra = rank(a), rb = rank(b);
  if (ra !== 0 || rb !== 0) return ra === rb ? 0 : ra < rb ? -1 : 1;
  return compareFinite(a, b);
}

/** The operand as the instruction sees it: a denormal is a signed zero under DAZ. */
const flushed = (bits: bigint, u: Unpacked, f: FloatFormat): bigint => (u.cls === 'zero' ? packZero(u.sign, f) : bits);

/**
 * MINPS/MAXPS and friends: any NaN operand (even a QNaN) raises IE and returns the second source;
 * so do two zeros; otherwise the smaller (larger) first source wins only strictly. The value
 * returned is the operand after DAZ.
 */
export function minMax(a: bigint, b: bigint, f: FloatFormat, env: FpEnv, max: boolean): FpResult {
  const ia = input(a, f, env), ib = input(b, f, env);
  if (isNaN(ia.u) || isNaN(ib.u)) return { bits: flushed(b, ib.u, f), flags: FLAG.IE };
  const flags = ia.flags | ib.flags;
  const c = order(ia.u, ib.u);
  const pickA = max ? c > 0 : c < 0;
  return { bits: pickA ? flushed(a, ia.u, f) : flushed(b, ib.u, f), flags };
}
