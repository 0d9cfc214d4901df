// convert.ts: conversions between integers and binary32/64 and between the two formats (CVT*),
// rounded by MXCSR.RC or truncated, with x86's "integer indefinite" for invalid results.
import { FLAG, input, isNaN, packZero, quietBit, type FloatFormat, type FpEnv, type FpResult } from './format.ts';
import { roundPack, roundShift } from './round.ts';

/** A signed integer (as a bigint) to a float: exact or rounded. */
export function intToFloat(v: bigint, f: FloatFormat, env: FpEnv): FpResult {
  if (v === 0n) return { bits: 0n, flags: 0 };
  return roundPack(v < 0n ? 1 : 0, v < 0n ? -v : v, 0, f, env);
}

/**
 * A float to a `width`-bit signed integer (two's complement bits), rounded by MXCSR.RC or
 * truncated. NaN, infinity and out-of-range values raise IE and give the integer indefinite
 * (only the sign bit set).
 */
export function floatToInt(bits: bigint, f: FloatFormat, env: FpEnv, width: 32 | 64, truncate: boolean): FpResult {
  const indefinite = { bits: 1n << BigInt(width - 1), flags: FLAG.IE };
  const { u } = input(bits, f, env);
  if (isNaN(u) || u.cls === 'inf') return indefinite;
  if (u.cls === 'zero') return { bits: 0n, flags: 0 };
  const rc = truncate ? 3 : env.rc;
  const r = u.exp >= 0 ? { q: u.mant << BigInt(u.exp), inexact: false } : roundShift(u.mant, -u.exp, u.sign, rc);
  const value = u.sign === 1 ? -r.q : r.q;
  const limit = 1n << BigInt(width - 1);
  if (value < -limit || value >= limit) return indefinite;
  return { bits: BigInt.asUintN(width, value), flags: r.inexact ? FLAG.PE : 0 };
}

/** binary32 ↔ binary64: NaNs keep their payload (quieted), other values are rounded if narrowed. */
export function floatToFloat(bits: bigint, from: FloatFormat, to: FloatFormat, env: FpEnv): FpResult {
  const { u, flags } = input(bits, from, env);
  const sign = packZero(u.sign, to);
  if (isNaN(u)) {
    const shift = BigInt(Math.abs(to.fracBits - from.fracBits));
    const payload = to.fracBits > from.fracBits ? u.mant << shift : u.mant >> shift;
    const expAll = ((1n << BigInt(to.expBits)) - 1n) << BigInt(to.fracBits);
    return { bits: sign | expAll | payload | quietBit(to), flags: u.cls === 'snan' ? FLAG.IE : 0 };
  }
  if (u.cls === 'inf') return { bits: sign | (((1n << BigInt(to.expBits)) - 1n) << BigInt(to.fracBits)), flags };
  if (u.cls === 'zero') return { bits: sign, flags };
  const r = roundPack(u.sign, u.mant, u.exp, to, env);
  return { bits: r.bits, flags: r.flags | flags };
}
