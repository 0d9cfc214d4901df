// fuzz.ts: a seeded PRNG and input mutators for the protocol fuzz tests, and where a run reports
// its figures (PVKVM_FUZZ_OUT, read by bench/fuzz.mjs).
import { appendFileSync } from 'node:fs';

/** xorshift32: small, seeded, the same sequence on every host. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) || 0x9e3779b9; }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  below(n: number): number { return n <= 0 ? 0 : this.u32() % n; }
  pick<T>(xs: readonly T[]): T { return xs[this.below(xs.length)]!; }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  /** A small int, a boundary, or anything. */
  int(): number {
    return this.pick([() => this.below(16), () => this.pick([0, -1, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 53, 4096, 65535]), () => this.u32()])();
  }
  /** Flip bits, cut, splice or extend a valid input. */
  mutate(b: Uint8Array): Buffer {
    const out = Buffer.from(b);
    switch (this.below(4)) {
      case 0: for (let i = 0, n = 1 + this.below(8); i < n && out.length; i++) out[this.below(out.length)]! ^= 1 << this.below(8); return out;
      case 1: return out.subarray(0, this.below(out.length + 1));
      case 2: return Buffer.concat([out, this.bytes(this.below(64))]);
      default: { const at = this.below(out.length + 1); return Buffer.concat([out.subarray(0, at), this.bytes(this.below(16)), out.subarray(at)]); }
    }
  }
}

/** The iteration count for a fuzz test: `base` scaled by PVKVM_FUZZ_SCALE (default 1). */
export function iterations(base: number): number {
  const scale = Number(process.env.PVKVM_FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

export function fuzzSeed(dflt: number): number {
  const s = Number(process.env.PVKVM_FUZZ_SEED);
  return Number.isInteger(s) ? s : dflt;
}

/** Report one target's figures to bench/fuzz.mjs (a JSON line in PVKVM_FUZZ_OUT), if it asked. */
export function report(entry: {
  target: string; kind: 'frames' | 'hypercalls' | 'inputs'; count: number; seed: number; crashes: number; hangs: number;
  /** Coverage-guided targets: blocks reached and the corpus size. */
  blocks?: number; corpus?: number;
}): void {
  const out = process.env.PVKVM_FUZZ_OUT;
  if (out) appendFileSync(out, `${JSON.stringify(entry)}\n`);
}
