// emu-fuzz.ts: random but reproducible inputs for the emulator-vs-CPU tests — encodings of each
// emulated instruction, FXSAVE images full of awkward floats, MXCSR settings, operands.
import type { InsnSpec } from '../../hypervisor/vcpu/emulate/insn.ts';
import { NATIVE_MEM, type NativeInput } from './native-insn.ts';

/** mulberry32: small, seedable, good enough to spread test inputs. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  below(n: number): number { return this.u32() % n; }
  chance(p: number): boolean { return this.u32() / 2 ** 32 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.below(xs.length)]!; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
}

const F32_SPECIAL = [
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x00000001, 0x007fffff, 0x80400000, 0x00800000, 0x80800000,
  0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0xff812345, 0x7f000000,
  0x00ffffff, 0x01000000, 0x4e6e6b28, 0x4f000000, 0xcf000000, 0xcf000001, 0x5f000000, 0xdf000000, 0x3f000000,
  0x4b000001, 0x3fc00000, 0x40490fdb, 0x33800000, 0x0c000000,
];
const F64_SPECIAL = [
  0n, 1n << 63n, 0x3ff0000000000000n, 0xbff0000000000000n, 1n, 0x000fffffffffffffn, 0x0010000000000000n,
  0x7fefffffffffffffn, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n, 0xfff8000000000123n,
  0x7ff0000000000001n, 0x7ff4000000000000n, 0x41dfffffffc00000n, 0x41e0000000000000n, 0xc1e0000000000000n,
  0xc1e0000000200000n, 0x43e0000000000000n, 0xc3e0000000000000n, 0x3fe0000000000000n, 0x4330000000000001n,
  0x36a0000000000000n, 0x380fffffe0000000n, 0x47efffffe0000000n, 0x3810000000000000n, 0x400921fb54442d18n,
];

/** A binary32 bit pattern: a special value, or random with the exponent near an edge or anywhere. */
export function randomF32(r: Rng): number {
  const k = r.below(6);
  if (k === 0) return r.pick(F32_SPECIAL);
  const sign = r.below(2) << 31;
  const frac = r.u32() & 0x7fffff;
  const exp = k === 1 ? r.below(30) : k === 2 ? 225 + r.below(31) : k === 3 ? 100 + r.below(56) : r.below(256);
  return (sign | (exp << 23) | frac) >>> 0;
}

export function randomF64(r: Rng): bigint {
  const k = r.below(6);
  if (k === 0) return r.pick(F64_SPECIAL);
  const sign = BigInt(r.below(2)) << 63n;
  const frac = r.u64() & ((1n << 52n) - 1n);
  const exp = k === 1 ? r.below(60) : k === 2 ? 1990 + r.below(58) : k === 3 ? 1000 + r.below(48) :
    k === 4 ? 860 + r.below(60) /* near binary32's range edges */ : r.below(2048);
  return sign | (BigInt(exp) << 52n) | frac;
}

/** 16 bytes: four binary32 lanes, two binary64 lanes, or random integers. */
export function randomVector(r: Rng): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  const kind = r.below(3);
  for (let i = 0; i < 4; i++) {
    if (kind === 0) v.setUint32(i * 4, randomF32(r), true);
    else if (kind === 1) { if (i < 2) v.setBigUint64(i * 8, randomF64(r), true); }
    else v.setUint32(i * 4, r.chance(0.2) ? r.pick([0, 0xffffffff, 0x80000000, 0x7fffffff, 1, 0x8000]) : r.u32(), true);
  }
  return out;
}

/**
 * An MXCSR value within `mask`: any rounding mode, DAZ/FTZ often, mostly all exceptions masked,
 * sometimes a random set unmasked, random sticky flags.
 */
export function randomMxcsr(r: Rng, mask: number): number {
  let m = (r.below(4) << 13) | r.below(64);
  if (r.chance(0.3)) m |= 0x40;
  if (r.chance(0.3)) m |= 0x8000;
  m |= r.chance(0.8) ? 0x1f80 : (r.below(64) << 7);
  if (r.chance(0.05)) m |= 1 << 17; // AMD's misaligned-SSE mode, where the host has it
  return (m & mask) >>> 0;
}

export interface Case extends NativeInput {
  readonly spec: InsnSpec;
  readonly bytes: Uint8Array;
}

