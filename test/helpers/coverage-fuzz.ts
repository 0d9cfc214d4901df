// coverage-fuzz.ts: a small coverage-guided fuzzer on V8's precise block coverage — inputs that
// reach a block no earlier input reached join the corpus and are mutated further (AFL-style havoc:
// bit flips, interesting integers, insertions, deletions, splices, dictionary tokens). Runs inside a
// worker (coverage-worker.ts) so that the coverage is the target's alone and a hang can be killed.
import { Session } from 'node:inspector';
import { Rng } from './fuzz.ts';

/** One parser or handler under test. `run` throws only when an invariant is broken. */
export interface CoverageTarget {
  readonly name: string;
  /** Substrings of script URLs whose blocks count (the code under test, not the harness). */
  readonly files: readonly string[];
  /** Valid inputs to start from. */
  readonly seeds: () => Buffer[];
  /** Tokens the mutator may insert (keywords, magic numbers). */
  readonly dictionary?: readonly (string | Buffer)[];
  readonly maxLen: number;
  /** Feed one input; must swallow the target's documented errors and throw on anything else. */
  readonly run: (input: Buffer) => void;
}

export interface Finding { readonly input: string; readonly error: string }

export interface FuzzStats {
  readonly target: string;
  readonly inputs: number;
  readonly corpus: number;
  readonly blocks: number;
  readonly crashes: Finding[];
}

interface Range { startOffset: number; endOffset: number; count: number }
interface FunctionCoverage { ranges: Range[] }
interface ScriptCoverage { url: string; functions: FunctionCoverage[] }

/** A synchronous inspector call (a same-thread session answers before post returns). */
function post<T>(s: Session, method: string, params?: object): T {
  let out: { err: Error | null; res: unknown } | undefined;
  s.post(method, params ?? {}, (err, res) => { out = { err, res }; });
  if (out === undefined) throw new Error(`inspector ${method} did not answer synchronously`);
  if (out.err) throw out.err;
  return out.res as T;
}

/**
 * Blocks reached, from precise coverage taken after every input (which also resets the counters).
 * V8 reports a nested range only where its count differs from its parent's, so a block is known by
 * first being seen unreached (count 0) and counts as reached once a later input leaves it out.
 */
export class BlockCoverage {
  private readonly session = new Session();
  private readonly reached = new Set<string>();
  private readonly unreached = new Map<string, Set<string>>();

