// round.ts: rounding an exact value to binary32/binary64 under MXCSR — rounding control, overflow,
// tininess detected after rounding (as x86 does), subnormal results, flush-to-zero — with its flags.
import { FLAG, RC, bitLength, packInf, packMax, packZero, type FloatFormat, type FpEnv, type FpResult } from './format.ts';

/** m / 2^s rounded by `rc` for a value of sign `sign`; whether anything was lost. */
export function roundShift(m: bigint, s: number, sign: number, rc: number): { q: bigint; inexact: boolean } {
  if (s <= 0) return { q: m << BigInt(-s), inexact: false };
  const q = m >> BigInt(s);
  const rem = m - (q << BigInt(s));
  if (rem === 0n) return { q, inexact: false };
  let up = false;
  if (rc === RC.NEAREST) {
    const half = 1n << BigInt(s - 1);
    up = rem > half || (rem === half && (q & 1n) === 1n);
  } else if (rc === RC.DOWN) up = sign === 1;
  else if (rc === RC.UP) up = sign === 0;
  return { q: up ? q + 1n : q, inexact: true };
}

function overflow(sign: number, f: FloatFormat, rc: number): FpResult {
  const toInf = rc === RC.NEAREST || (rc === RC.UP && sign === 0) || (rc === RC.DOWN && sign === 1);
  return { bits: toInf ? packInf(sign, f) : packMax(sign, f), flags: FLAG.OE | FLAG.PE };
}

/**
 * An unmasked overflow or underflow faults without a result; the CPU then reports PE as the
 * exponent-unbounded rounding (the result it would have scaled) sees it.
 */
const unmasked = (flag: number, wideInexact: boolean): FpResult => ({ bits: 0n, flags: flag | (wideInexact ? FLAG.PE : 0) });

/**
 * Round (−1)^sign · mant · 2^exp (mant > 0; a value that is itself inexact must carry a sticky
 * bit at least two places below the result's last bit) to format `f`.
 */
export function roundPack(sign: 0 | 1, mant: bigint, exp: number, f: FloatFormat, env: FpEnv): FpResult {
  const p = f.fracBits + 1;
  const emin = 1 - f.bias;
  const n = bitLength(mant);
  const top = exp + n - 1; // exponent of the leading bit
  const wide = roundShift(mant, n - p, sign, env.rc);
  const carried = wide.q >> BigInt(p) !== 0n;
  const e1 = top + (carried ? 1 : 0);
  if (e1 > f.bias) return env.overflowMasked ? overflow(sign, f, env.rc) : unmasked(FLAG.OE, wide.inexact);
  if (top >= emin) {
    const q = carried ? wide.q >> 1n : wide.q;
    const frac = q & ((1n << BigInt(f.fracBits)) - 1n);
    return { bits: packZero(sign, f) | (BigInt(e1 + f.bias) << BigInt(f.fracBits)) | frac, flags: wide.inexact ? FLAG.PE : 0 };
  }
  const tiny = e1 < emin;
  if (tiny && !env.underflowMasked) return unmasked(FLAG.UE, wide.inexact);
  if (tiny && env.ftz) return { bits: packZero(sign, f), flags: FLAG.UE | FLAG.PE };
  // Subnormal range: the last bit weighs 2^(emin − fracBits). A carry into bit fracBits lands in
  // the exponent field, which is exactly the smallest normal number.
  const sub = roundShift(mant, emin - f.fracBits - exp, sign, env.rc);
  return { bits: packZero(sign, f) | sub.q, flags: (sub.inexact ? FLAG.PE : 0) | (tiny && sub.inexact ? FLAG.UE : 0) };
}