/** A random starting state for instruction `insn` (index into the encodings). */
export function randomInput(r: Rng, insn: number, mxcsrMask: number, x87: boolean): Omit<NativeInput, 'insn'> & { insn: number } {
  const fx = new Uint8Array(512);
  const v = new DataView(fx.buffer);
  if (x87) {
    // As a CPU's own XSAVE image has them: FCW's reserved bits as they read, and FSW's ES and B
    // summarising the unmasked exception flags (FXRSTOR recomputes both anyway).
    const fcw = 0x40 | (r.below(4) << 8) | (r.below(4) << 10) | (r.chance(0.3) ? 0x1000 : 0) | (r.chance(0.7) ? 0x3f : r.below(64));
    let fsw = (r.chance(0.6) ? r.below(64) : 0) | (r.below(8) << 11) | (0x4740 & r.u32());
    if ((fsw & 0x3f & ~fcw) !== 0) fsw |= 0x8080;
    v.setUint16(0, fcw, true);
    v.setUint16(2, fsw, true);
    v.setUint8(4, r.below(256));
  } else {
    v.setUint16(0, 0x37f, true);
  }
  v.setUint32(24, randomMxcsr(r, mxcsrMask), true);
  v.setUint32(28, mxcsrMask, true);
  for (let i = 0; i < 16; i++) fx.set(randomVector(r), 160 + i * 16);
  const mem = new Uint8Array(NATIVE_MEM);
  for (let i = 0; i < NATIVE_MEM; i += 16) mem.set(randomVector(r), i);
  // Mostly a valid MXCSR image at [rdi] for LDMXCSR; sometimes reserved bits.
  if (r.chance(0.5)) new DataView(mem.buffer).setUint32(0, r.chance(0.85) ? randomMxcsr(r, mxcsrMask) : r.u32(), true);
  const memOffset = r.chance(0.75) ? r.pick([0, 16, 32]) : r.below(33);
  const gpr = (): bigint => (r.chance(0.5) ? r.u64() : BigInt(r.pick([0, 1, -1, 7, -8, 0x7fffffff, -0x80000000, 1 << 24, (1 << 24) + 1])));
  return { insn, memOffset, rax: gpr(), rcx: gpr(), rdx: gpr(), rflags: BigInt(r.u32() & 0x8d5), fx, mem };
}

const PREFIX_BYTE = { none: [], '66': [0x66], F3: [0xf3], F2: [0xf2] } as const;
/** Instructions with a general-register operand (only RAX, RCX, RDX are loaded natively). */
const USES_GPR = /^(movd|cvtsi2s[sd]|cvtt?s[sd]2si|movmskp[sd]|pmovmskb|fnstsw ax)$/;
const REX_W_MATTERS = /^(movd|cvtsi2s[sd]|cvtt?s[sd]2si)$/;

/** Encodings of `spec` the native helper can run: register and [rdi] forms, REX variants, immediates. */
export function encodingsOf(spec: InsnSpec, r: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  const opcode = spec.map === 1 ? [0x0f, spec.op] : [spec.op];
  const pre = spec.prefix === undefined ? [] : [...PREFIX_BYTE[spec.prefix]];
  const imms = spec.imm === undefined ? [[]] : immediates(spec, r).map((i) => [i]);
  const modrms: Array<{ modrm: number[]; rexOk: number[] }> = [];
  if (spec.modrm !== undefined) modrms.push({ modrm: [spec.modrm], rexOk: [] });
  else if (spec.hasModrm === true || spec.reg !== undefined || spec.form !== undefined) {
    const reg = spec.reg ?? 1;
    const gpr = USES_GPR.test(spec.name);
    if (spec.form !== 'mem') modrms.push({ modrm: [0xc0 | (reg << 3) | 2], rexOk: gpr ? [] : [0x45] });
    if (spec.form !== 'reg') modrms.push({ modrm: [(reg << 3) | 7], rexOk: gpr || spec.reg !== undefined ? [] : [0x44] });
  } else modrms.push({ modrm: [], rexOk: [] });
  for (const { modrm, rexOk } of modrms) {
    const rexes = [null, ...rexOk, ...(REX_W_MATTERS.test(spec.name) ? [0x48] : [])];
    for (const rex of rexes) {
      for (const imm of imms) out.push(new Uint8Array([...pre, ...(rex === null ? [] : [rex]), ...opcode, ...modrm, ...imm]));
    }
  }
  return out;
}

function immediates(spec: InsnSpec, r: Rng): number[] {
  if (spec.name.startsWith('cmp')) return [0, 1, 2, 3, 4, 5, 6, 7, 0x0d];
  if (spec.op >= 0x71 && spec.op <= 0x73) return [0, 1, 3, 7, 8, 15, 16, 31, 32, 63, 64, 200];
  return [0x1b, 0xe4, 0x00, 0xff, r.below(256), r.below(256)];
}