  constructor(private readonly files: readonly string[]) {
    this.session.connect();
    post(this.session, 'Profiler.enable');
    post(this.session, 'Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    this.take(); /* start from zero: what loading the modules ran is not an input's doing */
    this.reached.clear();
  }

  get size(): number { return this.reached.size; }

  /** Collect (and reset) coverage; true if anything not reached before was reached. */
  take(): boolean {
    const { result } = post<{ result: ScriptCoverage[] }>(this.session, 'Profiler.takePreciseCoverage');
    let grew = false;
    const add = (k: string): void => { if (!this.reached.has(k)) { this.reached.add(k); grew = true; } };
    for (const script of result) {
      if (!this.files.some((f) => script.url.includes(f))) continue;
      for (const fn of script.functions) {
        const [whole, ...inner] = fn.ranges;
        if (whole === undefined || whole.count === 0) continue;
        const fk = `${script.url}:${whole.startOffset}:${whole.endOffset}`;
        add(fk);
        const zeros = inner.filter((r) => r.count === 0);
        for (const r of inner) if (r.count > 0) add(`${fk}|${r.startOffset}:${r.endOffset}`);
        let known = this.unreached.get(fk);
        if (known === undefined) this.unreached.set(fk, (known = new Set()));
        for (const r of zeros) known.add(`${r.startOffset}:${r.endOffset}`);
        for (const k of known) {
          const key = `${fk}|${k}`;
          if (this.reached.has(key)) continue;
          const [s, e] = k.split(':').map(Number) as [number, number];
          if (!zeros.some((z) => z.startOffset <= s && e <= z.endOffset)) add(key);
        }
      }
    }
    return grew;
  }

  stop(): void {
    post(this.session, 'Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }
}

const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 4096, 4097, 0x7fffffff, 0x80000000, 0xffffffff, 16, 32, 64, 100, 1000];

/** AFL-style havoc: 1 to 8 stacked mutations of `base`, sometimes spliced with `other`. */
export function havoc(r: Rng, base: Buffer, other: Buffer, dict: readonly Buffer[], maxLen: number): Buffer {
  let b = Buffer.from(base);
  for (let n = 1 + r.below(8); n > 0; n--) {
    const at = r.below(b.length + 1);
    switch (r.below(11)) {
      case 0: if (b.length) b[r.below(b.length)]! ^= 1 << r.below(8); break;
      case 1: if (b.length) b[r.below(b.length)] = r.u32() & 0xff; break;
      case 2: { /* an interesting integer, 1/2/4 bytes, either endianness */
        const w = r.pick([1, 2, 4]);
        if (b.length < w) break;
        const p = r.below(b.length - w + 1);
        const v = r.pick(INTERESTING) >>> 0;
        for (let i = 0; i < w; i++) b[p + (r.below(2) ? i : w - 1 - i)] = (v >>> (8 * i)) & 0xff;
        break;
      }
      case 3: if (b.length) { const p = r.below(b.length); b[p] = (b[p]! + r.below(35) - 17) & 0xff; } break;
      case 4: b = Buffer.concat([b.subarray(0, at), r.bytes(1 + r.below(16)), b.subarray(at)]); break;
      case 5: { const len = r.below(Math.min(64, b.length - at) + 1); b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]); break; }
      case 6: { /* duplicate a chunk */
        const len = r.below(Math.min(64, b.length - at) + 1);
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
      case 7: { /* splice: our head, the other's tail */
        const cut = r.below(other.length + 1);
        b = Buffer.concat([b.subarray(0, at), other.subarray(cut)]);
        break;
      }
      case 8: case 9: if (dict.length) {
        const tok = r.pick(dict);
        b = r.below(2) ? Buffer.concat([b.subarray(0, at), tok, b.subarray(at)])
          : Buffer.concat([b.subarray(0, at), tok, b.subarray(Math.min(b.length, at + tok.length))]);
      } break;
      default: b = b.subarray(0, r.below(b.length + 1)); break;
    }
  }
  return b.length > maxLen ? b.subarray(0, maxLen) : b;
}

/**
 * Fuzz `target` for `iterations` inputs (or until `deadline`, ms since the epoch, or the first
 * crash if `stopOnCrash`). `current` gets each input before it runs, so whoever kills a hung run
 * knows what hung.
 */
export function fuzz(target: CoverageTarget, seed: number, iterations: number, deadline: number, stopOnCrash: boolean,
  current: (input: Buffer) => void, progress: (s: FuzzStats) => void = () => {}): FuzzStats {
  const r = new Rng(seed);
  const dict = (target.dictionary ?? []).map((d) => (typeof d === 'string' ? Buffer.from(d, 'latin1') : d));
  const cov = new BlockCoverage(target.files);
  const corpus: Buffer[] = [];
  const crashes: Finding[] = [];
  let inputs = 0;
  const one = (input: Buffer): boolean => {
    current(input);
    inputs++;
    try {
      target.run(input);
    } catch (e) {
      if (crashes.length < 20) crashes.push({ input: input.toString('hex'), error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
    return cov.take();
  };
  for (const s of target.seeds()) { one(s); corpus.push(s); }
  if (corpus.length === 0) corpus.push(Buffer.alloc(0));
  while (inputs < iterations && Date.now() < deadline && !(stopOnCrash && crashes.length > 0)) {
    const base = corpus[r.below(corpus.length)]!;
    const input = havoc(r, base, corpus[r.below(corpus.length)]!, dict, target.maxLen);
    if (one(input)) corpus.push(input);
    if (inputs % 100 === 0) progress({ target: target.name, inputs, corpus: corpus.length, blocks: cov.size, crashes });
  }
  cov.stop();
  return { target: target.name, inputs, corpus: corpus.length, blocks: cov.size, crashes };
}
