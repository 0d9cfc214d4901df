// compare.ts: SSE comparisons — the CMPPS/CMPSS predicates and COMISS/UCOMISS — with their
// quiet/signaling NaN rules.
import { FLAG, input, isNaN, type FloatFormat, type FpEnv } from './format.ts';
import { order } from './arith.ts';

/** less, equal, greater or unordered. */
export type Relation = 'lt' | 'eq' | 'gt' | 'un';

/**
 * Compare a with b. A signaling comparison raises IE for any NaN, a quiet one only for an SNaN;
 * denormal inputs raise DE when no NaN is involved.
 */
export function compare(a: bigint, b: bigint, f: FloatFormat, env: FpEnv, signaling: boolean): { rel: Relation; flags: number } {
  const ia = input(a, f, env), ib = input(b, f, env);
  if (isNaN(ia.u) || isNaN(ib.u)) {
    const snan = ia.u.cls === 'snan' || ib.u.cls === 'snan';
    return { rel: 'un', flags: snan || signaling ? FLAG.IE : 0 };
  }
  const c = order(ia.u, ib.u);
  return { rel: c < 0 ? 'lt' : c > 0 ? 'gt' : 'eq', flags: ia.flags | ib.flags };
}

/** CMPccPS predicates 0–7: EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD; LT/LE/NLT/NLE signal on QNaN. */
const PREDICATES: ReadonlyArray<{ signaling: boolean; holds: (r: Relation) => boolean }> = [
  { signaling: false, holds: (r) => r === 'eq' },
  { signaling: true, holds: (r) => r === 'lt' },
  { signaling: true, holds: (r) => r === 'lt' || r === 'eq' },
  { signaling: false, holds: (r) => r === 'un' },
  { signaling: false, holds: (r) => r !== 'eq' },
  { signaling: true, holds: (r) => r !== 'lt' },
  { signaling: true, holds: (r) => r !== 'lt' && r !== 'eq' },
  { signaling: false, holds: (r) => r !== 'un' },
];

/** CMPPS-style predicate `imm & 7`: true or false, and the flags. */
export function comparePredicate(a: bigint, b: bigint, f: FloatFormat, env: FpEnv, imm: number): { result: boolean; flags: number } {
  const p = PREDICATES[imm & 7]!;
  const { rel, flags } = compare(a, b, f, env, p.signaling);
  return { result: p.holds(rel), flags };
}
